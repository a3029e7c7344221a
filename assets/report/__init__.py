"""PDF reports: regional reports and policy proposals per 시군구 × month, personal reports on demand."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

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

defs = Definitions(
    assets=[regional_report, policy_proposal],
    asset_checks=[report_region_codes_match],
    jobs=[reports_job, personal_report],
    resources={"report_writer": ReportWriterResource()},
)

__all__ = ["GROUP", "REGION_CODES", "PersonalReportConfig", "ReportWriterResource", "defs", "personal_report",
           "policy_proposal", "regional_report", "report_partitions", "reports_job"]
