"""Every state change of the mission loop and its activity events in one transaction.

A route hands a *unit* (a function of a `Tx`) to `run_write`. The unit reads, checks and writes app rows
on `tx.conn` and adds events with `tx.event(...)`; `run_write` appends the events to
raw.activity_events through the foundation's loader (core.activity.append_minted_events: the same
contract, validation and COPY lines as the batch files) and commits. So an event is never lost and never
written without its state change, and a unit that raises leaves nothing behind.

A unit may also *refuse* (`tx.refuse(error)`): what it wrote (e.g. a refused check-in with its reason)
is committed, then the error is answered. Effects that need the commit first (Redis boards, top-10
notifications, badges) go to `tx.after_commit` and run on one background thread per process.

Events are appended last, just before the commit, in one COPY: their ids are minted here (time-ordered,
74 random bits), so the loader needs neither its probe for stored ids nor its advisory lock.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, overload

from sqlalchemy import Connection

from api.errors import ApiError
from core.activity import append_minted_events
from core.demo.ids import uuid7_int
from core.events import EventError, KnownIds

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def new_event_id(at: datetime) -> uuid.UUID:
    """A time-ordered (version 7) id: the loader's key index stays appending at its right edge."""
    return uuid.UUID(int=uuid7_int(int(at.timestamp() * 1000), secrets.randbits(74)))


@dataclass
class Tx:
    """What a unit of work sees: the connection (in a transaction), the instant, and its outputs."""

    conn: Connection
    now: datetime
    source: str = "api"
    events: list[dict[str, Any]] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    refusal: ApiError | None = None
    vouched: tuple[set[str], set[str], set[str]] = field(default_factory=lambda: (set(), set(), set()))

    def vouch(self, user_id: uuid.UUID, mission_id: uuid.UUID | None = None, region_code: str | None = None) -> None:
        """Ids this unit read from the database in its transaction (the signed-in user, the mission it
        loaded, the mission's region when it joined): its events' references to them need no re-check."""
        users, missions, regions = self.vouched
        users.add(str(user_id))
        if mission_id is not None:
            missions.add(str(mission_id))
        if region_code is not None:
            regions.add(region_code)

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


class EventsNotStored(RuntimeError):
    """The loader did not store every event of a unit: a bug in how the unit built them."""


def _append(tx: Tx) -> None:
    try:
        append_minted_events(tx.conn, tx.events, source=tx.source, now=tx.now,
                             vouched=KnownIds(*(frozenset(ids) for ids in tx.vouched)))
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

    `then(result)` reads the answer (e.g. the attempt with its steps) in the same transaction, just
    before the commit, so the answer is what was committed. The transaction is the request's own (its
    reads so far, e.g. the signed-in user, belong to it): one BEGIN and one COMMIT per request.
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
    for effect in tx.after_commit:
        _effects.put(effect)
        _ensure_effect_thread()
    if tx.refusal is not None:
        raise tx.refusal
    return result


# After-commit effects run one at a time on one thread per process: they never delay a response, and never
# take more than one connection from the request pool, however many completions arrive at once.
_effects: queue.Queue[Callable[[], None]] = queue.Queue()
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
        effect = _effects.get()
        try:
            _run_effect(effect)
        finally:
            _effects.task_done()


def effects_idle(timeout_s: float = 30.0) -> bool:
    """Wait until every after-commit effect handed over so far has run (tests and benchmarks)."""
    deadline = time.monotonic() + timeout_s
    while _effects.unfinished_tasks:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _run_effect(effect: Callable[[], None]) -> None:
    """After-commit effects are best effort: the commit stands, a rebuild or a sensor repairs the rest."""
    started = time.perf_counter()
    try:
        effect()
    except Exception:
        log.exception("after-commit effect %s failed", getattr(effect, "__name__", effect))
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > 1.0:
            log.warning("after-commit effect %s took %.1f s", getattr(effect, "__name__", effect), elapsed)
