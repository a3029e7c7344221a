"""Skill certification and needs matching in Dagster (group "certify"): checks and assessments of new
submissions (sensor-driven), and the hourly ranking of certified people for open regional needs."""

from __future__ import annotations

from dagster import Definitions

from assets.certify.assets import (
    CERTIFY_ASSETS,
    CERTIFY_CHECKS,
    GROUP,
    AssessmentWriterResource,
    certification_checks,
    need_matches,
)
from assets.certify.sensors import certify_checks, certify_matching, matching_schedule, new_submissions_sensor

defs = Definitions(
    assets=CERTIFY_ASSETS,
    asset_checks=CERTIFY_CHECKS,
    jobs=[certify_checks, certify_matching],
    schedules=[matching_schedule],
    sensors=[new_submissions_sensor],
    resources={"assessment_writer": AssessmentWriterResource()},
)

__all__ = ["GROUP", "AssessmentWriterResource", "certification_checks", "certify_checks", "certify_matching",
           "defs", "need_matches", "new_submissions_sensor"]
