"""Schedules of the code location (domain schedules live beside their assets)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition

from pipelines.jobs import materialize_all

# every night, after the municipalities' and learning platforms' overnight files have landed
daily_refresh = ScheduleDefinition(
    name="daily_refresh", job=materialize_all, cron_schedule="0 3 * * *", execution_timezone="Asia/Seoul",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Ingest, rebuild the warehouse and everything that stands on it, once a day")

SCHEDULES = [daily_refresh]
