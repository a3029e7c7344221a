"""Which engine answers rank questions, counting completions on the boards, and top-10 notifications.

Redis answers when REDIS_URL is set, reachable and its boards are built; otherwise PostgreSQL answers
(the snapshot plus the completions since it) and /health says why it is degraded. A completion counted
while Redis was unreachable marks Redis stale in this process: PostgreSQL answers until Redis has been
rebuilt (by this process, in a background thread, as soon as Redis answers again, or by the pipeline),
so no answer ever comes from boards that missed a completion.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Connection, text

from core import ranking
from core.db import get_engine
from core.notify import notify
from core.settings import get_settings

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # after a Redis error, PostgreSQL answers for this long before Redis is tried again
REBUILD_LOCK_SECONDS = 600
PERIOD_LABELS = {"all": "전체 기간", "week": "이번 주", "month": "이번 달"}


@dataclass
class RedisState:
    """This process's view of Redis: usable, failing (since when), or stale until rebuilt."""

    url: str
    client: Any = None
    boards: ranking.RedisBoards | None = None
    failed_at: float | None = None
    error: str | None = None
    stale_since: datetime | None = None
    rebuilding: bool = False
    ready: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, exc: Exception, lost_write: bool = False) -> None:
        log.warning("Redis error (%s): ranks from PostgreSQL for now", exc)
        self.failed_at = time.monotonic()
        self.error = type(exc).__name__
        self.ready = False
        if lost_write and self.stale_since is None:
            self.stale_since = datetime.now(UTC)


@lru_cache(maxsize=4)
def _state_for(url: str) -> RedisState:
    state = RedisState(url=url)
    state.client = ranking.redis_client(url)
    state.boards = ranking.RedisBoards(state.client)
    return state


def redis_state() -> RedisState | None:
    url = get_settings().redis_url
    return _state_for(url) if url else None


def _redis_error() -> tuple[type[Exception], ...]:
    import redis

    return (redis.RedisError, OSError)


def redis_boards() -> ranking.RedisBoards | None:
    """Redis boards when they can be trusted now; None means: ask PostgreSQL."""
    state = redis_state()
    if state is None or state.boards is None:
        return None
    if state.failed_at is not None and time.monotonic() - state.failed_at < RETRY_SECONDS:
        return None
    if state.ready:
        return state.boards
    try:
        built_at = state.boards.built_at()
    except _redis_error() as exc:
        state.fail(exc)
        return None
    if built_at is not None and state.stale_since is not None and built_at > state.stale_since:
        state.stale_since = None  # rebuilt (here or by the pipeline) after the lost write
    if built_at is None or state.stale_since is not None:
        _start_rebuild(state)
        return None
    state.failed_at, state.error, state.ready = None, None, True
    return state.boards


def _start_rebuild(state: RedisState) -> None:
    with state.lock:
        if state.rebuilding:
            return
        state.rebuilding = True
    threading.Thread(target=_rebuild, args=(state,), name="ranking-rebuild", daemon=True).start()


def _rebuild(state: RedisState) -> None:
    token = uuid.uuid4().hex
    try:
        if not state.client.set(ranking.LOCK_KEY, token, nx=True, ex=REBUILD_LOCK_SECONDS):
            return  # another worker rebuilds; its built_at clears our stale mark
        try:
            with get_engine().connect() as conn:
                result = ranking.rebuild_redis(state.client, conn)
            log.info("Redis boards rebuilt: %s", result)
        finally:
            if state.client.get(ranking.LOCK_KEY) == token.encode():
                state.client.delete(ranking.LOCK_KEY)
    except Exception as exc:  # Redis or the database failing mid-rebuild: the next request tries again
        state.fail(exc)
    finally:
        state.rebuilding = False


def wait_until_ready(timeout_s: float = 30.0) -> bool:
    """For tests, benchmarks and start-up: block until Redis answers from built boards."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if redis_boards() is not None:
            return True
        time.sleep(0.05)
    return False


def boards(conn: Connection) -> ranking.RedisBoards | ranking.PgBoards:
    return redis_boards() or ranking.PgBoards(conn)


def with_fallback(conn: Connection, ask: Any) -> tuple[Any, Literal["redis", "postgresql"]]:
    """Ask Redis, or PostgreSQL if Redis is not usable or fails mid-question; (answer, engine)."""
    redis_side = redis_boards()
    if redis_side is not None:
        try:
            return ask(redis_side), "redis"
        except _redis_error() as exc:
            state = redis_state()
            if state is not None:
                state.fail(exc)
    return ask(ranking.PgBoards(conn)), "postgresql"


# ---------------------------------------------------------------------------------- completions
def count_completion(completion: ranking.Completion) -> list[ranking.RankChange]:
    """Count a completion on its nine boards and notify each board's top-10 entry. After the commit."""
    return count_completions([completion])[0]


def count_completions(completions: Sequence[ranking.Completion]) -> list[list[ranking.RankChange]]:
    """`count_completion` for several completions, in their order, in one transaction (the after-commit
    thread passes every completion that queued up while it worked)."""
    applied = [_redis_apply(completion) for completion in completions]
    out = []
    with get_engine().begin() as conn:
        asked = _pg_changes(conn, [c for c, changes in zip(completions, applied, strict=True) if changes is None])
        for completion, changes in zip(completions, applied, strict=True):
            if changes is None:
                changes = asked[id(completion)]
            _notify_top(conn, completion, changes)
            out.append(changes)
    return out


def _redis_apply(completion: ranking.Completion) -> list[ranking.RankChange] | None:
    """Count it in Redis (idempotent); the rank changes when Redis is trusted, else None (ask PostgreSQL).

    Counted even while the boards are being rebuilt (the rebuild's catch-up skips what `apply` counted);
    while Redis is failing the write is skipped and the boards are marked stale until rebuilt.
    """
    state = redis_state()
    if state is None or state.boards is None:
        return None
    trusted = redis_boards()
    if state.failed_at is not None and time.monotonic() - state.failed_at < RETRY_SECONDS:
        state.stale_since = state.stale_since or datetime.now(UTC)
        return None
    try:
        applied = state.boards.apply(completion)
    except _redis_error() as exc:
        state.fail(exc, lost_write=True)
        return None
    if trusted is None:
        return None
    return [] if applied is None else applied  # None from apply: counted before, nothing new to notify


def _pg_changes(conn: Connection, completions: Sequence[ranking.Completion]) -> dict[int, list[ranking.RankChange]]:
    """Did each completion's user enter each of its boards' top 10? Counted in PostgreSQL: one scan of the
    completions since the snapshot for every board of the batch (it had been one per completion: with the
    boards' snapshot hours old, each scan read every completion since), then index counts that stop
    after 10. The live points include the batch (it is committed); a completion's own "after" leaves out
    what its user earned later in the batch, on that board. Keyed by id() of the completion."""
    if not completions:
        return {}
    pg = ranking.PgBoards(conn)
    live = pg.live_for_boards(sorted({board for completion in completions for board in completion.boards}))
    later: dict[tuple[str, uuid.UUID], int] = {}  # points of a user's completions after this one in the batch
    out: dict[int, list[ranking.RankChange]] = {}
    for completion in reversed(completions):
        changes = []
        for board in completion.boards:
            earned_later = later.get((board, completion.user_id), 0)
            later[(board, completion.user_id)] = earned_later + completion.points
            points = live[board].get(completion.user_id, 0) - earned_later
            if points <= 0:
                continue
            ahead_of_itself = 1 if earned_later else 0  # its live points (with what came later) are above
            after = 1 + pg.count_above(board, points, cap=ranking.TOP_N + 1 + ahead_of_itself,
                                       live=live[board]) - ahead_of_itself
            before_points = points - completion.points
            before = (None if before_points <= 0
                      else pg.count_above(board, before_points, cap=ranking.TOP_N + 2, live=live[board]))
            changes.append(ranking.RankChange(board, before, after))  # before counts the user (its old self)
        out[id(completion)] = changes
    return out


def _notify_top(conn: Connection, completion: ranking.Completion, changes: list[ranking.RankChange]) -> None:
    entered = [c for c in changes if c.entered_top]
    if not entered:
        return
    names = region_names(conn, completion.region_code)
    for change in entered:
        label = board_label(change.board, names)
        notify(conn, completion.user_id, "rank_changed", f"{label} 순위 {change.after}위!",
               f"{label} 순위표 상위 {ranking.TOP_N}위에 들었습니다.",
               {"board": change.board, "rank": change.after, "previous_rank": change.before,
                "attempt_id": str(completion.attempt_id)},
               dedupe_key=f"rank_top:{completion.user_id}:{change.board}")


def region_names(conn: Connection, region_code: str) -> dict[str, str]:
    row = conn.execute(text("select sido_name, sgg_name, sido_code from raw.regions where region_code = :r"),
                       {"r": region_code}).first()
    if row is None:
        return {}
    return {f"sido:{row.sido_code}": row.sido_name, f"sgg:{region_code}": f"{row.sido_name} {row.sgg_name}"}


def board_label(board: str, names: dict[str, str]) -> str:
    scope, _, period = board.partition("|")
    where = "전체" if scope == "all" else names.get(scope, scope)
    when = "전체 기간" if period == "all" else ("주간" if period.startswith("w") else "월간")
    return f"{where} {when}"


# ---------------------------------------------------------------------------------- health
def ranking_health() -> dict[str, Any]:
    """For /health: which engine answers ranks, and why it is degraded when it is."""
    state = redis_state()
    if state is None:
        return {"status": "degraded", "engine": "postgresql",
                "reason": "REDIS_URL is not set: ranks are computed in PostgreSQL (slower, still exact)"}
    try:
        state.client.ping()
    except _redis_error() as exc:
        state.fail(exc)
        return {"status": "degraded", "engine": "postgresql",
                "reason": f"Redis is unreachable ({type(exc).__name__}): ranks are computed in PostgreSQL"}
    if redis_boards() is None:
        why = "lost completions while unreachable" if state.stale_since else "not built yet"
        return {"status": "degraded", "engine": "postgresql",
                "reason": f"Redis boards are being rebuilt ({why}): ranks are computed in PostgreSQL meanwhile"}
    return {"status": "ok", "engine": "redis", "reason": None}
