"""Narrative writers for the policy proposal: the LLM through LangChain when OpenAI is configured, a
deterministic template writer otherwise. Both return the same `PolicyNarrative`, which names its engine;
any OpenAI failure falls back to the template and records why (printed in the document).

The LLM sees only the findings as they will be printed (already suppressed), never rows about people.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ai.reports.policy import Finding

TEMPLATE_ENGINE = "template-v1"


class FindingText(BaseModel):
    id: str
    text: str


class PolicyNarrative(BaseModel):
    engine: str
    intro: str
    findings: list[FindingText]
    closing: str
    fallback_reason: str | None = None

    def text_for(self, finding_id: str) -> str:
        return next((f.text for f in self.findings if f.id == finding_id), "")


class NarrativeWriter(Protocol):
    engine: str

    def write(self, region_name: str, period_label: str, findings: list[Finding]) -> PolicyNarrative: ...


class TemplateWriter:
    """Sentences assembled from each finding's statement and proposal: same input, same text."""

    engine = TEMPLATE_ENGINE

    def write(self, region_name: str, period_label: str, findings: list[Finding]) -> PolicyNarrative:
        usable = [f for f in findings if f.available]
        intro = (f"이 제안서는 {period_label}까지 {region_name}에서 고향으로 ON에 기록된 활동을 다섯 가지 질문으로 "
                 f"살펴보고, 근거 표와 함께 실행할 수 있는 제안을 드립니다. 다섯 가지 중 {len(usable)}가지에서 "
                 "결론을 낼 수 있었습니다.")
        texts = []
        for f in findings:
            if f.available and f.proposal:
                text = f"{f.statement} 따라서 다음을 제안합니다: {f.proposal}"
            elif f.available:
                text = f.statement
            else:
                text = f"{f.statement} 자료가 쌓이면 다음 제안서에서 다시 살펴봅니다."
            texts.append(FindingText(id=f.id, text=text))
        first = next((f for f in usable if f.proposal), None)
        closing = ("가장 먼저 실행할 과제는 '" + first.title + "'의 제안입니다. " if first else "") + \
            "각 제안의 효과는 다음 달 보고서의 같은 지표로 확인할 수 있습니다."
        return PolicyNarrative(engine=self.engine, intro=intro, findings=texts, closing=closing)


class _LlmAnswer(BaseModel):
    intro: str = Field(description="2-3 sentences in Korean introducing the proposal for the municipality")
    findings: list[FindingText] = Field(description="one entry per finding id, 2-4 sentences in Korean each")
    closing: str = Field(description="1-2 sentences in Korean: what to do first")


SYSTEM_PROMPT = (
    "You write a policy proposal for a Korean municipality (시군구) from findings computed by fixed rules over "
    "the platform's data. Write formal Korean (합니다체) for officials. For each finding id, explain the evidence "
    "and the proposal; cite only numbers that appear in the input, never invent numbers, places or programmes; "
    "a value 'X' is suppressed for privacy and must not be guessed. Keep every finding id exactly once."
)


class OpenAIWriter:
    """LangChain ChatOpenAI with structured output; the template writer stands in on any failure."""

    def __init__(self, api_key: str | None, model: str, base_url: str | None = None, timeout_s: float = 60.0,
                 llm: Any | None = None) -> None:
        self.api_key, self.model, self.base_url, self.timeout_s = api_key, model, base_url, timeout_s
        self.engine = f"openai:{model}"
        self._llm = llm

    def _chat(self) -> Any:
        if self._llm is not None:
            return self._llm
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=self.model, api_key=self.api_key or "not-needed",  # type: ignore[arg-type]
                          base_url=self.base_url, timeout=self.timeout_s, max_retries=0, temperature=0.2)

    def _ask(self, region_name: str, period_label: str, findings: list[Finding]) -> _LlmAnswer:
        payload = {"region": region_name, "period": period_label, "findings": [
            {"id": f.id, "question": f.question, "available": f.available, "statement": f.statement,
             "proposal": f.proposal, "facts": f.facts,
             "evidence": None if f.evidence is None else {"headers": f.evidence.headers, "rows": f.evidence.rows}}
            for f in findings]}
        answer = self._chat().with_structured_output(_LlmAnswer).invoke(
            [("system", SYSTEM_PROMPT), ("human", json.dumps(payload, ensure_ascii=False))])
        if not isinstance(answer, _LlmAnswer):
            answer = _LlmAnswer.model_validate(answer)
        if {f.id for f in answer.findings} != {f.id for f in findings}:
            raise ValueError("the model did not write exactly one text per finding")
        return answer

    def write(self, region_name: str, period_label: str, findings: list[Finding]) -> PolicyNarrative:
        try:
            answer = self._ask(region_name, period_label, findings)
        except Exception as exc:  # network, auth, quota, malformed output: the template stands in, and says so
            fallback = TemplateWriter().write(region_name, period_label, findings)
            reason = f"OpenAI 작성 실패({type(exc).__name__}: {str(exc)[:160]}); 템플릿 작성기로 대신 작성"
            return fallback.model_copy(update={"fallback_reason": reason})
        return PolicyNarrative(engine=self.engine, intro=answer.intro, findings=answer.findings,
                               closing=answer.closing)


def writer_from_settings(settings: Any) -> NarrativeWriter:
    """The OpenAI writer when a key or a compatible base URL is configured, else the template writer."""
    if settings.openai_api_key or settings.openai_base_url:
        return OpenAIWriter(settings.openai_api_key, settings.openai_chat_model, settings.openai_base_url)
    return TemplateWriter()
