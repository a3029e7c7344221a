"""Activity events from the landing folder as a Dagster asset, with a sensor that watches the folder.

Thin by design: `core.activity.load_folder` does the work (validation, once-only loading,
quarantine, raw.ingested_files); this module names the asset raw/activity_events (the key the dbt
source maps to), reports what each run did, and checks what the table promises. (No
`from __future__ import annotations`: Dagster reads the annotations at definition time.)
"""

import hashlib
import json
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset,
    asset_check,
    define_asset_job,
    sensor,
)

from assets.resources import PostgresResource, SettingsResource
from core.activity import (
    CheckOutcome,
    check_ingested_files_consistent,
    check_quarantine_explained,
    landing_files,
    load_folder,
)

GROUP = "activity"
KEY = AssetKey(["raw", "activity_events"])


@asset(
    key=KEY,
    group_name=GROUP,
    deps=[AssetKey(["raw", "regions"]), AssetKey(["app", "users"]), AssetKey(["app", "missions"])],
    kinds={"python", "postgres"},
    description="Activity events (event contract of DESIGN.md) loaded once each from the landing folder's "
                "*.jsonl files; bad lines in raw.quarantine, every file in raw.ingested_files.",
)
def activity_events(context: AssetExecutionContext, postgres: PostgresResource,
                    settings: SettingsResource) -> MaterializeResult:
    """Load every complete *.jsonl landing file not loaded before (by checksum)."""
    landing = settings.get().landing_dir

    def log(result: Any) -> None:
        if result.skipped:
            context.log.info(f"{result.file_name}: already loaded (same sha256), skipped")
        else:
            context.log.info(f"{result.file_name}: {result.line_count:,} lines → {result.loaded:,} loaded, "
                             f"{result.duplicates:,} duplicates, {result.quarantined:,} quarantined")

    with postgres.connect() as conn:
        results = load_folder(conn, landing, progress=log)
        row = conn.execute("select count(*) from raw.activity_events").fetchone()
    loaded = [r for r in results if not r.skipped]
    by_field: dict[str, int] = {}
    for result in loaded:
        for name, count in result.reasons.items():
            by_field[name] = by_field.get(name, 0) + count
    first_errors = [f"{r.file_name} {reason}" for r in loaded for _, reason in r.errors][:20]
    return MaterializeResult(metadata={
        "dagster/row_count": int(row[0]) if row else 0,
        "landing_dir": str(landing),
        "files_loaded": len(loaded),
        "files_skipped": len(results) - len(loaded),
        "loaded": sum(r.loaded for r in loaded),
        "duplicates": sum(r.duplicates for r in loaded),
        "quarantined": sum(r.quarantined for r in loaded),
        "quarantined_by_field": MetadataValue.json(by_field),
        "first_quarantine_reasons": MetadataValue.md("\n".join(f"- {e}" for e in first_errors) or "none"),
    })


def _result(outcome: CheckOutcome) -> AssetCheckResult:
    return AssetCheckResult(passed=outcome.passed, metadata=outcome.metadata, description=outcome.description)


@asset_check(asset=KEY, description="Every quarantined activity line has its file, line number and reason, "
                                    "as many per file as raw.ingested_files reports")
def quarantine_explained(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.connect() as conn:
        return _result(check_quarantine_explained(conn))


@asset_check(asset=KEY, description="raw.ingested_files agrees with the rows of raw.activity_events")
def ingested_files_consistent(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.connect() as conn:
        return _result(check_ingested_files_consistent(conn))


ACTIVITY_CHECKS = [quarantine_explained, ingested_files_consistent]
ingest_activity = define_asset_job("ingest_activity", AssetSelection.groups(GROUP),
                                   description="Load new activity files from the landing folder")


def landing_state(settings: SettingsResource) -> dict[str, int]:
    """Complete landing files and their modification times (ns): what the sensor remembers."""
    return {p.name: p.stat().st_mtime_ns for p in landing_files(settings.get().landing_dir)}


@sensor(job=ingest_activity, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Requests an activity load when new or changed *.jsonl files appear in the landing folder "
                    "(*.jsonl.part files are still being written and wait)")
def activity_landing_sensor(context: SensorEvaluationContext, settings: SettingsResource
                            ) -> SensorResult | SkipReason:
    state = landing_state(settings)
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    new = sorted(name for name, mtime in state.items() if seen.get(name) != mtime)
    if not new:
        return SkipReason(f"no new *.jsonl files in {settings.get().landing_dir}")
    run_key = hashlib.sha256(json.dumps({n: state[n] for n in new}, sort_keys=True).encode()).hexdigest()[:32]
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key, tags={"hometown/landing_files": ", ".join(new)[:200]})],
        cursor=json.dumps(state, sort_keys=True))


defs = Definitions(assets=[activity_events], asset_checks=ACTIVITY_CHECKS, sensors=[activity_landing_sensor],
                   jobs=[ingest_activity])
