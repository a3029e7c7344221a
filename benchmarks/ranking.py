"""Rank look-ups on a board of 1,000,000 users: Redis (the real-time path) and the PostgreSQL fallback.

    .venv/bin/python benchmarks/ranking.py [--users 1000000] [--lookups 20000]

Redis: the machine's Redis at REDIS_URL (skipped, with a message, when REDIS_URL is not set). A board of
its own (`…|bench-<token>`, deleted afterwards) gets N users with random points; then `RedisBoards.rank`
(one Lua round trip: score + count of higher scores) for random users, p50/p99, beside a plain PING round
trip in the same run (the floor of any Redis call) and a top-20 page.

PostgreSQL: a throw-away database on the platform's server, the same N users written as the snapshot
(core.ranking.write_snapshot), plus completions since it; `PgBoards.rank` (snapshot + delta, then a
count over the (board, points) index) beside a primary-key look-up of the user's row.
Target (issue 3): p99 <= 5 ms with 1,000,000 users on a board (the Redis path).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import ranking
from core.db import database_url, libpq_url
from core.migrate import upgrade
from core.settings import get_settings


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1], ordered[-1])


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def line(label: str, samples: list[float]) -> str:
    p50, p99, worst = percentiles(samples)
    return f"  {label:<34} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   max {worst:7.2f} ms   (n={len(samples):,})"


def bench_redis(users: list[uuid.UUID], points: list[int], lookups: int) -> float | None:
    url = get_settings().redis_url
    if not url:
        print("Redis: skipped — REDIS_URL is not set (e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
        return None
    client = ranking.redis_client(url, timeout_s=5)
    board = f"all|bench-{uuid.uuid4().hex[:8]}"
    key = ranking.redis_key(board)
    try:
        t0 = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for i in range(0, len(users), 10_000):
            pipe.zadd(key, {str(u): p for u, p in zip(users[i:i + 10_000], points[i:i + 10_000], strict=True)})
            pipe.execute()
        print(f"Redis {url.split('@')[-1]}: {client.zcard(key):,} users on {board} loaded in "
              f"{time.perf_counter() - t0:.1f}s")
        boards = ranking.RedisBoards(client)
        rng = random.Random(3)
        timed(lambda: boards.rank(board, rng.choice(users)), 500)  # warm up (script cache, connection)
        ping = timed(client.ping, lookups)
        ranks = timed(lambda: boards.rank(board, rng.choice(users)), lookups)
        top = timed(lambda: boards.top(board, 20, rng.randrange(0, 1000)), max(1000, lookups // 10))
        print(line("baseline PING round trip", ping))
        print(line("rank of a user (RedisBoards.rank)", ranks))
        print(line("a top-20 page (RedisBoards.top)", top))
        p99 = percentiles(ranks)[1]
        print(f"  rank p99 / PING p99: {p99 / percentiles(ping)[1]:.1f}×   "
              f"target p99 <= 5 ms: {'met' if p99 <= 5 else 'NOT met'}")
        return p99
    finally:
        client.delete(key)


def bench_postgres(users: list[uuid.UUID], points: list[int], lookups: int) -> None:
    server = make_url(database_url())
    name = f"hometown_bench_{uuid.uuid4().hex[:8]}"
    admin = libpq_url(server.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        upgrade(url)
        board = "all|all"
        t0 = time.perf_counter()
        with engine.begin() as conn:
            ranking.write_snapshot(conn, ((board, u, p) for u, p in zip(users, points, strict=True)),
                                   datetime.now(UTC) - timedelta(hours=1))
        with engine.begin() as conn:
            conn.execute(text("analyze serving.leaderboard"))
        print(f"PostgreSQL: {len(users):,} users on {board} written as the snapshot in {time.perf_counter() - t0:.1f}s")
        rng = random.Random(5)
        n = max(100, lookups // 50)
        with engine.connect() as conn:
            pg = ranking.PgBoards(conn)
            timed(lambda: pg.rank(board, rng.choice(users)), 20)
            row = timed(lambda: conn.execute(text("select points from serving.leaderboard where board = :b and "
                                                  "user_id = :u"), {"b": board, "u": rng.choice(users)}).scalar(), n)
            ranks = timed(lambda: pg.rank(board, rng.choice(users)), n)
            top_ranked = sorted(zip(points, users, strict=True), reverse=True)[:1000]
            near_top = timed(lambda: pg.rank(board, rng.choice(top_ranked)[1]), n)
            top = timed(lambda: pg.top(board, 20, 0), n)
        print(line("baseline primary-key row look-up", row))
        print(line("rank of a random user (PgBoards)", ranks))
        print(line("rank of a top-1000 user (PgBoards)", near_top))
        print(line("the top-20 page (PgBoards.top)", top))
        print("  (the fallback counts the users above, so its cost grows with the rank; Redis's does not)")
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(11)
    users = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(args.users)]
    points = [int(rng.paretovariate(1.2) * 50) for _ in range(args.users)]  # a long tail, many ties
    bench_redis(users, points, args.lookups)
    bench_postgres(users, points, args.lookups)


if __name__ == "__main__":
    main()
