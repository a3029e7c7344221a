"""Write every regional table in one transaction: a re-run replaces them, never duplicates them.

The loaders are pure (files in, DataFrames and quarantine entries out); this module is the only one
that touches the database. Readers see the previous load until the transaction commits (DELETE, not
TRUNCATE, so nobody is blocked), and the quarantine rows of these source files are replaced with it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import psycopg
from sqlalchemy import Engine

from core.korea.boundaries import BOUNDARIES_FILE, KOSTAT_FILE, build_regions
from core.korea.common import QuarantineEntry
from core.korea.decline import INDEX_FILE, load_decline_areas
from core.korea.empty_houses import EMPTY_HOUSES_FILE, load_empty_houses
from core.korea.places import FESTIVAL_FILE, HERITAGE_FILE, RE_HERITAGE_FILE, TOURIST_FILE, load_places
from core.korea.population import POPULATION_FILE, load_population, missing_years

SOURCE_FILES = (BOUNDARIES_FILE, KOSTAT_FILE, POPULATION_FILE, INDEX_FILE, TOURIST_FILE, FESTIVAL_FILE,
                HERITAGE_FILE, RE_HERITAGE_FILE, EMPTY_HOUSES_FILE)
TABLES: dict[str, list[str]] = {
    "regions": ["region_code", "sido_code", "sido_name", "sgg_name", "full_name", "level", "centroid_lat",
                "centroid_lon", "centroid_method", "area_km2", "boundary_geojson", "kostat_code",
                "source_codes"],
    "region_units": ["unit_code", "region_code", "unit_name", "is_general_gu"],
    "region_population": ["region_code", "year", "sex", "age_band", "population"],
    "decline_areas": ["region_code", "category", "sido_name", "sgg_name", "notice", "source_code",
                      "correction"],
    "places": ["place_id", "kind", "name", "region_code", "lat", "lon", "address", "description", "category",
               "starts_on", "ends_on", "attributes", "source_file", "source_line"],
    "empty_houses": ["region_code", "year", "housing_type", "empty_count"],
}
JSON_COLUMNS = {"boundary_geojson", "source_codes", "attributes"}


@dataclass
class RegionalData:
    """Everything the load writes, computed from the files before any database work."""

    tables: dict[str, pd.DataFrame]
    quarantine: list[QuarantineEntry]
    skipped: dict[str, int]  # rows left out by design (시도 totals, 일반구, 출장소, subtotals), per reason
    population_sido_totals: dict[int, int]


@dataclass
class LoadSummary:
    """What a load wrote: rows per table, quarantined rows per reason and per file, timings."""

    counts: dict[str, int]
    quarantined: dict[str, int]
    quarantined_by_source: dict[str, int]
    skipped: dict[str, int]
    population_total: dict[int, int]  # national resident population per year, from the region rows
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_all(data_dir: Path) -> RegionalData:
    """Parse every source file into the six raw tables (pure: no database)."""
    regions = build_regions(data_dir)
    population = load_population(data_dir, regions)
    decline = load_decline_areas(data_dir, regions)
    places = load_places(data_dir, regions)
    houses = load_empty_houses(data_dir, regions)
    region_table = regions.table.copy()
    region_table["source_codes"] = [
        {**codes, **({"population": population.source_codes[code]} if code in population.source_codes
                     else {}),
         **({"kostat": kostat} if isinstance(kostat, str) else {})}
        for code, codes, kostat in zip(region_table.region_code, region_table.source_codes,
                                       region_table.kostat_code, strict=True)]
    quarantine = [*regions.quarantine, *population.quarantine, *decline.quarantine, *places.quarantine,
                  *houses.quarantine]
    gaps = missing_years(population.table, region_table.region_code.tolist())
    quarantine += [QuarantineEntry(POPULATION_FILE, code, "region without population for some years",
                                   detail=", ".join(map(str, years))) for code, years in gaps.items()]
    skipped = Counter({f"{POPULATION_FILE}: {k}": v for k, v in population.skipped.items()})
    skipped.update({f"{EMPTY_HOUSES_FILE}: {k}": v for k, v in houses.skipped.items()})
    tables = {"regions": region_table, "region_units": regions.units, "region_population": population.table,
              "decline_areas": decline.table, "places": places.table, "empty_houses": houses.table}
    return RegionalData(tables, quarantine, dict(skipped), population.sido_totals)


def _cell(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS:
        return orjson.dumps(value).decode()
    if value is None or (isinstance(value, float) and value != value):  # NaN → NULL
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    with cur.copy(f"copy raw.{table} ({', '.join(columns)}) from stdin") as copy:
        for values in frame[list(columns)].itertuples(index=False, name=None):
            copy.write_row([_cell(c, v) for c, v in zip(columns, values, strict=True)])


@contextmanager
def _transaction(target: psycopg.Connection | Engine) -> Iterator[psycopg.Connection]:
    """One transaction on a psycopg connection, or on a connection of a SQLAlchemy engine."""
    if isinstance(target, Engine):
        with target.begin() as sa_conn:
            driver = sa_conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection), "core.korea needs the psycopg 3 driver"
            yield driver
    else:
        with target.transaction():
            yield target


def write_all(target: psycopg.Connection | Engine, data: RegionalData) -> None:
    """Replace the six raw tables and these files' quarantine rows atomically."""
    with _transaction(target) as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"delete from raw.{table}")
        cur.execute("delete from raw.quarantine where source = any(%s)", [list(SOURCE_FILES)])
        for table, columns in TABLES.items():
            _copy(cur, table, columns, data.tables[table])
        rows = [q.as_row() for q in data.quarantine]
        cur.executemany("insert into raw.quarantine (source, position, reason, content) "
                        "values (%(source)s, %(position)s, %(reason)s, %(content)s)", rows)


def load_all(target: psycopg.Connection | Engine, data_dir: Path) -> LoadSummary:
    """Read every regional source in `data_dir` and write raw.* in one transaction; say what was done."""
    started = time.perf_counter()
    data = read_all(data_dir)
    write_all(target, data)
    population = data.tables["region_population"]
    totals = population[(population.sex == "total") & (population.age_band == "total")]
    reasons = Counter(q.reason for q in data.quarantine)
    sources = Counter(q.source for q in data.quarantine)
    notes = []
    by_year = totals.groupby("year")["population"].sum().to_dict()
    for year, sido_total in sorted(data.population_sido_totals.items()):
        if by_year.get(year) != sido_total:
            notes.append(f"{year}: regions sum to {by_year.get(year)}, 시도 rows to {sido_total}")
    return LoadSummary(
        counts={table: len(frame) for table, frame in data.tables.items()},
        quarantined=dict(sorted(reasons.items())), quarantined_by_source=dict(sorted(sources.items())),
        skipped=data.skipped, population_total={int(y): int(n) for y, n in by_year.items()},
        seconds=round(time.perf_counter() - started, 2), notes=notes)
