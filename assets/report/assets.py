"""Report assets (group "report"): the regional report and the policy proposal per 시군구 × month, and a job
that makes one user's personal report on demand.

Partitions: a MultiPartitionsDefinition of the 229 시군구 codes × calendar months. The codes are a small
committed file (region_codes.txt, from raw.regions) rather than a DynamicPartitionsDefinition: the
definitions load without a database, the 시군구 list changes only with an administrative reform (then the
file is regenerated and reviewed like any code change), and the asset check `report_region_codes_match`
fails loudly if raw.regions and the file ever disagree.
Each materialization renders only when the inputs hash changed (ai.reports.index).
(No `from __future__ import annotations`: Dagster reads the annotations at definition time.)
"""

import uuid
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    Config,
    ConfigurableResource,
    MaterializeResult,
    MonthlyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    OpExecutionContext,
    StaticPartitionsDefinition,
    asset,
    asset_check,
    job,
    op,
)
from dagster_dbt import get_asset_key_for_model
from sqlalchemy import text

from ai.reports import index
from ai.reports.narrative import NarrativeWriter, OpenAIWriter, TemplateWriter
from assets.resources import PostgresResource
from assets.warehouse import warehouse_dbt_assets
from core.settings import get_settings

GROUP = "report"
CODES_FILE = Path(__file__).with_name("region_codes.txt")
REGION_CODES = [line.strip() for line in CODES_FILE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
FIRST_MONTH = "2025-05-01"  # the demo's first full month; earlier months have no activity to report

report_partitions = MultiPartitionsDefinition({
    "region": StaticPartitionsDefinition(REGION_CODES),
    "month": MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_offset=0),
})

MART_MODELS = ("dim_region", "dim_user", "dim_mission", "fct_activity_events", "fct_mission_attempts",
               "mart_region_activity_monthly", "fct_stay_days", "mart_stay_days_monthly", "fct_points_ledger",
               "fct_badge_awards", "fct_regional_needs", "fct_certification_submissions")


def _mart_keys(names: tuple[str, ...]) -> list[AssetKey]:
    """The dbt models the reports read (those present in the manifest: the certification marts may not be)."""
    keys = []
    for name in names:
        try:
            keys.append(get_asset_key_for_model([warehouse_dbt_assets], name))
        except Exception:  # a model not in this project's manifest: its section prints NOT_AGGREGATED
            continue
    return keys


REGIONAL_DEPS = _mart_keys(MART_MODELS[:8])
POLICY_DEPS = _mart_keys(MART_MODELS[:8] + MART_MODELS[10:])
PERSONAL_MODELS = ("dim_region", "dim_mission", "fct_activity_events", "fct_mission_attempts", "fct_stay_days",
                   "fct_points_ledger", "fct_badge_awards")


class ReportWriterResource(ConfigurableResource):
    """The policy narrative's writer: OpenAI through LangChain when a key or base URL is set, else the template."""

    api_key: str | None = None
    base_url: str | None = None
    model: str | None = None

    def writer(self) -> NarrativeWriter:
        settings = get_settings()
        key, base = self.api_key or settings.openai_api_key, self.base_url or settings.openai_base_url
        if key or base:
            return OpenAIWriter(key, self.model or settings.openai_chat_model, base)
        return TemplateWriter()


def _keys(context: AssetExecutionContext) -> tuple[str, str]:
    key = context.partition_key
    assert isinstance(key, MultiPartitionKey)
    dims = key.keys_by_dimension
    return dims["region"], dims["month"][:7]


def _result(ensured: index.Ensured) -> MaterializeResult:
    row = ensured.row
    return MaterializeResult(metadata={
        "generated": ensured.generated, "pages": row["pages"], "storage_key": row["storage_key"],
        "sha256": row["sha256"], "inputs_hash": row["inputs_hash"], "engine": row["engine"], "state": row["state"],
        "fallback_reason": row["fallback_reason"] or ""})


@asset(key=AssetKey(["report", "regional_report"]), group_name=GROUP, partitions_def=report_partitions,
       deps=REGIONAL_DEPS, kinds={"python", "pdf"},
       description="지역 사회공헌 효과 보고서 (PDF) per 시군구 and month, in object storage and serving.reports; "
                   "rendered again only when its inputs hash changed.")
def regional_report(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
    code, month = _keys(context)
    with postgres.engine().begin() as conn:
        ensured = index.ensure_regional(conn, code, month)
    context.log.info(f"{code} {month}: {'generated' if ensured.generated else 'unchanged'}")
    return _result(ensured)


@asset(key=AssetKey(["report", "policy_proposal"]), group_name=GROUP, partitions_def=report_partitions,
       deps=POLICY_DEPS, kinds={"python", "pdf"},
       description="정책 제안서 (PDF) per 시군구 and month (evidence: the 12 months to that month); the narrative by "
                   "the LLM when OpenAI is configured, else the template writer (the document names its engine).")
def policy_proposal(context: AssetExecutionContext, postgres: PostgresResource,
                    report_writer: ReportWriterResource) -> MaterializeResult:
    code, month = _keys(context)
    with postgres.engine().begin() as conn:
        ensured = index.ensure_policy(conn, code, month, writer=report_writer.writer())
    return _result(ensured)


@asset_check(asset=AssetKey(["report", "regional_report"]), description="The committed 시군구 codes of the "
             "partitions are exactly raw.regions' codes")
def report_region_codes_match(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        stored = {r[0] for r in conn.execute(text("select region_code from raw.regions"))}
    committed = set(REGION_CODES)
    return AssetCheckResult(passed=stored == committed, metadata={
        "only_in_file": sorted(committed - stored)[:20], "only_in_raw_regions": sorted(stored - committed)[:20]})


class PersonalReportConfig(Config):
    user_id: str
    month: str  # YYYY-MM: the report covers the user's history to the end of it
    force: bool = False


@op(description="Make (or find unchanged) one user's personal report and index it")
def personal_report_op(context: OpExecutionContext, config: PersonalReportConfig,
                       postgres: PostgresResource) -> None:
    with postgres.engine().begin() as conn:
        ensured = index.ensure_personal(conn, uuid.UUID(config.user_id), config.month, force=config.force)
    context.log.info(f"personal report {config.user_id} {config.month}: "
                     f"{'generated' if ensured.generated else 'unchanged'} ({ensured.row['pages']} pages)")


@job(description="On demand: one user's personal report (config: user_id, month); the API makes it synchronously")
def personal_report():
    personal_report_op()
