"""Recommendations and drafts for the API: reads serving.recommendations, computes online through
ai.recommend, generates and reviews drafts through ai.generate. No ranking or writing logic here."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from ai.embeddings import get_embeddings
from ai.generate.drafts import StoredDraft, save_drafts
from ai.generate.retrieve import retrieve
from ai.generate.writer import chat_model, write_drafts
from ai.recommend.data import UserRow, catalog_fingerprint
from ai.recommend.profile import Constraints
from ai.recommend.ranker import Recommendation, Weights
from ai.recommend.service import (
    RecommenderState,
    cached_state,
    engine_label,
    get_policy_weight,
    load_state,
    recommend_online,
    user_row,
)
from ai.vectorstore import VectorStore
from core.db import database_url
from core.settings import get_settings

_STORE: dict[str, VectorStore] = {}


def vector_store() -> VectorStore:
    """The vector store for the current engine (one client per process)."""
    engine = get_embeddings()
    key = f"{engine.engine_id}@{engine.version}"
    if key not in _STORE:
        _STORE.clear()
        _STORE[key] = VectorStore(engine, settings=get_settings())
    return _STORE[key]


def state(conn: Connection) -> RecommenderState:
    def load() -> RecommenderState:
        store = vector_store()
        return load_state(conn, store.engine, store)
    return cached_state(database_url(), load, fingerprint=lambda: catalog_fingerprint(conn))


def precomputed(conn: Connection, user_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text("""
        select r.rank, r.score, r.parts, r.reasons_ko, r.reasons_en, r.engine, r.generated_at,
               m.id, m.title, m.mission_type, m.region_code, m.place_name, m.skills
        from serving.recommendations r join app.missions m on m.id = r.mission_id
        where r.user_id = :u and m.status = 'published' and (m.ends_at is null or m.ends_at >= now())
          and not exists (select 1 from raw.activity_events e
                          where e.user_id = :u and e.mission_id = r.mission_id
                            and e.event_type in ('mission_enrolled', 'mission_completed')
                            and e.occurred_at > r.generated_at)
        order by r.rank limit :n"""), {"u": user_id, "n": limit})]


def online(conn: Connection, user_id: uuid.UUID, limit: int, constraints: Constraints
           ) -> tuple[list[Recommendation], RecommenderState, float]:
    current = state(conn)
    row = user_row(conn, str(user_id)) or UserRow(user_id=str(user_id))
    now = time.time()
    return recommend_online(conn, current, row, limit, constraints, now), current, now


def mission_rows(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {str(r.id): dict(r._mapping) for r in conn.execute(text("""
        select id, title, mission_type, region_code, place_name, skills from app.missions
        where id = any(cast(:ids as uuid[]))"""), {"ids": ids})}


def online_engine(current: RecommenderState) -> str:
    return engine_label(current.engine)


def generate(conn: Connection, region_code: str, for_user_id: uuid.UUID | None, count: int,
             created_by: uuid.UUID) -> list[StoredDraft]:
    user = user_row(conn, str(for_user_id)) if for_user_id else None
    context = retrieve(conn, vector_store(), region_code, user)
    model = chat_model(get_settings())
    llm, label = model if model is not None else (None, None)
    generated = write_drafts(context, llm, label, count)
    return save_drafts(conn, generated, created_by, for_user_id)


def policy_weight(conn: Connection) -> tuple[float, bool]:
    value = get_policy_weight(conn)
    return (Weights().policy, True) if value is None else (value, False)


def now_utc() -> datetime:
    return datetime.now(UTC)
