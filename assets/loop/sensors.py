"""The loop's cadence: rebuild its marts often, and publish (issue badges, rebuild boards) after each build.

`loop_marts` builds the loop models with what they stand on (dbt selection `+path:models/marts/loop`:
the staging views of the raw events, which are always current, the attempts and the dimensions); its
schedule runs every 15 minutes, the longest a stay-day badge waits. `badge_awards_sensor` watches the
materializations of marts.fct_badge_awards, whoever builds it (this job, `materialize_all`, a manual
run), and requests one `loop_publish` run per materialization (the run key names it), which issues the
awards not issued yet and rewrites the boards. Issuing is idempotent: a repeated run issues nothing twice.
(No `from __future__ import annotations`: Dagster reads the annotations at definition time.)
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    asset_sensor,
    define_asset_job,
)
from dagster_dbt import build_dbt_asset_selection

from assets.loop.assets import AWARDS_MART, GROUP
from assets.warehouse import warehouse_dbt_assets

LOOP_DBT_SELECT = "+path:models/marts/loop"
LOOP_SCHEDULE_CRON = "*/15 * * * *"

loop_marts = define_asset_job(
    "loop_marts", build_dbt_asset_selection([warehouse_dbt_assets], dbt_select=LOOP_DBT_SELECT),
    description="dbt build of the mission-loop marts (badges, points, boards, stay days, funnels) and what "
                "they stand on")
loop_publish = define_asset_job(
    "loop_publish", AssetSelection.groups(GROUP),
    description="Issue the badges of the awards mart and rebuild the boards (serving.leaderboard, Redis)")

loop_marts_schedule = ScheduleDefinition(
    name="loop_marts_every_15_minutes", job=loop_marts, cron_schedule=LOOP_SCHEDULE_CRON,
    execution_timezone="Asia/Seoul", default_status=DefaultScheduleStatus.RUNNING,
    description="Keeps points, boards and stay-day badges at most 15 minutes behind the events")


@asset_sensor(asset_key=AWARDS_MART, job=loop_publish, minimum_interval_seconds=30,
              default_status=DefaultSensorStatus.RUNNING,
              description="After each build of marts.fct_badge_awards, issues its new awards (once each, with "
                          "a notification) and rebuilds the boards")
def badge_awards_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry) -> RunRequest:
    # the run key names the materialization (its run and time), so each one is published once
    return RunRequest(run_key=f"fct_badge_awards:{asset_event.run_id}:{asset_event.timestamp}",
                      tags={"hometown/trigger": "fct_badge_awards materialization"})
