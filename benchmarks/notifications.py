"""Notification delivery: from a mission completion to the WebSocket message, across two API workers.

    .venv/bin/python benchmarks/notifications.py [--users 60] [--rounds 5]

A throw-away database; the real API as `uvicorn --workers 2`; each user holds a WebSocket (users land on
both workers) and, in rounds, all users complete a mission at once (enrol → step → complete over HTTP).
Latency = the `mission_completed` notification arriving on the user's socket − the moment the completion
request was sent (conservative: it includes the request itself). Baseline in the same run: a WebSocket
ping → pong round trip. Target (issue 3): p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import websockets
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.security import create_access_token
from benchmarks.activity_api import _free_port, seed, start_api
from core.db import database_url, libpq_url
from core.migrate import upgrade


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * q) - 1)]


async def _user(base: str, ws_base: str, token: str, missions: list[str], rounds: int, start: asyncio.Event,
                go: list[asyncio.Event], latencies: list[float], pings: list[float], workers: set[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(f"{ws_base}/notifications/ws?token={token}") as socket, \
            httpx.AsyncClient(base_url=base, timeout=60) as http:
        ready = json.loads(await socket.recv())
        workers.add(ready["worker"])
        t0 = time.perf_counter()
        await socket.send(json.dumps({"type": "ping"}))
        while json.loads(await socket.recv())["type"] != "pong":
            pass
        pings.append(time.perf_counter() - t0)
        start.set()
        for r in range(rounds):
            await go[r].wait()
            enrolled = await http.post(f"/missions/{missions[r]}/attempts", headers=headers)
            assert enrolled.status_code == 201, enrolled.text
            attempt = enrolled.json()["id"]
            (await http.post(f"/me/attempts/{attempt}/steps/1/checkins", headers=headers,
                             json={"lat": 36.3527, "lon": 128.6970})).raise_for_status()
            (await http.post(f"/me/attempts/{attempt}/steps/1/complete", headers=headers)).raise_for_status()
            sent = time.perf_counter()
            (await http.post(f"/me/attempts/{attempt}/complete", headers=headers)).raise_for_status()
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 30))
                note = message.get("notification") or {}
                if note.get("kind") == "mission_completed" and note["data"]["attempt_id"] == attempt:
                    latencies.append(time.perf_counter() - sent)
                    break


async def _run(base: str, tokens: list[str], missions: list[str], rounds: int) -> tuple[list, list, set]:
    ws_base = base.replace("http://", "ws://")
    latencies: list[float] = []
    pings: list[float] = []
    workers: set[int] = set()
    go = [asyncio.Event() for _ in range(rounds)]
    starts = [asyncio.Event() for _ in tokens]
    tasks = [asyncio.create_task(_user(base, ws_base, t, missions[i * rounds:(i + 1) * rounds], rounds, starts[i],
                                       go, latencies, pings, workers))
             for i, t in enumerate(tokens)]
    await asyncio.gather(*(s.wait() for s in starts))
    for r in range(rounds):
        done_before = len(latencies)
        go[r].set()
        while len(latencies) < done_before + len(tokens):
            if any(t.done() and t.exception() for t in tasks):
                await asyncio.gather(*tasks)
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    return latencies, pings, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = make_url(database_url())
    name = f"hometown_bench_{uuid.uuid4().hex[:8]}"
    admin = libpq_url(server.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    api = None
    try:
        upgrade(url)
        users, missions = seed(url, args.users, args.users * args.rounds)
        tokens = [create_access_token(uuid.UUID(u)).token for u in users]
        port = _free_port()
        api = start_api(url, port)
        latencies, pings, workers = asyncio.run(_run(f"http://127.0.0.1:{port}", tokens, missions, args.rounds))
        print(f"{len(latencies)} completions by {args.users} users in {args.rounds} rounds (all users at once), "
              f"sockets on {len(workers)} worker process(es)")
        print(f"  baseline WebSocket ping→pong : p50 {statistics.median(pings) * 1000:7.1f} ms   "
              f"p95 {pct(pings, 0.95) * 1000:7.1f} ms")
        p95 = pct(latencies, 0.95)
        print(f"  completion → notification     : p50 {statistics.median(latencies) * 1000:7.1f} ms   "
              f"p95 {p95 * 1000:7.1f} ms   max {max(latencies) * 1000:7.1f} ms")
        print(f"target p95 <= 2 s: {'met' if p95 <= 2 else 'NOT met'}")
    finally:
        if api is not None:
            os.killpg(api.pid, signal.SIGTERM)
            try:
                api.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(api.pid, signal.SIGKILL)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
