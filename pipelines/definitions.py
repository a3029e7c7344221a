"""The Dagster code location: one Definitions object merged from per-domain pieces."""

from __future__ import annotations

from dagster import Definitions

from assets.certify import defs as certify_defs
from assets.community import defs as community_defs
from assets.ingest.activity import defs as activity_defs
from assets.ingest.regions import defs as regions_defs
from assets.loop import defs as loop_defs
from assets.recommend import defs as recommend_defs
from assets.report import defs as report_defs
from assets.warehouse import defs as warehouse_defs
from pipelines.jobs import JOBS
from pipelines.resources import RESOURCES

defs = Definitions.merge(
    Definitions(jobs=JOBS, resources=RESOURCES),
    regions_defs,
    activity_defs,
    warehouse_defs,
    loop_defs,
    certify_defs,
    recommend_defs,
    community_defs,
    report_defs,
)
