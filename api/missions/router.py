"""`/missions` (filters, distance from a point) and `/missions/{id}` with its ordered steps.

Published missions are public by design (the app shows them before sign-in); other statuses need a
token and are limited to what the caller may see (see api.missions.service.visible_to).
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import RowMapping

from api.deps import ConnDep, OptionalUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.fields import RegionCode
from api.missions import service
from api.missions.schemas import MissionPublic, MissionSummary
from api.missions.service import MissionQuery, Near
from api.pagination import Limit, Offset, Page
from core.vocab import MissionStatus, MissionType

router = APIRouter(prefix="/missions", tags=["missions"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

DEFAULT_RADIUS_KM = 20.0
MAX_RADIUS_KM = 500.0
NEAR_HINT = "give near as 'lat,lon' in decimal degrees, e.g. near=36.35,128.70"


def parse_near(near: str | None, radius_km: float | None) -> Near | None:
    """`near=lat,lon` (+ `radius_km`) → Near, or a 422 that says which part is wrong."""
    if near is None:
        if radius_km is not None:
            raise ApiError.validation("query.radius_km", "radius_km needs a point: add near=lat,lon")
        return None
    parts = near.split(",")
    if len(parts) != 2:
        raise ApiError.validation("query.near", f"expected two numbers separated by a comma; {NEAR_HINT}")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise ApiError.validation("query.near", f"{near!r} is not two numbers; {NEAR_HINT}") from None
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ApiError.validation("query.near", f"latitude {parts[0].strip()} is outside −90..90; {NEAR_HINT}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ApiError.validation("query.near", f"longitude {parts[1].strip()} is outside −180..180; {NEAR_HINT}")
    return Near(lat=lat, lon=lon, radius_km=radius_km if radius_km is not None else DEFAULT_RADIUS_KM)


@router.get("", response_model=Page[MissionSummary], summary="Find missions (nearest first with `near`)")
def list_missions(
    conn: ConnDep,
    user: OptionalUser,
    region_code: Annotated[RegionCode | None, Query(description="only this 시군구", examples=["47730"])] = None,
    mission_type: Annotated[MissionType | None, Query(description="exploration, social, skill, learning")] = None,
    near: Annotated[str | None, Query(description="a point 'lat,lon'; results are ordered by distance",
                                      examples=["36.35,128.70"], max_length=60)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=MAX_RADIUS_KM,
                                             description=f"with near; default {DEFAULT_RADIUS_KM:g}")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="words in the title")] = None,
    status: Annotated[MissionStatus, Query(description="other than published: staff and owners only")] = (
        MissionStatus.PUBLISHED),
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[MissionSummary]:
    if status != MissionStatus.PUBLISHED and user is None:
        raise ApiError(401, "not_authenticated", f"Only signed-in staff and owners can list {status.value} "
                       "missions; sign in at /auth/token, or drop the status filter.",
                       headers={"WWW-Authenticate": "Bearer"})
    query = MissionQuery(region_code=region_code, mission_type=mission_type.value if mission_type else None,
                         status=status.value, near=parse_near(near, radius_km), q=q.strip() or None if q else None,
                         limit=limit, offset=offset)
    rows, total = service.list_missions(conn, query, user)
    return Page[MissionSummary](items=[MissionSummary.from_row(r) for r in rows], total=total, limit=limit,
                                offset=offset)


def mission_or_404(mission_id: Annotated[uuid.UUID, Path(description="the mission's UUID")], conn: ConnDep,
                   user: OptionalUser) -> RowMapping:
    """The mission if the caller may see it; otherwise 404 (a draft's existence is not revealed)."""
    row = service.get_mission(conn, mission_id, user)
    if row is None:
        raise ApiError.not_found(f"No published mission has the id {mission_id}; find missions at /missions.")
    return row


@router.get("/{mission_id}", response_model=MissionPublic, summary="One mission with its ordered steps",
            responses={404: {"model": ErrorResponse, "description": "Unknown or not visible to you"}})
def read_mission(row: Annotated[RowMapping, Depends(mission_or_404)], conn: ConnDep) -> MissionPublic:
    return MissionPublic.from_rows(row, service.get_steps(conn, row["id"]))
