"""RAG mission drafts: retrieval on the demo region data, the template writer, the LLM chain's
fallbacks, schema validation, and the draft → approved mission path."""

from __future__ import annotations

import uuid
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from langchain_core.runnables import RunnableLambda
from pydantic import ValidationError
from sqlalchemy import Engine, text

from ai.corpus import bootstrap_corpus, mission_documents, policy_chunks, regional_documents
from ai.embeddings import OfflineEmbeddings, fit_offline
from ai.generate.drafts import DraftStateError, approve_draft, edit_draft, reject_draft, save_drafts
from ai.generate.retrieve import Context, retrieve
from ai.generate.schema import DraftBatch, MissionDraft
from ai.generate.writer import TEMPLATE_ENGINE, template_drafts, write_drafts
from ai.recommend.data import UserRow
from ai.vectorstore import POLICY, REGIONAL, VectorStore


@pytest.fixture(scope="module")
def store(marts_built: object, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> VectorStore:
    with engine.connect() as conn:
        regional = regional_documents(conn)
        corpus = bootstrap_corpus() + [d.text for d in mission_documents(conn)] + [d.text for d in regional]
    embed = OfflineEmbeddings(fit_offline(corpus, dims=64))
    client = chromadb.PersistentClient(path=str(tmp_path_factory.mktemp("chroma")),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    vs = VectorStore(embed, client)
    vs.sync(REGIONAL, regional)
    vs.sync(POLICY, policy_chunks())
    return vs


@pytest.fixture(scope="module")
def region_with_needs(engine: Engine, store: VectorStore) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("""
            select region_code from app.regional_needs where status = 'open'
            group by region_code order by count(*) desc, region_code limit 1""")).scalar_one())


@pytest.fixture()
def context(engine: Engine, store: VectorStore, region_with_needs: str) -> Context:
    with engine.connect() as conn:
        skill = conn.execute(text("select skill from app.regional_needs where region_code = :r and status = 'open' "
                                  "order by id limit 1"), {"r": region_with_needs}).scalar_one()
        return retrieve(conn, store, region_with_needs, UserRow(user_id=None, user_type="returnee", skills=(skill,)))


def test_retrieval_finds_the_regions_needs_places_and_policy(context: Context) -> None:
    assert context.needs and context.policy and context.indicators is not None
    assert all(s.id.startswith("need:") and s.skill for s in context.needs)
    assert all(p.id.startswith("policy:") for p in context.policy)
    assert context.indicators.id == f"region:{context.region_code}"


def test_template_drafts_are_valid_and_cite_what_was_retrieved(context: Context) -> None:
    drafts = template_drafts(context)
    assert drafts
    known = context.sources()
    for draft in drafts:
        MissionDraft.model_validate(draft.model_dump())
        assert draft.region_code == context.region_code
        assert draft.citations and all(c.source_id in known for c in draft.citations)
    first = drafts[0]  # the user's skill first
    assert first.mission_type.value == "skill" and first.skills == [context.user.skills[0]]  # type: ignore[union-attr]
    assert template_drafts(context) == drafts  # deterministic


class FakeChat:
    """A stand-in for the external chat model: returns what `answer` gives (or raises)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def with_structured_output(self, schema: type) -> RunnableLambda:
        def run(_: Any) -> Any:
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer(schema) if callable(self.answer) else self.answer
        return RunnableLambda(run)


def test_the_chain_uses_a_sound_model_answer(context: Context) -> None:
    good = DraftBatch(drafts=template_drafts(context, 2))
    out = write_drafts(context, FakeChat(good), "openai:test-model")
    assert [g.engine for g in out] == ["openai:test-model"] * 2 and all(g.fallback_reason is None for g in out)


@pytest.mark.parametrize("answer, why", [
    (TimeoutError("read timed out"), "call failed"),
    ({"drafts": [{"title": "x"}]}, "unusable"),
    ("not json at all", "unusable"),
])
def test_model_failures_fall_back_to_the_template_writer(context: Context, answer: Any, why: str) -> None:
    out = write_drafts(context, FakeChat(answer), "openai:test-model")
    assert out and all(g.engine == TEMPLATE_ENGINE and why in (g.fallback_reason or "") for g in out)


def test_a_model_that_invents_a_source_is_not_trusted(context: Context) -> None:
    invented = template_drafts(context, 1)[0].model_copy(deep=True)
    invented.citations[0].source_id = "need:00000000-0000-0000-0000-000000000000"
    out = write_drafts(context, FakeChat(DraftBatch(drafts=[invented])), "openai:test-model")
    assert out[0].engine == TEMPLATE_ENGINE and "not retrieved" in (out[0].fallback_reason or "")


def test_schema_rejects_unsound_drafts(context: Context) -> None:
    base = template_drafts(context, 1)[0].model_dump(mode="json")
    for change in ({"skills": []}, {"skills": ["마법"]}, {"lat": None, "lon": None}, {"citations": []},
                   {"steps": []}, {"region_code": "4773"}):
        with pytest.raises(ValidationError):
            MissionDraft.model_validate({**base, **change})


def test_draft_to_mission_only_on_approval(engine: Engine, context: Context) -> None:
    generated = write_drafts(context, count=2)
    with engine.begin() as conn:
        admin = conn.execute(text("select id from app.users where 'admin' = any(roles) limit 1")).scalar_one()
        stored = save_drafts(conn, generated, admin)
    assert [s.status for s in stored] == ["draft", "draft"]
    with engine.begin() as conn:
        edited = edit_draft(conn, stored[0].id, {"title": "[재능기부] 고친 제목의 미션"})
        assert edited.draft.title == "[재능기부] 고친 제목의 미션"
        with pytest.raises(ValidationError):
            edit_draft(conn, stored[0].id, {"steps": []})
    with engine.begin() as conn:
        approved = approve_draft(conn, stored[0].id, admin, "좋아요")
        rejected = reject_draft(conn, stored[1].id, admin, "중복")
    assert approved.status == "approved" and approved.mission_id is not None
    assert rejected.status == "rejected" and rejected.mission_id is None
    with engine.connect() as conn:
        mission = conn.execute(text("select status, source_kind, source_ref, title from app.missions where id = :m"),
                               {"m": approved.mission_id}).one()
        steps = conn.execute(text("select count(*) from app.mission_steps where mission_id = :m"),
                             {"m": approved.mission_id}).scalar_one()
    assert tuple(mission) == ("published", "ai_draft", str(stored[0].id), "[재능기부] 고친 제목의 미션")
    assert steps == len(approved.draft.steps)
    with engine.begin() as conn, pytest.raises(DraftStateError):
        approve_draft(conn, stored[1].id, admin)
    with engine.begin() as conn, pytest.raises(LookupError):
        approve_draft(conn, uuid.uuid4(), admin)


