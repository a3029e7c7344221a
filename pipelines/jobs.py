"""Jobs select by asset group, never by hand-kept key lists."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

# the report documents are partitioned (시군구 × month): they run per partition (the `reports` job,
# its schedule, or on demand from the API), never inside a run of unpartitioned assets
PARTITIONED_GROUPS = ("report",)

ingest_regions = define_asset_job("ingest_regions", AssetSelection.groups("regions"),
                                  description="Load the public regional data into raw.*")
materialize_all = define_asset_job(
    "materialize_all", AssetSelection.all() - AssetSelection.groups(*PARTITIONED_GROUPS),
    description="Every unpartitioned asset: ingest, dbt, and what stands on the marts")

JOBS = [ingest_regions, materialize_all]
