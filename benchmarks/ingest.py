"""Activity ingestion benchmark: our loader against a plain COPY of the same rows, in one run.

    .venv/bin/python benchmarks/ingest.py [--events 1000000] [--file-lines 100000] [--users 10000]

It makes a throw-away database on the platform's server (DATABASE_URL or the embedded one),
migrates it, adds users, missions and regions for the events to refer to, writes N events as
JSONL landing files, then times:
  plain   the same rows, already rendered as COPY text, COPY'd into a bare unindexed table
          (no parsing, no validation, no primary key: the ceiling of what the server can take);
  ingest  core.activity.load_folder on the files into raw.activity_events: read, parse,
          validate, dedup (primary-key probe), COPY, ingested_files — the real path.
Targets (issue §9): ingest >= 100,000 events/s and >= 60% of plain, on two cores.
A second ingest of the same folder shows the skip-by-checksum path.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.activity import load_folder
from core.db import database_url, libpq_url
from core.demo.ids import uuid7_str
from core.events import COPY_COLUMNS, EventValidator, KnownIds, parse_line
from core.migrate import upgrade

ANCHOR = datetime(2026, 5, 1, tzinfo=UTC)
REGIONS = [("47730", 36.35, 128.70), ("11110", 37.59, 126.98), ("46910", 34.48, 126.26), ("51830", 38.10, 128.20)]
STEPS = ["checkin", "qr_scanned", "step_completed"]


def make_events(path_dir: Path, n: int, file_lines: int, users: list[str], missions: list[str],
                seed: int) -> list[Path]:
    """N plausible events (a funnel-like mix with positions and payloads) in JSONL files."""
    rng = random.Random(seed)
    start_ms = int((ANCHOR - timedelta(days=540)).timestamp() * 1000)
    span_ms = 540 * 86_400_000
    paths: list[Path] = []
    out = None
    for i in range(n):
        if i % file_lines == 0:
            if out:
                out.close()
            paths.append(path_dir / f"bench-{len(paths):04d}.jsonl")
            out = paths[-1].open("wb")
        ms = start_ms + span_ms * i // n + rng.randrange(1000)
        code, lat, lon = REGIONS[rng.randrange(len(REGIONS))]
        kind = rng.random()
        ev: dict = {"event_id": uuid7_str(ms, rng), "user_id": users[rng.randrange(len(users))],
                    "occurred_at": datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds"),
                    "mission_id": missions[rng.randrange(len(missions))], "region_code": code}
        if kind < 0.55:
            ev.update(event_type="step_completed", step_no=rng.randint(1, 4),
                      payload={"verification": STEPS[rng.randrange(3)], "duration_s": rng.randint(30, 3600)})
        elif kind < 0.75:
            ev.update(event_type="checkin", lat=lat + rng.uniform(-0.01, 0.01), lon=lon + rng.uniform(-0.01, 0.01),
                      payload={"accepted": True, "distance_m": round(rng.uniform(0, 150), 1)})
        elif kind < 0.9:
            ev.update(event_type="mission_enrolled", payload={"channel": "app"})
        elif kind < 0.97:
            ev.update(event_type="mission_completed", payload={"points": 100})
        else:
            ev.update(event_type="mission_failed", payload={"reason": "weather", "reason_text": "비"})
        assert out is not None
        out.write(orjson.dumps(ev) + b"\n")
    if out:
        out.close()
    return paths


def seed_references(conn: psycopg.Connection, n_users: int, n_missions: int) -> tuple[list[str], list[str]]:
    users = [str(uuid.uuid4()) for _ in range(n_users)]
    missions = [str(uuid.uuid4()) for _ in range(n_missions)]
    with conn.cursor() as cur:
        with cur.copy("copy app.users (id, email, password_hash, display_name) from stdin") as copy:
            for i, uid in enumerate(users):
                copy.write_row((uid, f"bench{i}@bench.invalid", "-", f"bench {i}"))
        with cur.copy("copy app.missions (id, title, mission_type, region_code) from stdin") as copy:
            for i, mid in enumerate(missions):
                copy.write_row((mid, f"mission {i}", "exploration", REGIONS[i % len(REGIONS)][0]))
        with cur.copy("copy raw.regions (region_code, sido_code, sido_name, sgg_name, full_name, level, "
                      "centroid_lat, centroid_lon, centroid_method, area_km2, boundary_geojson) from stdin") as copy:
            for code, lat, lon in REGIONS:
                copy.write_row((code, code[:2], "시도", code, code, "gun", lat, lon, "area_centroid", 1.0, "{}"))
    conn.commit()
    return users, missions


def prerender(paths: list[Path], users: list[str], missions: list[str]) -> list[str]:
    """The rows as COPY text, made before timing: the plain COPY does no client work at all."""
    validator = EventValidator(KnownIds(frozenset(users), frozenset(missions), frozenset(r[0] for r in REGIONS)),
                               "file:plain")
    chunks = []
    for path in paths:
        with path.open("rb") as f:
            chunks.append("".join(validator(parse_line(line))[1] for line in f))
    return chunks


@dataclass
class Timing:
    """Wall-clock seconds, and CPU seconds of the loader (this process and its parser process) and
    of its PostgreSQL backend. On a machine shared with other work, wall-clock rates swing; CPU
    seconds do not, and say what two dedicated cores could do."""

    wall: float
    client_cpu: float  # this process: reading, checksums, probes, feeding the COPY
    parser_cpu: float  # the parser process (parsing and validating)
    server_cpu: float | None

    def two_core_seconds(self) -> float:
        """The parser on one core; PostgreSQL and this process on the other: the busier core sets the pace."""
        return max(self.parser_cpu, (self.server_cpu or 0.0) + self.client_cpu)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(pid: int) -> float | None:
    """CPU seconds of a local PostgreSQL backend (from /proc); None for a remote server."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(conn: psycopg.Connection, work: Callable[[], object]) -> Timing:
    pid = conn.info.backend_pid
    server0, client0, parser0 = _server_cpu(pid), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    work()
    wall = time.perf_counter() - t0
    client, parser = _cpu(resource.RUSAGE_SELF) - client0, _cpu(resource.RUSAGE_CHILDREN) - parser0
    server1 = _server_cpu(pid)
    return Timing(wall, client, parser, None if server0 is None or server1 is None else server1 - server0)


def plain_copy(conn: psycopg.Connection, chunks: list[str]) -> Timing:
    conn.execute("drop table if exists public.bench_plain")
    conn.execute("create table public.bench_plain (like raw.activity_events including defaults)")
    conn.commit()
    conn.execute("checkpoint")

    def work() -> None:
        with conn.cursor() as cur:
            for chunk in chunks:
                with cur.copy(f"copy public.bench_plain ({', '.join(COPY_COLUMNS)}) from stdin") as copy:
                    copy.write(chunk)
        conn.commit()

    return _timed(conn, work)


def ingest(conn: psycopg.Connection, folder: Path) -> tuple[Timing, int]:
    conn.execute("truncate raw.activity_events, raw.ingested_files, raw.quarantine")
    conn.commit()
    conn.execute("checkpoint")
    results: list = []
    timing = _timed(conn, lambda: results.extend(load_folder(conn, folder)))
    return timing, sum(r.loaded for r in results)


def _report(n: int, plain: Timing, ingest_: Timing, label: str) -> tuple[float, float]:
    plain_rate, ingest_rate = n / plain.wall, n / ingest_.wall
    print(f"{label}")
    print(f"  plain COPY, bare table : {plain.wall:7.2f}s {plain_rate:>10,.0f} events/s   "
          f"PostgreSQL CPU {plain.server_cpu or float('nan'):6.2f}s")
    print(f"  ingest (load_folder)   : {ingest_.wall:7.2f}s {ingest_rate:>10,.0f} events/s   "
          f"PostgreSQL CPU {ingest_.server_cpu or float('nan'):6.2f}s, parser CPU {ingest_.parser_cpu:6.2f}s, "
          f"loader CPU {ingest_.client_cpu:6.2f}s")
    print(f"  ratio ingest/plain     : {ingest_rate / plain_rate:6.1%}")
    return plain_rate, ingest_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--file-lines", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--missions", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved plain/ingest rounds; best of each")
    parser.add_argument("--drop-index", action="append", default=[], metavar="NAME",
                        help="drop this index of raw.activity_events in the throw-away database first, "
                             "to see what it costs the load (repeatable)")
    args = parser.parse_args()

    server = make_url(database_url())
    name = f"hometown_bench_{uuid.uuid4().hex[:8]}"
    admin = libpq_url(server.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        with psycopg.connect(libpq_url(url)) as conn, tempfile.TemporaryDirectory() as tmp:
            users, missions = seed_references(conn, args.users, args.missions)
            for index in args.drop_index:
                conn.execute(f'drop index raw."{index}"')
            conn.commit()
            indexes = [r[0] for r in conn.execute(
                "select indexname from pg_indexes where schemaname = 'raw' and tablename = 'activity_events' "
                "order by 1")]
            print(f"indexes of raw.activity_events: {', '.join(indexes)}", flush=True)
            t0 = time.perf_counter()
            paths = make_events(Path(tmp), args.events, args.file_lines, users, missions, args.seed)
            size = sum(p.stat().st_size for p in paths)
            print(f"wrote {args.events:,} events in {len(paths)} files ({size / 1e6:.0f} MB) "
                  f"in {time.perf_counter() - t0:.1f}s", flush=True)
            chunks = prerender(paths, users, missions)
            plains, ingests = [], []
            for round_no in range(1, args.rounds + 1):  # interleaved: a busy machine slows both alike
                plains.append(plain_copy(conn, chunks))
                timing, loaded = ingest(conn, Path(tmp))
                ingests.append(timing)
                print(f"round {round_no}: plain {args.events / plains[-1].wall:>9,.0f}/s  "
                      f"ingest {args.events / timing.wall:>9,.0f}/s  ratio {plains[-1].wall / timing.wall:5.1%}",
                      flush=True)
            del chunks
            t0 = time.perf_counter()
            again = load_folder(conn, Path(tmp))
            again_s = time.perf_counter() - t0
            rows = conn.execute("select count(*) from raw.activity_events").fetchone()[0]  # type: ignore[index]
        n = args.events
        print(f"cores: {os.cpu_count()}  events: {n:,}  loaded: {loaded:,}  rows: {rows:,}")
        plain = min(plains, key=lambda t: t.wall)
        best = min(ingests, key=lambda t: t.wall)
        plain_rate, ingest_rate = _report(n, plain, best, f"wall clock, best of {args.rounds} rounds:")
        skipped = sum(r.skipped for r in again)
        print(f"  re-run (all skipped)   : {again_s:7.2f}s  skipped {skipped} of {len(again)} files")
        cpu_ok = None
        if plain.server_cpu and best.server_cpu:
            plain_cpu_rate = n / min((t.server_cpu or float("inf")) + t.client_cpu for t in plains)
            ingest_cpu_rate = n / min(t.two_core_seconds() for t in ingests)
            print("CPU-time bound on two dedicated cores (parser on one, PostgreSQL + loader on the other):")
            print(f"  plain {plain_cpu_rate:>10,.0f} events/s   ingest {ingest_cpu_rate:>10,.0f} events/s   "
                  f"ratio {ingest_cpu_rate / plain_cpu_rate:6.1%}")
            cpu_ok = ingest_cpu_rate >= 100_000 and ingest_cpu_rate >= 0.6 * plain_cpu_rate
        ok = ingest_rate >= 100_000 and ingest_rate >= 0.6 * plain_rate
        print(f"targets (>= 100,000 events/s and >= 60% of plain): wall clock {'met' if ok else 'NOT met'}"
              + ("" if cpu_ok is None else f", CPU-time bound {'met' if cpu_ok else 'NOT met'}"))
        assert loaded == n == rows, "the loader did not load every event exactly once"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
