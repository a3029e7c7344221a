"""Writing mission drafts from a retrieved context: a LangChain chain with structured output when
OpenAI is configured, else (and whenever the model fails) a deterministic template writer.

Both produce `MissionDraft`s that cite what they used; every draft is validated against the schema
and its citations against the retrieved sources, so a model that invents a source, times out, errs
or returns malformed output is replaced by the template writer for that request, and the result
says so (`engine`, `fallback_reason`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ai.generate.retrieve import Context, Source
from ai.generate.schema import Citation, DraftBatch, DraftStep, MissionDraft
from core.vocab import MissionType, StepVerification

TEMPLATE_ENGINE = "template:1"
DEFAULT_COUNT = 3


@dataclass(frozen=True)
class GeneratedDraft:
    draft: MissionDraft
    engine: str
    fallback_reason: str | None = None


class DraftRejected(ValueError):
    """A model's draft that cites something it was not given, or is otherwise unusable."""


def check_citations(draft: MissionDraft, context: Context) -> MissionDraft:
    known = context.sources()
    unknown = [c.source_id for c in draft.citations if c.source_id not in known]
    if unknown:
        raise DraftRejected(f"cites sources that were not retrieved: {unknown}")
    if draft.region_code != context.region_code:
        raise DraftRejected(f"is for region {draft.region_code}, not {context.region_code}")
    return draft


def _cite(source: Source, excerpt: str | None = None) -> Citation:
    return Citation(source_id=source.id, title=source.title[:200], excerpt=(excerpt or source.text)[:400])


# ---------------------------------------------------------------------------------- template writer
def _impact(context: Context, what: str) -> str:
    area = "인구감소지역인 " if context.is_decline_area else ""
    return f"{area}{context.region_name}에 {what} 방문과 참여가 생활인구로 이어집니다."


def _policy_citations(context: Context) -> list[Citation]:
    return [_cite(p) for p in context.policy[:1]]


def _skill_draft(context: Context, need: Source) -> MissionDraft:
    lat, lon = (need.lat, need.lon) if need.lat is not None else context.centroid
    citations = [_cite(need)] + ([_cite(context.indicators)] if context.indicators else []) + _policy_citations(context)
    return MissionDraft(
        title=f"[재능기부] {need.title}"[:80], mission_type=MissionType.SKILL, region_code=context.region_code,
        summary=f"{context.region_name}의 요청 '{need.title}'에 {need.skill} 재능으로 함께합니다. {need.text}"[:600],
        place_name=need.place_name, lat=lat, lon=lon, skills=[need.skill] if need.skill else [],
        steps=[DraftStep(title="의뢰 장소 체크인",
                         description=f"{need.place_name or context.region_name}에 도착해 위치를 인증하세요.",
                         verification=StepVerification.CHECKIN),
               DraftStep(title="작업 결과 사진", description="작업 전후 사진을 올리세요.",
                         verification=StepVerification.PHOTO),
               DraftStep(title="의뢰자 확인", description="의뢰자가 결과를 확인합니다.",
                         verification=StepVerification.HOST_CONFIRM)],
        expected_minutes=240, expected_impact=_impact(context, f"{need.skill} 재능을 가진 사람의 "),
        citations=citations)


def _place_draft(context: Context, place: Source) -> MissionDraft:
    festival = place.kind == "festival"
    heritage = place.kind == "heritage"
    kind = MissionType.SOCIAL if festival else MissionType.EXPLORATION
    label = "자원봉사" if festival else "문화유산 탐방" if heritage else "명소 탐방"
    steps = [DraftStep(title=f"{place.title} 도착 체크인"[:80], description="현장에 도착해 위치를 인증하세요.",
                       verification=StepVerification.CHECKIN)]
    if festival:
        steps.append(DraftStep(title="봉사 시간 확인", description="호스트가 봉사 시간을 확인합니다.",
                               verification=StepVerification.HOST_CONFIRM))
    else:
        steps.append(DraftStep(title="인증 사진 남기기", description="가장 인상 깊은 장면을 찍어 올리세요.",
                               verification=StepVerification.PHOTO))
    indicators = [_cite(context.indicators)] if context.indicators else []
    citations = [_cite(place), *indicators, *_policy_citations(context)]
    when = f" ({place.starts_on:%Y-%m-%d}~{place.ends_on:%Y-%m-%d})" if place.starts_on and place.ends_on else ""
    return MissionDraft(
        title=f"{context.region_name.split()[-1]} {place.title} {label}"[:80], mission_type=kind,
        region_code=context.region_code, summary=f"{place.title}{when}. {place.text}"[:600].ljust(10, "."),
        place_name=place.title, lat=place.lat, lon=place.lon, steps=steps,
        expected_minutes=240 if festival else 90,
        expected_impact=_impact(context, "축제를 돕는 " if festival else "지역을 알아 가는 "), citations=citations)


def _learning_draft(context: Context) -> MissionDraft:
    sources = [s for s in (context.indicators, *context.policy[:2]) if s is not None]
    return MissionDraft(
        title=f"{context.region_name.split()[-1]} 알아보기: 지역의 오늘과 정책"[:80], mission_type=MissionType.LEARNING,
        region_code=context.region_code,
        summary=(f"{context.region_name}의 인구와 지역 지표를 읽고, 지역을 돕는 정책을 배웁니다. "
                 + (context.indicators.text if context.indicators else ""))[:600],
        steps=[DraftStep(title="지역 지표 읽기",
                         description=(context.indicators.text if context.indicators else "")[:500],
                         verification=StepVerification.NONE),
               DraftStep(title="정책 알아보기", description=(context.policy[0].text if context.policy else "")[:500],
                         verification=StepVerification.NONE),
               DraftStep(title="퀴즈 풀기", description="세 문제 중 두 문제 이상 맞히면 통과합니다.",
                         verification=StepVerification.NONE)],
        expected_minutes=30, expected_impact=_impact(context, "지역을 이해하는 사람의 "),
        citations=[_cite(s) for s in sources] or [Citation(source_id=f"region:{context.region_code}",
                                                           title=context.region_name, excerpt="")])


def template_drafts(context: Context, count: int = DEFAULT_COUNT) -> list[MissionDraft]:
    """Deterministic drafts from what was retrieved: needs first (matching the user's skills first),
    then places, then a learning mission about the region and its policies."""
    skills = set(context.user.skills) if context.user else set()
    needs = sorted(context.needs, key=lambda n: (n.skill not in skills, n.id))
    drafts: list[MissionDraft] = [_skill_draft(context, n) for n in needs]
    drafts += [_place_draft(context, p) for p in context.places if p.lat is not None]
    if context.indicators or context.policy:
        drafts.append(_learning_draft(context))
    return [check_citations(d, context) for d in drafts[:count]]


# ---------------------------------------------------------------------------------- LLM chain
SYSTEM_PROMPT = """You write missions for Hometown ON (고향으로 ON), a platform that connects people with
Korea's population-decline regions. Write {count} mission drafts in Korean for the region below, using
ONLY the sources given (needs, places, indicators, policy passages). Each draft cites the ids of the sources
it uses in `citations` (source_id exactly as given). Steps must be verifiable (checkin needs lat/lon from a
source; host_confirm for volunteer hours; photo for results). A skill mission names the skill of the need.
Do not invent places, dates or numbers."""


def _context_payload(context: Context) -> str:
    def item(s: Source) -> dict[str, Any]:
        return {k: v for k, v in {"source_id": s.id, "kind": s.kind, "title": s.title, "text": s.text[:500],
                                  "lat": s.lat, "lon": s.lon, "skill": s.skill, "place_name": s.place_name,
                                  "starts_on": str(s.starts_on) if s.starts_on else None,
                                  "ends_on": str(s.ends_on) if s.ends_on else None}.items() if v is not None}
    user = None
    if context.user is not None:
        user = {"user_type": context.user.user_type, "skills": list(context.user.skills),
                "interests": list(context.user.interests)}
    return json.dumps({"region_code": context.region_code, "region_name": context.region_name,
                       "is_population_decline_area": context.is_decline_area, "for_user": user,
                       "sources": [item(s) for s in context.sources().values()]}, ensure_ascii=False)


def llm_drafts(context: Context, llm: Any, count: int = DEFAULT_COUNT) -> list[MissionDraft]:
    """The LangChain chain: prompt → chat model with structured output (DraftBatch) → checked drafts."""
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", "{context}")])
    chain = prompt | llm.with_structured_output(DraftBatch)
    result = chain.invoke({"count": count, "context": _context_payload(context)})
    batch = result if isinstance(result, DraftBatch) else DraftBatch.model_validate(result)
    return [check_citations(d, context) for d in batch.drafts[:count]]


def write_drafts(context: Context, llm: Any | None = None, llm_engine: str | None = None,
                 count: int = DEFAULT_COUNT) -> list[GeneratedDraft]:
    """Drafts for the context: the model's when configured and sound, else the template writer's."""
    if llm is not None:
        try:
            drafts = llm_drafts(context, llm, count)
            if not drafts:
                raise DraftRejected("returned no drafts")
            return [GeneratedDraft(d, llm_engine or "openai") for d in drafts]
        except (ValidationError, DraftRejected, ValueError, TypeError, KeyError) as exc:
            reason = f"the model's output was unusable ({type(exc).__name__}: {str(exc)[:200]})"
        except Exception as exc:  # network errors, timeouts, rate limits: whatever the client raises
            reason = f"the model call failed ({type(exc).__name__}: {str(exc)[:200]})"
        return [GeneratedDraft(d, TEMPLATE_ENGINE, reason) for d in template_drafts(context, count)]
    return [GeneratedDraft(d, TEMPLATE_ENGINE) for d in template_drafts(context, count)]


def chat_model(settings: Any) -> tuple[Any, str] | None:
    """The configured chat model (langchain-openai) and its engine label, or None (offline)."""
    if not (settings.openai_api_key or settings.openai_base_url):
        return None
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {"model": settings.openai_chat_model, "temperature": 0.2, "timeout": 60,
                              "max_retries": 1}
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    kwargs["api_key"] = settings.openai_api_key or "not-needed"
    return ChatOpenAI(**kwargs), f"openai:{settings.openai_chat_model}"
