"""The code location: the definitions load, and the asset graph matches its reviewed snapshot.

The snapshot (asset_graph.json beside this file) lists every asset with its group and upstream
keys. A change to the graph fails here until the snapshot is regenerated and reviewed in the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/pipelines
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from core.settings import ROOT

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _graph() -> dict[str, dict[str, object]]:
    from pipelines.definitions import defs

    graph = defs.get_repository_def().asset_graph
    out: dict[str, dict[str, object]] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        out[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
        }
    return out


def test_definitions_load_with_jobs_schedules_and_sensors() -> None:
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    jobs = {job.name for job in repo.get_all_jobs()}
    assert {"materialize_all", "ingest_regions", "ingest_activity", "reports"} <= jobs
    assert "daily_refresh" in {s.name for s in repo.schedule_defs}
    assert "activity_landing_sensor" in {s.name for s in repo.sensor_defs}
    # everything except the partitioned report documents runs in one materialize_all run
    selected = repo.get_job("materialize_all").asset_layer.executable_asset_keys
    graph = repo.asset_graph
    assert all(graph.get(key).partitions_def is None for key in selected)


def test_workspace_points_at_the_one_code_location() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert workspace == {"load_from": [{"python_module": "pipelines.definitions"}]}


def test_asset_graph_matches_the_snapshot() -> None:
    graph = _graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(graph, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert graph == json.loads(SNAPSHOT.read_text()), "asset graph changed: regenerate the snapshot and review it"


def test_lineage_runs_from_landing_files_to_the_marts() -> None:
    graph = _graph()

    def upstream(key: str, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        for parent in graph.get(key, {}).get("deps", []):  # type: ignore[union-attr]
            if parent not in seen:
                seen.add(parent)
                upstream(parent, seen)
        return seen

    assert "raw/activity_events" in upstream("marts/fct_mission_attempts")
    assert "raw/regions" in upstream("marts/dim_region")
    assert "marts/fct_badge_awards" in upstream("app/badge_awards")


def test_monthly_reports_request_every_region_for_the_month_just_ended() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dagster import build_schedule_context

    from assets.report import REGION_CODES, monthly_reports
    from pipelines.definitions import defs

    context = build_schedule_context(scheduled_execution_time=datetime(2026, 12, 2, 6, tzinfo=ZoneInfo("Asia/Seoul")),
                                     repository_def=defs.get_repository_def())
    requests = list(monthly_reports.evaluate_tick(context).run_requests or [])
    assert len(requests) == len(REGION_CODES) == 229
    assert {r.partition_key.keys_by_dimension["month"] for r in requests} == {"2026-11-01"}
    assert {r.partition_key.keys_by_dimension["region"] for r in requests} == set(REGION_CODES)
    assert len({r.run_key for r in requests}) == 229


def test_runs_orphaned_by_a_stopped_server_are_failed_but_cli_runs_are_left_alone() -> None:
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.storage.dagster_run import DagsterRun

    from pipelines.orphans import CLI_TAG, fail_orphaned_runs

    with DagsterInstance.ephemeral() as instance:
        runs = {name: DagsterRun(job_name="materialize_all", run_id=f"{i:08d}-0000-0000-0000-000000000000",
                                 status=status, tags=tags)
                for i, (name, status, tags) in enumerate([
                    ("sensor", DagsterRunStatus.STARTED, {"dagster/sensor_name": "activity_landing_sensor"}),
                    ("starting", DagsterRunStatus.STARTING, {}),
                    ("canceling", DagsterRunStatus.CANCELING, {}),
                    ("cli", DagsterRunStatus.STARTED, {CLI_TAG: "cli"}),
                    ("done", DagsterRunStatus.SUCCESS, {})])}
        for run in runs.values():
            instance.add_run(run)
        ended = fail_orphaned_runs(instance)
        status = {name: instance.get_run_by_id(run.run_id).status for name, run in runs.items()}
    assert sorted(ended) == sorted(runs[n].run_id for n in ("sensor", "starting", "canceling"))
    assert status == {"sensor": DagsterRunStatus.FAILURE, "starting": DagsterRunStatus.FAILURE,
                      "canceling": DagsterRunStatus.CANCELED,
                      "cli": DagsterRunStatus.STARTED, "done": DagsterRunStatus.SUCCESS}
