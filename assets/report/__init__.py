"""PDF reports: regional reports and policy proposals per 시군구 × month, personal reports on demand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    MultiPartitionKey,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from assets.report.assets import (
    GROUP,
    REGION_CODES,
    PersonalReportConfig,
    ReportWriterResource,
    personal_report,
    policy_proposal,
    regional_report,
    report_partitions,
    report_region_codes_match,
)

reports_job = define_asset_job("reports", AssetSelection.groups(GROUP), partitions_def=report_partitions,
                               description="Regional reports and policy proposals for the selected region-months")



@schedule(job=reports_job, cron_schedule="0 6 2 * *", execution_timezone="Asia/Seoul",
          default_status=DefaultScheduleStatus.RUNNING,
          description="On the 2nd at 06:00 KST (after the nightly refresh has the whole month), every "
                      "시군구's regional report and policy proposal for the month just ended")
def monthly_reports(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    month = (context.scheduled_execution_time.replace(day=1) - timedelta(days=1)).strftime("%Y-%m-01")
    for code in REGION_CODES:  # one run per partition: a failing region does not hold up the others
        yield RunRequest(run_key=f"{code}|{month}", partition_key=MultiPartitionKey({"region": code, "month": month}))


defs = Definitions(
    assets=[regional_report, policy_proposal],
    asset_checks=[report_region_codes_match],
    jobs=[reports_job, personal_report],
    schedules=[monthly_reports],
    resources={"report_writer": ReportWriterResource()},
)

__all__ = [
    "GROUP",
    "REGION_CODES",
    "PersonalReportConfig",
    "ReportWriterResource",
    "defs",
    "monthly_reports",
    "personal_report",
    "policy_proposal",
    "regional_report",
    "report_partitions",
    "reports_job",
]
