"""The real regional data the demo population is built on (raw.regions, raw.places, …), read once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text


class MissingRegionalData(RuntimeError):
    """The demo needs the public regional data loaded first."""


@dataclass(frozen=True)
class Region:
    code: str
    sido_code: str
    sido_name: str
    sgg_name: str
    full_name: str
    level: str  # si | gun | gu | special
    lat: float
    lon: float
    population: int  # latest year's residents
    category: str | None  # 'decline' | 'interest' | None

    @property
    def is_decline_or_interest(self) -> bool:
        return self.category is not None


@dataclass(frozen=True)
class Place:
    place_id: str
    kind: str  # tourist_spot | festival | heritage
    name: str
    region_code: str
    lat: float
    lon: float
    description: str
    category: str | None
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class Reference:
    regions: list[Region]
    places: list[Place]

    def region_index(self) -> dict[str, int]:
        return {r.code: i for i, r in enumerate(self.regions)}


def _cells(row: Any) -> tuple[Any, ...]:
    return tuple(row)


def read_reference(conn: Connection) -> Reference:
    """Regions with their population and decline flag, and the places that have a region."""
    regions = [Region(*_cells(row)) for row in conn.execute(text("""
        select r.region_code, r.sido_code, r.sido_name, r.sgg_name, r.full_name, r.level,
               r.centroid_lat, r.centroid_lon,
               coalesce((select p.population from raw.region_population p
                         where p.region_code = r.region_code and p.sex = 'total' and p.age_band = 'total'
                         order by p.year desc limit 1), 0),
               d.category
        from raw.regions r left join raw.decline_areas d using (region_code)
        order by r.region_code""")).all()]
    if not regions:
        raise MissingRegionalData("raw.regions is empty: load the public regional data first "
                                  "(hometown materialize --job ingest_regions)")
    places = [Place(*_cells(row)) for row in conn.execute(text("""
        select place_id, kind, name, region_code, lat, lon, coalesce(description, ''), category,
               starts_on, ends_on
        from raw.places where region_code is not null
        order by place_id""")).all()]
    if not places:
        raise MissingRegionalData("raw.places is empty: load the public regional data first")
    return Reference(regions=regions, places=places)
