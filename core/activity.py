"""Loading activity events into `raw.activity_events`: JSONL files and API batches, one code path.

Each event is loaded once: `event_id` is the key, so a re-run or an overlapping file adds nothing.
Every file is recorded in `raw.ingested_files` by its sha256 (a file seen before is skipped), and
every bad line goes to `raw.quarantine` with its file, line number and reason; bad lines never
stop good ones.

How it stays fast (a million events per demo load): lines are decoded by msgspec and checked by
hand-written rules (core/events.py), in chunks; each chunk's ids are probed against the primary
key and the new rows are COPY'd straight into the table. Large files load in two lanes (a parser
process and a connection each), so parsing and PostgreSQL's work spread over both cores. Loaders,
files and batches handed to `append_events` alike, take a shared advisory lock and never wait on each other: when a
probe misses another transaction's uncommitted row, the COPY waits for it and, on the unique
violation, the chunk goes through a temporary table and INSERT … ON CONFLICT DO NOTHING instead.
Only a file load retrying after a deadlock takes the lock exclusively. The API's writer, whose ids are
minted in its own transaction, skips the probe and the lock (`append_minted_events`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors

from core.events import (
    COPY_COLUMNS,
    BadLine,
    ChunkParser,
    EventError,
    EventValidator,
    KnownIds,
    event_ids,
    normalise_event,
)

CHUNK_SIZE = 25_000  # events per probe + COPY: large enough to amortise round trips, small enough to overlap
PROCESS_MIN_BYTES = 4_000_000  # files from ~12,000 events up are parsed in the parser process
LOCK_KEY = 4_845_120_001  # pg_advisory_xact_lock key shared by every loader of raw.activity_events
QUARANTINE_CONTENT_MAX = 4096
ANALYZE_AFTER = 10_000  # events loaded by one folder load after which the table's statistics are renewed
ERRORS_KEPT = 100  # reasons returned to the caller (all of them are in raw.quarantine)
LANES = 2  # files loaded at once by load_folder: one per core of the two-core machine it is sized for
# the project's root, for the lane and parser processes' PYTHONPATH; not core.settings' ROOT, whose import
# (pydantic-settings, 0.17 s) every lane and parser process would pay before it loads a line
ROOT = Path(__file__).resolve().parent.parent
_COPY_SQL = f"copy raw.activity_events ({', '.join(COPY_COLUMNS)}) from stdin"


@dataclass
class LoadCounts:
    """What a load did. `errors` holds the first reasons, for API answers and run logs."""

    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)
    reasons: Counter[str] = field(default_factory=Counter)  # quarantined lines per field


@dataclass
class FileResult(LoadCounts):
    """One landing file: its identity and what came of its lines."""

    file_name: str = ""
    checksum: str = ""
    size_bytes: int = 0
    line_count: int = 0
    skipped: bool = False  # its checksum was already in raw.ingested_files


# ---------------------------------------------------------------------------------- known ids
def load_known_ids(conn: Any) -> KnownIds:
    """Every user, mission and region id: what a file load checks references against."""
    pg = _driver(conn)
    with pg.cursor() as cur:
        users = frozenset(r[0] for r in cur.execute("select id::text from app.users"))
        missions = frozenset(r[0] for r in cur.execute("select id::text from app.missions"))
        regions = frozenset(r[0] for r in cur.execute("select region_code from raw.regions"))
    return KnownIds(users=users, missions=missions, regions=regions)


def _known_ids_for(pg: psycopg.Connection, events: Sequence[Mapping[str, Any]]) -> KnownIds:
    """Only the ids a small batch names, so an API append does not read every user."""
    with pg.cursor() as cur:
        users = frozenset(r[0] for r in cur.execute(
            "select id::text from app.users where id = any(%s::uuid[])", [list(event_ids(events, "user_id"))]))
        missions = frozenset(r[0] for r in cur.execute(
            "select id::text from app.missions where id = any(%s::uuid[])",
            [list(event_ids(events, "mission_id"))]))
        regions = frozenset(r[0] for r in cur.execute("select region_code from raw.regions"))
    return KnownIds(users=users, missions=missions, regions=regions)


# ---------------------------------------------------------------------------------- the sink
class _Sink:
    """Writes validated chunks into raw.activity_events inside the caller's transaction, each event
    once: duplicates within the input are dropped here, those already stored by the probe."""

    def __init__(self, pg: psycopg.Connection, counts: LoadCounts) -> None:
        self.pg = pg
        self.counts = counts
        self.seen: set[str] = set()
        self._temp_ready = False

    def write(self, ids: list[str], data: str | bytes) -> None:
        """`data`: the COPY lines of `ids`, in the same order, as one text."""
        if not ids:
            return
        seen = self.seen
        fresh = set(ids)
        repeated = len(fresh) < len(ids) or not seen.isdisjoint(fresh)
        existing = self._existing(ids)
        if repeated or existing:
            ids, data = self._without(ids, data, existing)
        seen.update(fresh)
        if not ids:
            return
        try:
            with self.pg.transaction(), self.pg.cursor() as cur, cur.copy(_COPY_SQL) as copy:
                copy.write(data)
            self.counts.loaded += len(ids)
        except pg_errors.UniqueViolation:
            self._write_on_conflict(data, len(ids))

    def _without(self, ids: list[str], data: str | bytes, existing: set[str]) -> tuple[list[str], str | bytes]:
        """Drop the lines whose id was seen before (earlier in this input, or in the table)."""
        newline = b"\n" if isinstance(data, bytes) else "\n"
        lines = data.split(newline)  # type: ignore[arg-type]  # (not splitlines: \u2028 may be in a payload)
        seen, here = self.seen, set()
        keep_ids, keep_lines = [], []
        for event_id, line in zip(ids, lines, strict=False):  # lines has one more: the empty tail
            if event_id in seen or event_id in existing or event_id in here:
                self.counts.duplicates += 1
            else:
                here.add(event_id)
                keep_ids.append(event_id)
                keep_lines.append(line)
        keep_lines.append(lines[-1])
        return keep_ids, newline.join(keep_lines)  # type: ignore[arg-type]

    def _existing(self, ids: list[str]) -> set[str]:
        """Which of these ids the table already holds.

        First one index look-up: is any stored id between the chunk's smallest and largest? (uuid
        order is byte order, the same as the order of their lower-case text.) Fresh time-ordered
        ids, as our writers make, usually fall in a range nothing occupies, and the chunk needs no
        per-id probe. Random ids span the whole range and get the per-id probe; so does any chunk
        whose range overlaps stored ids. Either way the answer is exact.
        """
        with self.pg.cursor() as cur:
            occupied = cur.execute(
                "select exists (select from raw.activity_events where event_id between %s::uuid and %s::uuid)",
                [min(ids), max(ids)]).fetchone()
            if not occupied or not occupied[0]:
                return set()
            return {r[0] for r in cur.execute(
                "select event_id::text from raw.activity_events where event_id = any(%s::uuid[])",
                ["{" + ",".join(ids) + "}"])}

    def _write_on_conflict(self, data: str | bytes, count: int) -> None:
        """Slow but safe: someone wrote one of these ids between our probe and our COPY."""
        with self.pg.cursor() as cur:
            if not self._temp_ready:
                cur.execute("create temp table if not exists activity_load_chunk "
                            "(like raw.activity_events including defaults) on commit drop")
                self._temp_ready = True
            cur.execute("truncate activity_load_chunk")
            with cur.copy(_COPY_SQL.replace("raw.activity_events", "activity_load_chunk")) as copy:
                copy.write(data)
            cur.execute("insert into raw.activity_events select * from activity_load_chunk "
                        "on conflict (event_id) do nothing")
            inserted = cur.rowcount
        self.counts.loaded += inserted
        self.counts.duplicates += count - inserted


def _write_quarantine(pg: psycopg.Connection, rows: list[tuple[str, str, str, str]]) -> None:
    if not rows:
        return
    with pg.cursor() as cur, cur.copy("copy raw.quarantine (source, position, reason, content) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def _content(item: bytes | Mapping[str, Any]) -> str:
    """The offending input as storable text: bad bytes kept visible (\\xc7), NUL made visible."""
    if isinstance(item, bytes):
        text = item.decode("utf-8", errors="backslashreplace")
    else:
        try:
            text = orjson.dumps(item, default=str).decode()
        except TypeError:  # e.g. non-string keys: still keep what came
            text = repr(item)
    return text[:QUARANTINE_CONTENT_MAX].replace("\x00", "\\x00")


def _reject(counts: LoadCounts, bad: list[tuple[str, str, str, str]], source: str, number: int, reason: str,
            field_name: str, item: bytes | Mapping[str, Any]) -> None:
    bad.append((source, str(number), reason, _content(item)))
    counts.quarantined += 1
    counts.reasons[field_name] += 1
    if len(counts.errors) < ERRORS_KEPT:
        counts.errors.append((str(number), reason))


# ---------------------------------------------------------------------------------- the parser process
def can_spawn() -> bool:
    """Whether a Python interpreter can be started for the parser process (not in embedded hosts)."""
    return bool(sys.executable)


class ParserProcess:
    """A process that parses landing files one chunk ahead of the COPY (see the module docstring).

    A fresh interpreter that imports only core.events (not multiprocessing's spawn, which would
    re-run the caller's main script; not fork, which is unsafe in threaded hosts such as Dagster
    and the API). One per folder load: starting it costs a fraction of a second, so it is reused
    for every file.
    """

    def __init__(self, known: KnownIds) -> None:
        self._process, self._tasks, self._results = _spawn("from core.events import parser_main; parser_main()")
        self._tasks.send(("known", known))
        self.lines = 0  # the last file's line count and bad lines, once its chunks are consumed
        self.bad: list[BadLine] = []

    def parse(self, path: Path, source: str, now: datetime | None, chunk_size: int
              ) -> Iterator[tuple[list[str], bytes]]:
        """Chunks of (ids, COPY bytes); afterwards `.lines` and `.bad` hold the file's tally."""
        self._tasks.send(("file", str(path), source, now, chunk_size))
        while True:
            message = self._receive(path)
            if message[0] == "chunk":
                yield message[1].split(","), message[2]
            elif message[0] == "done":
                self.lines, self.bad = message[1], message[2]
                return
            else:
                raise RuntimeError(f"the activity parser process failed on {path.name}: {message[1]}")

    def _receive(self, path: Path) -> Any:
        try:
            return self._results.recv()
        except EOFError:
            raise RuntimeError(f"the activity parser process ended while parsing {path.name} "
                               f"(exit code {self._process.poll()})") from None

    def close(self) -> None:
        _stop(self._process, self._tasks, self._results)

    def __enter__(self) -> ParserProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


# ---------------------------------------------------------------------------------- entry points
def landing_files(folder: Path) -> list[Path]:
    """Complete landing files, oldest name first. Writers write `*.jsonl.part` and rename when done."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".jsonl"))


def file_checksum(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_file(conn: Any, path: Path, *, known: KnownIds | None = None, chunk_size: int = CHUNK_SIZE,
              now: datetime | None = None, parser: ParserProcess | None = None,
              in_process: bool | None = None, exclusive: bool = False) -> FileResult:
    """Load one JSONL file, once: its events, its bad lines, and its row in raw.ingested_files.

    The whole file is one transaction (a savepoint if the caller holds one), so a crash leaves
    nothing half-recorded and a re-run after it starts clean. `known` lets a folder load read
    the user/mission/region ids once; `parser` lends it the folder's parser process.
    `in_process`: parse in the parser process (True) or here (False); by default, large files go to
    the parser process. `exclusive`: keep every other loader out while this file loads (a retry after
    a deadlock with a concurrent file load does, so that it cannot happen twice).
    """
    pg = _driver(conn)
    started = datetime.now(UTC)
    result = FileResult(file_name=path.name, checksum=file_checksum(path), size_bytes=path.stat().st_size)
    source = f"file:{path.name}"
    if in_process is None:
        in_process = result.size_bytes >= PROCESS_MIN_BYTES and can_spawn()
    with pg.transaction():
        # file loads share the table (each one's probe misses the others' uncommitted rows, and the COPY
        # then waits for them and falls back to ON CONFLICT); API appends share it too; the same file
        # twice at once waits for the first
        pg.execute("select pg_advisory_xact_lock(%s)" if exclusive else "select pg_advisory_xact_lock_shared(%s)",
                   [LOCK_KEY])
        pg.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [result.checksum])
        if pg.execute("select 1 from raw.ingested_files where checksum = %s", [result.checksum]).fetchone():
            result.skipped = True
            return result
        known = known or load_known_ids(pg)
        sink = _Sink(pg, result)
        if in_process:
            with contextlib.ExitStack() as stack:
                if parser is None:
                    parser = stack.enter_context(ParserProcess(known))
                for ids, data in parser.parse(path, source, now, chunk_size):
                    sink.write(ids, data)  # the parser works on the next chunk meanwhile
                result.line_count, bad = parser.lines, parser.bad
        else:
            inline = ChunkParser(EventValidator(known, source, now=now), chunk_size)
            with path.open("rb") as f:
                for ids, texts in inline.chunks(f):
                    sink.write(ids, b"".join(texts))
            result.line_count, bad = inline.lines, inline.bad
        rows: list[tuple[str, str, str, str]] = []
        for line in bad:
            _reject(result, rows, source, line.number, line.reason, line.field, line.content)
        _write_quarantine(pg, rows)
        pg.execute(
            "insert into raw.ingested_files (checksum, file_name, size_bytes, line_count, loaded_count, "
            "duplicate_count, quarantined_count, started_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            [result.checksum, result.file_name, result.size_bytes, result.line_count, result.loaded,
             result.duplicates, result.quarantined, started])
    return result


def load_folder(conn: Any, folder: Path, *, chunk_size: int = CHUNK_SIZE,
                progress: Callable[[FileResult], None] | None = None,
                in_process: bool | None = None, lanes: int = LANES) -> list[FileResult]:
    """Every complete `*.jsonl` file of a landing folder, oldest name first; known ids read once.

    With several large files and a connection that is not inside a transaction, the files are
    shared among `lanes` lanes: each a parser process and its own database connection, loading
    whole files (one transaction each). Parsing and PostgreSQL's work (COPY, the primary key and
    the user index) then spread over every core instead of waiting on each other. Otherwise the
    files load one after another on `conn`, in its transaction if it has one.

    An event repeated in two files that load at the same time is loaded by whichever gets there
    first (the other counts it as a duplicate), so with lanes the per-file split of loaded and
    duplicate counts between such files can differ from a one-by-one load; the totals cannot.
    """
    pg = _driver(conn)
    files = landing_files(folder)
    if not files:
        return []
    idle = pg.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with pg.transaction():
        known = load_known_ids(pg)
    big = [in_process if in_process is not None else p.stat().st_size >= PROCESS_MIN_BYTES and can_spawn()
           for p in files]
    parallel = idle and lanes > 1 and sum(big) > 1 and all(big)
    if parallel:
        results = _load_in_lanes(pg, files, known, chunk_size, progress, min(lanes, len(files)))
    else:
        results = []
        parser: ParserProcess | None = None
        try:
            for path, in_parser in zip(files, big, strict=True):
                if parser is None and in_parser:
                    parser = ParserProcess(known)
                result = load_file(pg, path, known=known, chunk_size=chunk_size, parser=parser,
                                   in_process=in_parser)
                results.append(result)
                if progress:
                    progress(result)
        finally:
            if parser is not None:
                parser.close()
    if sum(r.loaded for r in results) >= ANALYZE_AFTER:
        with pg.transaction():
            pg.execute("analyze raw.activity_events")  # plans right after a bulk load (dbt runs next) need it
    return results


def _load_in_lanes(pg: psycopg.Connection, files: list[Path], known: KnownIds, chunk_size: int,
                   progress: Callable[[FileResult], None] | None, lanes: int) -> list[FileResult]:
    """Files handed out in name order to `lanes` lane processes, the next one to whichever lane is
    done first. Each lane parses a file and COPYs it on its own connection (one transaction per
    file, as `load_file` always does): while one lane parses, the other's PostgreSQL backend
    loads, so both cores stay busy, and no byte of the data passes through this process."""
    queue = list(enumerate(files))
    results: dict[int, FileResult] = {}
    with contextlib.ExitStack() as stack:
        busy: dict[Any, tuple[LaneProcess, int]] = {}
        idle = [stack.enter_context(LaneProcess(pg, known)) for _ in range(lanes)]
        while queue or busy:
            while queue and idle:
                lane = idle.pop()
                index, path = queue.pop(0)
                lane.start(path, chunk_size)
                busy[lane.results] = (lane, index)
            for ready in wait(list(busy)):
                lane, index = busy.pop(ready)
                results[index] = lane.result()  # raises the lane's error; the ExitStack ends the lanes
                idle.append(lane)
                if progress:
                    progress(results[index])
    return [results[i] for i in range(len(files))]


class LaneProcess:
    """A process that loads whole files on its own connection (see `_load_in_lanes`).

    Started like the parser process (a fresh interpreter, no fork); it gets the connection's
    parameters and password through its pipe, never on its command line or in its environment.
    """

    def __init__(self, pg: psycopg.Connection, known: KnownIds) -> None:
        self._process, self._tasks, self.results = _spawn("from core.activity import lane_main; lane_main()")
        self._tasks.send(("connect", pg.info.dsn, pg.info.password or None, known))
        self._path: Path | None = None

    def start(self, path: Path, chunk_size: int) -> None:
        self._path = path
        self._tasks.send(("load", str(path), chunk_size))

    def result(self) -> FileResult:
        name = self._path.name if self._path else "a file"
        try:
            message = self.results.recv()
        except EOFError:
            raise RuntimeError(f"the activity lane process ended while loading {name} "
                               f"(exit code {self._process.poll()})") from None
        if message[0] != "loaded":
            raise RuntimeError(f"the activity lane process failed on {name}: {message[1]}")
        return message[1]  # type: ignore[no-any-return]

    def __enter__(self) -> LaneProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        _stop(self._process, self._tasks, self.results)


def lane_main() -> None:
    """Entry point of a lane process: ("connect", dsn, password, known ids) once, then
    ("load", path, chunk_size) per file → ("loaded", FileResult) or ("error", message); None ends it."""
    tasks, results = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    gc.disable()  # a dict or two per line and no cycles: collections would only rescan live chunks
    conn: psycopg.Connection | None = None
    known: KnownIds | None = None
    try:
        while (task := tasks.recv()) is not None:
            if task[0] == "connect":
                conn = psycopg.connect(task[1], password=task[2])
                known = task[3]
                continue
            path, chunk_size = Path(task[1]), task[2]
            try:
                assert conn is not None
                try:
                    result = load_file(conn, path, known=known, chunk_size=chunk_size, in_process=False)
                except pg_errors.DeadlockDetected:  # two files holding each other's events, loaded at once:
                    result = load_file(conn, path, known=known, chunk_size=chunk_size, in_process=False,
                                       exclusive=True)  # again, alone; the first try rolled back entirely
                results.send(("loaded", result))
            except Exception as exc:  # reported to the loader, which raises it in its own process
                results.send(("error", f"{type(exc).__name__}: {exc}"))
            gc.collect()
    finally:
        if conn is not None:
            conn.close()


def _spawn(code: str) -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """A fresh interpreter running `code`, with a pipe for tasks in and one for results out."""
    tasks_read, tasks_write = os.pipe()
    results_read, results_write = os.pipe()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-c", code, str(tasks_read), str(results_write)],
                               pass_fds=(tasks_read, results_write), env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    os.close(tasks_read)
    os.close(results_write)
    return process, Connection(tasks_write, readable=False), Connection(results_read, writable=False)


def _stop(process: subprocess.Popen[bytes], tasks: Connection, results: Connection) -> None:
    with contextlib.suppress(BrokenPipeError, OSError):
        tasks.send(None)
    tasks.close()
    results.close()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def append_events(conn: Any, events: Sequence[Mapping[str, Any]], source: str = "api",
                  now: datetime | None = None) -> LoadCounts:
    """Append events from the API (or xAPI): the same rules and the same once-only loading as files.

    Events may carry UUID and datetime objects. Bad ones go to raw.quarantine (position = their
    1-based index in the batch) and are reported in `errors`, so the caller can answer with a 4xx
    that says what was wrong. Runs in the caller's transaction (as a savepoint) when it has one.
    """
    pg = _driver(conn)
    counts = LoadCounts()
    if not events:
        return counts
    normalised = [normalise_event(e) for e in events]
    with pg.transaction():
        # shared, as file loads take it: concurrent requests never wait on each other (an id that another
        # uncommitted transaction holds makes the COPY wait for it, then fall back to ON CONFLICT); only a
        # file load retrying alone after a deadlock excludes them. The lock lasts to the caller's commit.
        pg.execute("select pg_advisory_xact_lock_shared(%s)", [LOCK_KEY])
        validator = EventValidator(_known_ids_for(pg, normalised), source, now=now)
        sink = _Sink(pg, counts)
        rows: list[tuple[str, str, str, str]] = []
        ids: list[str] = []
        texts: list[str] = []
        for number, event in enumerate(normalised, start=1):
            try:
                event_id, text = validator(dict(event))
            except EventError as exc:
                _reject(counts, rows, source, number, f"event {number}: {exc}", exc.field, event)
                continue
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                _reject(counts, rows, source, number, f"event {number}: could not be checked ({exc})",
                        "unexpected", event)
                continue
            ids.append(event_id)
            texts.append(text)
            if len(ids) >= CHUNK_SIZE:
                sink.write(ids, "".join(texts))
                ids, texts = [], []
        sink.write(ids, "".join(texts))
        _write_quarantine(pg, rows)
    return counts


def append_minted_events(conn: Any, events: Sequence[Mapping[str, Any]], source: str = "api",
                         now: datetime | None = None, vouched: KnownIds | None = None) -> int:
    """Append events whose ids the caller minted just now (the API's writer): the same contract and the
    same COPY lines as `append_events`, in two statements instead of eleven.

    What is left out is what fresh ids cannot need: the probe for stored ids (a time-ordered id with 74
    random bits, minted in this transaction, cannot be stored yet; the primary key would still refuse a
    collision and fail the transaction), the shared advisory lock (it orders loaders that may write the
    *same* ids), and the savepoints (the caller's transaction is the unit). References are checked in one
    query. An event that breaks the contract is the caller's bug: `EventError` is raised and the caller
    rolls back, so nothing is quarantined and nothing half-stored. Returns the number of events written.

    `vouched`: ids the caller read from the database in this same transaction; when they cover every
    reference, the query is skipped too (the API's lifecycle units: one statement per request fewer).
    """
    if not events:
        return 0
    pg = _driver(conn)
    normalised = [normalise_event(e) for e in events]
    known = vouched if vouched is not None and vouched_for(normalised, vouched) else None
    if known is None:
        row = pg.execute(REFERENCES_SQL, references(normalised)).fetchone()
        assert row is not None
        known = KnownIds(frozenset(row[0]), frozenset(row[1]), frozenset(row[2]))
    texts = minted_lines(normalised, source, now, known)
    with pg.cursor() as cur, cur.copy(_COPY_SQL) as copy:
        copy.write("".join(texts))
    return len(texts)


# the ids that a batch of minted events names and the database holds (one statement)
REFERENCES_SQL = ("select array(select id::text from app.users where id = any(%s::uuid[])), "
                  "array(select id::text from app.missions where id = any(%s::uuid[])), "
                  "array(select region_code from raw.regions where region_code = any(%s::text[]))")


def references(normalised: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """REFERENCES_SQL's parameters: the user, mission and region ids the events name."""
    regions = {str(e["region_code"]) for e in normalised if e.get("region_code") is not None}
    return [list(event_ids(normalised, "user_id")), list(event_ids(normalised, "mission_id")), sorted(regions)]


def vouched_for(normalised: Sequence[Mapping[str, Any]], vouched: KnownIds) -> bool:
    """Whether every id the events name is among `vouched` (read by the caller in its transaction)."""
    users, missions, regions = references(normalised)
    return (vouched.users.issuperset(users) and vouched.missions.issuperset(missions)
            and vouched.regions.issuperset(regions))


def minted_lines(normalised: Sequence[dict[str, Any]], source: str, now: datetime | None,
                 known: KnownIds) -> list[str]:
    """The COPY lines of normalised minted events, or EventError naming the first that breaks the contract."""
    validator = EventValidator(known, source, now=now)
    texts = []
    for number, event in enumerate(normalised, start=1):
        try:
            texts.append(validator(event)[1])
        except EventError as exc:
            raise EventError(exc.field, f"event {number} ({event.get('event_type')}): {exc}") from exc
    return texts


_CASTS = ("uuid", "uuid", "timestamptz", "text", "uuid", "int", "text", "float8", "float8", "jsonb", "text")


def insert_literal_sql(rows: list[list[str | None]], quote: Callable[[Any], str]) -> str:
    """An INSERT of events whose values are COPY lines' fields (`copy_fields`) written in as literals (`quote`:
    a value → its SQL literal): the rows COPY would store, for a transaction sent as one query, where COPY
    cannot run."""
    values = ", ".join("(" + ", ".join(f"{quote(value)}::{cast}" for value, cast in zip(row, _CASTS, strict=True))
                       + ")" for row in rows)
    return f"insert into raw.activity_events ({', '.join(COPY_COLUMNS)}) values {values}"


def _driver(conn: Any) -> psycopg.Connection:
    """A psycopg 3 connection from either psycopg or SQLAlchemy (the API's), in a transaction if theirs is.

    With SQLAlchemy's connection the transaction belongs to SQLAlchemy: we make sure it has begun,
    so that our `transaction()` blocks become savepoints and the caller's commit decides.
    """
    if isinstance(conn, psycopg.Connection):
        return conn
    driver = conn.connection.driver_connection  # sqlalchemy.Connection → DBAPI → psycopg
    if not isinstance(driver, psycopg.Connection):
        raise TypeError(f"need a psycopg 3 or SQLAlchemy+psycopg connection, got {type(conn).__name__}")
    if driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE and not driver.autocommit:
        driver.execute("select 1")
    return driver


# ---------------------------------------------------------------------------------- what the table promises
def _scalar(pg: psycopg.Connection, sql: str) -> Any:
    row = pg.execute(sql).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    metadata: dict[str, Any]
    description: str


def check_quarantine_explained(conn: Any) -> CheckOutcome:
    """Every quarantined activity line has a position and a reason, and each file's quarantine rows
    are exactly the count its raw.ingested_files row reports (none lost, none unaccounted for)."""
    pg = _driver(conn)
    unexplained = _scalar(
        pg, "select count(*) from raw.quarantine q where (q.source like 'file:%' or q.source = 'api' "
            "or q.source like 'xapi:%') and (coalesce(q.reason, '') = '' or coalesce(q.position, '') = '')")
    mismatched = pg.execute("""
        with reported as (select file_name, sum(quarantined_count) as reported
                          from raw.ingested_files group by file_name),
             stored as (select substr(source, 6) as file_name, count(*) as stored
                        from raw.quarantine where source like 'file:%' group by 1)
        select coalesce(r.file_name, s.file_name), coalesce(r.reported, 0), coalesce(s.stored, 0)
        from reported r full join stored s using (file_name)
        where coalesce(r.reported, 0) <> coalesce(s.stored, 0)
        order by 1 limit 20""").fetchall()
    total = _scalar(pg, "select coalesce(sum(quarantined_count), 0) from raw.ingested_files")
    return CheckOutcome(
        passed=unexplained == 0 and not mismatched,
        metadata={"quarantined_lines": int(total), "without_reason_or_position": unexplained,
                  "files_with_mismatched_counts": [f"{n}: reported {r}, stored {s}" for n, r, s in mismatched]},
        description="every quarantined activity line has its file, line number and reason")


def check_ingested_files_consistent(conn: Any) -> CheckOutcome:
    """Each file's lines add up (loaded + duplicates + quarantined), and the rows from each file in
    raw.activity_events are as many as its raw.ingested_files row says were loaded."""
    pg = _driver(conn)
    unbalanced = pg.execute(
        "select file_name from raw.ingested_files "
        "where line_count <> loaded_count + duplicate_count + quarantined_count order by 1 limit 20").fetchall()
    mismatched = pg.execute("""
        with reported as (select file_name, sum(loaded_count) as reported from raw.ingested_files group by 1),
             stored as (select substr(source, 6) as file_name, count(*) as stored
                        from raw.activity_events where source like 'file:%' group by 1)
        select coalesce(r.file_name, s.file_name), coalesce(r.reported, 0), coalesce(s.stored, 0)
        from reported r full join stored s using (file_name)
        where coalesce(r.reported, 0) <> coalesce(s.stored, 0)
        order by 1 limit 20""").fetchall()
    files, loaded = pg.execute(
        "select count(*), coalesce(sum(loaded_count), 0) from raw.ingested_files").fetchone()  # type: ignore[misc]
    return CheckOutcome(
        passed=not unbalanced and not mismatched,
        metadata={"files": int(files), "events_loaded_from_files": int(loaded),
                  "files_whose_lines_do_not_add_up": [r[0] for r in unbalanced],
                  "files_with_mismatched_rows": [f"{n}: reported {r}, stored {s}" for n, r, s in mismatched]},
        description="raw.ingested_files agrees with the rows in raw.activity_events")
