"""Recommendation assets (group "recommend"): the policy corpus, the embedding model, the vector
collections, the precomputed top 20 per active user (with the log of each pair's first
recommendation), and the evaluation against the baselines.

Thin by design: ai.corpus, ai.embeddings, ai.vectorstore and ai.recommend do the work. The marts
they stand on are found with `get_asset_key_for_model`. (No `from __future__ import annotations`:
Dagster reads the annotations at definition time.)
"""

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)
from dagster_dbt import get_asset_key_for_model
from sqlalchemy import text

from ai.corpus import fitting_corpus, mission_documents, policy_chunks, read_policy_documents, regional_documents
from ai.recommend.data import load_checkins, load_history, load_users
from ai.recommend.evaluate import evaluate
from ai.recommend.service import engine_label, load_state, precompute
from ai.vectorstore import MISSIONS, POLICY, REGIONAL
from assets.recommend.resources import EmbeddingsResource, VectorStoreResource
from assets.resources import PostgresResource
from assets.warehouse import warehouse_dbt_assets

GROUP = "recommend"
DIM_REGION = get_asset_key_for_model([warehouse_dbt_assets], "dim_region")
DIM_MISSION = get_asset_key_for_model([warehouse_dbt_assets], "dim_mission")
ATTEMPTS = get_asset_key_for_model([warehouse_dbt_assets], "fct_mission_attempts")
POLICY_DOCUMENTS = AssetKey(["raw", "policy_documents"])
EMBEDDING_MODEL = AssetKey(["recommend", "embedding_model"])
COLLECTIONS = AssetKey(["recommend", "vector_collections"])
RECOMMENDATIONS = AssetKey(["serving", "recommendations"])
RECOMMENDATION_LOG = AssetKey(["serving", "recommendation_log"])
EVALUATION = AssetKey(["serving", "recommendation_evaluation"])
TARGETS = {"history_vs_popularity": 1.8, "history_vs_item_knn": 0.9, "cold_start_vs_popularity": 2.0,
           "coverage": 0.40}


@asset(key=POLICY_DOCUMENTS, group_name=GROUP, kinds={"python", "postgres"},
       description="The policy documents of ai/policy_docs (인구감소지역 지원 특별법, 지방소멸대응기금, "
                   "고향사랑기부제, "
                   "청년마을, 생활인구) as raw text with their sources and dates, replaced on each run.")
def policy_documents(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
    docs = read_policy_documents()
    chunks = policy_chunks()
    with postgres.engine().begin() as conn:
        conn.execute(text("delete from raw.policy_documents"))
        for doc in docs:
            conn.execute(text("""
                insert into raw.policy_documents (slug, title, sources, as_of, body, checksum, chunks_count)
                values (:slug, :title, :sources, cast(:as_of as date), :body, :checksum, :chunks)"""),
                {"slug": doc.slug, "title": doc.title, "sources": doc.sources, "as_of": doc.as_of, "body": doc.body,
                 "checksum": hashlib.sha256(doc.body.encode()).hexdigest(),
                 "chunks": sum(1 for c in chunks if c.metadata["slug"] == doc.slug)})
    return MaterializeResult(metadata={"dagster/row_count": len(docs), "chunks": len(chunks),
                                       "documents": MetadataValue.md("\n".join(f"- {d.title} (as of {d.as_of})"
                                                                               for d in docs))})


@asset(key=EMBEDDING_MODEL, group_name=GROUP, deps=[POLICY_DOCUMENTS, DIM_REGION, DIM_MISSION], kinds={"python"},
       description="The embedding engine: OpenAI when configured; else the offline character n-gram TF-IDF + SVD "
                   "model fitted on the platform's corpus (missions, regional knowledge, policy documents) and "
                   "saved, versioned, under var/models. The same corpus gives the same version.")
def embedding_model(context: AssetExecutionContext, postgres: PostgresResource,
                    embeddings: EmbeddingsResource) -> MaterializeResult:
    if embeddings.uses_openai():
        engine = embeddings.engine()
        return MaterializeResult(metadata={"engine": engine.engine_id, "version": engine.version})
    with postgres.engine().connect() as conn:
        corpus = fitting_corpus([mission_documents(conn), regional_documents(conn), policy_chunks()])
    started = time.monotonic()
    engine = embeddings.refit(corpus)
    return MaterializeResult(metadata={"engine": engine.engine_id, "version": engine.version, "dims": engine.dims,
                                       "corpus_texts": len(corpus), "fit_seconds": round(time.monotonic() - started, 1),
                                       "ngrams_kept": int(engine.model.features.size)})


@asset(key=COLLECTIONS, group_name=GROUP, deps=[EMBEDDING_MODEL], kinds={"python", "chroma"},
       description="Chroma collections: missions, regional knowledge (indicators, spots, festivals, heritage, open "
                   "needs per 시군구) and policy passages. A collection built by another engine is rebuilt.")
def vector_collections(context: AssetExecutionContext, postgres: PostgresResource, embeddings: EmbeddingsResource,
                       vector_store: VectorStoreResource) -> MaterializeResult:
    engine = embeddings.engine()
    store = vector_store.store(engine)
    with postgres.engine().connect() as conn:
        groups = {MISSIONS: mission_documents(conn), REGIONAL: regional_documents(conn), POLICY: policy_chunks()}
    results = {name: store.sync(name, docs) for name, docs in groups.items()}
    for r in results.values():
        context.log.info(f"{r.collection}: {r.total} documents ({r.added} added, {r.updated} updated, "
                         f"{r.removed} removed{', rebuilt for the engine' if r.rebuilt else ''})")
    return MaterializeResult(metadata={
        "engine": f"{engine.engine_id}@{engine.version}",
        **{f"{name}_count": r.total for name, r in results.items()},
        "rebuilt": MetadataValue.json([r.collection for r in results.values() if r.rebuilt])})


@multi_asset(
    specs=[
        AssetSpec(RECOMMENDATIONS, group_name=GROUP, deps=[COLLECTIONS, ATTEMPTS], kinds={"python", "postgres"},
                  description="The top 20 missions of every active user with score parts and Korean/English "
                              "reasons (hybrid ranker, ai/recommend); what GET /missions/recommendations serves."),
        AssetSpec(RECOMMENDATION_LOG, group_name=GROUP, deps=[COLLECTIONS, ATTEMPTS], kinds={"python", "postgres"},
                  description="The first time each mission was recommended to each user (rank, score and engine "
                              "of that list): the precompute adds each new pair and leaves known pairs alone; "
                              "what the follow-up marts measure from."),
    ],
)
def recommendations(context: AssetExecutionContext, postgres: PostgresResource, embeddings: EmbeddingsResource,
                    vector_store: VectorStoreResource) -> Iterator[MaterializeResult]:
    engine = embeddings.engine()
    started = time.monotonic()
    with postgres.engine().begin() as conn:
        state = load_state(conn, engine, vector_store.store(engine))
        counts = precompute(conn, state, progress=context.log.info)
        logged: int = conn.execute(text("select count(*) from serving.recommendation_log")).scalar_one()
    yield MaterializeResult(asset_key=RECOMMENDATIONS, metadata={
        "dagster/row_count": counts["rows"], "users": counts["users"], "missions": len(state.catalog),
        "engine": engine_label(engine), "seconds": round(time.monotonic() - started, 1)})
    yield MaterializeResult(asset_key=RECOMMENDATION_LOG, metadata={
        "dagster/row_count": int(logged), "first_recommended_now": counts["first_recommended"]})


@asset(key=EVALUATION, group_name=GROUP, deps=[COLLECTIONS, ATTEMPTS], kinds={"python", "postgres"},
       description="Offline evaluation on a time split (learn before the cutoff, predict after): nDCG@10, "
                   "Recall@10 and coverage of the hybrid and of random, popularity and item-kNN, for users with "
                   "history and cold-start users. One row per segment and method per run.")
def recommendation_evaluation(context: AssetExecutionContext, postgres: PostgresResource,
                              embeddings: EmbeddingsResource, vector_store: VectorStoreResource) -> MaterializeResult:
    engine = embeddings.engine()
    with postgres.engine().connect() as conn:
        state = load_state(conn, engine, vector_store.store(engine))
        history = load_history(conn)
        users = {u.user_id: u for u in load_users(conn) if u.user_id}
        checkins = load_checkins(conn)
    result = evaluate(state.regions, state.catalog, state.model.vectors, state.model.engine, history, users,
                      checkins, engine)
    run_at = datetime.now(UTC)
    with postgres.engine().begin() as conn:
        conn.execute(text("""
            insert into serving.recommendation_evaluation (run_at, segment, method, ndcg_at_10, recall_at_10,
                coverage, users_count, heldout_count, cutoff_at, candidates_count, engine)
            values (:run_at, :segment, :method, :ndcg_at_10, :recall_at_10, :coverage, :users_count,
                    :heldout_count, to_timestamp(:cutoff), :candidates, :engine)"""),
            [{**r.__dict__, "run_at": run_at, "cutoff": result.cutoff, "candidates": result.candidates_count,
              "engine": state.model.engine} for r in result.rows])
    ratios = ratios_of(result)
    return MaterializeResult(metadata={
        "evaluation": MetadataValue.md(result.markdown()),
        "cutoff": datetime.fromtimestamp(result.cutoff, UTC).isoformat(timespec="seconds"),
        **{k: round(v, 3) for k, v in ratios.items()}})


def ratios_of(result: object) -> dict[str, float]:
    get = result.get  # type: ignore[attr-defined]

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("inf")

    return {
        "history_vs_popularity": ratio(get("history", "hybrid").ndcg_at_10, get("history", "popularity").ndcg_at_10),
        "history_vs_item_knn": ratio(get("history", "hybrid").ndcg_at_10, get("history", "item_knn").ndcg_at_10),
        "cold_start_vs_popularity": ratio(get("cold_start", "hybrid").ndcg_at_10,
                                          get("cold_start", "popularity").ndcg_at_10),
        "coverage": get("all", "hybrid").coverage,
    }


@asset_check(asset=EVALUATION, description="The latest run meets the issue's targets (hybrid vs baselines).")
def evaluation_meets_targets(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        rows = conn.execute(text("""
            select segment, method, ndcg_at_10, coverage from serving.recommendation_evaluation
            where run_at = (select max(run_at) from serving.recommendation_evaluation)""")).all()
    value = {(r[0], r[1]): (r[2], r[3]) for r in rows}

    def ndcg(segment: str, method: str) -> float:
        return float(value.get((segment, method), (0.0, 0.0))[0])

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("inf")

    ratios = {
        "history_vs_popularity": ratio(ndcg("history", "hybrid"), ndcg("history", "popularity")),
        "history_vs_item_knn": ratio(ndcg("history", "hybrid"), ndcg("history", "item_knn")),
        "cold_start_vs_popularity": ratio(ndcg("cold_start", "hybrid"), ndcg("cold_start", "popularity")),
        "coverage": float(value.get(("all", "hybrid"), (0.0, 0.0))[1]),
    }
    missed = {k: round(v, 3) for k, v in ratios.items() if v < TARGETS[k]}
    return AssetCheckResult(passed=bool(rows) and not missed, severity=AssetCheckSeverity.WARN,
                            metadata={**{k: round(v, 3) for k, v in ratios.items()},
                                      "missed": MetadataValue.json(missed)})


@asset_check(asset=RECOMMENDATIONS, description="Every active user has a full, ranked list (1..n, no repeats).")
def every_active_user_has_recommendations(postgres: PostgresResource) -> AssetCheckResult:
    with postgres.engine().connect() as conn:
        missing, broken = conn.execute(text("""
            with lists as (
                select user_id, count(*) n, max(rank) top, count(distinct mission_id) distinct_missions
                from serving.recommendations group by user_id)
            select (select count(*) from app.users u where u.is_active and cardinality(u.roles) = 0
                      and not exists (select 1 from lists l where l.user_id = u.id)),
                   (select count(*) from lists where n <> top or distinct_missions <> n)""")).one()
    return AssetCheckResult(passed=missing == 0 and broken == 0,
                            metadata={"users_without_list": int(missing), "malformed_lists": int(broken)})


RECOMMEND_ASSETS = [policy_documents, embedding_model, vector_collections, recommendations, recommendation_evaluation]
RECOMMEND_CHECKS = [evaluation_meets_targets, every_active_user_has_recommendations]
