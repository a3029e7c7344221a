"""Jobs select by asset group, never by hand-kept key lists."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

ingest_regions = define_asset_job("ingest_regions", AssetSelection.groups("regions"),
                                  description="Load the public regional data into raw.*")
materialize_all = define_asset_job("materialize_all", AssetSelection.all(),
                                   description="Every asset: ingest, dbt, and what stands on the marts")

JOBS = [ingest_regions, materialize_all]
