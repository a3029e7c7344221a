"""Ranking mentors for a mentee, with the reasons a person can check.

Six components, each in [0, 1], weighted and summed:
- region: the mentor knows the mentee's target region, shares their hometown, or knows the same 시도;
- skills: the share of the skills the mentee wants that the mentor declared;
- similarity: cosine of the mentee's need and the mentor's profile in the platform's embedding space
  (ai.embeddings: the same engine as the mission recommendations), for what the word lists miss;
- tier: the best certification tier (1–3) the mentor holds in a wanted skill;
- availability: shared time slots;
- response: how often and how fast the mentor answered requests (smoothed, so a new mentor is not
  buried by one missed request).
Mentors who are full, not accepting, sanctioned, or the mentee themselves are never proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.korean import josa

WEIGHTS = {"region": 0.30, "skills": 0.25, "similarity": 0.15, "tier": 0.10, "availability": 0.05,
           "response": 0.15}
AVAILABILITY_LABELS_KO = {"weekday_daytime": "평일 낮", "weekday_evening": "평일 저녁", "weekend": "주말",
                          "online": "온라인"}
PRIOR_ANSWERED, PRIOR_TOTAL = 2.0, 3.0  # a new mentor starts at a 2/3 answer rate
SIMILARITY_REASON_FLOOR = 0.35


@dataclass(frozen=True)
class Mentee:
    user_id: str
    needs: str
    skills: tuple[str, ...]
    region_codes: tuple[str, ...]  # where they want to go (and their interest regions)
    hometown_region_code: str | None
    availability: tuple[str, ...]


@dataclass(frozen=True)
class MentorCandidate:
    user_id: str
    display_name: str
    headline: str
    bio: str
    skills: tuple[str, ...]
    region_codes: tuple[str, ...]
    hometown_region_code: str | None
    home_region_code: str | None
    availability: tuple[str, ...]
    capacity: int
    active_mentees: int
    tiers: dict[str, int] = field(default_factory=dict)  # certified skill → tier
    requests_total: int = 0
    requests_answered: int = 0
    median_hours_to_answer: float | None = None

    @property
    def open_slots(self) -> int:
        return self.capacity - self.active_mentees

    def profile_text(self) -> str:
        return f"{self.headline}. {self.bio} {' '.join(self.skills)}"


@dataclass(frozen=True)
class Suggestion:
    mentor: MentorCandidate
    score: float
    components: dict[str, float]
    reasons: list[str]


def _region_component(mentee: Mentee, mentor: MentorCandidate, names: dict[str, str]) -> tuple[float, list[str]]:
    known = set(mentor.region_codes) | {c for c in (mentor.home_region_code,) if c}
    best, reasons = 0.0, []
    for code in mentee.region_codes:
        if code in known:
            best = 1.0
            reasons.append(f"{josa(names.get(code, code), '을', '를')} 잘 알아요")
            break
    if mentee.hometown_region_code and mentee.hometown_region_code == mentor.hometown_region_code:
        best = max(best, 0.9)
        reasons.append(f"같은 고향: {names.get(mentee.hometown_region_code, mentee.hometown_region_code)}")
    if best == 0.0:
        wanted_sido = {code[:2] for code in mentee.region_codes}
        shared = wanted_sido & {code[:2] for code in known | {mentor.hometown_region_code or ""} if code}
        if shared:
            best = 0.5
            sido = sorted(shared)[0]
            reasons.append(f"같은 {josa(names.get(sido, sido + ' 지역'), '을', '를')} 알아요")
    return best, reasons


def _skills_component(mentee: Mentee, mentor: MentorCandidate) -> tuple[float, float, list[str]]:
    """(skills, tier, reasons)."""
    matched = [skill for skill in mentee.skills if skill in mentor.skills]
    reasons = []
    for skill in matched:
        tier = mentor.tiers.get(skill)
        reasons.append(f"{skill} 인증 {tier}단계" if tier else f"{skill} 경험")
    share = len(matched) / len(mentee.skills) if mentee.skills else 0.0
    best_tier = max((mentor.tiers.get(skill, 0) for skill in matched), default=0) / 3
    return share, best_tier, reasons


def _availability_component(mentee: Mentee, mentor: MentorCandidate) -> tuple[float, list[str]]:
    if not mentee.availability or not mentor.availability:
        return 0.5, []
    shared = [slot for slot in mentee.availability if slot in mentor.availability]
    if not shared:
        return 0.0, []
    return 1.0, [f"{', '.join(AVAILABILITY_LABELS_KO.get(s, s) for s in shared)} 가능"]


def _response_component(mentor: MentorCandidate) -> tuple[float, list[str]]:
    rate = (mentor.requests_answered + PRIOR_ANSWERED) / (mentor.requests_total + PRIOR_TOTAL)
    speed = 0.5 if mentor.median_hours_to_answer is None else 1 / (1 + mentor.median_hours_to_answer / 24)
    if mentor.requests_total == 0:
        return 0.7 * rate + 0.3 * speed, ["새로 등록한 멘토"]
    reason = f"응답률 {mentor.requests_answered / mentor.requests_total:.0%}"
    if mentor.median_hours_to_answer is not None:
        reason += f" · 보통 {max(1, round(mentor.median_hours_to_answer))}시간 안에 답해요"
    return 0.7 * rate + 0.3 * speed, [reason]


def rank_mentors(mentee: Mentee, candidates: Sequence[MentorCandidate], similarities: np.ndarray,
                 region_names: dict[str, str], limit: int = 10) -> list[Suggestion]:
    """Eligible candidates, best first. `similarities[i]` is the cosine of the mentee's need and candidate i."""
    suggestions = []
    for index, mentor in enumerate(candidates):
        if mentor.user_id == mentee.user_id or mentor.open_slots <= 0:
            continue
        region, region_reasons = _region_component(mentee, mentor, region_names)
        skills, tier, skill_reasons = _skills_component(mentee, mentor)
        similarity = float(np.clip(similarities[index], 0.0, 1.0))
        availability, availability_reasons = _availability_component(mentee, mentor)
        response, response_reasons = _response_component(mentor)
        components = {"region": region, "skills": skills, "similarity": similarity, "tier": tier,
                      "availability": availability, "response": response}
        score = sum(WEIGHTS[name] * value for name, value in components.items())
        reasons = region_reasons + skill_reasons
        if similarity >= SIMILARITY_REASON_FLOOR:
            reasons.append(f"찾는 도움과 멘토 소개가 비슷해요 ({similarity:.2f})")
        reasons += availability_reasons + response_reasons + [f"남은 자리 {mentor.open_slots}명"]
        suggestions.append(Suggestion(mentor, round(score, 4), {k: round(v, 4) for k, v in components.items()},
                                      reasons))
    suggestions.sort(key=lambda s: (-s.score, s.mentor.user_id))
    return suggestions[:limit]
