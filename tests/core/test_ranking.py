"""The board key scheme, the points rules, and the two engines: PostgreSQL (snapshot + completions since)
and Redis (rebuilt from the same), which must give the same ranks."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from core import ranking
from core.accounts import NewUser, create_users, hash_password
from core.korea import LoadSummary
from tests.api.loop_support import make_mission, redis_server


def test_period_keys_are_korean_time() -> None:
    sunday_night_utc = datetime(2025, 11, 23, 15, 30, tzinfo=UTC)  # Monday 00:30 in Korea
    assert ranking.period_key("week", sunday_night_utc) == "w2025-48"
    assert ranking.period_key("week", sunday_night_utc - timedelta(hours=1)) == "w2025-47"
    assert ranking.period_key("month", datetime(2025, 11, 30, 15, 0, tzinfo=UTC)) == "m2025-12"
    assert ranking.period_key("all", sunday_night_utc) == "all"
    start, end = ranking.period_range("w2025-48")  # type: ignore[misc]
    assert start <= sunday_night_utc < end and end - start == timedelta(days=7)
    start, end = ranking.period_range("m2025-12")  # type: ignore[misc]
    assert (start.month, end.year, end.month) == (12, 2026, 1)
    assert ranking.boards_for("47730", "47", sunday_night_utc) == [
        "all|all", "all|w2025-48", "all|m2025-11", "sido:47|all", "sido:47|w2025-48", "sido:47|m2025-11",
        "sgg:47730|all", "sgg:47730|w2025-48", "sgg:47730|m2025-11"]
    assert ranking.parse_board("sgg:47730|w2025-48") == ("sgg", "w2025-48", "47730")
    with pytest.raises(ValueError):
        ranking.parse_board("sgg|all")


def test_points_rules_and_competition_ranks() -> None:
    assert ranking.points_for_completion(100, completed_before=False, earned_today=0) == 100
    assert ranking.points_for_completion(100, completed_before=True, earned_today=0) == 0
    assert ranking.points_for_completion(100, completed_before=False, earned_today=450) == 50
    assert ranking.points_for_completion(100, completed_before=False, earned_today=500) == 0
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    ranks = ranking.competition_ranks([(a, 50), (b, 30), (c, 30), (d, 10)])
    assert [r.rank for r in ranks] == [1, 2, 2, 4]
    change = ranking.RankChange("all|all", before=None, after=7)
    assert change.entered_top and not ranking.RankChange("all|all", 9, 3).entered_top


# ---------------------------------------------------------------------------------- engines
@pytest.fixture()
def board_data(engine: Engine, regions_loaded: LoadSummary) -> Iterator[dict]:
    """40 users: a snapshot for all of them and completions since it for some, on a board of their own."""
    password_hash = hash_password("not used to sign in")
    region = "47760"  # 영양군: no other test completes missions there
    users = [NewUser(email=f"r-{uuid.uuid4().hex[:10]}@test.hometown-on.kr", display_name=f"u{i}",
                     password_hash=password_hash) for i in range(40)]
    rng = random.Random(7)
    with engine.begin() as conn:
        ids = create_users(conn, users)
    mission = make_mission(engine, ["none"], region_code=region, spot=(36.6667, 129.1124))
    as_of = datetime.now(UTC) - timedelta(minutes=5)
    week = ranking.period_key("week", datetime.now(UTC))
    scopes = ["all", "sido:47", f"sgg:{region}"]
    boards = [ranking.board_key(s, p) for s in scopes for p in ("all", week)]
    snapshot = {b: {u: rng.choice((10, 20, 20, 30, 50, 80)) for u in ids[:30]} for b in boards}
    completions = []
    with engine.begin() as conn:
        conn.execute(text("delete from serving.leaderboard where board like '%sgg:47760%'"))
        for u in ids[20:]:  # 10 with a snapshot, 10 new on the boards
            points = rng.choice((15, 40, 100))
            attempt = uuid.uuid4()
            conn.execute(text(
                "insert into app.mission_attempts (id, user_id, mission_id, status, steps_total, steps_done, "
                "started_at, updated_at, completed_at, points_awarded) values (:id, :u, :m, 'completed', 1, 1, "
                "now(), now(), now(), :p)"), {"id": attempt, "u": u, "m": mission.id, "p": points})
            completions.append((u, points))
        rows = [(b, u, p) for b, pts in snapshot.items() for u, p in pts.items()]
        ranking.write_snapshot(conn, rows, as_of)
        for i, u in enumerate(ids):
            ranking.record_position(conn, u, 36.6667 + i * 0.01, 129.1124, datetime.now(UTC))
    expected = {}  # exact on this region's boards; overall and 시도 boards also count other tests' completions
    for b in boards:
        totals = dict(snapshot[b])
        for u, p in completions:
            totals[u] = totals.get(u, 0) + p
        expected[b] = totals
    yield {"ids": ids, "boards": boards, "expected": expected, "region": region}
    with engine.begin() as conn:  # the snapshot is shared by the session: leave it empty for other tests
        conn.execute(text("truncate serving.leaderboard"))
        conn.execute(text("delete from serving.leaderboard_state"))
        conn.execute(text("delete from app.mission_attempts where mission_id = :m"), {"m": mission.id})


def _expected_rank(totals: dict[uuid.UUID, int], user: uuid.UUID) -> int:
    return 1 + sum(1 for p in totals.values() if p > totals[user])


def test_postgresql_boards_are_snapshot_plus_completions_since(engine: Engine, board_data: dict) -> None:
    with engine.connect() as conn:
        pg = ranking.PgBoards(conn)
        for board in (b for b in board_data["boards"] if b.startswith("sgg:")):
            totals = board_data["expected"][board]
            for user in board_data["ids"]:
                entry = pg.rank(board, user)
                assert entry is not None and entry.points == totals[user]
                assert entry.rank == _expected_rank(totals, user), board
            top, total = pg.top(board, 10, 5)
            assert total == len(totals)
            ordered = sorted(totals.values(), reverse=True)
            assert [e.points for e in top] == ordered[5:15]
            assert all(e.rank == _expected_rank(totals, e.user_id) for e in top)
        near = pg.near(board_data["boards"][1], 36.6667, 129.1124, 3.0, 20)  # users 0–2 are within 3 km
        assert {e.user_id for e in near} == set(board_data["ids"][:3])
        assert pg.rank("all|w1999-01", board_data["ids"][0]) is None


def test_live_points_of_several_boards_at_once_equal_each_boards_own(engine: Engine, board_data: dict) -> None:
    """The completion path sums per board in one grouped query; each board's own delta query must agree."""
    month = ranking.period_key("month", datetime.now(UTC))
    boards = [*board_data["boards"], ranking.board_key(f"sgg:{board_data['region']}", month),
              ranking.board_key("sgg:11110", "all"), ranking.board_key("sido:11", month), "all|w1999-01"]
    with engine.connect() as conn:
        pg = ranking.PgBoards(conn)
        together = pg.live_for_boards(boards)
        assert together == {b: pg._live(b) for b in boards}
    for board in board_data["boards"]:
        if board.startswith("sgg:"):
            assert together[board] == {u: board_data["expected"][board][u] for u in board_data["ids"][20:]}
    assert together["all|w1999-01"] == {} and together["sgg:11110|all"] == {}


@pytest.fixture()
def redis_url() -> Iterator[str]:
    with redis_server() as (url, _):
        yield url


def test_redis_rebuilt_from_postgresql_gives_the_same_ranks_and_counts_once(
        engine: Engine, board_data: dict, redis_url: str) -> None:
    client = ranking.redis_client(redis_url)
    client.zadd(ranking.redis_key("sgg:99999|all"), {"stale": 1})  # a board that no longer exists goes away
    with engine.connect() as conn:
        result = ranking.rebuild_redis(client, conn)
        assert result.completions_since_snapshot >= 20 and result.caught_up == 0
        assert not client.exists(ranking.redis_key("sgg:99999|all"))
        redis_side, pg = ranking.RedisBoards(client), ranking.PgBoards(conn)
        for board in board_data["boards"]:
            for user in board_data["ids"]:
                assert redis_side.rank(board, user) == pg.rank(board, user)
            (redis_top, redis_total), (pg_top, pg_total) = redis_side.top(board, 10, 3), pg.top(board, 10, 3)
            assert redis_total == pg_total  # ties may list in another order, with the same ranks and points
            assert [(e.rank, e.points) for e in redis_top] == [(e.rank, e.points) for e in pg_top]
        near = redis_side.near(board_data["boards"][1], 36.6667, 129.1124, 3.0, 20)
        assert {e.user_id for e in near} == set(board_data["ids"][:3])

    # a completion counted live: once, however often it is applied
    user = board_data["ids"][0]
    completion = ranking.Completion(uuid.uuid4(), user, 1000, board_data["region"], "47", datetime.now(UTC))
    changes = redis_side.apply(completion)
    assert changes is not None and len(changes) == 9
    overall = next(c for c in changes if c.board == "all|all")
    assert overall.after == 1 and overall.before is not None and overall.before > 1
    assert redis_side.apply(completion) is None
    sgg_all = f"sgg:{board_data['region']}|all"
    assert redis_side.rank(sgg_all, user).points == board_data["expected"][sgg_all][user] + 1000  # type: ignore[union-attr]
