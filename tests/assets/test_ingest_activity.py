"""The activity asset, its checks and its sensor, run in-process against the session database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import psycopg
import pytest
from dagster import AssetKey, RunRequest, SensorResult, SkipReason, build_sensor_context, materialize

from assets.ingest.activity import (
    ACTIVITY_CHECKS,
    GROUP,
    KEY,
    activity_events,
    activity_landing_sensor,
)
from assets.resources import PostgresResource, SettingsResource
from core.activity import PROCESS_MIN_BYTES
from core.settings import get_settings
from tests.fixtures.demo import DemoLoaded

EVENTS = 14_000
START = datetime(2026, 10, 10, 9, 0, tzinfo=timezone(timedelta(hours=9)))


def test_the_asset_has_the_dbt_source_key_its_group_and_checks() -> None:
    assert activity_events.key == KEY == AssetKey(["raw", "activity_events"])
    assert activity_events.group_names_by_key[KEY] == GROUP == "activity"
    assert {next(iter(c.check_keys)).asset_key for c in ACTIVITY_CHECKS} == {KEY}
    assert AssetKey(["raw", "regions"]) in activity_events.dependency_keys


def test_the_code_location_has_the_asset_job_and_sensor() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert KEY in graph.get_all_asset_keys()
    assert defs.resolve_job_def("ingest_activity") is not None
    assert defs.resolve_sensor_def("activity_landing_sensor").job_name == "ingest_activity"


@pytest.fixture()
def new_file(demo_loaded: DemoLoaded, pg: psycopg.Connection) -> Iterator[Path]:
    """A landing file of fresh events by demo users (plus one bad line), removed again afterwards."""
    user, mission = pg.execute("select e.user_id::text, e.mission_id::text from raw.activity_events e "
                               "where e.event_type = 'mission_enrolled' limit 1").fetchone()  # type: ignore[misc]
    # large enough (> 4 MB) to be parsed in the parser process, as demo files are
    events = [{"event_id": str(uuid.uuid4()), "user_id": user,
               "occurred_at": (START + timedelta(seconds=10 * n)).isoformat(),
               "event_type": "mission_resumed", "mission_id": mission, "payload": {"pad": "x" * 200}}
              for n in range(EVENTS)]
    path = get_settings().landing_dir / f"test-asset-{uuid.uuid4().hex[:8]}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events) + b'{"broken\n')
    assert path.stat().st_size > PROCESS_MIN_BYTES
    yield path
    source = f"file:{path.name}"
    pg.execute("delete from raw.activity_events where source = %s", [source])
    pg.execute("delete from raw.quarantine where source = %s", [source])
    pg.execute("delete from raw.ingested_files where file_name = %s", [path.name])
    path.unlink(missing_ok=True)


def _materialize(db_url: str) -> tuple[dict, dict[str, bool]]:
    result = materialize([activity_events, *ACTIVITY_CHECKS],
                         resources={"postgres": PostgresResource(url=db_url), "settings": SettingsResource()})
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    (materialization,) = result.asset_materializations_for_node("raw__activity_events")
    return {k: v.value for k, v in materialization.metadata.items()}, checks


def test_materializing_loads_new_files_once_and_the_checks_pass(new_file: Path, db_url: str,
                                                                pg: psycopg.Connection):
    before = pg.execute("select count(*) from raw.activity_events").fetchone()[0]  # type: ignore[index]
    first, checks = _materialize(db_url)
    assert checks == {"quarantine_explained": True, "ingested_files_consistent": True}
    assert (first["files_loaded"], first["loaded"], first["duplicates"], first["quarantined"]) == (1, EVENTS, 0, 1)
    assert first["dagster/row_count"] == before + EVENTS
    assert first["quarantined_by_field"] == {"json": 1}
    assert new_file.name in first["first_quarantine_reasons"]
    second, checks = _materialize(db_url)
    assert (second["files_loaded"], second["loaded"]) == (0, 0)
    assert second["files_skipped"] == first["files_skipped"] + 1
    assert second["dagster/row_count"] == before + EVENTS and all(checks.values())


def test_the_sensor_asks_for_a_run_when_complete_files_appear(demo_loaded: DemoLoaded, tmp_path: Path):
    resources = {"settings": SettingsResource()}
    landing = get_settings().landing_dir
    first = activity_landing_sensor(build_sensor_context(resources=resources))
    assert isinstance(first, SensorResult) and len(first.run_requests or []) == 1
    cursor = first.cursor
    assert set(orjson.loads(cursor or "{}")) >= set(demo_loaded.result.files)
    assert isinstance(activity_landing_sensor(build_sensor_context(cursor=cursor, resources=resources)), SkipReason)

    name = f"test-sensor-{uuid.uuid4().hex[:8]}.jsonl"
    part = landing / f"{name}.part"
    part.write_bytes(b"")
    try:
        assert isinstance(activity_landing_sensor(build_sensor_context(cursor=cursor, resources=resources)),
                          SkipReason)  # still being written
        part.rename(landing / name)
        result = activity_landing_sensor(build_sensor_context(cursor=cursor, resources=resources))
        assert isinstance(result, SensorResult)
        (request,) = result.run_requests or []
        assert isinstance(request, RunRequest) and request.tags["hometown/landing_files"] == name
        # the same file changed again (a new mtime) is a new request with a new run key
        stat = (landing / name).stat()
        os.utime(landing / name, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        again = activity_landing_sensor(build_sensor_context(cursor=result.cursor, resources=resources))
        assert isinstance(again, SensorResult) and again.run_requests[0].run_key != request.run_key  # type: ignore[index]
    finally:
        (landing / name).unlink(missing_ok=True)
        part.unlink(missing_ok=True)
