"""The assessment report of a submission: the checks, a recommended tier (1 기초, 2 숙련, 3 전문) with
reasons, and a summary for the reviewer.

Two writers, one schema. The template writer is deterministic and always available; the OpenAI
writer (through LangChain, when OPENAI_API_KEY is set) words the report and may argue for another tier
within the rules' bounds. Any OpenAI failure falls back to the template writer and says why in
`fallback_reason`. The risk level never comes from the LLM: it is computed from the checks, because
the review queue is ordered by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, Field

from ai.evidence.checks import CheckResult, Status, risk_score

TIER_LABELS_KO = {1: "기초", 2: "숙련", 3: "전문"}
PHOTO_QUALITY_CHECKS = ("decode", "resolution", "blur", "exposure", "contrast", "duplicate")
VOICE_QUALITY_CHECKS = ("duration", "loudness", "silence", "clipping", "speech")
TEMPLATE_ENGINE = "template-v1"


@dataclass(frozen=True)
class AssessmentFacts:
    """What the writer knows about a submission: nothing personal beyond the claim itself."""

    skill: str
    description: str
    photo_count: int
    audio_count: int
    audio_seconds: float
    current_tier: int | None  # the user's tier in this skill before this submission
    checks: Sequence[CheckResult]


class AssessmentReport(BaseModel):
    engine: str = Field(description="which writer made it: template-v1, or openai:<model>")
    recommended_tier: int = Field(ge=1, le=3)
    tier_label: str
    risk_level: str = Field(description="low, medium or high: from the checks, orders the review queue")
    risk_score: float
    reasons: list[str]
    summary: str
    flagged: list[str] = Field(default_factory=list, description="failed checks the reviewer must look at")
    check_counts: dict[str, int]
    fallback_reason: str | None = Field(None, description="why the OpenAI writer was not used, when it failed")


class AssessmentWriter(Protocol):
    engine: str

    def write(self, facts: AssessmentFacts) -> AssessmentReport: ...


# ---------------------------------------------------------------------------------- rules
def _good_positions(checks: Sequence[CheckResult], names: Sequence[str]) -> set[int]:
    by_file: dict[int, list[CheckResult]] = {}
    for check in checks:
        if check.evidence_position is not None and check.name in names:
            by_file.setdefault(check.evidence_position, []).append(check)
    return {pos for pos, results in by_file.items() if all(r.status is not Status.FAIL for r in results)}


def _risk_level(score: float, checks: Sequence[CheckResult]) -> str:
    if any(c.status is Status.FAIL and c.name in ("duplicate", "qr") for c in checks) or score >= 4:
        return "high"
    return "medium" if score >= 1.5 else "low"


@dataclass(frozen=True)
class RuleOutcome:
    tier: int
    reasons: list[str]
    good_photos: int
    good_recordings: int


def rule_tier(facts: AssessmentFacts) -> RuleOutcome:
    """The tier the evidence supports, by explicit rules a reviewer can check."""
    good_photos = len(_good_positions(facts.checks, PHOTO_QUALITY_CHECKS))
    good_voice = len(_good_positions(facts.checks, VOICE_QUALITY_CHECKS))
    speech_ok = any(c.name == "speech" and c.status is Status.PASS for c in facts.checks)
    chars = len(facts.description.strip())
    reasons = [f"판독 가능한 사진 {good_photos}장 / 제출 {facts.photo_count}장",
               f"사용 가능한 음성 설명 {good_voice}건 (총 {facts.audio_seconds:.0f}초)",
               f"작업 설명 {chars}자"]
    if (good_photos >= 5 and speech_ok and facts.audio_seconds >= 60 and chars >= 200
            and (facts.current_tier or 0) >= 2):
        reasons.append("사진 5장 이상, 60초 이상의 음성 설명, 상세한 설명, 기존 숙련 등급: 전문(3) 요건 충족")
        return RuleOutcome(3, reasons, good_photos, good_voice)
    if good_photos >= 3 and speech_ok and facts.audio_seconds >= 20 and chars >= 80:
        reasons.append("사진 3장 이상, 20초 이상의 음성 설명, 충분한 설명: 숙련(2) 요건 충족")
        if (facts.current_tier or 0) < 2:
            reasons.append("전문(3)은 숙련 등급 보유 후 사진 5장·음성 60초 이상으로 신청할 수 있음")
        return RuleOutcome(2, reasons, good_photos, good_voice)
    missing = []
    if good_photos < 3:
        missing.append(f"판독 가능한 사진 3장(현재 {good_photos}장)")
    if not speech_ok or facts.audio_seconds < 20:
        missing.append("20초 이상의 음성 설명")
    if chars < 80:
        missing.append("80자 이상의 작업 설명")
    reasons.append("기초(1) 권장; 숙련(2)에 필요한 것: " + ", ".join(missing))
    return RuleOutcome(1, reasons, good_photos, good_voice)


def _counts(checks: Sequence[CheckResult]) -> dict[str, int]:
    counts = {status.value: 0 for status in Status}
    for check in checks:
        counts[check.status.value] += 1
    return counts


def _flagged(checks: Sequence[CheckResult]) -> list[str]:
    out = []
    for check in checks:
        if check.status is Status.FAIL:
            where = f"파일 {check.evidence_position + 1}" if check.evidence_position is not None else "제출 전체"
            out.append(f"{where} · {check.name}: {check.message}")
    return out


# ---------------------------------------------------------------------------------- writers
class TemplateWriter:
    """Deterministic: the same facts always give the same report, and it cites the numbers it used."""

    engine = TEMPLATE_ENGINE

    def write(self, facts: AssessmentFacts) -> AssessmentReport:
        outcome = rule_tier(facts)
        score = risk_score(facts.checks)
        level = _risk_level(score, facts.checks)
        flagged = _flagged(facts.checks)
        counts = _counts(facts.checks)
        label = TIER_LABELS_KO[outcome.tier]
        risk_ko = {"low": "낮음", "medium": "보통", "high": "높음"}[level]
        summary = (f"{facts.skill} 인증 신청: 사진 {facts.photo_count}장, 음성 {facts.audio_count}건. "
                   f"자동 점검 {sum(counts.values())}건 중 통과 {counts['pass']}, 주의 {counts['warn']}, "
                   f"실패 {counts['fail']}. 권장 등급 {outcome.tier}({label}), 위험도 {risk_ko}.")
        if flagged:
            summary += f" 검토자가 확인할 항목 {len(flagged)}건: " + "; ".join(flagged[:3])
        return AssessmentReport(engine=self.engine, recommended_tier=outcome.tier, tier_label=label,
                                risk_level=level, risk_score=score, reasons=outcome.reasons, summary=summary,
                                flagged=flagged, check_counts=counts)


class _LlmAnswer(BaseModel):
    recommended_tier: int = Field(ge=1, le=3, description="1 기초, 2 숙련, 3 전문")
    reasons: list[str] = Field(description="3–6 short reasons in Korean, citing the checks' numbers")
    summary: str = Field(description="2–4 sentences in Korean for the reviewer")


SYSTEM_PROMPT = (
    "You assess evidence that a person has a practical skill, for a Korean regional platform. You get the "
    "automatic checks of their photos and voice recordings and a rule-based tier. Recommend a tier "
    "(1 기초, 2 숙련, 3 전문) no higher than rule_max_tier, give short reasons in Korean that cite the checks, "
    "and a summary in Korean. Never invent facts that are not in the input."
)


class OpenAIWriter:
    """The LLM writer (LangChain ChatOpenAI with structured output); falls back to the template on any error."""

    def __init__(self, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 30.0) -> None:
        self.api_key, self.model, self.base_url, self.timeout_s = api_key, model, base_url, timeout_s
        self.engine = f"openai:{model}"

    def _ask(self, facts: AssessmentFacts, outcome: RuleOutcome) -> _LlmAnswer:
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(model=self.model, api_key=self.api_key, base_url=self.base_url,  # type: ignore[arg-type]
                         timeout=self.timeout_s, max_retries=0, temperature=0)
        payload = {"skill": facts.skill, "description": facts.description[:2000], "photos": facts.photo_count,
                   "recordings": facts.audio_count, "audio_seconds": round(facts.audio_seconds),
                   "current_tier": facts.current_tier, "rule_max_tier": outcome.tier,
                   "rule_reasons": outcome.reasons,
                   "checks": [c.as_dict() for c in facts.checks]}
        answer = llm.with_structured_output(_LlmAnswer).invoke(
            [("system", SYSTEM_PROMPT), ("human", repr(payload))])
        if not isinstance(answer, _LlmAnswer):
            answer = _LlmAnswer.model_validate(answer)
        return answer

    def write(self, facts: AssessmentFacts) -> AssessmentReport:
        template = TemplateWriter().write(facts)
        outcome = rule_tier(facts)
        try:
            answer = self._ask(facts, outcome)
        except Exception as exc:  # network, auth, quota, malformed output: the template stands in
            reason = f"OpenAI writer failed ({type(exc).__name__}: {str(exc)[:200]}); template used instead"
            return template.model_copy(update={"fallback_reason": reason})
        tier = min(answer.recommended_tier, outcome.tier)
        return template.model_copy(update={
            "engine": self.engine, "recommended_tier": tier, "tier_label": TIER_LABELS_KO[tier],
            "reasons": answer.reasons or template.reasons, "summary": answer.summary or template.summary})


def writer_from_settings(api_key: str | None, model: str, base_url: str | None = None) -> AssessmentWriter:
    """The OpenAI writer when a key is configured, else the template writer."""
    if api_key:
        return OpenAIWriter(api_key, model, base_url)
    return TemplateWriter()
