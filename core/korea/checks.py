"""What the loaded regional tables promise, measured in the database (used by asset checks and tests).

Each check reads raw.* as it is now, so it also catches a later change made outside the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from core.korea.places import LAT_RANGE, LON_RANGE
from core.korea.population import AGE_BANDS, YEARS

EXPECTED_REGIONS = 229  # 226 기초자치단체 + 세종 + 제주시 + 서귀포시
EXPECTED_DECLINE = {"decline": 89, "interest": 18}
NATIONAL_POPULATION_2024 = 50_983_646  # MOIS 주민등록 거주자, 2024-12-31
MIN_PLACES_WITH_REGION = 0.99


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    metadata: dict[str, Any]
    description: str


def _one(conn: psycopg.Connection, sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params or None).fetchone()
    return row[0] if row else None


def region_count(conn: psycopg.Connection) -> CheckOutcome:
    """229 regions, and every published boundary unit (일반구 included) belongs to one of them."""
    count = _one(conn, "select count(*) from raw.regions")
    kostat = _one(conn, "select count(kostat_code) from raw.regions")
    orphans = _one(conn, "select count(*) from raw.region_units u "
                         "left join raw.regions r using (region_code) where r.region_code is null")
    return CheckOutcome("region_count", count == EXPECTED_REGIONS and orphans == 0,
                        {"regions": count, "expected": EXPECTED_REGIONS, "with_kostat_code": kostat,
                         "units_without_region": orphans},
                        f"{EXPECTED_REGIONS} 시군구 (일반구 merged into their 시), every unit mapped to one")


def decline_areas(conn: psycopg.Connection) -> CheckOutcome:
    """89 인구감소지역 + 18 관심지역, each on a known region code (the wrong 경북 codes corrected)."""
    counts: dict[str, int] = dict(
        conn.execute("select category, count(*) from raw.decline_areas group by 1").fetchall())
    unknown = _one(conn, "select count(*) from raw.decline_areas d "
                         "left join raw.regions r using (region_code) where r.region_code is null")
    corrected = _one(conn, "select count(*) from raw.decline_areas where correction is not null")
    return CheckOutcome("decline_areas", counts == EXPECTED_DECLINE and unknown == 0,
                        {**{f"{k}_count": v for k, v in counts.items()}, "not_a_region": unknown,
                         "codes_corrected": corrected},
                        "89 인구감소지역 + 18 관심지역, every code a known region")


def population_years(conn: psycopg.Connection) -> CheckOutcome:
    """Every region has 2022, 2023 and 2024 in full, and 2024 adds up to the published national total."""
    cells_per_year = 3 * (len(AGE_BANDS) + 1)
    incomplete = _one(conn, """
        select count(*) from raw.regions r
        where (select count(*) from raw.region_population p where p.region_code = r.region_code)
              <> %s""", len(YEARS) * cells_per_year)
    totals: dict[int, int] = dict(conn.execute("""select year, sum(population) from raw.region_population
                                  where sex = 'total' and age_band = 'total' group by 1""").fetchall())
    total_2024 = int(totals.get(2024, 0))
    return CheckOutcome("population_years", incomplete == 0 and total_2024 == NATIONAL_POPULATION_2024,
                        {"regions_incomplete": incomplete, "national_2024": total_2024,
                         "expected_2024": NATIONAL_POPULATION_2024,
                         **{f"national_{y}": int(n) for y, n in sorted(totals.items())}},
                        "2022, 2023 and 2024 for every region (3 sexes × 22 bands); 2024 total as published")


def places_located(conn: psycopg.Connection) -> CheckOutcome:
    """Every place lies inside Korea and at least 99% of them were placed in a region."""
    total, with_region, outside = conn.execute("""
        select count(*), count(region_code),
               count(*) filter (where not (lat between %s and %s and lon between %s and %s))
        from raw.places""", (*LAT_RANGE, *LON_RANGE)).fetchone()  # type: ignore[misc]
    unknown = _one(conn, "select count(*) from raw.places p left join raw.regions r using (region_code) "
                         "where p.region_code is not null and r.region_code is null")
    share = with_region / total if total else 0.0
    return CheckOutcome("places_located", total > 0 and outside == 0 and unknown == 0
                        and share >= MIN_PLACES_WITH_REGION,
                        {"places": total, "with_region": with_region, "share_with_region": round(share, 4),
                         "outside_korea": outside, "unknown_region": unknown},
                        "every place inside Korea; at least 99% placed in a region")


def empty_houses_cover(conn: psycopg.Connection) -> CheckOutcome:
    """Every region has an empty-house count (all housing types) for 2022 and 2023."""
    missing = _one(conn, """
        select count(*) from raw.regions r cross join (values (2022), (2023)) y(year)
        where not exists (select 1 from raw.empty_houses e where e.region_code = r.region_code
                          and e.year = y.year and e.housing_type = '계')""")
    return CheckOutcome("empty_houses_cover", missing == 0, {"region_years_missing": missing},
                        "a 계 (all housing types) count for every region in 2022 and 2023")


CHECKS: dict[str, tuple[str, Callable[[psycopg.Connection], CheckOutcome]]] = {
    # check name → (raw table it belongs to, function)
    "region_count": ("regions", region_count),
    "decline_areas": ("decline_areas", decline_areas),
    "population_years": ("region_population", population_years),
    "places_located": ("places", places_located),
    "empty_houses_cover": ("empty_houses", empty_houses_cover),
}
