"""A user as the ranker sees them: declared regions, skills and interests, and their history.

History is weighted by recency (a half-life of HALF_LIFE_DAYS) and by how it went: a completed
mission says more about taste than one abandoned. Skills are those declared plus those shown by
completed skill missions. Constraints (distance from home, mission types, time) come from the
request, not from the stored profile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ai.recommend.data import MISSION_TYPES, Catalog, Interaction, Regions, UserRow, user_type_index
from core.vocab import MISSION_TYPE_LABELS_KO, MissionType

HALF_LIFE_DAYS = 120.0
OUTCOME_WEIGHT = {"completed": 1.0, "enrolled": 0.8, "failed": 0.5, "abandoned": 0.3}
CHECKIN_WINDOW_DAYS = 90.0

# anchor weights: how strongly each declared or observed place pulls (1 = the hometown)
W_HOMETOWN = 1.0
W_INTEREST = 0.8
W_HOME = 0.45
W_HISTORY = 0.9
W_CHECKIN = 0.6


@dataclass(frozen=True)
class Constraints:
    """Limits a user sets on a request; missions outside them are excluded."""

    max_distance_km: float | None = None  # from home (or hometown)
    mission_types: tuple[str, ...] = ()  # empty: any
    max_minutes: int | None = None


@dataclass(frozen=True)
class Anchor:
    region: int  # index into Regions
    weight: float
    kind: str  # hometown | interest | home | history | checkin


@dataclass
class UserProfile:
    user_id: str | None
    user_type: str | None
    hometown: int | None
    home: int | None
    interest_regions: list[int]
    skills: list[str]  # declared + shown
    declared_skills: list[str]
    interests: list[str]
    history: list[Interaction] = field(default_factory=list)
    checkins: list[tuple[int, float]] = field(default_factory=list)  # (region index, epoch)
    constraints: Constraints = field(default_factory=Constraints)
    now: float = 0.0
    _memo: dict[tuple[str, int], object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def type_index(self) -> int:
        return user_type_index(self.user_type)

    @property
    def is_cold_start(self) -> bool:
        return not self.history

    def recency(self, at: float) -> float:
        return float(0.5 ** (max(0.0, self.now - at) / 86_400 / HALF_LIFE_DAYS))

    def history_weights(self, catalog: Catalog) -> dict[int, float]:
        """Catalog position → weight of the user's attempts there (recency × outcome), summed
        (computed once per catalog: scoring and reasons ask for it many times)."""
        key = ("history", id(catalog))
        if key not in self._memo:
            self._memo[key] = self._history_weights(catalog)
        return self._memo[key]  # type: ignore[return-value]

    def _history_weights(self, catalog: Catalog) -> dict[int, float]:
        weights: dict[int, float] = {}
        for item in self.history:
            i = catalog.index.get(item.mission_id)
            if i is not None:
                weights[i] = weights.get(i, 0.0) + OUTCOME_WEIGHT[item.outcome] * self.recency(item.at)
        return weights

    def anchors(self, catalog: Catalog) -> list[Anchor]:
        """Where the user is drawn: declared places first, then the regions of their history."""
        key = ("anchors", id(catalog))
        if key not in self._memo:
            self._memo[key] = self._anchors(catalog)
        return self._memo[key]  # type: ignore[return-value]

    def _anchors(self, catalog: Catalog) -> list[Anchor]:
        out: list[Anchor] = []
        if self.hometown is not None:
            out.append(Anchor(self.hometown, W_HOMETOWN, "hometown"))
        out.extend(Anchor(r, W_INTEREST, "interest") for r in self.interest_regions)
        if self.home is not None:
            out.append(Anchor(self.home, W_HOME, "home"))
        by_region: dict[int, float] = {}
        for i, w in self.history_weights(catalog).items():
            region = int(catalog.region[i])
            by_region[region] = by_region.get(region, 0.0) + w
        for region, w in by_region.items():
            out.append(Anchor(region, W_HISTORY * min(1.0, 0.5 + w / 2), "history"))
        seen: dict[int, float] = {}
        for region, at in self.checkins:
            if self.now - at <= CHECKIN_WINDOW_DAYS * 86_400:
                seen[region] = max(seen.get(region, 0.0), self.recency(at))
        out.extend(Anchor(r, W_CHECKIN * w, "checkin") for r, w in seen.items())
        return out

    def type_counts(self, catalog: Catalog) -> list[float]:
        counts = [0.0] * len(MISSION_TYPES)
        for i, w in self.history_weights(catalog).items():
            counts[int(catalog.mission_type[i])] += w
        return counts

    def text(self, regions: Regions, catalog: Catalog, limit: int = 8) -> str:
        """The words for content similarity: interests, skills, places, and the latest missions."""
        parts = []
        if self.interests:
            parts.append("관심사 " + ", ".join(self.interests))
        if self.skills:
            parts.append("보유 기술 " + ", ".join(self.skills) + " 재능기부")
        if self.constraints.mission_types:
            parts.append(" ".join(MISSION_TYPE_LABELS_KO[MissionType(t)] for t in self.constraints.mission_types))
        recent = sorted(self.history, key=lambda h: -h.at)[:limit]
        for item in recent:
            i = catalog.index.get(item.mission_id)
            if i is not None and item.outcome in ("completed", "enrolled"):
                parts.append(catalog.titles[i])
        return ". ".join(parts)


def build_profile(row: UserRow, regions: Regions, catalog: Catalog, history: Sequence[Interaction] = (),
                  checkins: Iterable[tuple[str, float]] = (), now: float | None = None,
                  constraints: Constraints | None = None) -> UserProfile:
    """A profile from what the user declared and did. Unknown region codes are ignored (not an error:
    an empty or odd profile still gets cold-start results)."""
    def region(code: str | None) -> int | None:
        return regions.index.get(code) if code else None

    interest = [r for r in (region(c) for c in row.interest_region_codes) if r is not None]
    declared = [s for s in row.skills if s]
    shown = {s for h in history if h.outcome == "completed" and h.mission_id in catalog.index
             for s in catalog.skill_names[catalog.index[h.mission_id]]}
    at = now if now is not None else max((h.at for h in history), default=0.0)
    return UserProfile(
        user_id=row.user_id, user_type=row.user_type, hometown=region(row.hometown_region_code),
        home=region(row.home_region_code), interest_regions=list(dict.fromkeys(interest)),
        skills=sorted(set(declared) | shown), declared_skills=declared, interests=list(row.interests),
        history=list(history), checkins=[(regions.index[c], t) for c, t in checkins if c in regions.index],
        constraints=constraints or Constraints(), now=at if math.isfinite(at) else 0.0)
