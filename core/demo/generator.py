"""`hometown demo`: a seeded, deterministic demo population with known structure.

    generate(DemoSpec(users=10_000, missions=1_000, events=1_000_000, seed=20261125), url, settings)

writes, through the same code the API uses (core.accounts, core.catalog): demo users (password
"hometown-demo") and staff accounts, regional needs and a mission catalog on the real places of
raw.places; then the activity as JSONL files in the landing folder (`demo-<seed>-NNNN.jsonl`,
written as `.part` and renamed), for the activity ingestion asset to load. The hidden preference
profiles that drive behaviour go to `<var_dir>/demo/hidden_profiles.jsonl`, with a manifest of
what was written (for evaluation and tests), never to the app schema.

Same spec → byte-identical files. A spec already generated (the latest row of app.demo_runs) is
not generated again unless `force`; a different spec replaces the previous demo (its app rows,
landing files and the events loaded from them).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
from sqlalchemy import Connection, Engine, insert, select, text, update

from core.accounts import create_users, hash_password
from core.catalog import NewNeed, create_missions, create_needs
from core.certify_demo import remove_demo_certifications
from core.community_demo import remove_demo_community
from core.db import database_url, get_engine
from core.demo.behaviour import KST, Outcomes, Simulation, anchor_window
from core.demo.ids import uuid4_from
from core.demo.missions import DemoMission, make_missions, make_needs
from core.demo.population import (
    DEMO_PASSWORD,
    DemoUser,
    Staff,
    hidden_profile,
    make_staff,
    make_users,
    to_new_user,
)
from core.demo.reference import Reference, read_reference
from core.settings import Settings, get_settings
from core.storage import ObjectStorage, storage_for
from core.tables import demo_runs

Progress = Callable[[str], None]
BUCKET_MS = 14 * 86_400_000
BAD_KINDS = ("cp949", "no_timezone", "unknown_user", "truncated", "outside_korea", "unknown_type")


@dataclass(frozen=True)
class DemoSpec:
    users: int = 10_000
    missions: int = 1_000
    events: int = 1_000_000  # valid events, approximately (the simulation stops at the first attempt past it)
    seed: int = 20261125
    anchor: date = date(2026, 10, 31)  # the last day of activity; part of the spec, so output is fixed
    months: int = 18
    file_lines: int = 100_000
    duplicate_share: float = 0.001  # device retries: a line sent again later
    bad_share: float = 0.0002  # broken lines, for the quarantine to catch

    def file_prefix(self) -> str:
        return f"demo-{self.seed}-"


@dataclass
class DemoPlan:
    """Everything the demo writes to the app schema, built without touching the database."""

    spec: DemoSpec
    ref: Reference
    staff: Staff
    users: list[DemoUser]
    needs: list[NewNeed]
    missions: list[DemoMission]
    window: tuple[float, float]
    nprng: np.random.Generator
    rng: random.Random


@dataclass
class DemoResult:
    skipped: bool
    files: list[str] = field(default_factory=list)
    users: int = 0
    staff: int = 0
    missions: int = 0
    needs: int = 0
    valid_events: int = 0
    duplicates: int = 0
    bad_lines: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------- the plan
def build_plan(spec: DemoSpec, ref: Reference, password_hash: str) -> DemoPlan:
    """Users, staff, needs and missions for `spec`, deterministically from its seed."""
    rng = random.Random(f"hometown-demo:{spec.seed}")
    nprng = np.random.default_rng(spec.seed)
    window = anchor_window(datetime.combine(spec.anchor, datetime.min.time()), spec.months)
    days = (datetime.fromtimestamp(window[0], KST).date(), spec.anchor)
    staff = make_staff(rng, ref, password_hash, window[0])
    users = make_users(rng, nprng, ref, spec.users, window)
    requesters: dict[str, list] = {}
    for user in users:
        if user.user_type == "requester":
            requesters.setdefault(ref.regions[user.home].code, []).append(user.id)
    needs = make_needs(rng, ref, staff, requesters, max(10, round(spec.missions * 0.6)), days)
    missions = make_missions(rng, ref, staff, needs, requesters, spec.missions, days)
    return DemoPlan(spec, ref, staff, users, needs, missions, window, nprng, rng)


def write_activity(plan: DemoPlan, folder: Path, scratch: Path) -> tuple[list[Path], Outcomes, _LandingWriter]:
    """Simulate the activity and write it, in time order, as JSONL files in `folder`."""
    spec = plan.spec
    buckets: dict[int, BinaryIO] = {}  # events by time slice, sorted one slice at a time
    sequence = 0

    def sink(ms: int, line: bytes) -> None:
        nonlocal sequence
        bucket = ms // BUCKET_MS
        out = buckets.get(bucket)
        if out is None:
            out = buckets[bucket] = (scratch / f"{bucket}.bucket").open("wb")
        out.write(b"%013d%010d " % (ms, sequence) + line + b"\n")
        sequence += 1

    simulation = Simulation(plan.rng, plan.nprng, plan.ref, plan.users, plan.missions, plan.window, sink)
    outcomes = simulation.run(spec.events)
    for out in buckets.values():
        out.close()
    writer = _LandingWriter(folder, spec, random.Random(f"hometown-demo-landing:{spec.seed}"))
    for bucket in sorted(buckets):
        path = scratch / f"{bucket}.bucket"
        lines = path.read_bytes().splitlines()
        lines.sort()
        for line in lines:
            writer.write(line[24:])
        path.unlink()
    writer.close()
    return writer.paths, outcomes, writer


class _LandingWriter:
    """Writes lines into numbered files of `file_lines`, adding the retries and broken lines that
    real devices send (so the loader's duplicate and quarantine paths are part of the demo)."""

    def __init__(self, folder: Path, spec: DemoSpec, rng: random.Random) -> None:
        self.folder = folder
        self.spec = spec
        self.rng = rng
        self.paths: list[Path] = []
        self.valid = 0
        self.duplicates = 0
        self.bad: Counter[str] = Counter()
        self._recent: list[bytes] = []
        self._out: BinaryIO | None = None
        self._lines = 0

    def write(self, line: bytes) -> None:
        self._put(line)
        self.valid += 1
        recent = self._recent
        if len(recent) < 2000:
            recent.append(line)
        else:
            recent[self.valid % 2000] = line
        rng = self.rng
        if rng.random() < self.spec.duplicate_share:
            self._put(recent[rng.randrange(len(recent))])
            self.duplicates += 1
        if rng.random() < self.spec.bad_share:
            kind = BAD_KINDS[rng.randrange(len(BAD_KINDS))]
            self._put(self._broken(line, kind))
            self.bad[kind] += 1

    def _broken(self, line: bytes, kind: str) -> bytes:
        event = orjson.loads(line)
        event["event_id"] = str(uuid4_from(self.rng))
        if kind == "cp949":
            event["payload"] = {"note": "현장 메모: 주차장이 가득 찼어요"}
            return orjson.dumps(event).decode().encode("cp949")
        if kind == "no_timezone":
            event["occurred_at"] = event["occurred_at"][:19]
        elif kind == "unknown_user":
            event["user_id"] = str(uuid4_from(self.rng))
        elif kind == "truncated":
            return line[: len(line) // 2]
        elif kind == "outside_korea":
            event.update(event_type="checkin", lat=35.6812, lon=139.7671)  # Tokyo Station
        else:
            event["event_type"] = "mission_liked"
        return orjson.dumps(event)

    def _put(self, line: bytes) -> None:
        if self._out is None:
            path = self.folder / f"{self.spec.file_prefix()}{len(self.paths) + 1:04d}.jsonl"
            self.paths.append(path)
            self._out = path.with_name(path.name + ".part").open("wb")
        self._out.write(line + b"\n")
        self._lines += 1
        if self._lines >= self.spec.file_lines:
            self._finish()

    def _finish(self) -> None:
        if self._out is not None:
            self._out.close()
            part = self.paths[-1].with_name(self.paths[-1].name + ".part")
            part.rename(self.paths[-1])  # complete: now the sensor may pick it up
            self._out = None
            self._lines = 0

    def close(self) -> None:
        self._finish()


# ---------------------------------------------------------------------------------- the database
def _latest_run(conn: Connection) -> dict | None:
    row = conn.execute(select(demo_runs).order_by(demo_runs.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def _same_spec(run: dict, spec: DemoSpec) -> bool:
    return (run["finished_at"] is not None and run["seed"] == spec.seed and run["users_count"] == spec.users
            and run["missions_count"] == spec.missions and run["events_count"] == spec.events)


def remove_previous_demo(conn: Connection, landing_dir: Path, storage: ObjectStorage | None = None) -> int:
    """Take the previous demo out: its landing files, the events loaded from them, its app rows, and
    what the demo extras made on them (certifications with their evidence in `storage`, the community,
    the recommendation lists and their first-recommended log)."""
    remove_demo_certifications(conn, storage)
    remove_demo_community(conn)
    runs: list[list[str]] = list(conn.execute(select(demo_runs.c.landing_files)).scalars())
    files = sorted({name for names in runs for name in names})
    sources = [f"file:{name}" for name in files]
    conn.execute(text("delete from raw.activity_events where source = any(:s)"), {"s": sources})
    conn.execute(text("delete from raw.quarantine where source = any(:s)"), {"s": sources})
    conn.execute(text("delete from raw.ingested_files where file_name = any(:f)"), {"f": files})
    demo_users = "select id from app.users where is_demo"
    for table in ("serving.recommendations", "serving.recommendation_log"):  # no foreign key to the users
        conn.execute(text(f"delete from {table} where user_id in ({demo_users})"))
    conn.execute(text(f"delete from app.missions where created_by in ({demo_users})"))
    conn.execute(text(f"delete from app.regional_needs where posted_by in ({demo_users})"))
    removed = conn.execute(text("delete from app.users where is_demo")).rowcount
    conn.execute(text("delete from app.demo_runs"))
    for name in files:
        for path in (landing_dir / name, landing_dir / f"{name}.part"):
            path.unlink(missing_ok=True)
    return removed


def _write_app_rows(conn: Connection, plan: DemoPlan, password_hash: str) -> int:
    create_users(conn, plan.staff.users + [to_new_user(u, plan.ref, password_hash) for u in plan.users])
    create_needs(conn, plan.needs)
    create_missions(conn, [m.new for m in plan.missions])
    spec = plan.spec
    return int(conn.execute(insert(demo_runs).values(
        seed=spec.seed, users_count=spec.users, missions_count=spec.missions, events_count=spec.events,
        landing_files=[]).returning(demo_runs.c.id)).scalar_one())


# ---------------------------------------------------------------------------------- entry point
def generate(spec: DemoSpec, url: str | None = None, settings: Settings | None = None, force: bool = False,
             progress: Progress | None = None) -> DemoResult:
    """Generate the demo population of `spec` (see the module docstring)."""
    settings = settings or get_settings()
    say = progress or (lambda message: None)
    t0 = time.monotonic()
    engine: Engine = get_engine(url or database_url(settings))
    if datetime.combine(spec.anchor, datetime.max.time(), tzinfo=KST) > datetime.now(UTC):
        raise ValueError(f"the demo anchor {spec.anchor} is in the future: its events would be rejected")
    with engine.begin() as conn:
        latest = _latest_run(conn)
        if latest and _same_spec(latest, spec) and not force:
            say(f"demo: seed {spec.seed} with {spec.users:,} users, {spec.missions:,} missions and "
                f"{spec.events:,} events already exists (since {latest['finished_at']:%Y-%m-%d %H:%M}); "
                "skipping (use --force to generate it again)")
            return DemoResult(skipped=True, files=list(latest["landing_files"]))
        ref = read_reference(conn)
    say(f"demo: building {spec.users:,} users and {spec.missions:,} missions on {len(ref.places):,} real places "
        f"in {len(ref.regions)} regions (seed {spec.seed})")
    password_hash = hash_password(DEMO_PASSWORD)
    plan = build_plan(spec, ref, password_hash)
    landing = settings.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        removed = remove_previous_demo(conn, landing, storage_for(settings))
        if removed:
            say(f"demo: replaced the previous demo ({removed:,} accounts, its missions, files and events)")
        run_id = _write_app_rows(conn, plan, password_hash)
    say(f"demo: wrote {len(plan.users) + len(plan.staff.users):,} accounts, {len(plan.needs):,} needs and "
        f"{len(plan.missions):,} missions ({time.monotonic() - t0:.1f}s)")
    demo_dir = settings.var_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    with (demo_dir / "hidden_profiles.jsonl").open("wb") as f:
        for user in plan.users:
            f.write(orjson.dumps(hidden_profile(user, ref)) + b"\n")
    say(f"demo: simulating activity toward {spec.events:,} events over {spec.months} months to {spec.anchor}")
    scratch = Path(tempfile.mkdtemp(prefix="demo-", dir=settings.var_dir))
    try:
        paths, outcomes, writer = write_activity(plan, landing, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = DemoResult(
        skipped=False, files=[p.name for p in paths], users=len(plan.users), staff=len(plan.staff.users),
        missions=len(plan.missions), needs=len(plan.needs), valid_events=writer.valid,
        duplicates=writer.duplicates, bad_lines=dict(sorted(writer.bad.items())),
        seconds=round(time.monotonic() - t0, 1))
    manifest = {"spec": {k: str(v) if isinstance(v, date) else v for k, v in asdict(spec).items()},
                **{k: v for k, v in asdict(result).items() if k not in ("skipped", "seconds")},
                "attempts": outcomes.attempts, "ended": dict(sorted(outcomes.ended.items())),
                "failure_reasons": dict(sorted(outcomes.reasons.items()))}
    (demo_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    with engine.begin() as conn:
        conn.execute(update(demo_runs).where(demo_runs.c.id == run_id).values(
            landing_files=result.files, finished_at=datetime.now(UTC)))
    say(f"demo: wrote {writer.valid:,} events (+{writer.duplicates:,} retried, {sum(writer.bad.values())} broken "
        f"lines) in {len(paths)} files to {landing} in {result.seconds:.0f}s")
    return result
