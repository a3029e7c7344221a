"""/ranking from PostgreSQL (no Redis) and from Redis (a throwaway server), the same ranks either way, the
fall-back when Redis goes away, /health saying so, and "entered the top 10" notifications."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.attempts.writer import effects_idle
from api.ranking import service as ranking_service
from core import ranking
from core.settings import get_settings
from tests.api.conftest import Account, MakeUser, assert_error
from tests.api.loop_support import make_mission, redis_server

pytestmark = pytest.mark.usefixtures("regions_loaded")


def _region(pg: psycopg.Connection, offset: int) -> tuple[str, str, tuple[float, float]]:
    """A 시군구 that no other test completes missions in: (code, 시도 code, centroid)."""
    row = pg.execute("select region_code, sido_code, centroid_lat, centroid_lon from raw.regions "
                     "where sido_code = '46' order by region_code offset %s limit 1", [offset]).fetchone()
    assert row is not None
    return row[0], row[1], (row[2], row[3])


def _complete(client: TestClient, engine: Engine, user: Account, region: str, spot: tuple[float, float],
              points: int) -> None:
    mission = make_mission(engine, ["none"], region_code=region, spot=spot, points=points)
    attempt = client.post(f"/missions/{mission.id}/attempts", headers=user.headers).json()["id"]
    client.post(f"/me/attempts/{attempt}/steps/1/complete", headers=user.headers).raise_for_status()
    client.post(f"/me/attempts/{attempt}/complete", headers=user.headers).raise_for_status()
    assert effects_idle(), "the after-commit effects (boards, top-10 notifications) did not finish"


def _snapshot_as_of(engine: Engine) -> datetime | None:
    """serving.leaderboard_state's instant, or None with no snapshot yet."""
    with engine.connect() as conn:
        value: datetime | None = conn.execute(text("select as_of from serving.leaderboard_state where id = 1")).scalar()
    return value


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@pytest.fixture()
def no_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_boards_from_postgresql_without_redis(client: TestClient, engine: Engine, make_user: MakeUser,
                                             pg: psycopg.Connection, no_redis: None) -> None:
    region, sido, spot = _region(pg, 0)
    first, second, third = make_user(), make_user(), make_user()
    _complete(client, engine, first, region, spot, 100)
    _complete(client, engine, second, region, spot, 60)
    _complete(client, engine, third, region, spot, 60)

    board = client.get("/ranking", headers=second.headers, params={"scope": "sgg", "region": region})
    assert board.status_code == 200, board.text
    body = board.json()
    assert body["engine"] == "postgresql" and body["total"] == 3 and body["period"] == "week"
    assert [(e["rank"], e["points"]) for e in body["items"]] == [(1, 100), (2, 60), (2, 60)]
    assert [e["is_me"] for e in body["items"]].count(True) == 1 and "user_id" not in body["items"][0]
    me = client.get("/ranking/me", headers=third.headers, params={"scope": "sgg", "region": region,
                                                                    "period": "month"}).json()
    assert (me["rank"], me["points"], me["engine"]) == (2, 60, "postgresql")
    assert _instant(me["as_of"]) == _snapshot_as_of(engine)
    snapshot = datetime(2025, 1, 1, tzinfo=UTC)  # an empty snapshot from before these completions: same ranks
    with engine.begin() as conn:
        kept = conn.execute(text("select as_of, rows_count, written_at from serving.leaderboard_state")).first()
        conn.execute(text("insert into serving.leaderboard_state (id, as_of, rows_count, written_at) values "
                          "(1, :a, 0, now()) on conflict (id) do update set as_of = excluded.as_of"), {"a": snapshot})
    try:
        me = client.get("/ranking/me", headers=third.headers, params={"scope": "sgg", "region": region,
                                                                        "period": "month"}).json()
        assert (me["rank"], _instant(me["as_of"])) == (2, snapshot)
    finally:
        with engine.begin() as conn:
            conn.execute(text("delete from serving.leaderboard_state"))
            if kept is not None:
                conn.execute(text("insert into serving.leaderboard_state (id, as_of, rows_count, written_at) "
                                  "values (1, :a, :n, :w)"), {"a": kept.as_of, "n": kept.rows_count,
                                                              "w": kept.written_at})
    sido_me = client.get("/ranking/me", headers=first.headers, params={"scope": "sido", "region": sido}).json()
    assert sido_me["rank"] is not None and sido_me["points"] >= 100
    near = client.get("/ranking/near", headers=first.headers, params={"lat": spot[0], "lon": spot[1],
                                                                      "radius_km": 1}).json()
    assert near["scope"] == "near"  # mission spots of completions are not check-ins: positions come from those
    notes = client.get("/me/notifications", headers=first.headers).json()["items"]
    top = [n for n in notes if n["kind"] == "rank_changed" and n["data"]["board"].startswith(f"sgg:{region}|")]
    assert {n["data"]["board"].split("|")[1][0] for n in top} == {"a", "w", "m"} and top[0]["data"]["rank"] == 1

    health = client.get("/health").json()
    assert health["status"] == "degraded" and health["ranking"]["engine"] == "postgresql"
    assert "REDIS_URL is not set" in health["ranking"]["reason"]
    assert_error(client.get("/ranking", headers=first.headers, params={"scope": "sgg", "region": "99999"}), 404,
                 "not_found")
    assert_error(client.get("/ranking", headers=first.headers, params={"scope": "sgg"}), 422, "validation_error")
    assert_error(client.get("/ranking", headers=first.headers, params={"scope": "all", "region": "47"}), 422,
                 "validation_error")
    assert_error(client.get("/ranking", headers=first.headers, params={"period": "year"}), 422, "validation_error")
    assert_error(client.get("/ranking"), 401, "not_authenticated")


def _restart(proc: subprocess.Popen[bytes], url: str) -> subprocess.Popen[bytes]:
    port = url.rsplit(":", 1)[1].split("/")[0]
    new = subprocess.Popen([proc.args[0], "--port", port, "--bind", "127.0.0.1", "--save", "",  # type: ignore[index]
                            "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return new


def test_redis_boards_agree_with_postgresql_and_fall_back_when_redis_goes(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    region, _, spot = _region(pg, 1)
    users = [make_user() for _ in range(4)]
    with redis_server() as (url, proc):
        monkeypatch.setenv("REDIS_URL", url)
        get_settings.cache_clear()
        try:
            first_health = client.get("/health").json()["ranking"]
            assert first_health["status"] == "degraded" and "being rebuilt" in first_health["reason"]
            assert ranking_service.wait_until_ready(30), "the API did not build the Redis boards"
            assert client.get("/health").json()["ranking"] == {"status": "ok", "engine": "redis", "reason": None}
            for user, points in zip(users, (90, 50, 50, 20), strict=True):
                _complete(client, engine, user, region, spot, points)
            params = {"scope": "sgg", "region": region, "period": "all"}
            from_redis = client.get("/ranking", headers=users[0].headers, params=params).json()
            assert from_redis["engine"] == "redis"
            assert [(e["rank"], e["points"]) for e in from_redis["items"]] == [(1, 90), (2, 50), (2, 50), (4, 20)]
            with engine.connect() as conn:
                board = from_redis["board"]
                pg_top, _ = ranking.PgBoards(conn).top(board, 20)
                assert [(e.rank, e.points) for e in pg_top] == [(1, 90), (2, 50), (2, 50), (4, 20)]
            mine = client.get("/ranking/me", headers=users[3].headers, params=params).json()
            assert (mine["rank"], mine["engine"]) == (4, "redis")
            assert _instant(mine["as_of"]) == _snapshot_as_of(engine)  # the Redis boards were built from that snapshot

            # Redis goes away: PostgreSQL answers the same, /health says degraded, a completion is not lost
            proc.terminate()
            proc.wait(10)
            down = client.get("/ranking", headers=users[0].headers, params=params).json()
            assert down["engine"] == "postgresql"
            assert [(e["rank"], e["points"]) for e in down["items"]] == [(1, 90), (2, 50), (2, 50), (4, 20)]
            health = client.get("/health").json()
            assert health["status"] == "degraded" and "unreachable" in health["ranking"]["reason"]
            _complete(client, engine, users[3], region, spot, 100)  # 120 now: first place

            # Redis comes back empty: the API rebuilds it from PostgreSQL, with the completion made meanwhile
            proc = _restart(proc, url)
            state = ranking_service.redis_state()
            assert state is not None
            state.failed_at = time.monotonic() - ranking_service.RETRY_SECONDS - 1
            assert ranking_service.wait_until_ready(30)
            back = client.get("/ranking", headers=users[0].headers, params=params).json()
            assert back["engine"] == "redis"
            assert [(e["rank"], e["points"]) for e in back["items"]] == [(1, 120), (2, 90), (3, 50), (3, 50)]
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
            monkeypatch.delenv("REDIS_URL")
            get_settings.cache_clear()


def test_rank_notifications_come_once_per_board(client: TestClient, engine: Engine, make_user: MakeUser,
                                               pg: psycopg.Connection, no_redis: None) -> None:
    region, _, spot = _region(pg, 2)
    user = make_user()
    _complete(client, engine, user, region, spot, 50)
    _complete(client, engine, user, region, spot, 50)
    rows = pg.execute("select data ->> 'board', count(*) from app.notifications where user_id = %s "
                      "and kind = 'rank_changed' group by 1", [user.id]).fetchall()
    assert rows and all(count == 1 for _, count in rows)
    assert {board for board, _ in rows} >= {f"sgg:{region}|all"}
    assert uuid.UUID(pg.execute("select data ->> 'attempt_id' from app.notifications where user_id = %s "
                                "and kind = 'rank_changed' limit 1", [user.id]).fetchone()[0])


def test_a_batch_of_completions_gets_the_rank_changes_of_each_in_turn(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection, no_redis: None) -> None:
    """The after-commit thread counts the completions that queued up together (one scan of the boards for
    all of them): each still gets the ranks it made when it came, also when its user completes again later
    in the same batch."""
    region, sido, spot = _region(pg, 3)
    alice, bob = make_user(), make_user()
    done = []
    for user, points in ((alice, 50), (bob, 30), (alice, 40)):
        _complete(client, engine, user, region, spot, points)
        done.append(pg.execute("select id, user_id, points_awarded, completed_at from app.mission_attempts "
                               "where user_id = %s and status = 'completed' order by completed_at desc limit 1",
                               [user.id]).fetchone())
    completions = [ranking.Completion(a, u, p, region, sido, at) for a, u, p, at in done]
    board = f"sgg:{region}|all"
    with engine.begin() as conn:
        changes = ranking_service._pg_changes(conn, completions)
    ranks = [next((c.before, c.after) for c in changes[id(completion)] if c.board == board)
             for completion in completions]
    # Alice first with 50; Bob second with 30; Alice's 40 more keeps her first (before: 1 counts herself)
    assert ranks == [(None, 1), (None, 2), (1, 1)]
