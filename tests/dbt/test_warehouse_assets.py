"""The dbt project under Dagster: manifest preparation, lineage keys, and a real in-process run."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psycopg
import pytest
from dagster import AssetKey, DagsterInstance, materialize
from dagster_dbt import DbtProject

from assets.warehouse import WAREHOUSE_GROUP, WarehouseDbtResource, warehouse_dbt_assets
from pipelines.dbt_project import (
    DBT_PROJECT_DIR,
    ManifestNotPrepared,
    dbt_project,
    manifest_is_stale,
    prepare_manifest,
    require_manifest,
)

RAW_TABLES = ("regions", "region_units", "region_population", "decline_areas", "places", "empty_houses",
              "activity_events")
APP_TABLES = ("users", "missions", "mission_steps", "regional_needs")
MARTS = ("dim_region", "dim_user", "dim_mission", "fct_activity_events", "fct_mission_attempts",
         "mart_region_activity_monthly")


@pytest.fixture()
def project_copy(tmp_path: Path) -> DbtProject:
    """A copy of the dbt project without its target/ (no manifest yet)."""
    copy = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, copy, symlinks=True, ignore=shutil.ignore_patterns("target", "logs"))
    return DbtProject(project_dir=copy, profiles_dir=copy)


def test_missing_manifest_says_what_to_run(project_copy: DbtProject) -> None:
    with pytest.raises(ManifestNotPrepared, match="hometown dbt-prepare"):
        require_manifest(project_copy)


def test_prepare_parses_only_when_stale(project_copy: DbtProject) -> None:
    assert manifest_is_stale(project_copy)
    manifest = prepare_manifest(project=project_copy)
    assert manifest.exists() and not manifest_is_stale(project_copy)
    built = manifest.stat().st_mtime_ns
    prepare_manifest(project=project_copy)
    assert manifest.stat().st_mtime_ns == built  # current: nothing re-parsed

    model = Path(project_copy.project_dir) / "models" / "marts" / "regions" / "dim_region.sql"
    later = time.time() + 5
    os.utime(model, (later, later))
    assert manifest_is_stale(project_copy)  # so the next prepare parses again


def test_sources_join_the_ingest_lineage() -> None:
    from core.tables_all import metadata

    upstream = {key for key in warehouse_dbt_assets.dependency_keys if key not in warehouse_dbt_assets.keys}
    # every dbt source is a real app/raw table under the key its producer (or the app) uses …
    tables = {AssetKey(table.fullname.split(".")) for table in metadata.tables.values()}
    assert upstream <= tables
    # … and the foundation's sources are all there (other domains add their own)
    expected = {AssetKey(["raw", t]) for t in RAW_TABLES} | {AssetKey(["app", t]) for t in APP_TABLES}
    assert expected <= upstream
    assert {AssetKey(["marts", m]) for m in MARTS} <= set(warehouse_dbt_assets.keys)
    assert set(warehouse_dbt_assets.group_names_by_key.values()) == {WAREHOUSE_GROUP}
    checked = {key.asset_key for key in warehouse_dbt_assets.check_keys}
    assert {AssetKey(["marts", m]) for m in MARTS} <= checked


def test_definitions_load_with_the_warehouse() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    region_mart = graph.get(AssetKey(["marts", "dim_region"]))
    assert region_mart.group_name == WAREHOUSE_GROUP
    assert AssetKey(["raw", "regions"]) in graph.get(AssetKey(["staging", "stg_raw__regions"])).parent_keys
    assert defs.resolve_job_def("materialize_all") is not None


@pytest.mark.slow
def test_dagster_build_materializes_marts_and_runs_checks(
    marts_built: object, db_url: str, pg: psycopg.Connection
) -> None:
    before = pg.execute("select count(*) from marts.fct_activity_events").fetchone()
    run_dirs = set((Path(dbt_project.project_dir) / "target").glob("warehouse_dbt_assets-*"))
    resource = WarehouseDbtResource(project_dir=dbt_project, database_url=db_url)
    result = materialize([warehouse_dbt_assets], resources={"dbt": resource},
                         instance=DagsterInstance.ephemeral())
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {AssetKey(["marts", m]) for m in MARTS} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(list(warehouse_dbt_assets.check_keys))
    assert all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    assert pg.execute("select count(*) from marts.fct_activity_events").fetchone() == before
    assert set((Path(dbt_project.project_dir) / "target").glob("warehouse_dbt_assets-*")) == run_dirs


@pytest.mark.slow
def test_a_subset_materialization_leaves_every_view_in_place(
    marts_built: object, db_url: str, pg: psycopg.Connection
) -> None:
    """Rebuilding one staging view alone (as a subset picked in the Dagster UI does) drops the views
    built on it, by dbt-postgres's DROP … CASCADE; the asset recreates every view afterwards."""
    views_sql = ("select table_schema || '.' || table_name from information_schema.views "
                 "where table_schema in ('staging', 'intermediate') order by 1")
    before = pg.execute(views_sql).fetchall()
    assert any(v[0].startswith("intermediate.") for v in before)
    resource = WarehouseDbtResource(project_dir=dbt_project, database_url=db_url)
    result = materialize([warehouse_dbt_assets], selection=[AssetKey(["staging", "stg_raw__activity_events"])],
                         resources={"dbt": resource}, instance=DagsterInstance.ephemeral())
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {AssetKey(["staging", "stg_raw__activity_events"])}
    assert pg.execute(views_sql).fetchall() == before


@pytest.mark.slow
def test_a_subset_runs_no_test_of_a_model_it_does_not_build(
    marts_built: object, db_url: str, pg: psycopg.Connection
) -> None:
    """One step of a multi-step run builds dim_region while the facts are not built yet (a fresh
    database: their step runs in parallel). dbt's default, eager, selected the facts' relationships
    tests to dim_region with it, and they failed on tables that did not exist; buildable leaves them to
    the facts' own step."""
    facts = ("fct_activity_events", "fct_mission_attempts", "fct_stay_days", "mart_region_activity_monthly")
    for name in facts:
        pg.execute(f"alter table marts.{name} rename to {name}__hidden")
    pg.commit()
    try:
        resource = WarehouseDbtResource(project_dir=dbt_project, database_url=db_url)
        result = materialize([warehouse_dbt_assets], selection=[AssetKey(["marts", "dim_region"])],
                             resources={"dbt": resource}, instance=DagsterInstance.ephemeral(),
                             raise_on_error=False)
    finally:
        for name in facts:
            pg.execute(f"alter table marts.{name}__hidden rename to {name}")
        pg.commit()
    assert result.success
    checked = {check.asset_key for check in result.get_asset_check_evaluations()}
    assert checked == {AssetKey(["marts", "dim_region"])}
