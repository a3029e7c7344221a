"""Every state change of the mission loop and its activity events in one transaction.

A lifecycle step is a *unit*: a generator (api/attempts/service.py, presence.py) that yields its reads
(a tuple of `core.db.Statement`s, answered with their rows), checks them, adds writes to its `Plan`
(`plan.write`), events (`plan.event`) and after-commit effects, then yields `FLUSH` to have the writes
run (answered with their results) and returns its answer. Nothing in a unit does I/O itself, so two
drivers run the same units:
- `Tx.run` runs a unit on a SQLAlchemy connection, statement by statement, inside a transaction that
  `run_write` commits (photo uploads, hours, the xAPI endpoint, which runs several units in one
  transaction, and the host's routes);
- `run_batched` (the app's lifecycle routes) runs the units of concurrent requests together (group
  commit): BEGIN, each signed-in user's row and each unit's reads as one query on an async psycopg
  connection, then all their writes, events and one COMMIT as a second; two round trips for the group
  whatever its units do, and no thread hop.

A unit may also *refuse* (`plan.refuse(error)`): what it wrote (e.g. a refused check-in with its reason)
is committed, then the error is answered. Effects that need the commit first (Redis boards, badges) go to
`plan.after_commit` and run on one background thread per process.

Events are written last, just before the commit: their ids are minted here (time-ordered, 74 random
bits), so the loader needs neither its probe for stored ids nor its advisory lock, and the references
that the unit read in its own transaction are not looked up again (`Plan.vouch`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import re
import secrets
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, overload

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import tuple_row
from sqlalchemy import Connection

from api.errors import ApiError
from core.activity import (
    REFERENCES_SQL,
    append_minted_events,
    insert_literal_sql,
    minted_lines,
    references,
    vouched_for,
)
from core.db import Statement, sql_literal
from core.demo.ids import uuid7_int
from core.events import EventError, KnownIds, copy_fields, normalise_event

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class _Flush:
    def __repr__(self) -> str:
        return "FLUSH"


FLUSH: Final = _Flush()  # what a unit yields to have its writes run: it is sent their results
Unit = Generator["tuple[Statement, ...] | _Flush", list[Any], T]


def new_event_id(at: datetime) -> uuid.UUID:
    """A time-ordered (version 7) id: the loader's key index stays appending at its right edge."""
    return uuid.UUID(int=uuid7_int(int(at.timestamp() * 1000), secrets.randbits(74)))


@dataclass(kw_only=True)
class Plan:
    """What a unit of work builds: its writes, events and effects, at one instant."""

    now: datetime
    source: str = "api"
    writes: list[Statement] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    refusal: ApiError | None = None
    vouched: tuple[set[str], set[str], set[str]] = field(default_factory=lambda: (set(), set(), set()))
    flushed: int = 0  # writes already run (a unit's FLUSH runs the ones after)

    def write(self, statement: Statement) -> int:
        """Add a write; its result is at this index of the list the unit's next FLUSH is sent."""
        self.writes.append(statement)
        return len(self.writes) - 1 - self.flushed

    def vouch(self, user_id: uuid.UUID, mission_id: uuid.UUID | None = None, region_code: str | None = None) -> None:
        """Ids this unit read from the database in its transaction (the signed-in user, the mission it
        loaded, the mission's region when it joined): its events' references to them need no re-check."""
        users, missions, regions = self.vouched
        users.add(str(user_id))
        if mission_id is not None:
            missions.add(str(mission_id))
        if region_code is not None:
            regions.add(region_code)

    def known(self) -> KnownIds:
        return KnownIds(*(frozenset(ids) for ids in self.vouched))

    def event(self, user_id: uuid.UUID, event_type: str, *, mission_id: uuid.UUID | None = None,
              step_no: int | None = None, region_code: str | None = None, lat: float | None = None,
              lon: float | None = None, payload: dict[str, Any] | None = None) -> uuid.UUID:
        """Add an activity event (the contract of core/events.py); returns its id.

        Events of one unit get instants one microsecond apart, in the order they were added, so that
        ordering by occurred_at (as dbt does) replays them as they happened.
        """
        at = self.now + timedelta(microseconds=len(self.events))
        event_id = new_event_id(at)
        event: dict[str, Any] = {"event_id": event_id, "user_id": user_id, "occurred_at": at,
                                 "event_type": event_type}
        for name, value in (("mission_id", mission_id), ("step_no", step_no), ("region_code", region_code),
                            ("lat", lat), ("lon", lon), ("payload", payload)):
            if value is not None:
                event[name] = value
        self.events.append(event)
        return event_id

    def refuse(self, error: ApiError) -> None:
        """Commit what was written, then answer `error` (a refusal that is itself a record)."""
        self.refusal = error


@dataclass(kw_only=True)
class Tx(Plan):
    """A plan whose statements run at once on `conn` (SQLAlchemy, in a transaction `run_write` commits)."""

    conn: Connection

    def run(self, unit: Unit[T]) -> T:
        """Drive a unit here, a statement at a time; its events are appended with the others at the commit."""
        answer: Any = None
        try:
            while True:
                step = unit.send(answer)
                if isinstance(step, _Flush):
                    pending = self.writes[self.flushed:]
                    self.flushed = len(self.writes)
                    answer = [statement.run(self.conn) for statement in pending]
                else:
                    answer = [statement.run(self.conn) for statement in step]
        except StopIteration as stop:
            result: T = stop.value
            return result
        except BaseException:
            del self.writes[self.flushed:]  # a unit that raised never runs its planned writes
            raise


class EventsNotStored(RuntimeError):
    """The loader did not store every event of a unit: a bug in how the unit built them."""


def _append(tx: Tx) -> None:
    try:
        append_minted_events(tx.conn, tx.events, source=tx.source, now=tx.now, vouched=tx.known())
    except EventError as exc:
        raise EventsNotStored(f"{len(tx.events)} events built, none stored: {exc}") from exc


@overload
def run_write(conn: Connection, unit: Callable[[Tx], T], source: str = "api") -> T: ...


@overload
def run_write(conn: Connection, unit: Callable[[Tx], T], source: str = "api", *, then: Callable[[T], R]) -> R: ...


def run_write(conn: Connection, unit: Callable[[Tx], T], source: str = "api", *,
              then: Callable[[T], R] | None = None) -> T | R:
    """Run `unit` and append its events in one transaction on `conn`, commit, then hand the after-commit
    effects to this process's effect thread. Raises what the unit raised (nothing kept) or the unit's
    refusal (what it wrote kept).

    `then(result)` reads the answer in the same transaction, just before the commit, so the answer is
    what was committed. The transaction is the request's own (its reads so far, e.g. the signed-in user,
    belong to it): one BEGIN and one COMMIT per request.
    """
    tx = Tx(conn=conn, now=datetime.now(UTC), source=source)
    try:
        result: T | R = unit(tx)
        _append(tx)
        if then is not None and tx.refusal is None:
            result = then(result)  # type: ignore[arg-type]
        conn.commit()
    except Exception:
        if conn.in_transaction():
            conn.rollback()
        raise
    _hand_over(tx.after_commit)
    if tx.refusal is not None:
        raise tx.refusal
    return result


# ---------------------------------------------------------------------------------- the batched driver
@dataclass(frozen=True)
class Caller:
    """The signed-in caller of a batched route: the token's user id, and how to check their row (read in
    the unit's first round trip) before anything the unit read is used."""

    user_id: uuid.UUID
    check: Callable[[Any], Any]  # the user's row (or None) → the UserRecord, or an ApiError raised
    pool: Any = None  # the worker's async connection pool, where the route's units run


RETRIES = 2  # a unit whose write broke a unique index that its reads saw free runs again (once)
GROUP_MAX = 64  # units of concurrent requests run in one transaction, at most
# Groups of one event loop in flight at once. One: while it is in the database the loop parses the next
# requests, which then go together. Measured with benchmarks/activity_api.py (2 workers, 64 clients): one
# lane 1,386–1,432 events/s, two 1,281, four 1,169; the events' CPU falls as the groups grow.
GROUP_LANES = 1


async def run_batched(pool: Any, caller: Caller, unit: Callable[[Plan], Unit[T]], user_sql: str,
                      source: str = "api", *, key: object = None) -> T:
    """Run a unit with the units of other requests that arrive meanwhile: group commit.

    Requests queue per pool; GROUP_LANES groups run at once, each on its own pooled async psycopg
    connection, in two round trips whatever the number of units in it (see `_run_group`): every unit's
    reads with its caller's row, then every unit's writes, all their events as one INSERT, and one COMMIT.
    A quiet server runs a request at once (a group of one); a busy one takes what queued while its lanes
    were busy, up to GROUP_MAX, so the commits, round trips and pooled connections are shared by many
    events instead of paid per event.

    Units of one group must not depend on one another (their reads are sent before any of their writes):
    a group holds one unit per caller and per `key` (e.g. the mission an enrolment counts places of); a
    unit that collides waits for the next group. Its units are ordered by their lock (key, else caller),
    so that two groups take their row locks in the same order. When a group fails in the database (a
    unique index broken by a request that got there between our reads and our writes, a deadlock, …),
    it is rolled back and each of its units runs again alone, on what is now stored; a unit that fails
    alone is retried once on a unique violation, else its error is raised to its request.
    """
    loop = asyncio.get_running_loop()
    group = _queues.get(pool)
    if group is None:
        group = _queues[pool] = _Queue(pool)
    job = _Job(caller, unit, user_sql, source, (caller.user_id if key is None else key, caller.user_id),
               loop.create_future())
    group.waiting.append(job)
    if group.lanes < GROUP_LANES:
        group.lanes += 1
        task = loop.create_task(group.lane())
        _lane_tasks.add(task)
        task.add_done_callback(_lane_tasks.discard)
    result: T = await job.future
    return result


_IDLE = psycopg.pq.TransactionStatus.IDLE
_lane_tasks: set[asyncio.Task[None]] = set()


@dataclass(eq=False)
class _Job:
    """One request's unit on its way through a group."""

    caller: Caller
    make: Callable[[Plan], Unit[Any]]
    user_sql: str
    source: str
    keys: tuple[object, ...]  # the first is the one its row locks are ordered by
    future: asyncio.Future[Any]
    plan: Plan = field(init=False)
    unit: Unit[Any] = field(init=False)
    reads: list[Statement] = field(init=False)  # to send in the group's next round trip
    state: str = field(init=False)  # reading | flush | committed | returned | failed
    result: Any = field(init=False)
    rows: list[list[str | None]] = field(init=False)  # its events, as INSERT rows

    def start(self) -> None:
        """A fresh plan and unit (again after a failed group), driven to its first reads."""
        self.plan = Plan(now=datetime.now(UTC), source=self.source)
        self.unit = self.make(self.plan)
        self.state, self.result, self.rows = "reading", None, []
        self.reads = [Statement(self.user_sql, {"id": self.caller.user_id}, "one")]
        try:
            first = self.unit.send(None)  # type: ignore[arg-type]
        except BaseException as exc:
            self.fail(exc)
            return
        if isinstance(first, _Flush):
            self.fail(TypeError("a unit reads before it writes: its first yield is its reads"))
            return
        self.reads += first

    def answered(self, answer: list[Any], first: bool) -> None:
        """Its reads' rows (the caller's row first, the first time): the unit goes on."""
        if first:
            user, *answer = answer
            try:
                self.caller.check(user)
            except BaseException as exc:
                self.fail(exc)
                return
            self.plan.vouch(self.caller.user_id)
        self.advance(answer)

    def advance(self, answer: list[Any]) -> None:
        committed, self.reads = self.state == "committed", []
        try:
            step = self.unit.send(answer)
        except StopIteration as stop:
            self.state, self.result = "returned", stop.value
            return
        except BaseException as exc:
            self.fail(exc)
            return
        if committed:
            self.fail(TypeError("a unit run in a group flushes once, at its end"))
        elif isinstance(step, _Flush):
            self.state = "flush"
        else:
            self.reads = list(step)

    def fail(self, exc: BaseException) -> None:
        """What the unit planned is never written; its request gets `exc`."""
        self.state, self.result, self.reads = "failed", exc, []

    def writes(self) -> list[Statement]:
        return self.plan.writes[self.plan.flushed:]

    def settle(self) -> None:
        """After the commit (or the unit's failure): hand over its effects and answer its request."""
        if self.future.done():  # the request went away (cancelled); what committed stands
            if self.state != "failed":
                _hand_over(self.plan.after_commit)
            return
        if self.state == "failed":
            self.future.set_exception(self.result)
            return
        _hand_over(self.plan.after_commit)
        if self.plan.refusal is not None:
            self.future.set_exception(self.plan.refusal)
        else:
            self.future.set_result(self.result)


class _Queue:
    """The units waiting for a group, per pool (so per event loop), and the lanes running groups."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.waiting: deque[_Job] = deque()
        self.lanes = 0

    async def lane(self) -> None:
        try:
            while self.waiting:
                await self.run(self.take())
        finally:
            self.lanes -= 1

    def take(self) -> list[_Job]:
        taken: list[_Job] = []
        keys: set[object] = set()
        later: list[_Job] = []
        while self.waiting and len(taken) < GROUP_MAX:
            job = self.waiting.popleft()
            if job.future.done():  # cancelled before it ran: nothing to do
                continue
            if keys.intersection(job.keys):
                later.append(job)
                continue
            keys.update(job.keys)
            taken.append(job)
        self.waiting.extendleft(reversed(later))
        taken.sort(key=lambda job: str(job.keys[0]))
        return taken

    async def run(self, jobs: list[_Job]) -> None:
        """Run a group, and answer each of its requests whatever happens (a request never waits forever)."""
        if not jobs:
            return
        for attempt in range(1, RETRIES + 1):
            try:
                async with self.pool.connection() as conn:  # no connection (PoolTimeout) is a psycopg.Error too
                    try:
                        await _run_group(conn, jobs)
                    except BaseException:
                        await _rollback(conn)
                        raise
            except psycopg.Error as exc:
                if len(jobs) > 1:
                    log.info("a group of %d units failed (%s); each runs again alone", len(jobs),
                             type(exc).__name__)
                    break
                if isinstance(exc, pg_errors.UniqueViolation) and attempt < RETRIES:
                    continue
                jobs[0].fail(exc)
            except BaseException as exc:
                for job in jobs:
                    job.fail(exc)
                    job.settle()
                if isinstance(exc, Exception):
                    log.exception("a group of %d units failed", len(jobs))
                    return
                raise
            for job in jobs:
                job.settle()
            return
        await asyncio.gather(*(self.run([job]) for job in jobs))


_queues: weakref.WeakKeyDictionary[Any, _Queue] = weakref.WeakKeyDictionary()


async def _rollback(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.info.transaction_status != _IDLE and not conn.closed:
        await conn.execute("rollback")


async def _run_group(conn: psycopg.AsyncConnection[Any], jobs: list[_Job]) -> None:
    """Run the units of `jobs` in one transaction on `conn`; afterwards each job has its result or its error.

    1. BEGIN, then for each unit its caller's row and its reads, as one query; each caller is checked first;
       a unit that yields reads again gets them in a further round trip (shared with the others that do);
    2. every unit's writes, every unit's events (an INSERT of the rows COPY would store) and COMMIT, as one
       query; each unit is sent its writes' results and returns its answer.
    Statements are bound on the client (psycopg's ClientCursor: values quoted as literals) and sent together
    in the simple query protocol, each a prepared statement of the connection (see `_send`). Measured on this
    machine against psycopg's pipeline mode for one unit's ten statements: 0.25 ms of client CPU instead of
    0.52 ms, PostgreSQL's share 0.02 ms more.
    """
    cursor = psycopg.AsyncClientCursor(conn, row_factory=tuple_row)
    for job in jobs:
        job.start()
    first, begun = True, False
    while reading := [job for job in jobs if job.reads]:
        answers = await _send(cursor, [statement for job in reading for statement in job.reads], begin=not begun)
        begun = True
        at = 0
        for job in reading:
            count = len(job.reads)
            job.answered(answers[at:at + count], first)
            at += count
        first = False
    writers = [job for job in jobs if job.state in ("flush", "returned") and (job.writes() or job.plan.events)]
    for job in writers:
        try:
            job.rows = await _event_rows(cursor, job.plan)
        except EventsNotStored as exc:
            job.fail(exc)
    writers = [job for job in writers if job.state != "failed"]
    if not writers:
        if begun:
            await cursor.execute("commit")
        return
    rows = [row for job in writers for row in job.rows]
    quote = functools.partial(_mogrify_one, cursor)
    tail = [insert_literal_sql(rows, lambda value: sql_literal(value, quote))] if rows else []
    results = await _send(cursor, [statement for job in writers for statement in job.writes()], begin=not begun,
                          tail=[*tail, "commit"])
    at = 0
    for job in writers:
        count = len(job.writes())
        job.plan.flushed, job.plan.events = len(job.plan.writes), []
        if job.state == "flush":
            job.state = "committed"
            job.advance(results[at:at + count])
        at += count


@dataclass
class _Prepared:
    """The statements a connection has prepared (SQL text → name); renamed afresh after a failed query."""

    generation: int = 0
    names: dict[str, str] = field(default_factory=dict)


_prepared: weakref.WeakKeyDictionary[Any, _Prepared] = weakref.WeakKeyDictionary()
_PARAM = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[tuple[str, ...], str]:
    """`%(name)s` parameters → `$1…$n` (in order of first use) for PREPARE, and the names in that order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    positional = _PARAM.sub(number, sql).replace("%%", "%")
    return tuple(order), positional


async def _send(cursor: psycopg.AsyncClientCursor[Any], statements: list[Statement], *, begin: bool = False,
                tail: Sequence[str] = ()) -> list[Any]:
    """One round trip: the statements as one query (with BEGIN before, `tail`, already bound, after); what
    each statement fetches. Each runs as a prepared statement of the connection, prepared in the same query
    the first time: planning ANSWER_SQL and its kind at every request cost PostgreSQL more (0.6 ms an
    event) than binding on the client saved."""
    state = _prepared.setdefault(cursor.connection, _Prepared())
    quote = functools.partial(_mogrify_one, cursor)
    parts: list[str] = ["begin"] if begin else []
    fetched: list[int | None] = [None] * len(parts)  # per part: which statement's result it is, if any
    new: dict[str, str] = {}
    for index, statement in enumerate(statements):
        order, sql = _positional(statement.sql)
        name = state.names.get(statement.sql) or new.get(statement.sql)
        if name is None:
            name = new[statement.sql] = f"hu{state.generation}_{len(state.names) + len(new)}"
            parts.append(f"prepare {name} as {sql}")
            fetched.append(None)
        if order:
            params = statement.params
            parts.append(f"execute {name}(" + ", ".join([sql_literal(params[key], quote) for key in order]) + ")")
        else:
            parts.append(f"execute {name}")
        fetched.append(index)
    parts += tail
    fetched += [None] * len(tail)
    try:
        await cursor.execute(";\n".join(parts))
    except BaseException:
        if new:  # which of them exist now is unknown: the connection's statements get new names
            state.generation += 1
            state.names.clear()
        raise
    state.names.update(new)
    out: list[Any] = [None] * len(statements)
    for number, which in enumerate(fetched):
        if number:
            cursor.nextset()
        if which is None:
            continue
        statement = statements[which]
        if statement.fetch == "none":
            continue
        names = _columns.get(statement.sql)
        if names is None:
            names = _columns[statement.sql] = tuple(column.name for column in cursor.description or ())
        if statement.fetch == "one":
            row = await cursor.fetchone()
            out[which] = None if row is None else dict(zip(names, row, strict=True))
        else:
            out[which] = [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
    return out


_columns: dict[str, tuple[str, ...]] = {}  # a statement's SQL → the names of its result's columns (rows as dicts)


def _mogrify_one(cursor: psycopg.AsyncClientCursor[Any], value: Any) -> str:
    return cursor.mogrify("%s", [value])


async def _event_rows(cursor: psycopg.AsyncClientCursor[Any], plan: Plan) -> list[list[str | None]]:
    """The plan's events as the rows COPY would store: the same contract (core/events.py) as every loader."""
    if not plan.events:
        return []
    normalised = [normalise_event(e) for e in plan.events]
    known = plan.known()
    if not vouched_for(normalised, known):
        await cursor.execute(REFERENCES_SQL, references(normalised))  # rows as tuples: three columns "array"
        row = await cursor.fetchone()
        assert row is not None
        known = KnownIds(frozenset(row[0]), frozenset(row[1]), frozenset(row[2]))
    try:
        return [copy_fields(line) for line in minted_lines(normalised, plan.source, plan.now, known)]
    except EventError as exc:
        raise EventsNotStored(f"{len(plan.events)} events built, none stored: {exc}") from exc


# ---------------------------------------------------------------------------------- after the commit
def _hand_over(effects: list[Callable[[], None]]) -> None:
    for effect in effects:
        _effects.put(effect)
        _ensure_effect_thread()


# After-commit effects run on one thread per process: they never delay a response, and never take more than
# one connection from the request pool, however many completions arrive at once. What queued up while the
# thread worked is taken together: `Batched` effects of one kind run as one call (one transaction for the
# boards of fifty completions instead of fifty), plain ones one by one, in the order they came.
Effect = Callable[[], None]


@dataclass(frozen=True)
class Batched:
    """An effect on one item that can run together with others of its kind: `run_all(items)`."""

    run_all: Callable[[list[Any]], None]
    item: Any

    def __call__(self) -> None:
        self.run_all([self.item])


BATCH_MAX = 200  # effects taken at once: a bound on one transaction's work
_effects: queue.Queue[Effect] = queue.Queue()
_effect_thread: threading.Thread | None = None
_effect_lock = threading.Lock()


def _ensure_effect_thread() -> None:
    global _effect_thread
    with _effect_lock:
        if _effect_thread is None or not _effect_thread.is_alive():
            _effect_thread = threading.Thread(target=_effect_loop, name="after-commit", daemon=True)
            _effect_thread.start()


def _effect_loop() -> None:
    while True:
        taken = [_effects.get()]
        while len(taken) < BATCH_MAX:
            try:
                taken.append(_effects.get_nowait())
            except queue.Empty:
                break
        try:
            for effect in coalesce(taken):
                _run_effect(effect)
        finally:
            for _ in taken:
                _effects.task_done()


def coalesce(effects: list[Effect]) -> list[Effect]:
    """Batched effects of one kind → one effect over their items (at the place of the kind's first), in order."""
    out: list[Effect] = []
    groups: dict[Callable[[list[Any]], None], list[Any]] = {}
    for effect in effects:
        if isinstance(effect, Batched):
            items = groups.get(effect.run_all)
            if items is None:
                items = groups[effect.run_all] = []
                run_all = effect.run_all
                out.append(functools.partial(run_all, items))
            items.append(effect.item)
        else:
            out.append(effect)
    return out


def effects_idle(timeout_s: float = 30.0) -> bool:
    """Wait until every after-commit effect handed over so far has run (tests and benchmarks)."""
    deadline = time.monotonic() + timeout_s
    while _effects.unfinished_tasks:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _run_effect(effect: Effect) -> None:
    """After-commit effects are best effort: the commit stands, a rebuild or a sensor repairs the rest."""
    name = getattr(effect, "__name__", None) or getattr(getattr(effect, "func", None), "__name__", repr(effect))
    started = time.perf_counter()
    try:
        effect()
    except Exception:
        log.exception("after-commit effect %s failed", name)
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > 1.0:
            log.warning("after-commit effect %s took %.1f s", name, elapsed)
