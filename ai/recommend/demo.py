"""Recommendations for the demo population, made by the platform's own code: the real precompute as of
a moment inside the demo's history, and one real evaluation run.

The recommend assets run at the real now, after the demo's activity has ended, so nothing could have
followed their lists. Here the precompute runs with `now` = FOLLOWUP_DAYS_BEFORE_END days before the
demo's last activity event and with the world as it stood then (history, places taken, users already
on the platform), so the weeks of demo activity after it show what the lists led to: the pairs land in
serving.recommendation_log with that first_recommended_at, and the follow-up marts measure from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from ai.corpus import bootstrap_corpus, mission_documents
from ai.embeddings import OfflineEmbeddings, fit_offline
from ai.recommend.data import load_catalog, load_checkins, load_history, load_places_taken, load_regions, load_users
from ai.recommend.evaluate import evaluate
from ai.recommend.model import fit_model
from ai.recommend.service import RecommenderState, engine_label, mission_vectors, precompute

FOLLOWUP_DAYS_BEFORE_END = 45  # the lists are computed this long before the demo's last activity
EMBEDDING_DIMS = 64


@dataclass(frozen=True)
class DemoRecommendations:
    as_of: datetime
    users: int
    rows: int
    first_recommended: int
    evaluation_rows: int


def demo_end(conn: Connection) -> datetime | None:
    """The demo's last activity event (None before any is loaded)."""
    return conn.execute(text("select max(occurred_at) from raw.activity_events")).scalar()


def seed_recommendations(engine: Engine, days_before_end: int = FOLLOWUP_DAYS_BEFORE_END,
                         evaluation: bool = True) -> DemoRecommendations | None:
    """The top 20 of every user registered by then, precomputed as of `days_before_end` days before the
    demo's last activity (into serving.recommendations and serving.recommendation_log), and, with
    `evaluation`, one evaluation run (hybrid and baselines) as the evaluation asset writes it.
    None when no activity is loaded yet."""
    with engine.connect() as conn:
        end = demo_end(conn)
        if end is None:
            return None
        corpus = bootstrap_corpus() + [d.text for d in mission_documents(conn)]
    embeddings = OfflineEmbeddings(fit_offline(corpus, dims=EMBEDDING_DIMS))
    as_of = (end - timedelta(days=days_before_end)).timestamp()
    evaluation_rows = 0
    with engine.begin() as conn:
        # the state as it stood at as_of: the model learns only from earlier attempts (no success
        # counts from the marts, which hold the later ones too), and later registrations get no list
        regions = load_regions(conn)
        before = load_history(conn, until=as_of)
        catalog = load_catalog(conn, regions, load_places_taken(conn))
        users = {u.user_id: u for u in load_users(conn) if u.user_id}
        # on the platform by then: registered (the demo's rows carry the time they were inserted), or
        # already active (the demo's own registration dates show in its first events)
        active: set[str] = set(conn.execute(text("select distinct user_id::text from raw.activity_events "
                                                 "where occurred_at < to_timestamp(:t)"), {"t": as_of}).scalars())
        registered = [u for u, row in users.items() if row.registered_at <= as_of or u in active]
        model = fit_model(regions, catalog, mission_vectors(catalog, embeddings), engine_label(embeddings), before,
                          users)
        state = RecommenderState(regions=regions, model=model, engine=embeddings, users=users, loaded_at=as_of)
        counts = precompute(conn, state, user_ids=registered, now=as_of, history=before)
        if evaluation:
            history = load_history(conn)
            result = evaluate(regions, catalog, model.vectors, model.engine, history, users, load_checkins(conn),
                              embeddings)
            run_at = datetime.now(UTC)  # one run: every row of it carries the same moment
            conn.execute(text("""
                insert into serving.recommendation_evaluation (run_at, segment, method, ndcg_at_10, recall_at_10,
                    coverage, users_count, heldout_count, cutoff_at, candidates_count, engine)
                values (:run_at, :segment, :method, :ndcg_at_10, :recall_at_10, :coverage, :users_count,
                        :heldout_count, to_timestamp(:cutoff), :candidates, :engine)"""),
                [{**r.__dict__, "run_at": run_at, "cutoff": result.cutoff,
                  "candidates": result.candidates_count, "engine": model.engine} for r in result.rows])
            evaluation_rows = len(result.rows)
    return DemoRecommendations(as_of=datetime.fromtimestamp(as_of, UTC), users=counts["users"], rows=counts["rows"],
                               first_recommended=counts["first_recommended"], evaluation_rows=evaluation_rows)

