"""Activity through the API: state-changing requests per second, each one activity event, none lost.

    .venv/bin/python benchmarks/activity_api.py [--seconds 20] [--users 400] [--concurrency 64]

A throw-away database on the platform's server (DATABASE_URL or the embedded one) is migrated and seeded
(users, exploration missions with one check-in step at one spot); the real API runs as `uvicorn --workers
2` on loopback; a load generator in another process (asyncio streams on uvloop, one keep-alive HTTP/1.1
connection per simulated user; see `Http`) plays users through the loop: enrol → check in at the spot →
report the step done → complete → next mission. Every one of those requests is one state change and one
event in raw.activity_events, committed together (the API commits the requests that arrive together as
one group: api/attempts/writer.py).

Baseline in the same run, same generator and concurrency: `GET /me` (token check + one user query, the
floor of any authenticated request). Afterwards the events in the database are counted and compared with
the events the API acknowledged (2xx answers). Target (issue 3): >= 1,500 events/s sustained, none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx
import psycopg
import uvloop
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.security import create_access_token
from benchmarks.cpu import ServerCpu, reaped_children_cpu, tree_cpu
from core.db import database_url, libpq_url, process_env
from core.migrate import upgrade
from core.settings import ROOT, get_settings

SPOT = (36.3527, 128.6970)  # 의성군청
REGION = ("47730", "47", "경상북도", "의성군")


def seed(url: str, n_users: int, n_missions: int) -> tuple[list[str], list[str]]:
    users = [str(uuid.uuid4()) for _ in range(n_users)]
    missions = [str(uuid.uuid4()) for _ in range(n_missions)]
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        code, sido, sido_name, sgg = REGION
        cur.execute("insert into raw.regions (region_code, sido_code, sido_name, sgg_name, full_name, level, "
                    "centroid_lat, centroid_lon, centroid_method, area_km2, boundary_geojson) values "
                    "(%s, %s, %s, %s, %s, 'gun', %s, %s, 'area_centroid', 1173.0, '{}')",
                    (code, sido, sido_name, sgg, f"{sido_name} {sgg}", *SPOT))
        with cur.copy("copy app.users (id, email, password_hash, display_name, user_type) from stdin") as copy:
            for i, uid in enumerate(users):
                copy.write_row((uid, f"bench{i}@bench.invalid", "-", f"bench {i}", "youth"))
        with cur.copy("copy app.missions (id, title, mission_type, region_code, lat, lon, radius_m, points) "
                      "from stdin") as copy:
            for i, mid in enumerate(missions):
                copy.write_row((mid, f"bench mission {i}", "exploration", code, *SPOT, 200, 50))
        with cur.copy("copy app.mission_steps (mission_id, step_no, title, verification) from stdin") as copy:
            for mid in missions:
                copy.write_row((mid, 1, "도착", "checkin"))
        conn.commit()
    return users, missions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(url: str, port: int) -> subprocess.Popen[bytes]:
    env = process_env(url) | {"HOMETOWN_ENV": "test", "SECRET_KEY": get_settings().resolved_secret_key()}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"],
                            cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
            return proc
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError("the API did not start within 600 s")


# ---------------------------------------------------------------------------------- load generator
class Http:
    """A lean HTTP/1.1 keep-alive client on one connection (asyncio streams, uvloop).

    httpx's client costs about 2.5 ms of CPU per request on this machine: with it, a trivial FastAPI
    route topped out at ~390 requests/s here, so the generator measured itself. This one costs a few
    tens of microseconds and leaves the cores to the API and PostgreSQL, as separate clients would.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Http:
        return cls(*await asyncio.open_connection(host, port))

    async def request(self, method: str, path: str, token: str, body: Mapping[str, object] | None = None
                      ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        status_line, *headers = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = None
        for line in headers:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError(f"{path}: chunked answers are not expected ({value!r})")
        if length is None:
            raise RuntimeError(f"{path}: no Content-Length in {status_line!r}")
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _player(http: Http, token: str, missions: list[str], start: int, stop_at: float,
                  counts: dict[str, int]) -> None:
    i = start
    while time.monotonic() < stop_at:
        mission = missions[i % len(missions)]
        i += 1
        status, body = await http.request("POST", f"/missions/{mission}/attempts", token)
        if status != 201:
            counts[f"enrol {status}"] = counts.get(f"enrol {status}", 0) + 1
            continue
        counts["events"] += 1
        attempt = json.loads(body)["id"]
        for path, payload in ((f"/me/attempts/{attempt}/steps/1/checkins", {"lat": SPOT[0], "lon": SPOT[1]}),
                              (f"/me/attempts/{attempt}/steps/1/complete", None),
                              (f"/me/attempts/{attempt}/complete", None)):
            status, _ = await http.request("POST", path, token, payload)
            if status >= 300:
                key = f"{path.rsplit('/', 1)[-1]} {status}"
                counts[key] = counts.get(key, 0) + 1
                break
            counts["events"] += 1


async def _reader(http: Http, token: str, stop_at: float, counts: dict[str, int]) -> None:
    while time.monotonic() < stop_at:
        status, _ = await http.request("GET", "/me", token)
        key = "events" if status == 200 else f"me {status}"
        counts[key] = counts.get(key, 0) + 1


async def _load(port: int, mode: str, tokens: list[str], missions: list[str], seconds: float,
                concurrency: int) -> dict[str, int]:
    counts: dict[str, int] = {"events": 0}
    clients = [await Http.open("127.0.0.1", port) for _ in range(concurrency)]
    try:
        stop_at = time.monotonic() + seconds
        if mode == "loop":
            jobs = [_player(http, tokens[k % len(tokens)], missions, k * 7, stop_at, counts)
                    for k, http in enumerate(clients)]
        else:
            jobs = [_reader(http, tokens[k % len(tokens)], stop_at, counts) for k, http in enumerate(clients)]
        started = time.monotonic()
        await asyncio.gather(*jobs)
        counts["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    finally:
        for http in clients:
            http.close()
    return counts


def _generator(port: int, mode: str, tokens: list[str], missions: list[str], seconds: float, concurrency: int,
               out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(uvloop.run(_load(port, mode, tokens, missions, seconds, concurrency)))


def run_load(port: int, mode: str, tokens: list[str], missions: list[str], seconds: float,
             concurrency: int) -> dict[str, int]:
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    proc = mp.Process(target=_generator, args=(port, mode, tokens, missions, seconds, concurrency, queue))
    proc.start()
    result = queue.get(timeout=seconds + 300)
    proc.join(30)
    return result


class CpuSplit:
    """CPU seconds of the API's workers, the PostgreSQL server and the load generator over one run."""

    def __init__(self, api_pid: int, server: ServerCpu) -> None:
        self.api_pid, self.server = api_pid, server
        self.start = self._read()

    def _read(self) -> tuple[float | None, float | None, float]:
        return tree_cpu(self.api_pid), self.server.total(), reaped_children_cpu()

    def per_event(self, events: int) -> str:
        """'API workers 3.30 ms, PostgreSQL 0.96 ms, generator 0.05 ms of CPU each' (n/a: not readable here)."""
        end = self._read()
        parts = []
        for name, a, b in zip(("API workers", "PostgreSQL", "generator"), self.start, end, strict=True):
            spent = "n/a" if a is None or b is None else f"{(b - a) * 1000 / max(1, events):.2f} ms"
            parts.append(f"{name} {spent}")
        return ", ".join(parts) + " of CPU each"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--missions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
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
        users, missions = seed(url, args.users, args.missions)
        tokens = [create_access_token(uuid.UUID(u)).token for u in users]
        port = _free_port()
        t0 = time.perf_counter()
        api = start_api(url, port)
        print(f"API up (2 workers) in {time.perf_counter() - t0:.0f}s; {args.users} users, {args.missions} missions, "
              f"concurrency {args.concurrency}, {args.seconds:.0f}s per run", flush=True)
        run_load(port, "read", tokens, missions, 3, args.concurrency)  # warm both workers' pools
        with psycopg.connect(libpq_url(url)) as conn:
            server = ServerCpu(conn.info.backend_pid)
        split = CpuSplit(api.pid, server)
        baseline = run_load(port, "read", tokens, missions, args.seconds, args.concurrency)
        base_cpu = split.per_event(baseline["events"])
        split = CpuSplit(api.pid, server)
        loop = run_load(port, "loop", tokens, missions, args.seconds, args.concurrency)
        time.sleep(2)  # after-commit effects of the last completions
        loop_cpu = split.per_event(loop["events"])
        with psycopg.connect(libpq_url(url)) as conn:
            stored = conn.execute("select count(*) from raw.activity_events where source = 'api'").fetchone()[0]
            quarantined = conn.execute("select count(*) from raw.quarantine").fetchone()[0]
        base_rate = baseline["events"] / (baseline["elapsed_ms"] / 1000)
        rate = loop["events"] / (loop["elapsed_ms"] / 1000)
        print(f"baseline GET /me          : {base_rate:8,.0f} requests/s  ({baseline['events']:,} in "
              f"{baseline['elapsed_ms'] / 1000:.1f}s)")
        print(f"  per request: {base_cpu}")
        print(f"mission loop (1 event each): {rate:8,.0f} events/s    ({loop['events']:,} acknowledged in "
              f"{loop['elapsed_ms'] / 1000:.1f}s)  ratio to baseline {rate / base_rate:5.1%}")
        print(f"  per event: {loop_cpu} (the loop's figure includes its after-commit effects)")
        others = {k: v for k, v in loop.items() if k not in ("events", "elapsed_ms")}
        print(f"events in raw.activity_events: {stored:,}  acknowledged: {loop['events']:,}  "
              f"{'none lost' if stored == loop['events'] else 'MISMATCH'}  quarantined: {quarantined}  "
              f"non-2xx: {others or 'none'}")
        print(f"target >= 1,500 events/s: {'met' if rate >= 1500 else 'NOT met'} (cores: {os.cpu_count()})")
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
