"""The Dagster code location: one Definitions object merged from per-domain pieces."""

from __future__ import annotations

from dagster import Definitions

from pipelines.jobs import JOBS
from pipelines.resources import RESOURCES

defs = Definitions.merge(
    Definitions(jobs=JOBS, resources=RESOURCES),
)
