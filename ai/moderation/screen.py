"""The moderation screen run on every new or edited post and comment: a spam and an abuse score with reasons.

- Local engine (the default, offline): the classifier's probabilities (ai/moderation/classifier.py)
  combined with the rules (ai/moderation/rules.py) by noisy-OR per kind: either can raise the score, and
  both together raise it more.
- OpenAI engine (OPENAI_API_KEY or OPENAI_BASE_URL set): OpenAI's moderation endpoint scores abuse
  (harassment, hate, violence, sexual, self-harm); it has no spam category, so spam still comes from the
  local engine. When the call fails, the local result is used and `fallback_reason` says why.

Content scoring at or above HOLD_THRESHOLD is held for review: visible to its author and to moderators,
with the score and the reasons, never deleted in silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ai.moderation.classifier import ENGINE_ID, ModerationModel, load_current
from ai.moderation.rules import Signal, combined, rule_signals
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

HOLD_THRESHOLD = 0.7
CLASSIFIER_REASON_FLOOR = 0.3  # below this the classifier's opinion is not worth a moderator's time
FULL_EVIDENCE_CHARS = 40  # a classifier reading fewer characters is partly guessing: its weight shrinks
OPENAI_MODERATION_MODEL = "omni-moderation-latest"


@dataclass(frozen=True)
class Screening:
    spam_score: float
    abuse_score: float
    reasons: list[str]
    engine: str
    fallback_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return max(self.spam_score, self.abuse_score)

    @property
    def label(self) -> str:
        """The worse kind (spam or abuse), or ok below the threshold."""
        if self.score < HOLD_THRESHOLD:
            return "ok"
        return "spam" if self.spam_score >= self.abuse_score else "abuse"

    @property
    def held(self) -> bool:
        return self.score >= HOLD_THRESHOLD


def _noisy_or(*scores: float) -> float:
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - min(max(score, 0.0), 1.0)
    return 1.0 - remaining


class LocalScreen:
    """Rules plus the local classifier."""

    def __init__(self, model: ModerationModel) -> None:
        self.model = model
        self.engine = f"{ENGINE_ID}@{model.version}"

    def parts(self, text: str) -> tuple[float, float, list[Signal], list[str]]:
        """(classifier spam, classifier abuse, rule signals, reasons).

        The classifier's probabilities are scaled down for short texts ('좋아요!', '조용히 해라'): a
        few characters carry little evidence, and a held greeting costs a moderator's time and a user's
        trust. Short spam and abuse are still caught by the rules, which do not need context.
        """
        raw_spam, raw_abuse = (float(p) for p in self.model.predict_proba([text])[0][1:])
        weight = min(1.0, len("".join(text.split())) / FULL_EVIDENCE_CHARS)
        p_spam, p_abuse = raw_spam * weight, raw_abuse * weight
        signals = rule_signals(text)
        reasons = [signal.reason for signal in signals]
        for kind, probability in (("spam", p_spam), ("abuse", p_abuse)):
            if probability >= CLASSIFIER_REASON_FLOOR:
                reasons.append(f"classifier: {kind} {probability:.2f}")
        return p_spam, p_abuse, signals, reasons

    def screen(self, text: str) -> Screening:
        p_spam, p_abuse, signals, reasons = self.parts(text)
        spam = _noisy_or(p_spam, combined(signals, "spam"))
        abuse = _noisy_or(p_abuse, combined(signals, "abuse"))
        return Screening(round(spam, 4), round(abuse, 4), reasons, self.engine,
                         details={"classifier": {"spam": round(p_spam, 4), "abuse": round(p_abuse, 4)},
                                  "rules": [s.code for s in signals]})


class OpenAIScreen:
    """OpenAI's moderation endpoint for abuse, the local engine for spam (and for everything on failure)."""

    def __init__(self, settings: Settings, local: LocalScreen, client: Any = None) -> None:
        self.local = local
        self.engine = f"openai:{OPENAI_MODERATION_MODEL}+{local.engine}"
        if client is None:
            from openai import OpenAI

            client = OpenAI(api_key=settings.openai_api_key or "not-needed", base_url=settings.openai_base_url,
                            timeout=10, max_retries=1)
        self.client = client

    def screen(self, text: str) -> Screening:
        try:
            response = self.client.moderations.create(model=OPENAI_MODERATION_MODEL, input=text)
            scores = dict(response.results[0].category_scores.model_dump())
        except Exception as exc:  # the network, the key, the quota: fall back, and say so
            log.warning("OpenAI moderation failed, using the local screen: %s", exc)
            result = self.local.screen(text)
            return Screening(result.spam_score, result.abuse_score, result.reasons, result.engine,
                             fallback_reason=f"openai moderation failed: {type(exc).__name__}: {exc}"[:300],
                             details=result.details)
        p_spam, _, signals, reasons = self.local.parts(text)
        numeric = {name: float(value) for name, value in scores.items() if isinstance(value, int | float)}
        top = sorted(numeric.items(), key=lambda item: -item[1])
        reasons = [r for r in reasons if not r.startswith("classifier: abuse")]
        reasons += [f"openai: {name} {value:.2f}" for name, value in top[:3] if value >= CLASSIFIER_REASON_FLOOR]
        abuse = _noisy_or(max(numeric.values(), default=0.0), combined(signals, "abuse"))
        spam = _noisy_or(p_spam, combined(signals, "spam"))
        return Screening(round(spam, 4), round(abuse, 4), reasons, self.engine,
                         details={"openai": {k: round(v, 4) for k, v in top[:5]}, "rules": [s.code for s in signals]})


def get_screen(settings: Settings | None = None, client: Any = None) -> LocalScreen | OpenAIScreen:
    """OpenAI when configured, else the local engine with the current model under var/models."""
    settings = settings or get_settings()
    local = LocalScreen(load_current(settings.var_dir / "models"))
    if settings.openai_api_key or settings.openai_base_url:
        return OpenAIScreen(settings, local, client)
    return local


def screen_text(title: str, body: str, settings: Settings | None = None) -> Screening:
    """Screen a post (title and body) or a comment (empty title)."""
    return get_screen(settings).screen(f"{title}\n{body}".strip())
