"""The hybrid ranker: additive score parts over the whole catalog, exclusions, then MMR.

score(user, mission) = Σ parts, each part a weighted, bounded signal that is kept and shown:

| part          | signal                                                                 |
| ------------- | ---------------------------------------------------------------------- |
| region        | pull of the user's places (hometown, interest regions, home, history,   |
|               | recent check-ins) on the mission's region, on a log scale (0…1)         |
| mission_type  | how much the user takes this kind of mission (history, else the priors |
|               | of their user type and declared interests), on a log scale               |
| skill         | +1 the mission needs a skill the user has, −1 one they lack, 0 none     |
| content       | cosine of the user's words (interests, skills, recent missions) and the |
|               | mission's, from the vector store                                         |
| collaborative | co-participation with the user's missions (item-item cosine)            |
| popularity    | users (of the same type, mostly) who took it, log scale                 |
| success       | completion rate of similar users (same type) minus their mean           |
| novelty       | a region new to the user, in a less-known mission                        |
| policy        | population-decline area, × the weight staff set                          |
| repeat        | −1 for a mission the user failed or abandoned before                     |

Region and mission type are on log scales because a person's choices multiply them: someone
drawn to 의성 who likes volunteering takes volunteering in 의성, not the average of the two.
Exclusions (never shown): missions done or in progress, full, expired, or outside the request's
constraints. MMR then trades a little score for variety among the top candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse

from ai.recommend.data import MISSION_TYPES, SKILL_INDEX, haversine_km
from ai.recommend.model import RecommenderModel
from ai.recommend.profile import UserProfile
from ai.recommend.reasons import Reason, explain

REGION_FLOOR = 0.02  # affinity of a region nothing ties the user to (log scale floor)
TYPE_RANGE = 20.0  # a type 20× less liked than the favourite scores 0
SKILL_MATCH = math.log(3.0)  # log-odds units, like region and mission type: a match triples the pull
SKILL_MISSING = math.log(0.25)  # a skill the user lacks quarters it
POOL = 50  # candidates MMR chooses from
DEFAULT_K = 20
PARTS = ("region", "mission_type", "skill", "content", "collaborative", "popularity", "success", "novelty",
         "policy", "repeat")


@dataclass(frozen=True)
class Weights:
    region: float = 1.0
    mission_type: float = 1.0
    skill: float = 1.0
    content: float = 0.3
    collaborative: float = 1.5
    popularity: float = 0.7
    success: float = 0.5
    novelty: float = 0.05
    policy: float = 0.2  # staff set it (app.recommendation_settings); this is the default
    repeat: float = 1.0
    mmr_lambda: float = 0.85  # 1 = pure score, 0 = pure variety

    def with_policy(self, value: float | None) -> Weights:
        return self if value is None else Weights(**{**asdict(self), "policy": float(value)})


@dataclass(frozen=True)
class Recommendation:
    mission_id: str
    rank: int
    score: float
    parts: dict[str, float]
    reasons: list[Reason] = field(default_factory=list)

    @property
    def reasons_ko(self) -> list[str]:
        return [r.ko for r in self.reasons]

    @property
    def reasons_en(self) -> list[str]:
        return [r.en for r in self.reasons]


@dataclass
class ScoredBatch:
    parts: dict[str, np.ndarray]  # name → (B, M) contributions
    total: np.ndarray  # (B, M), -inf where excluded


class HybridRanker:
    def __init__(self, model: RecommenderModel, weights: Weights | None = None,
                 embed: object | None = None) -> None:
        """`embed`: an engine with `embed_array` (the same one that made the mission vectors)."""
        self.model = model
        self.weights = weights or Weights()
        self.embed = embed
        cat = model.catalog
        self._type_onehot = np.eye(len(MISSION_TYPES), dtype=np.float32)[cat.mission_type]
        self._skills = cat.skills.astype(np.float32)
        self._has_skills = cat.has_skills
        self._decline = model.regions.is_decline[cat.region].astype(np.float32)
        self._type_of = np.asarray(cat.mission_type, dtype=np.int64)
        pop = np.log1p(model.popularity)
        self._pop_norm = pop / pop.max() if pop.max() > 0 else pop
        by_type = np.log1p(model.popularity_by_type + 0.3 * model.popularity[None, :])
        # a mission nobody has tried yet (just approved) gets the typical popularity, not the lowest:
        # absence of data is not evidence of dislike
        unseen = model.popularity == 0
        if unseen.any() and (~unseen).any():
            by_type[:, unseen] = np.median(by_type[:, ~unseen], axis=1, keepdims=True)
        self._pop_by_type = by_type.astype(np.float32)

    # ---- parts ----------------------------------------------------------------------------------
    def _region_affinity(self, profile: UserProfile) -> np.ndarray:
        """(R,) the strongest pull any of the user's anchors puts on each region."""
        affinity = np.zeros(len(self.model.regions), dtype=np.float32)
        for anchor in profile.anchors(self.model.catalog):
            np.maximum(affinity, anchor.weight * self.model.region_kernel[anchor.region], out=affinity)
        return affinity

    def _type_preference(self, profile: UserProfile) -> np.ndarray:
        model = self.model
        prior = np.log(model.type_by_user_type[profile.type_index])
        known = [model.type_by_interest[i] for i in profile.interests if i in model.type_by_interest]
        if known:  # naive Bayes over interests, damped (interests overlap)
            prior = prior + 0.5 * np.sum([np.log(k) - np.log(model.type_global) for k in known], axis=0)
        prior = np.exp(prior - prior.max())
        prior /= prior.sum()
        counts = np.asarray(profile.type_counts(model.catalog))
        preference = counts + 3.0 * prior
        if profile.constraints.mission_types:
            allowed = np.isin(np.array(MISSION_TYPES), profile.constraints.mission_types)
            preference = np.where(allowed, preference, preference.min())
        return np.asarray(preference / preference.sum(), dtype=np.float32)

    def _profile_vectors(self, profiles: Sequence[UserProfile]) -> np.ndarray:
        model = self.model
        dims = model.vectors.shape[1]
        out = np.zeros((len(profiles), dims), dtype=np.float32)
        if self.embed is None or dims == 0:
            return out
        texts = [p.text(model.regions, model.catalog) for p in profiles]
        has_text = [i for i, t in enumerate(texts) if t]
        if has_text:
            vectors = self.embed.embed_array([texts[i] for i in has_text])  # type: ignore[attr-defined]
            if vectors.shape[1] == dims:
                out[has_text] = vectors
        return out

    def score(self, profiles: Sequence[UserProfile], exclude_all_seen: bool = False) -> ScoredBatch:
        """Every part for every (user, mission) of the batch, and the total with exclusions applied.

        `exclude_all_seen`: also exclude failed and abandoned missions (the evaluation hides only
        missions new to the user, so every method is scored on the same candidates)."""
        model, w, cat = self.model, self.weights, self.model.catalog
        batch, size = len(profiles), len(cat)
        affinity = np.stack([self._region_affinity(p) for p in profiles]) if batch else np.zeros((0, 1))
        region = affinity[:, cat.region]
        preference = np.stack([self._type_preference(p) for p in profiles]).astype(np.float32)
        type_share = preference[:, cat.mission_type] / preference.max(axis=1, keepdims=True)
        user_skills = np.zeros((batch, self._skills.shape[1]), dtype=np.float32)
        for b, p in enumerate(profiles):
            for s in p.skills:
                if s in SKILL_INDEX:
                    user_skills[b, SKILL_INDEX[s]] = 1.0
        matched = (user_skills @ self._skills.T) > 0
        skill = np.where(self._has_skills[None, :], np.where(matched, np.float32(1), np.float32(-1)), np.float32(0))
        content = np.clip(self._profile_vectors(profiles) @ model.vectors.T, 0.0, 1.0)
        history = [p.history_weights(cat) for p in profiles]
        collaborative = self._collaborative(history, size)
        types = np.array([p.type_index for p in profiles], dtype=np.int64)
        popularity = self._pop_by_type[types]
        success = model.success[types] - model.success_mean[types][:, None]  # float32
        visited = np.zeros((batch, len(model.regions)), dtype=bool)
        for b, h in enumerate(history):
            visited[b, cat.region[list(h)]] = True
        novelty = (~visited[:, cat.region]) * (1.0 - self._pop_norm[None, :]).astype(np.float32)
        repeat = np.zeros((batch, size), dtype=np.float32)
        for b, p in enumerate(profiles):
            for item in p.history:
                i = cat.index.get(item.mission_id)
                if i is not None and item.outcome in ("failed", "abandoned"):
                    repeat[b, i] = -1.0
        parts = {
            "region": np.float32(w.region) * np.log((REGION_FLOOR + region) / REGION_FLOOR, dtype=np.float32),
            "mission_type": np.float32(w.mission_type) * np.maximum(
                np.log(type_share) + np.float32(math.log(TYPE_RANGE)), np.float32(0)),
            "skill": np.float32(w.skill) * np.where(skill > 0, np.float32(SKILL_MATCH),
                                                    np.where(skill < 0, np.float32(SKILL_MISSING), np.float32(0))),
            "content": np.float32(w.content) * content,
            "collaborative": np.float32(w.collaborative) * collaborative,
            "popularity": np.float32(w.popularity) * popularity,
            "success": np.float32(w.success) * success,
            "novelty": np.float32(w.novelty) * novelty,
            "policy": np.broadcast_to(np.float32(w.policy) * self._decline, (batch, size)),
            "repeat": np.float32(w.repeat) * repeat,
        }
        total = np.zeros((batch, size), dtype=np.float32)
        for value in parts.values():
            total += value
        total[self.excluded(profiles, exclude_all_seen)] = -np.inf
        return ScoredBatch(parts=parts, total=total)

    def _collaborative(self, history: list[dict[int, float]], size: int) -> np.ndarray:
        rows = [b for b, h in enumerate(history) for _ in h]
        if not rows:
            return np.zeros((len(history), size), dtype=np.float32)
        cols = [i for h in history for i in h]
        vals = [v for h in history for v in h.values()]
        weights = sparse.csr_matrix((vals, (rows, cols)), shape=(len(history), size), dtype=np.float32)
        scores = np.asarray((weights @ self.model.item_sim).todense())
        top = scores.max(axis=1, keepdims=True)
        return np.asarray(scores / np.where(top > 0, top, 1.0), dtype=np.float32)

    def excluded(self, profiles: Sequence[UserProfile], exclude_all_seen: bool = False) -> np.ndarray:
        """(B, M) True where a mission must not be shown: done, in progress, full, expired, or
        outside the request's constraints."""
        cat = self.model.catalog
        mask = np.zeros((len(profiles), len(cat)), dtype=bool)
        full = cat.taken >= cat.capacity
        for b, p in enumerate(profiles):
            row = mask[b]
            row |= full
            row |= cat.ends_at < p.now
            for item in p.history:
                i = cat.index.get(item.mission_id)
                if i is not None and (exclude_all_seen or item.outcome in ("completed", "enrolled")):
                    row[i] = True
            c = p.constraints
            if c.mission_types:
                row |= ~np.isin(cat.mission_type, [MISSION_TYPES.index(t) for t in c.mission_types])
            if c.max_minutes is not None:
                row |= cat.expected_minutes > c.max_minutes
            origin = p.home if p.home is not None else p.hometown
            if c.max_distance_km is not None and origin is not None:
                regions = self.model.regions
                row |= haversine_km(regions.lat[origin], regions.lon[origin], cat.lat, cat.lon) > c.max_distance_km
        return mask

    # ---- choosing -------------------------------------------------------------------------------
    def select(self, scored: ScoredBatch, k: int = DEFAULT_K, diversify: bool = True) -> np.ndarray:
        """(B, k) catalog positions, best first (-1 where fewer than k missions are allowed)."""
        total = scored.total
        batch, size = total.shape
        pool = min(POOL if diversify else k, size)
        if size == 0 or batch == 0:
            return np.full((batch, k), -1, dtype=np.int64)
        candidates = np.argpartition(-total, pool - 1, axis=1)[:, :pool] if pool < size else \
            np.tile(np.arange(size), (batch, 1))
        cand_scores = np.take_along_axis(total, candidates, axis=1)
        order = np.argsort(-cand_scores, axis=1, kind="stable")
        candidates = np.take_along_axis(candidates, order, axis=1)
        cand_scores = np.take_along_axis(cand_scores, order, axis=1)
        if not diversify or self.weights.mmr_lambda >= 1.0:
            chosen = candidates[:, :k]
            valid = np.isfinite(cand_scores[:, :k])
        else:
            chosen, valid = self._mmr(candidates, cand_scores, k)
        out = np.where(valid, chosen, -1)
        if out.shape[1] < k:
            out = np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)
        return out

    def _mmr(self, candidates: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Maximal marginal relevance, vectorised over the batch: each step takes the candidate with
        the best λ·relevance − (1−λ)·(highest similarity to those already taken)."""
        lam = self.weights.mmr_lambda
        batch, pool = candidates.shape
        finite = np.isfinite(scores)
        low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
        high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
        relevance = np.where(finite, (scores - low) / np.maximum(high - low, 1e-9), -np.inf)
        vectors = self.model.vectors[candidates]  # (B, P, d)
        similarity = np.clip(np.einsum("bpd,bqd->bpq", vectors, vectors), 0, 1) if vectors.shape[2] else \
            np.zeros((batch, pool, pool))
        taken_sim = np.zeros((batch, pool))
        available = finite.copy()
        picks = np.full((batch, min(k, pool)), -1, dtype=np.int64)
        valid = np.zeros((batch, min(k, pool)), dtype=bool)
        rows = np.arange(batch)
        for step in range(min(k, pool)):
            value = np.where(available, lam * relevance - (1 - lam) * taken_sim, -np.inf)
            best = value.argmax(axis=1)
            ok = available[rows, best]
            picks[:, step] = candidates[rows, best]
            valid[:, step] = ok
            available[rows, best] = False
            taken_sim = np.maximum(taken_sim, similarity[rows, best])
        return picks, valid

    # ---- the whole thing ------------------------------------------------------------------------
    def recommend(self, profiles: Sequence[UserProfile], k: int = DEFAULT_K, with_reasons: bool = True
                  ) -> list[list[Recommendation]]:
        """Top `k` for each profile, with parts and reasons."""
        if not profiles:
            return []
        scored = self.score(profiles)
        chosen = self.select(scored, k)
        out: list[list[Recommendation]] = []
        names = list(scored.parts)
        positions = np.maximum(chosen, 0)
        batch, size = scored.total.shape
        # only the chosen missions' parts: stacking (parts × users × catalog) would copy hundreds of MB
        picked = np.stack([np.take_along_axis(np.broadcast_to(scored.parts[n], (batch, size)), positions, axis=1)
                           for n in names], axis=2).round(4)  # (B, k, parts)
        totals = np.take_along_axis(scored.total, positions, axis=1)
        for b, profile in enumerate(profiles):
            items = []
            rows = picked[b].tolist()
            for rank, i in enumerate(chosen[b].tolist(), start=1):
                if i < 0:
                    break
                parts = dict(zip(names, rows[rank - 1], strict=True))
                reasons = explain(self, profile, i, parts) if with_reasons else []
                items.append(Recommendation(mission_id=self.model.catalog.ids[i], rank=rank,
                                            score=round(float(totals[b, rank - 1]), 4), parts=parts, reasons=reasons))
            out.append(items)
        return out

