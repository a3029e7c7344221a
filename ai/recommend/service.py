"""The ranker put to work: load its state from the database and the vector store, recommend for
one user online, precompute the top 20 of every active user into serving.recommendations (and log
each pair's first recommendation in serving.recommendation_log).

The Dagster assets and the API both call these functions; neither holds ranking logic of its own.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import psycopg
from sqlalchemy import Connection, text

from ai.recommend.data import (
    Catalog,
    Regions,
    UserRow,
    catalog_fingerprint,
    load_catalog,
    load_checkins,
    load_history,
    load_places_taken,
    load_regions,
    load_success_counts,
    load_users,
)
from ai.recommend.model import RecommenderModel, fit_model
from ai.recommend.profile import CHECKIN_WINDOW_DAYS, Constraints, build_profile
from ai.recommend.ranker import DEFAULT_K, HybridRanker, Recommendation, Weights

RANKER_VERSION = "hybrid-1"
POLICY_WEIGHT_KEY = "policy_weight"
POLICY_WEIGHT_RANGE = (0.0, 2.0)
PRECOMPUTE_CELLS = 2_560_000  # users × missions scored at once: ~10 MB per (B, M) array
Progress = Callable[[str], None]


def mission_vectors(catalog: Catalog, engine: Any, store: Any | None = None) -> np.ndarray:
    """Mission vectors from the vector store's `missions` collection when it was built by `engine`;
    missions it lacks (just approved) and any other case are embedded now with the same engine."""
    from ai.vectorstore import MISSIONS

    vectors = None
    if store is not None and store.engine_of(MISSIONS) == (engine.engine_id, engine.version):
        ids, stored = store.vectors(MISSIONS)
        if len(ids):
            position = {mid: i for i, mid in enumerate(ids)}
            vectors = np.zeros((len(catalog), stored.shape[1]), dtype=np.float32)
            missing = []
            for i, mid in enumerate(catalog.ids):
                if mid in position:
                    vectors[i] = stored[position[mid]]
                else:
                    missing.append(i)
            if missing:
                vectors[missing] = engine.embed_array([catalog.texts[i] for i in missing])
    if vectors is None:
        vectors = engine.embed_array(catalog.texts)
    return np.asarray(vectors, dtype=np.float32)


def engine_label(engine: Any) -> str:
    return f"{RANKER_VERSION}+{engine.engine_id}@{engine.version}"


@dataclass
class RecommenderState:
    """Everything a ranker needs that is shared by all users, loaded once."""

    regions: Regions
    model: RecommenderModel
    engine: Any
    users: dict[str, UserRow]
    loaded_at: float
    fingerprint: tuple[Any, ...] = ()  # of the published catalog it was loaded with
    _rankers: dict[float | None, HybridRanker] = field(default_factory=dict, repr=False, compare=False)

    @property
    def catalog(self) -> Catalog:
        return self.model.catalog

    def ranker(self, policy_weight: float | None = None) -> HybridRanker:
        """The ranker for a policy weight, made once: it sums the per-mission parts at construction,
        which is most of the work an online request would otherwise repeat."""
        ranker = self._rankers.get(policy_weight)
        if ranker is None:
            ranker = self._rankers[policy_weight] = HybridRanker(self.model, Weights().with_policy(policy_weight),
                                                                 self.engine)
        return ranker


def load_state(conn: Connection, engine: Any, store: Any | None = None) -> RecommenderState:
    """Regions, the published catalog with its vectors, and the model fitted on all history."""
    fingerprint = catalog_fingerprint(conn)  # first: a change while loading is seen at the next check
    regions = load_regions(conn)
    history = load_history(conn)
    catalog = load_catalog(conn, regions, load_places_taken(conn))
    users = {u.user_id: u for u in load_users(conn) if u.user_id}
    vectors = mission_vectors(catalog, engine, store)
    model = fit_model(regions, catalog, vectors, engine_label(engine), history, users, load_success_counts(conn))
    return RecommenderState(regions=regions, model=model, engine=engine, users=users, loaded_at=time.time(),
                            fingerprint=fingerprint)


def get_policy_weight(conn: Connection) -> float | None:
    value = conn.execute(text("select value from app.recommendation_settings where key = :k"),
                         {"k": POLICY_WEIGHT_KEY}).scalar()
    return float(value) if value is not None else None


def set_policy_weight(conn: Connection, value: float, updated_by: Any) -> float:
    low, high = POLICY_WEIGHT_RANGE
    if not (low <= value <= high):
        raise ValueError(f"the policy weight must be between {low} and {high} (got {value})")
    conn.execute(text("""
        insert into app.recommendation_settings (key, value, updated_by, updated_at)
        values (:k, :v, :by, now())
        on conflict (key) do update set value = excluded.value, updated_by = excluded.updated_by,
                                        updated_at = excluded.updated_at"""),
                 {"k": POLICY_WEIGHT_KEY, "v": value, "by": updated_by})
    return value


def user_row(conn: Connection, user_id: str) -> UserRow | None:
    rows = load_users(conn, [user_id])
    return rows[0] if rows else None


def recommend_online(conn: Connection, state: RecommenderState, row: UserRow, k: int = DEFAULT_K,
                     constraints: Constraints | None = None, now: float | None = None) -> list[Recommendation]:
    """One user's recommendations computed now (their latest history; the shared model as loaded)."""
    now = now if now is not None else time.time()
    history = load_history(conn, [row.user_id]) if row.user_id else []
    checkins = load_checkins(conn, [row.user_id], since=now - CHECKIN_WINDOW_DAYS * 86_400) if row.user_id else {}
    profile = build_profile(row, state.regions, state.catalog, history, checkins.get(row.user_id or "", []),
                            now=now, constraints=constraints)
    return state.ranker(get_policy_weight(conn)).recommend([profile], k)[0]


# ---------------------------------------------------------------------------------- precompute
# A pair (user, mission) is logged the first time a list holds it; later lists leave its row alone.
LOG_FIRST_RECOMMENDED = """
    insert into serving.recommendation_log (user_id, mission_id, first_recommended_at, rank, score, engine)
    select user_id, mission_id, generated_at, rank, score, engine
    from serving.recommendations where user_id = any(%s::uuid[])
    on conflict (user_id, mission_id) do nothing"""


def _copy_rows(cur: psycopg.Cursor, rows: list[tuple[Any, ...]]) -> None:
    with cur.copy("copy serving.recommendations (user_id, rank, mission_id, score, parts, reasons_ko, reasons_en, "
                  "engine, generated_at) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while ranking in bulk: the ranker makes millions of small,
    acyclic objects (reasons, parts, rows), and each collection would walk every object already
    loaded (all users and their history), which cost more than the ranking itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def copy_row(user_id: str, rec: Recommendation, label: str, generated: datetime) -> tuple[Any, ...]:
    """One serving.recommendations row (parts as JSON text, which COPY casts to jsonb)."""
    return (user_id, rec.rank, rec.mission_id, rec.score, orjson.dumps(rec.parts).decode(), rec.reasons_ko,
            rec.reasons_en, label, generated)


def precompute(conn: Connection, state: RecommenderState, user_ids: Sequence[str] | None = None,
               k: int = DEFAULT_K, now: float | None = None, progress: Progress | None = None,
               history: Sequence[Any] | None = None) -> dict[str, int]:
    """Top `k` for every active user (or `user_ids`) into serving.recommendations, replacing their
    previous rows in the caller's transaction (readers see the old rows until it commits; rows of
    users no longer active are removed). Each pair (user, mission) recommended for the first time is
    also logged in serving.recommendation_log, which keeps it (what the follow-up marts read).
    Returns counts."""
    say = progress or (lambda message: None)
    now = now if now is not None else time.time()
    generated = datetime.fromtimestamp(now, UTC)
    ids = sorted(user_ids) if user_ids is not None else sorted(state.users)
    wanted = set(ids)
    history = history if history is not None else load_history(conn)
    checkins = load_checkins(conn, since=now - CHECKIN_WINDOW_DAYS * 86_400)
    policy = get_policy_weight(conn)
    pg = conn.connection.driver_connection
    if not isinstance(pg, psycopg.Connection):
        raise TypeError("precompute needs a SQLAlchemy connection on the psycopg 3 driver (COPY)")
    by_user: dict[str, list[Any]] = {}
    for item in history:
        if item.user_id in wanted:
            by_user.setdefault(item.user_id, []).append(item)
    ranker = state.ranker(policy)
    label = engine_label(state.engine)
    written = logged = 0
    step = max(50, min(1000, PRECOMPUTE_CELLS // max(1, len(state.catalog))))
    with pg.cursor() as cur, _collector_paused():
        if user_ids is None:
            cur.execute("delete from serving.recommendations where not (user_id = any(%s::uuid[]))", [ids])
        for start in range(0, len(ids), step):
            batch = ids[start:start + step]
            profiles = [build_profile(state.users[u], state.regions, state.catalog, by_user.get(u, []),
                                      checkins.get(u, []), now=now) for u in batch if u in state.users]
            results = ranker.recommend(profiles, k)
            rows = [copy_row(p.user_id, r, label, generated)  # type: ignore[arg-type]
                    for p, recs in zip(profiles, results, strict=True) for r in recs]
            cur.execute("delete from serving.recommendations where user_id = any(%s::uuid[])", [batch])
            _copy_rows(cur, rows)
            cur.execute(LOG_FIRST_RECOMMENDED, [batch])
            logged += max(cur.rowcount, 0)
            written += len(rows)
            if start // step % 20 == 0:
                say(f"recommendations: {min(start + step, len(ids)):,} of {len(ids):,} users")
    return {"users": len(ids), "rows": written, "first_recommended": logged}


# ---------------------------------------------------------------------------------- process cache
_STATE: dict[str, RecommenderState] = {}
_CHECKED: dict[str, float] = {}
_STATE_LOCK = threading.Lock()
STATE_TTL_S = 300.0  # history-based parts (popularity, co-participation, places taken) age this long at most
CATALOG_CHECK_S = 1.0  # the catalog's fingerprint is read at most this often per process


def cached_state(key: str, loader: Callable[[], RecommenderState], ttl: float = STATE_TTL_S,
                 refresh: bool = False, fingerprint: Callable[[], tuple[Any, ...]] | None = None
                 ) -> RecommenderState:
    """A state per database, kept by the process (the API serves many requests from one): the
    mission matrices, vectors and rankers are made once. Reloaded after `ttl` seconds, and as soon as
    the published catalog changes (`fingerprint`, checked at most every CATALOG_CHECK_S), so an
    approved or closed mission is ranked right away."""
    with _STATE_LOCK:
        state = _STATE.get(key)
        now = time.time()
        stale = state is None or refresh or now - state.loaded_at > ttl
        if not stale and fingerprint is not None and now - _CHECKED.get(key, 0.0) >= CATALOG_CHECK_S:
            _CHECKED[key] = now
            stale = fingerprint() != state.fingerprint  # type: ignore[union-attr]
        if stale:
            state = _STATE[key] = loader()
            _CHECKED[key] = time.time()
        return state  # type: ignore[return-value]


def clear_cached_state() -> None:
    with _STATE_LOCK:
        _STATE.clear()
        _CHECKED.clear()
