"""The regional-data assets materialized in-process against the session database."""

from __future__ import annotations

import psycopg
from dagster import AssetKey, materialize

from assets.ingest.regions import GROUP, REGION_CHECKS, regional_data
from assets.resources import PostgresResource, SettingsResource
from core.korea import LoadSummary

RAW_TABLES = ["regions", "region_units", "region_population", "decline_areas", "places", "empty_houses"]


def _materialize(db_url: str) -> dict[str, dict]:
    result = materialize([regional_data, *REGION_CHECKS],
                         resources={"postgres": PostgresResource(url=db_url), "settings": SettingsResource()})
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(REGION_CHECKS)
    failed = {c.check_name: c.metadata for c in checks if not c.passed}
    assert not failed, failed
    return {m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node("regional_data")}


def _counts(pg: psycopg.Connection) -> dict[str, int]:
    return {t: pg.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES}  # type: ignore[index]


def test_assets_have_the_dbt_source_keys_in_the_regions_group() -> None:
    keys = set(regional_data.keys)
    assert keys == {AssetKey(["raw", t]) for t in RAW_TABLES}
    assert set(regional_data.group_names_by_key.values()) == {GROUP}
    assert {next(iter(c.check_keys)).asset_key for c in REGION_CHECKS} <= keys


def test_materialize_twice_gives_the_same_tables(regions_loaded: LoadSummary, db_url: str,
                                                 pg: psycopg.Connection) -> None:
    first = _materialize(db_url)
    counts = _counts(pg)
    assert {t: first[t]["dagster/row_count"] for t in RAW_TABLES} == counts == regions_loaded.counts
    # 57 duplicate tourist spots; festivals: 228 without coordinates, 10 duplicates, 4 outside every region
    assert first["places"]["quarantined_rows"] == 57 + 228 + 10 + 4
    assert first["empty_houses"]["quarantined_rows"] == 14
    assert first["region_population"]["national_population"]["2024"] == 50_983_646
    quarantine = pg.execute("select count(*) from raw.quarantine").fetchone()
    second = _materialize(db_url)
    for metadata in (first, second):
        assert metadata["regions"].pop("load_seconds") > 0
    assert second == first and _counts(pg) == counts
    assert pg.execute("select count(*) from raw.quarantine").fetchone() == quarantine


def test_the_code_location_includes_the_regional_assets() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert {AssetKey(["raw", t]) for t in RAW_TABLES} <= set(graph.get_all_asset_keys())
    job = defs.resolve_job_def("ingest_regions")
    assert job is not None
