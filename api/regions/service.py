"""Queries on marts.dim_region (built by dbt; its contract is enforced there, this is the read side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    Numeric,
    RowMapping,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    or_,
    select,
)
from sqlalchemy.exc import ProgrammingError

from api.errors import ApiError

dim_region = Table(
    "dim_region", MetaData(schema="marts"),
    Column("region_code", String(5), primary_key=True),
    Column("sido_code", String(2)), Column("sido_name", Text), Column("sgg_name", Text),
    Column("full_name", Text), Column("level", Text),
    Column("centroid_lat", Float), Column("centroid_lon", Float), Column("area_km2", Float),
    Column("population_year", SmallInteger), Column("population_total", Integer),
    Column("population_male", Integer), Column("population_female", Integer),
    Column("women_20_39_count", Integer), Column("people_65_plus_count", Integer),
    Column("extinction_risk_index", Numeric), Column("extinction_risk_class", Text),
    Column("extinction_risk_label_ko", Text), Column("extinction_risk_rank", Integer),
    Column("population_change_pct", Numeric),
    Column("is_decline_area", Boolean), Column("is_interest_area", Boolean),
    Column("empty_houses_count", Integer), Column("empty_houses_year", SmallInteger),
    Column("tourist_spot_count", Integer), Column("festival_count", Integer), Column("heritage_count", Integer),
)


class RegionSort(StrEnum):
    CODE = "code"  # region_code ascending
    RISK = "risk"  # highest extinction risk first (rank 1 = lowest index)
    POPULATION = "population"  # largest first
    NAME = "name"  # full_name in Korean order


_ORDER: dict[RegionSort, list[Any]] = {
    RegionSort.CODE: [dim_region.c.region_code],
    RegionSort.RISK: [dim_region.c.extinction_risk_rank.asc().nulls_last(), dim_region.c.region_code],
    RegionSort.POPULATION: [dim_region.c.population_total.desc().nulls_last(), dim_region.c.region_code],
    RegionSort.NAME: [dim_region.c.full_name, dim_region.c.region_code],
}


@dataclass(frozen=True)
class RegionFilter:
    sido: str | None = None  # 2-digit 시도 code or its full name (경상북도)
    decline_only: bool = False
    risk_class: str | None = None


class MartMissing(ApiError):
    def __init__(self) -> None:
        super().__init__(503, "indicators_not_built", "Regional indicators (marts.dim_region) are not built yet; "
                         "run the warehouse job (`hometown materialize`) and try again.")


def _run(conn: Connection, statement: Any) -> Any:
    try:
        return conn.execute(statement)
    except ProgrammingError as exc:  # undefined table: dbt has not run on this database
        conn.rollback()
        if getattr(exc.orig, "sqlstate", None) == "42P01":
            raise MartMissing() from exc
        raise


def _where(flt: RegionFilter) -> list[Any]:
    clauses: list[Any] = []
    if flt.sido:
        clauses.append(or_(dim_region.c.sido_code == flt.sido, dim_region.c.sido_name == flt.sido))
    if flt.decline_only:
        clauses.append(dim_region.c.is_decline_area.is_(True))
    if flt.risk_class:
        clauses.append(dim_region.c.extinction_risk_class == flt.risk_class)
    return clauses


def list_regions(conn: Connection, flt: RegionFilter, sort: RegionSort, limit: int,
                 offset: int) -> tuple[Sequence[RowMapping], int]:
    where = _where(flt)
    total = _run(conn, select(func.count()).select_from(dim_region).where(*where)).scalar_one()
    if flt.sido and total == 0:
        _raise_unknown_sido(conn, flt.sido)
    rows = _run(conn, select(dim_region).where(*where).order_by(*_ORDER[sort]).limit(limit).offset(offset))
    return rows.mappings().all(), total


def _raise_unknown_sido(conn: Connection, sido: str) -> None:
    known = _run(conn, select(dim_region.c.sido_code, dim_region.c.sido_name).distinct()
                 .order_by(dim_region.c.sido_code)).all()
    if any(sido in (code, name) for code, name in known):
        return  # a real 시도 that just has no region matching the other filters
    choices = ", ".join(f"{code} {name}" for code, name in known)
    raise ApiError.validation("query.sido", f"no 시도 is called {sido!r}; use a 2-digit code or a full name: "
                              f"{choices}")


def get_region(conn: Connection, region_code: str) -> RowMapping | None:
    return _run(conn, select(dim_region).where(dim_region.c.region_code == region_code)).mappings().first()
