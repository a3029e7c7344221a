"""The offline embedding engine, engine selection, and the Chroma collections built with it."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from ai.corpus import Document, bootstrap_corpus, policy_chunks, read_policy_documents
from ai.embeddings import (
    OFFLINE_ENGINE_ID,
    OfflineEmbeddings,
    OpenAIEmbeddingEngine,
    current_offline_version,
    fit_offline,
    get_embeddings,
    load_offline,
)
from ai.vectorstore import POLICY, HometownEmbeddingFunction, VectorStore
from core.settings import Settings

MISSIONS = [
    "[재능기부] 의성군 마을회관 목공 수리. 재능기부형 미션. 필요 기술: 목공",
    "[재능기부] 영동군 마을회관 목공 수리. 재능기부형 미션. 필요 기술: 목공",
    "불갑산상사화축제 자원봉사. 사회유대형 미션. 축제 봉사",
    "의성군의 역사: 탑리리 오층석탑. 학습형 미션. 문화유산",
    "어르신 스마트폰·키오스크 교육 봉사. 필요 기술: IT",
]


@pytest.fixture(scope="module")
def engine() -> OfflineEmbeddings:
    return OfflineEmbeddings(fit_offline(bootstrap_corpus() + MISSIONS * 2, dims=48))


def test_fitting_is_deterministic_and_versioned() -> None:
    corpus = bootstrap_corpus() + MISSIONS
    first, again = fit_offline(corpus, dims=32), fit_offline(corpus, dims=32)
    assert first.version == again.version
    np.testing.assert_array_equal(first.components, again.components)
    other = fit_offline([*corpus, "완전히 다른 문서 하나 더: 어촌 체험과 갯벌"], dims=32)
    assert other.version != first.version


def test_korean_texts_land_near_their_meaning(engine: OfflineEmbeddings) -> None:
    vectors = engine.embed_array(MISSIONS)
    query = engine.embed_array(["목공 재능기부"])[0]
    sims = vectors @ query
    assert set(np.argsort(-sims)[:2]) == {0, 1}  # the two woodworking missions
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # the LangChain interface gives the same vectors
    np.testing.assert_allclose(np.array(engine.embed_documents(MISSIONS)), vectors, rtol=1e-6)
    np.testing.assert_allclose(np.array(engine.embed_query(MISSIONS[2])), vectors[2], rtol=1e-6)


def test_empty_and_unknown_text_gives_a_unit_vector(engine: OfflineEmbeddings) -> None:
    vectors = engine.embed_array(["", "   ", "\u0000"])
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert engine.embed_array([]).shape == (0, engine.dims)


def test_saved_model_loads_with_the_same_version(tmp_path: Path, engine: OfflineEmbeddings) -> None:
    engine.model.save(tmp_path)
    assert current_offline_version(tmp_path) == engine.version
    loaded = load_offline(tmp_path)
    assert loaded.version == engine.version and loaded.engine_id == OFFLINE_ENGINE_ID
    np.testing.assert_allclose(loaded.embed_array(MISSIONS), engine.embed_array(MISSIONS), rtol=1e-6)


def test_a_fresh_install_fits_on_the_bootstrap_corpus(tmp_path: Path) -> None:
    settings = Settings(HOMETOWN_VAR_DIR=str(tmp_path), HOMETOWN_ENV="test")
    chosen = get_embeddings(settings)
    assert isinstance(chosen, OfflineEmbeddings)
    assert current_offline_version(tmp_path / "models") == chosen.version


def test_openai_is_chosen_when_configured(tmp_path: Path) -> None:
    settings = Settings(HOMETOWN_VAR_DIR=str(tmp_path), OPENAI_API_KEY="sk-test", HOMETOWN_ENV="test")
    chosen = get_embeddings(settings)  # constructing the client makes no request
    assert isinstance(chosen, OpenAIEmbeddingEngine)
    assert chosen.engine_id == "openai:text-embedding-3-small"


def test_policy_documents_have_sources_and_dates() -> None:
    docs = read_policy_documents()
    assert {d.slug for d in docs} == {"population_decline_act", "local_extinction_fund", "hometown_love_donation",
                                      "youth_village", "living_population"}
    for doc in docs:
        assert doc.sources and all(s.startswith("https://") for s in doc.sources)
        assert doc.as_of[:4].isdigit()
    chunks = policy_chunks()
    assert all(c.metadata["sources"] and len(c.text) <= 800 for c in chunks)


def test_collections_record_their_engine_and_rebuild_on_change(tmp_path: Path, engine: OfflineEmbeddings) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False))
    store = VectorStore(engine, client)
    first = store.sync(POLICY, policy_chunks())
    assert first.rebuilt and first.added == first.total == len(policy_chunks())
    again = store.sync(POLICY, policy_chunks())
    assert (again.rebuilt, again.added, again.updated, again.removed) == (False, 0, 0, 0)
    assert store.engine_of(POLICY) == (engine.engine_id, engine.version)
    hits = store.query(POLICY, "고향사랑기부 세액공제 답례품", 2)
    assert hits[0].metadata["slug"] == "hometown_love_donation"
    collection, _ = store.collection(POLICY)
    assert isinstance(collection._embedding_function, HometownEmbeddingFunction)  # never Chroma's default

    changed = store.sync(POLICY, [*policy_chunks()[:-1], Document("policy:new:001", "새 문서", {"kind": "policy"})])
    assert (changed.added, changed.removed) == (1, 1)

    other = OfflineEmbeddings(fit_offline(bootstrap_corpus()[:-3], dims=24))
    rebuilt = VectorStore(other, client).sync(POLICY, policy_chunks())
    assert rebuilt.rebuilt and rebuilt.total == len(policy_chunks())
    assert VectorStore(other, client).engine_of(POLICY) == (other.engine_id, other.version)
    _, vectors = VectorStore(other, client).vectors(POLICY)
    assert vectors.shape[1] == other.dims  # no vector of the old engine left
