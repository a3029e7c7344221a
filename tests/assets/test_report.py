"""The report assets: partitions from the committed 시군구 codes, and a partition materialized in-process."""

from __future__ import annotations

from dagster import MultiPartitionKey, materialize
from sqlalchemy import Engine, text

from assets.report import REGION_CODES, ReportWriterResource, personal_report, regional_report, report_partitions
from assets.resources import PostgresResource
from tests.fixtures.warehouse import DbtRun


def test_partitions_are_the_229_regions_by_month() -> None:
    assert len(REGION_CODES) == 229 and len(set(REGION_CODES)) == 229
    assert "47730" in REGION_CODES
    dims = {d.name for d in report_partitions.partitions_defs}
    assert dims == {"region", "month"}


def test_a_region_month_materializes_into_storage_and_the_index(marts_built: DbtRun, engine: Engine,
                                                                 db_url: str) -> None:
    with engine.connect() as conn:
        stored = set(conn.execute(text("select region_code from raw.regions")).scalars())
        code = conn.execute(text("select region_code from marts.mart_region_activity_monthly "
                                 "where activity_month = '2026-09-01' order by active_users_count desc limit 1")
                            ).scalar()
    assert stored == set(REGION_CODES)  # what the asset check compares
    key = MultiPartitionKey({"region": code, "month": "2026-09-01"})
    resources = {"postgres": PostgresResource(url=db_url), "report_writer": ReportWriterResource()}
    result = materialize([regional_report], partition_key=key, resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("report__regional_report")[0].metadata
    assert meta["pages"].value >= 2
    again = materialize([regional_report], partition_key=key, resources=resources)
    assert again.asset_materializations_for_node("report__regional_report")[0].metadata["generated"].value is False
    with engine.connect() as conn:
        row = conn.execute(text("select pages, engine from serving.reports where kind = 'regional' "
                                "and subject = :c and period = '2026-09'"), {"c": code}).one()
    assert row.pages == meta["pages"].value and row.engine == "template-v1"


def test_the_personal_report_job_runs_with_config(marts_built: DbtRun, engine: Engine, db_url: str) -> None:
    with engine.connect() as conn:
        user_id = conn.execute(text("select id from app.users where user_type = 'youth' order by id limit 1")).scalar()
    result = personal_report.execute_in_process(
        run_config={"ops": {"personal_report_op": {"config": {"user_id": str(user_id), "month": "2026-10"}}}},
        resources={"postgres": PostgresResource(url=db_url)})
    assert result.success
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from serving.reports where kind = 'personal' and user_id = :u"),
                            {"u": user_id}).scalar_one() == 1
