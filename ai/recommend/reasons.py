"""Why a mission was recommended, in Korean and English, from the parts that raised its score.

Each reason names the concrete thing behind its part: the hometown or interest region that pulls
("고향 경북 의성군과 가까움"), the skill that matches ("보유 기술 목공과 일치"), the kind of mission,
the missions the user did. At most MAX_REASONS, strongest first; a recommendation always has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ai.recommend.data import MISSION_TYPES
from core.vocab import MISSION_TYPE_LABELS_KO, USER_TYPE_LABELS_KO, MissionType, UserType

if TYPE_CHECKING:
    from ai.recommend.profile import UserProfile
    from ai.recommend.ranker import HybridRanker

MAX_REASONS = 3
MIN_CONTRIBUTION = 0.05
TYPE_EN = {"exploration": "exploration", "social": "volunteering", "skill": "skill-sharing",
           "learning": "learning"}
ANCHOR_KO = {"hometown": "고향", "interest": "관심 지역", "home": "사는 곳", "history": "활동했던 지역",
             "checkin": "최근 방문한 곳"}
ANCHOR_EN = {"hometown": "your hometown", "interest": "your interest region", "home": "where you live",
             "history": "a region you were active in", "checkin": "a place you visited recently"}


@dataclass(frozen=True)
class Reason:
    part: str
    ko: str
    en: str


def josa(word: str, with_final: str, without_final: str) -> str:
    """The particle after `word`: 과/와, 이/가, 을/를, by whether its last syllable has a final consonant."""
    last = word.strip()[-1:] if word.strip() else ""
    if "가" <= last <= "힣":
        return with_final if (ord(last) - 0xAC00) % 28 else without_final
    return without_final if last.isalpha() else with_final


def _region_reason(ranker: HybridRanker, profile: UserProfile, mission: int) -> Reason | None:
    model = ranker.model
    region = int(model.catalog.region[mission])
    best = max(profile.anchors(model.catalog), key=lambda a: a.weight * model.region_kernel[a.region, region],
               default=None)
    if best is None:
        return None
    name = model.regions.short_names[best.region]
    if best.region == region:
        return Reason("region", f"{ANCHOR_KO[best.kind]} {name}의 미션", f"In {ANCHOR_EN[best.kind]}, {name}")
    return Reason("region", f"{ANCHOR_KO[best.kind]} {name}{josa(name, '과', '와')} 가까움",
                  f"Close to {ANCHOR_EN[best.kind]}, {name}")


def _skill_reason(ranker: HybridRanker, profile: UserProfile, mission: int) -> Reason | None:
    needed = ranker.model.catalog.skill_names[mission]
    key = ("reason:skill", needed)
    if key not in profile._memo:
        profile._memo[key] = _skill_reason_for(profile, needed)
    return profile._memo[key]  # type: ignore[return-value]


def _skill_reason_for(profile: UserProfile, needed: Sequence[str]) -> Reason | None:
    mine = [s for s in needed if s in profile.skills]
    if not mine:
        return None
    skill = mine[0]
    declared = skill in profile.declared_skills
    source_ko, source_en = ("보유 기술", "your skill") if declared else \
        ("완료한 재능기부로 보인 기술", "a skill you showed")
    return Reason("skill", f"{source_ko} {skill}{josa(skill, '과', '와')} 일치", f"Uses {source_en} {skill}")


def _type_reason(ranker: HybridRanker, profile: UserProfile, mission: int) -> Reason:
    kind = MISSION_TYPES[int(ranker.model.catalog.mission_type[mission])]
    label = MISSION_TYPE_LABELS_KO[MissionType(kind)]
    if profile.history:
        return Reason("mission_type", f"자주 하는 {label} 미션",
                      f"{_article(TYPE_EN[kind])} mission, the kind you take most")
    return Reason("mission_type", f"관심사에 맞는 {label} 미션",
                  f"{_article(TYPE_EN[kind])} mission that fits your interests")


def _article(word: str) -> str:
    return f"{'An' if word[:1] in 'aeiou' else 'A'} {word}"


_USER_TYPES = frozenset(t.value for t in UserType)


def _people(profile: UserProfile) -> tuple[str, str]:
    if profile.user_type in _USER_TYPES:
        label = USER_TYPE_LABELS_KO[UserType(profile.user_type)]  # type: ignore[arg-type]
        return f"{label} 참여자", f"{profile.user_type} users"
    return "참여자", "users"


def explain(ranker: HybridRanker, profile: UserProfile, mission: int, parts: dict[str, float]) -> list[Reason]:
    """Reasons for the strongest positive parts (at least one, at most MAX_REASONS).

    Parts about the person (their places, skills, missions, kinds of mission) come before parts
    about the mission (popularity, completion rate, policy), each group strongest first.
    Called 20 times per user when precomputing for every user, so the strings a user's reasons
    share (their region's, their kind of mission's) are made once per user and kept in the profile."""
    ranked = sorted((name for name in REASON_PARTS if parts.get(name, 0.0) >= MIN_CONTRIBUTION),
                    key=lambda name: (name not in PERSONAL_PARTS, -parts[name]))
    reasons: list[Reason] = []
    for name in ranked:
        reason = _reason(ranker, profile, mission, name)
        if reason is not None:
            reasons.append(reason)
            if len(reasons) == MAX_REASONS:
                break
    if not reasons:
        reasons.append(_type_reason(ranker, profile, mission))
    return reasons


PERSONAL_PARTS = frozenset({"region", "skill", "collaborative", "mission_type"})
REASON_PARTS = ("region", "skill", "mission_type", "content", "collaborative", "popularity", "success", "novelty",
                "policy")
_PERSONAL = np.array([name in PERSONAL_PARTS for name in REASON_PARTS])


def explain_many(ranker: HybridRanker, profiles: Sequence[UserProfile], rows: Sequence[int],
                 missions: Sequence[int], values: np.ndarray, names: Sequence[str]) -> list[list[Reason]]:
    """`explain` for many (profile, mission) pairs at once: the order of the parts (personal first,
    then strongest first, then the order of REASON_PARTS) is sorted for all pairs in one numpy call,
    so only the few reasons that are kept are made in Python. `values`: (N, len(names)) parts."""
    if not len(missions):
        return []
    columns = [list(names).index(name) for name in REASON_PARTS]
    v = values[:, columns]
    shown = v >= MIN_CONTRIBUTION
    group = np.where(shown, np.where(_PERSONAL, 0, 1), 2)
    order = np.lexsort((np.broadcast_to(np.arange(len(REASON_PARTS)), v.shape), -v, group), axis=1)
    out: list[list[Reason]] = []
    for row, mission, ranked, count in zip(rows, missions, order.tolist(), shown.sum(axis=1).tolist(), strict=True):
        profile = profiles[row]
        reasons: list[Reason] = []
        for j in ranked[:count]:
            reason = _reason(ranker, profile, mission, REASON_PARTS[j])
            if reason is not None:
                reasons.append(reason)
                if len(reasons) == MAX_REASONS:
                    break
        if not reasons:
            reasons.append(_reason(ranker, profile, mission, "mission_type"))  # type: ignore[arg-type]
        out.append(reasons)
    return out
_FIXED = {
    "content": Reason("content", "관심사·활동과 내용이 비슷함", "Similar to your interests and activity"),
    "collaborative": Reason("collaborative", "같은 미션을 한 사람들이 함께 참여함",
                            "People who did your missions also took this one"),
    "novelty": Reason("novelty", "새로운 지역을 만날 기회", "A chance to discover a new region"),
    "policy": Reason("policy", "인구감소지역을 잇는 미션", "In a population-decline area"),
}


def _reason(ranker: HybridRanker, profile: UserProfile, mission: int, name: str) -> Reason | None:
    if name in _FIXED:
        return _FIXED[name]
    memo = profile._memo
    if name == "region":
        key = ("reason:region", int(ranker.model.catalog.region[mission]))
        if key not in memo:
            memo[key] = _region_reason(ranker, profile, mission)
        return memo[key]  # type: ignore[return-value]
    if name == "mission_type":
        key = ("reason:type", int(ranker.model.catalog.mission_type[mission]))
        if key not in memo:
            memo[key] = _type_reason(ranker, profile, mission)
        return memo[key]  # type: ignore[return-value]
    if name == "skill":
        return _skill_reason(ranker, profile, mission)
    people_key = ("reason:people", 0)
    if people_key not in memo:
        memo[people_key] = _people(profile)
    people: tuple[str, str] = memo[people_key]  # type: ignore[assignment]
    people_ko, people_en = people
    if name == "popularity":
        return Reason("popularity", f"{people_ko}에게 인기 있는 미션", f"Popular with {people_en}")
    rate = float(ranker.model.success[profile.type_index, mission])
    return Reason("success", f"{people_ko}의 완료율이 높음 ({rate:.0%})",
                  f"Often completed by {people_en} ({rate:.0%})")
