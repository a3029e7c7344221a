"""The loop's Dagster side: lineage on the dbt marts, the awards sensor, and the publish run against the
real database and a real Redis (a throwaway redis-server), run twice to show nothing is issued twice."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    ExecuteInProcessResult,
    build_sensor_context,
    materialize,
)
from sqlalchemy import Engine, text

from assets.loop import (
    BADGE_AWARDS,
    GROUP,
    LEADERBOARD,
    RankingRedisResource,
    badge_awards_sensor,
    loop_marts,
    loop_publish,
)
from assets.loop.assets import AWARDS_MART, LOOP_ASSETS, LOOP_CHECKS
from assets.resources import PostgresResource
from core.badges import pseudonym_salt
from core.ranking import RedisBoards, redis_client


# ------------------------------------------------------------------------------------ definitions
def test_loop_assets_stand_on_the_dbt_marts() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert graph.get(BADGE_AWARDS).parent_keys == {AssetKey(["marts", "fct_badge_awards"])}
    assert graph.get(LEADERBOARD).parent_keys == {AssetKey(["marts", "mart_leaderboard"]),
                                                  AssetKey(["marts", "fct_points_ledger"])}
    assert {graph.get(k).group_name for k in (BADGE_AWARDS, LEADERBOARD)} == {GROUP}
    checks = {c.name for c in graph.asset_check_keys if c.asset_key in (BADGE_AWARDS, LEADERBOARD)}
    assert checks == {"badge_awards_match_mart", "leaderboard_matches_mart", "redis_ranks_match_postgres"}
    marts_job = defs.resolve_job_def(loop_marts.name)
    selected = {key for key in marts_job.asset_layer.selected_asset_keys}
    loop_models = {AssetKey(["marts", m]) for m in ("fct_badge_awards", "fct_points_ledger", "mart_leaderboard",
                                                    "fct_stay_days", "mart_stay_days_monthly", "mart_mission_funnel",
                                                    "mart_failure_reasons", "mart_mission_outcomes_by_segment")}
    assert loop_models | {AssetKey(["marts", "fct_mission_attempts"]), AssetKey(["marts", "dim_region"])} <= selected
    assert AssetKey(["marts", "mart_region_activity_monthly"]) not in selected  # not under the loop marts
    assert {k for k in defs.resolve_job_def(loop_publish.name).asset_layer.selected_asset_keys} == {
        BADGE_AWARDS, LEADERBOARD}
    assert defs.resolve_schedule_def("loop_marts_every_15_minutes").cron_schedule == "*/15 * * * *"


def test_sensor_requests_one_publish_run_per_awards_materialization() -> None:
    instance = DagsterInstance.ephemeral()
    with build_sensor_context(instance=instance) as context:
        assert not badge_awards_sensor.evaluate_tick(context).run_requests  # nothing built yet
    instance.report_runless_asset_event(AssetMaterialization(asset_key=AWARDS_MART))
    with build_sensor_context(instance=instance) as context:
        first = badge_awards_sensor.evaluate_tick(context)
    assert len(first.run_requests) == 1 and first.run_requests[0].run_key.startswith("fct_badge_awards:")
    with build_sensor_context(instance=instance, cursor=first.cursor) as context:
        assert not badge_awards_sensor.evaluate_tick(context).run_requests  # the same materialization: no run
    instance.report_runless_asset_event(AssetMaterialization(asset_key=AWARDS_MART))
    with build_sensor_context(instance=instance, cursor=first.cursor) as context:
        second = badge_awards_sensor.evaluate_tick(context)
    assert len(second.run_requests) == 1 and second.run_requests[0].run_key != first.run_requests[0].run_key


# ------------------------------------------------------------------------------------ runs
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free port (skipped when the binary is not installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis side of the boards is not tested here")
    port = _free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                               "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis_client(url)
        for _ in range(50):
            try:
                client.ping()
                break
            except Exception:  # not up yet
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _publish(db_url: str, redis: str | None) -> ExecuteInProcessResult:
    return materialize(LOOP_ASSETS + LOOP_CHECKS, instance=DagsterInstance.ephemeral(), raise_on_error=True,
                       resources={"postgres": PostgresResource(url=db_url), "ranking_redis": RankingRedisResource(
                           url=redis)})


def _metadata(result: ExecuteInProcessResult, key: AssetKey) -> dict[str, Any]:
    (event,) = [e for e in result.get_asset_materialization_events() if e.materialization.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.mark.usefixtures("marts_fresh")
def test_publish_issues_once_and_redis_ranks_equal_the_mart(db_url: str, engine: Engine, redis_url: str,
                                                            pg: psycopg.Connection) -> None:
    first = _publish(db_url, redis_url)
    second = _publish(db_url, redis_url)
    assert first.success and second.success
    mart_awards, issued, notified = pg.execute("""
        select count(*), count(issued.badge_id), count(notes.id)
        from marts.fct_badge_awards as mart
        left join app.users as users on md5(%(salt)s || users.id::text) = mart.user_key
        left join app.badge_awards as issued on issued.user_id = users.id and issued.badge_id = mart.badge_id
        left join app.notifications as notes
            on notes.dedupe_key = 'badge:' || users.id::text || ':' || mart.badge_id""",
        {"salt": pseudonym_salt() + ":"}).fetchone()
    assert issued == mart_awards and notified == issued  # one notification per award, even after two runs
    assert _metadata(second, BADGE_AWARDS)["issued"] == 0
    assert all(c.passed for c in [*first.get_asset_check_evaluations(), *second.get_asset_check_evaluations()])
    published = _metadata(second, LEADERBOARD)
    assert published["redis"] == "rebuilt" and published["redis_entries"] == published["dagster/row_count"]

    with engine.connect() as conn:
        mart = {(r.board, r.user_id): (int(r.points), int(r.rank)) for r in conn.execute(text(
            "select b.board, u.id as user_id, b.points, b.rank from marts.mart_leaderboard b "
            "join app.users u on md5(:salt || u.id::text) = b.user_key where b.board in "
            "(select board from marts.mart_leaderboard group by board order by count(*) desc limit 3)"),
            {"salt": pseudonym_salt() + ":"})}
    boards = RedisBoards(redis_client(redis_url))
    from_redis = {}
    for board, user_id in mart:
        entry = boards.rank(board, user_id)
        assert entry is not None
        from_redis[(board, user_id)] = (entry.points, entry.rank)
    assert from_redis == mart and len(mart) > 100


@pytest.mark.usefixtures("marts_built")
def test_publish_without_redis_writes_the_postgresql_boards(db_url: str, pg: psycopg.Connection,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = _publish(db_url, None)
    finally:
        get_settings.cache_clear()
    assert _metadata(result, LEADERBOARD)["redis"] == "not configured"
    snapshot = pg.execute("select count(*), count(distinct board) from serving.leaderboard").fetchone()
    mart = pg.execute("select count(*), count(distinct board) from marts.mart_leaderboard").fetchone()
    assert snapshot == mart  # every demo user still has an account
    as_of = pg.execute("select as_of from serving.leaderboard_state").fetchone()[0]
    counted = pg.execute("select max(occurred_at) from marts.fct_points_ledger where reason = 'mission_completed'"
                         ).fetchone()[0]
    newest = pg.execute("select max(occurred_at) from raw.activity_events where event_type = 'mission_completed'"
                        ).fetchone()[0]
    # the newest completion the ledger counted: later ones are the API's to add (later completions that
    # earned nothing - repeats, over the daily cap - have no ledger row and change nothing)
    assert as_of == counted <= newest
    assert uuid.UUID(str(pg.execute("select user_id from serving.leaderboard limit 1").fetchone()[0]))
