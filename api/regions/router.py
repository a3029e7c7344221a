"""`/regions` and `/regions/{code}`: public by design (official statistics about whole 시군구)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import RowMapping

from api.deps import ConnDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from api.fields import RegionCode
from api.pagination import Limit, Offset, Page
from api.regions import service
from api.regions.schemas import RegionPublic
from api.regions.service import RegionFilter, RegionSort

router = APIRouter(prefix="/regions", tags=["regions"], responses={
    **ERROR_RESPONSES, 503: {"model": ErrorResponse, "description": "The region mart is not built yet"}})

RiskClass = Literal["very_low", "low", "caution", "risk", "high_risk"]


@router.get("", response_model=Page[RegionPublic], summary="List 시군구 with their indicators")
def list_regions(
    conn: ConnDep,
    sido: Annotated[str | None, Query(description="2-digit 시도 code or full name, e.g. 47 or 경상북도",
                                      min_length=2, max_length=20)] = None,
    decline_only: Annotated[bool, Query(description="only the 89 인구감소지역")] = False,
    risk_class: Annotated[RiskClass | None, Query(description="only this extinction-risk class")] = None,
    sort: Annotated[RegionSort, Query(description="code, risk (highest first), population, name")] = (
        RegionSort.CODE),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RegionPublic]:
    flt = RegionFilter(sido=sido.strip() if sido else None, decline_only=decline_only, risk_class=risk_class)
    rows, total = service.list_regions(conn, flt, sort, limit, offset)
    return Page[RegionPublic](items=[RegionPublic.from_row(r) for r in rows], total=total, limit=limit,
                              offset=offset)


def region_or_404(code: Annotated[RegionCode, Path(description="5-digit 시군구 code", examples=["47730"])],
                  conn: ConnDep) -> RowMapping:
    row = service.get_region(conn, code)
    if row is None:
        raise ApiError.not_found(f"No 시군구 has the code {code}; list the codes at /regions "
                                 "(codes follow the 2026 boundaries: 강원 51xxx, 전북 52xxx).")
    return row


@router.get("/{code}", response_model=RegionPublic, summary="One 시군구 with its indicators",
            responses={404: {"model": ErrorResponse, "description": "No 시군구 has this code"}})
def read_region(row: Annotated[RowMapping, Depends(region_or_404)]) -> RegionPublic:
    return RegionPublic.from_row(row)
