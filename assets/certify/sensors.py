"""Jobs, the sensor on new submissions and the matching schedule of the certify group.

(No `from __future__ import annotations`: Dagster reads the annotations at definition time.)
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)
from sqlalchemy import text

from assets.certify.assets import CHECKS_KEY, MATCHES_KEY
from assets.resources import PostgresResource

certify_checks = define_asset_job("certify_checks", AssetSelection.assets(CHECKS_KEY),
                                  description="Check and assess pending certification submissions")
certify_matching = define_asset_job("certify_matching", AssetSelection.assets(MATCHES_KEY),
                                    description="Rank certified people for every open regional need")


def pending_state(postgres: PostgresResource) -> tuple[int, str | None]:
    """How many submissions wait for checks, and the newest one's id (the run key)."""
    with postgres.engine().connect() as conn:
        row = conn.execute(text(
            "select count(*) as n, (select id::text from app.certification_submissions where status = 'pending' "
            "order by created_at desc limit 1) as newest from app.certification_submissions "
            "where status = 'pending'")).one()
    return int(row.n), row.newest


@sensor(job=certify_checks, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Requests the checks when new certification submissions are waiting")
def new_submissions_sensor(context: SensorEvaluationContext, postgres: PostgresResource) -> RunRequest | SkipReason:
    count, newest = pending_state(postgres)
    if count == 0 or newest is None:
        return SkipReason("no submission is waiting for its checks")
    # one run per newest pending submission: a run that failed half-way is retried when another arrives
    return RunRequest(run_key=f"pending-{newest}", tags={"pending_submissions": str(count)})


matching_schedule = ScheduleDefinition(job=certify_matching, cron_schedule="15 * * * *",
                                       default_status=DefaultScheduleStatus.RUNNING,
                                       description="Re-rank candidates for open needs every hour")
