"""The Dagster code location: one Definitions object merged from per-domain pieces.

Domains are imported as modules (not their `defs` names), so this module holds exactly one
Definitions object at module scope, which is what Dagster's module loading requires.
"""

from __future__ import annotations

from dagster import Definitions

import assets.certify
import assets.community
import assets.ingest.activity
import assets.ingest.regions
import assets.loop
import assets.recommend
import assets.report
import assets.warehouse
from pipelines.jobs import JOBS
from pipelines.resources import RESOURCES
from pipelines.schedules import SCHEDULES

defs = Definitions.merge(
    Definitions(jobs=JOBS, schedules=SCHEDULES, resources=RESOURCES),
    assets.ingest.regions.defs,
    assets.ingest.activity.defs,
    assets.warehouse.defs,
    assets.loop.defs,
    assets.certify.defs,
    assets.recommend.defs,
    assets.community.defs,
    assets.report.defs,
)
