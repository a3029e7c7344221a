"""`/ranking`: boards overall, by 시도 and by 시군구 × weekly, monthly, all time; my rank; near me.

Weeks (Monday start) and months are Korean time. Redis answers when REDIS_URL is set and its boards are
built, PostgreSQL otherwise (`engine` says which; /health says why).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import Connection, text

from api.deps import ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.pagination import Limit, Offset
from api.ranking import service
from api.ranking.schemas import BoardPublic, MyRankPublic, RankEntryPublic
from core import ranking
from core.geo import valid_position

router = APIRouter(prefix="/ranking", tags=["ranking"],
                   responses={**ERROR_RESPONSES, **AUTH_RESPONSES,
                              404: {"model": ErrorResponse, "description": "Unknown region"}})

Scope = Literal["all", "sido", "sgg"]
Period = Literal["all", "week", "month"]
ScopeQ = Annotated[Scope, Query(description="all (overall), sido (a 시도) or sgg (a 시군구)")]
PeriodQ = Annotated[Period, Query(description="all (all time), week or month (Korean time)")]
RegionQ = Annotated[str | None, Query(pattern=r"^\d{2}(\d{3})?$", description="scope sido: the 2-digit 시도 code; "
                                      "scope sgg: the 5-digit 시군구 code", examples=["47730"])]


def _board(conn: Connection, scope: Scope, period: Period, region: str | None) -> str:
    if scope == "all":
        if region is not None:
            raise ApiError.validation("query.region", "scope=all takes no region; use scope=sido or scope=sgg")
        scope_key = "all"
    else:
        digits = 2 if scope == "sido" else 5
        if region is None or len(region) != digits:
            raise ApiError.validation("query.region", f"scope={scope} needs region as the {digits}-digit "
                                      f"{'시도' if scope == 'sido' else '시군구'} code")
        column = "sido_code" if scope == "sido" else "region_code"
        if not conn.execute(text(f"select exists (select 1 from raw.regions where {column} = :c)"),
                            {"c": region}).scalar_one():
            raise ApiError.not_found(f"There is no {'시도' if scope == 'sido' else '시군구'} with the code {region}; "
                                     "the codes are listed at /regions.")
        scope_key = f"{scope}:{region}"
    return ranking.board_key(scope_key, ranking.period_key(period, datetime.now(UTC)))


def _names(conn: Connection, users: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not users:
        return {}
    rows = conn.execute(text("select id, display_name from app.users where id = any(:ids)"), {"ids": users})
    return {r.id: r.display_name for r in rows}


def _items(conn: Connection, entries: list[ranking.RankEntry], me: uuid.UUID) -> list[RankEntryPublic]:
    names = _names(conn, [e.user_id for e in entries])
    return [RankEntryPublic(rank=e.rank, points=e.points, display_name=names.get(e.user_id, "(탈퇴한 사용자)"),
                            is_me=e.user_id == me) for e in entries]


@router.get("", response_model=BoardPublic, summary="A leaderboard, best first")
def board(conn: ConnDep, user: CurrentUser, scope: ScopeQ = "all", period: PeriodQ = "week",
          region: RegionQ = None, limit: Limit = 20, offset: Offset = 0) -> BoardPublic:
    key = _board(conn, scope, period, region)
    (entries, total), engine = service.with_fallback(conn, lambda b: b.top(key, limit, offset))
    return BoardPublic(board=key, scope=scope, period=period, engine=engine, items=_items(conn, entries, user.id),
                       total=total, limit=limit, offset=offset)


@router.get("/me", response_model=MyRankPublic, summary="My rank and points on a board")
def my_rank(conn: ConnDep, user: CurrentUser, scope: ScopeQ = "all", period: PeriodQ = "week",
            region: RegionQ = None) -> MyRankPublic:
    key = _board(conn, scope, period, region)
    (entry, as_of), engine = service.with_fallback(conn, lambda b: (b.rank(key, user.id), b.snapshot_as_of()))
    return MyRankPublic(board=key, scope=scope, period=period, engine=engine,
                        rank=entry.rank if entry else None, points=entry.points if entry else 0, as_of=as_of)


@router.get("/near", response_model=BoardPublic, summary="Users active near a point, ranked among themselves")
def near(conn: ConnDep, user: CurrentUser,
         lat: Annotated[float, Query(ge=-90, le=90, description="latitude of the point")],
         lon: Annotated[float, Query(ge=-180, le=180, description="longitude of the point")],
         radius_km: Annotated[float, Query(gt=0, le=100, description="how far around the point")] = 10.0,
         period: PeriodQ = "week", limit: Limit = 20) -> BoardPublic:
    problem = valid_position(lat, lon)
    if problem is not None or not math.isfinite(radius_km):
        raise ApiError.validation("query.lat", problem or "radius_km must be finite")
    key = ranking.board_key("all", ranking.period_key(period, datetime.now(UTC)))
    entries, engine = service.with_fallback(conn, lambda b: b.near(key, lat, lon, radius_km, limit))
    return BoardPublic(board=key, scope="near", period=period, engine=engine, items=_items(conn, entries, user.id),
                       total=len(entries), limit=limit, offset=0)
