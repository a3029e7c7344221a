"""The public regional data as Dagster assets: six raw tables written in one transaction.

Thin by design: `core.korea.load_all` does the work; this module names the assets with the keys the
dbt sources map to (raw/regions, …), reports row and quarantine counts, and checks what the tables
promise in the database. (No `from __future__ import annotations`: Dagster reads the context and
resource annotations at definition time.)
"""

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset_check,
    multi_asset,
)

from assets.resources import PostgresResource, SettingsResource
from core.korea import load_all
from core.korea.boundaries import BOUNDARIES_FILE, KOSTAT_FILE
from core.korea.checks import CHECKS, CheckOutcome
from core.korea.decline import INDEX_FILE
from core.korea.empty_houses import EMPTY_HOUSES_FILE
from core.korea.places import FESTIVAL_FILE, HERITAGE_FILE, RE_HERITAGE_FILE, TOURIST_FILE
from core.korea.population import POPULATION_FILE

GROUP = "regions"
# raw table → (description, the source files whose bad rows it quarantines)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "regions": ("229 시군구 (VWorld 2026 boundaries, 일반구 dissolved into their 시) with centroid, area, "
                "KOSTAT code", (BOUNDARIES_FILE, KOSTAT_FILE)),
    "region_units": ("The 255 published boundary units, 일반구 included, mapped to their 시군구", ()),
    "region_population": ("Residents by age band and sex, 2022–2024 (MOIS), under reference-vintage codes",
                          (POPULATION_FILE,)),
    "decline_areas": ("89 인구감소지역 and 18 관심지역, three 경북 codes corrected", (INDEX_FILE,)),
    "places": ("Tourist spots, festivals and heritage sites, placed in their 시군구 by point-in-polygon",
               (TOURIST_FILE, FESTIVAL_FILE, HERITAGE_FILE, RE_HERITAGE_FILE)),
    "empty_houses": ("Empty houses per 시군구 and housing type, 2022–2023 (KOSIS 인구주택총조사)",
                     (EMPTY_HOUSES_FILE,)),
}


@multi_asset(
    name="regional_data",
    specs=[AssetSpec(AssetKey(["raw", table]), group_name=GROUP, description=description,
                     kinds={"python", "postgres"})
           for table, (description, _) in TABLES.items()],
)
def regional_data(context: AssetExecutionContext, postgres: PostgresResource,
                  settings: SettingsResource) -> Iterator[MaterializeResult]:
    """Load every regional source in one transaction (a re-run replaces the tables, same result)."""
    data_dir = settings.get().data_dir
    with postgres.connect() as conn:
        summary = load_all(conn, data_dir)
    context.log.info(f"regional data loaded from {data_dir} in {summary.seconds}s: {summary.counts}")
    for note in summary.notes:
        context.log.warning(note)
    for table, (_, sources) in TABLES.items():
        quarantined = sum(summary.quarantined_by_source.get(s, 0) for s in sources)
        metadata: dict[str, Any] = {
            "dagster/row_count": summary.counts[table],
            "quarantined_rows": quarantined,
            "source_files": ", ".join(sources or (BOUNDARIES_FILE,)),
        }
        if table == "regions":
            metadata["quarantined_by_reason"] = MetadataValue.json(summary.quarantined)
            metadata["skipped_by_design"] = MetadataValue.json(summary.skipped)
            metadata["load_seconds"] = summary.seconds
        if table == "region_population":
            metadata["national_population"] = MetadataValue.json({str(y): n for y, n in
                                                                  summary.population_total.items()})
        yield MaterializeResult(asset_key=AssetKey(["raw", table]), metadata=metadata)


def _asset_check(name: str, table: str, measure: Callable[[psycopg.Connection], CheckOutcome]
                 ) -> AssetChecksDefinition:
    @asset_check(asset=AssetKey(["raw", table]), name=name, description=measure.__doc__ or name)
    def _check(postgres: PostgresResource) -> AssetCheckResult:
        with postgres.connect() as conn:
            outcome = measure(conn)
        return AssetCheckResult(passed=outcome.passed, metadata=outcome.metadata,
                                description=outcome.description)
    return _check


REGION_CHECKS = [_asset_check(name, table, measure) for name, (table, measure) in CHECKS.items()]

defs = Definitions(assets=[regional_data], asset_checks=REGION_CHECKS)
