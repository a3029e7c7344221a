"""Helpers shared by the mission-loop API tests: missions made here, table snapshots, QR tokens."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, insert

from core import qr, ranking
from core.settings import get_settings
from core.tables import mission_steps, missions

UISEONG = (36.3527, 128.6970)  # 의성군청, 47730 의성군 (경북, a population-decline area)
ANDONG = (36.5684, 128.7294)  # 안동시청, 47170 (≈ 25 km from 의성)
JEJU = (33.4996, 126.5312)  # 제주시청, 50110
UISEONG_CODE = "47730"

LOOP_TABLES = ("app.mission_attempts", "app.attempt_steps", "app.checkins", "app.qr_scans", "app.step_photos",
               "app.volunteer_hours", "app.xapi_statements", "app.notifications", "raw.activity_events",
               "serving.user_positions")


@dataclass(frozen=True)
class MissionMade:
    id: uuid.UUID
    points: int
    steps: tuple[str, ...]


def make_mission(engine: Engine, steps: Sequence[str], *, created_by: uuid.UUID | None = None,
                 region_code: str = UISEONG_CODE, spot: tuple[float, float] = UISEONG, radius_m: int = 200,
                 mission_type: str = "exploration", capacity: int | None = None, points: int = 100,
                 starts_at: datetime | None = None, ends_at: datetime | None = None,
                 status: str = "published", step_spots: dict[int, tuple[float, float]] | None = None) -> MissionMade:
    """A mission at a real spot with the given step verifications (1-based, in order)."""
    mission_id = uuid.uuid4()
    row = {"id": mission_id, "title": f"테스트 미션 {mission_id.hex[:6]}", "summary": "", "mission_type": mission_type,
           "status": status, "region_code": region_code, "place_name": "의성군청", "lat": spot[0], "lon": spot[1],
           "radius_m": radius_m, "capacity": capacity, "points": points, "starts_at": starts_at, "ends_at": ends_at,
           "created_by": created_by}
    step_rows = []
    for n, verification in enumerate(steps, start=1):
        point = (step_spots or {}).get(n)
        step_rows.append({"mission_id": mission_id, "step_no": n, "title": f"{n}단계", "verification": verification,
                          "lat": point[0] if point else None, "lon": point[1] if point else None,
                          "radius_m": 150 if point else None})
    with engine.begin() as conn:
        conn.execute(insert(missions), [row])
        if step_rows:
            conn.execute(insert(mission_steps), step_rows)
    return MissionMade(mission_id, points, tuple(steps))


def snapshot(pg: psycopg.Connection, tables: Sequence[str] = LOOP_TABLES) -> dict[str, Any]:
    """Every row of the loop's tables, to assert that a refused request changed nothing stored."""
    out: dict[str, Any] = {}
    for table in tables:
        rows = pg.execute(f"select to_jsonb(t)::text from {table} t").fetchall()
        out[table] = sorted(r[0] for r in rows)
    return out


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {t: (len(before[t]), len(after[t])) for t in before if before[t] != after[t]}


def qr_token(mission_id: uuid.UUID, step_no: int, issuer: uuid.UUID, ttl: int = 120,
             now: float | None = None) -> str:
    token, _ = qr.issue(get_settings().resolved_secret_key(), str(mission_id), step_no, str(issuer), ttl, now=now)
    return token


def events_of(pg: psycopg.Connection, attempt_id: uuid.UUID | str) -> list[tuple[str, int | None, dict]]:
    """(event_type, step_no, payload) of an attempt's events, in order."""
    rows = pg.execute("select event_type, step_no, payload from raw.activity_events "
                      "where payload ->> 'attempt_id' = %s order by occurred_at, event_id", [str(attempt_id)])
    return [(r[0], r[1], r[2]) for r in rows]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free port, no persistence; skips the test when it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis side of the boards cannot be tested here")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = ranking.redis_client(url)
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
