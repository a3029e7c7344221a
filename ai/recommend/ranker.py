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

Two ways to the same ranking. `score` builds every part as a (users × catalog) matrix: simple, the
reference, and what one inspects. `shortlist` (what `recommend` uses, online and when precomputing)
folds the parts into one (users × catalog) total with as few passes as it can: the parts that only
depend on the user's type and the mission are summed once per ranker, region and mission type are
one lookup in a per-user (region × type) table, content is one matrix product, skills, co-
participation, novelty and repeats touch only the cells they change (sparse). Then `argpartition`
keeps the top POOL, the parts are computed exactly for those alone (the same formulas as `score`,
so a shortlisted mission's parts and score are the reference's), MMR picks k, and reasons are
written for the k only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse
from scipy.linalg import blas

from ai.recommend.data import MISSION_TYPES, SKILL_INDEX, haversine_km
from ai.recommend.model import RecommenderModel
from ai.recommend.profile import UserProfile
from ai.recommend.reasons import Reason, explain, explain_many

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


@dataclass
class Shortlist:
    """The top of each user's ranking, with exact parts for the candidates only."""

    chosen: np.ndarray  # (B, k) catalog positions, best first, -1 where fewer were allowed
    picked: np.ndarray  # (B, k) positions of the chosen within `candidates`
    candidates: np.ndarray  # (B, P) catalog positions, best score first
    parts: np.ndarray  # (B, P, len(PARTS)) float32 contributions
    total: np.ndarray  # (B, P) float32, -inf where excluded


@dataclass
class UserBatch:
    """What the ranker needs of a batch of profiles, as arrays, made once per batch."""

    profiles: Sequence[UserProfile]
    region_part: np.ndarray  # (B, R) float32: the weighted region part of a mission in each region
    type_part: np.ndarray  # (B, T) float32: the weighted mission-type part of each type
    skills: np.ndarray  # (B, S) float32 0/1
    vectors: np.ndarray  # (B, d) float32 profile vectors (zero without text or engine)
    types: np.ndarray  # (B,) user type index
    history: tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, positions, recency × outcome weights)
    visited: np.ndarray  # (B, R) bool: regions of the user's history
    repeat: tuple[np.ndarray, np.ndarray]  # (rows, positions) of missions failed or abandoned
    done: tuple[np.ndarray, np.ndarray]  # (rows, positions) of missions completed or in progress
    seen: tuple[np.ndarray, np.ndarray]  # (rows, positions) of every mission attempted
    nows: np.ndarray  # (B,) epoch seconds

    def __len__(self) -> int:
        return len(self.profiles)


def _pairs(pairs: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = np.array(sorted(pairs), dtype=np.int64).T
    return rows, cols


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated arange(start, start + count) for each pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(total, dtype=np.int64)


class HybridRanker:
    def __init__(self, model: RecommenderModel, weights: Weights | None = None,
                 embed: object | None = None) -> None:
        """`embed`: an engine with `embed_array` (the same one that made the mission vectors)."""
        self.model = model
        self.weights = w = weights or Weights()
        self.embed = embed
        cat = model.catalog
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
        self._novelty_base = (1.0 - self._pop_norm).astype(np.float32)  # novelty where the region is new
        # ---- what the fused total needs, made once per ranker (the catalog and weights are fixed)
        self._full = cat.taken >= cat.capacity
        self._key = cat.region.astype(np.int64) * len(MISSION_TYPES) + self._type_of  # (region, type) cell
        self._region_missions = np.argsort(cat.region, kind="stable")
        self._region_bounds = np.searchsorted(cat.region[self._region_missions], np.arange(len(model.regions) + 1))
        by_skill = sparse.csr_matrix(self._skills.T)  # (S, M): the missions needing each skill
        self._skill_indptr, self._skill_missions = by_skill.indptr.astype(np.int64), by_skill.indices.astype(np.int64)
        self._skill_gain = np.float32(w.skill) * np.float32(SKILL_MATCH) - np.float32(w.skill) * np.float32(
            SKILL_MISSING)
        # the parts that depend only on the user's type and the mission, summed per user type
        static = (np.float32(w.popularity) * self._pop_by_type
                  + np.float32(w.success) * (model.success - model.success_mean[:, None])
                  + (np.float32(w.policy) * self._decline + np.float32(w.novelty) * self._novelty_base
                     + np.float32(w.skill) * np.float32(SKILL_MISSING) * self._has_skills)[None, :])
        static[:, self._full] = -np.inf
        self._static = np.ascontiguousarray(static, dtype=np.float32)
        self._type_log_prior = np.log(model.type_by_user_type).astype(np.float32)
        self._interest_index = {name: i for i, name in enumerate(model.type_by_interest)}
        self._interest_log = np.array([np.log(v) - np.log(model.type_global) for v in model.type_by_interest.values()],
                                      dtype=np.float32).reshape(-1, len(MISSION_TYPES))

    # ---- the users of a batch, as arrays ----------------------------------------------------------
    def users(self, profiles: Sequence[UserProfile]) -> UserBatch:
        """Everything per user the parts need (region pulls, type preference, skills, words, history)."""
        cat = self.model.catalog
        batch = len(profiles)
        history_rows: list[int] = []
        history_cols: list[int] = []
        history_vals: list[float] = []
        done: set[tuple[int, int]] = set()
        repeat: set[tuple[int, int]] = set()
        seen: set[tuple[int, int]] = set()
        skills = np.zeros((batch, self._skills.shape[1]), dtype=np.float32)
        for b, p in enumerate(profiles):
            weights = p.history_weights(cat)
            history_rows.extend([b] * len(weights))
            history_cols.extend(weights)
            history_vals.extend(weights.values())
            for item in p.history:
                i = cat.index.get(item.mission_id)
                if i is None:
                    continue
                seen.add((b, i))
                if item.outcome in ("completed", "enrolled"):
                    done.add((b, i))
                elif item.outcome in ("failed", "abandoned"):
                    repeat.add((b, i))
            for s in p.skills:
                if s in SKILL_INDEX:
                    skills[b, SKILL_INDEX[s]] = 1.0
        history = (np.asarray(history_rows, dtype=np.int64), np.asarray(history_cols, dtype=np.int64),
                   np.asarray(history_vals, dtype=np.float32))
        visited = np.zeros((batch, len(self.model.regions)), dtype=bool)
        visited[history[0], cat.region[history[1]]] = True
        types = np.fromiter((p.type_index for p in profiles), dtype=np.int64, count=batch)
        return UserBatch(
            profiles=profiles, region_part=self._region_part(profiles), type_part=self._type_part(profiles, types),
            skills=skills, vectors=self._profile_vectors(profiles), types=types, history=history, visited=visited,
            repeat=_pairs(repeat), done=_pairs(done), seen=_pairs(seen),
            nows=np.fromiter((p.now for p in profiles), dtype=np.float64, count=batch))

    def _region_part(self, profiles: Sequence[UserProfile]) -> np.ndarray:
        """(B, R) weighted region part: the strongest pull any of the user's anchors puts on a region,
        on the log scale."""
        rows: list[int] = []
        regions: list[int] = []
        weights: list[float] = []
        for b, p in enumerate(profiles):
            for anchor in p.anchors(self.model.catalog):
                rows.append(b)
                regions.append(anchor.region)
                weights.append(anchor.weight)
        affinity = np.zeros((len(profiles), len(self.model.regions)), dtype=np.float32)
        if rows:
            pulls = np.asarray(weights, dtype=np.float32)[:, None] * self.model.region_kernel[regions]
            row = np.asarray(rows)
            starts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
            affinity[row[starts]] = np.maximum(np.maximum.reduceat(pulls, starts, axis=0), np.float32(0))
        return np.float32(self.weights.region) * np.log((REGION_FLOOR + affinity) / REGION_FLOOR, dtype=np.float32)

    def _type_part(self, profiles: Sequence[UserProfile], types: np.ndarray) -> np.ndarray:
        """(B, T) weighted mission-type part: the user's share of each kind of mission relative to
        their favourite, from their history and else the priors of their user type and interests
        (naive Bayes over interests, damped: interests overlap)."""
        batch, kinds = len(profiles), len(MISSION_TYPES)
        prior = self._type_log_prior[types]
        if self._interest_log.shape[0]:
            interests = np.zeros((batch, self._interest_log.shape[0]), dtype=np.float32)
            for b, p in enumerate(profiles):
                for name in p.interests:
                    j = self._interest_index.get(name)
                    if j is not None:
                        interests[b, j] += 1.0
            prior = prior + np.float32(0.5) * (interests @ self._interest_log)
        prior = np.exp(prior - prior.max(axis=1, keepdims=True))
        prior /= prior.sum(axis=1, keepdims=True)
        counts = np.array([p.type_counts(self.model.catalog) for p in profiles], dtype=np.float64).reshape(batch, kinds)
        preference = counts + 3.0 * prior
        for b, p in enumerate(profiles):
            if p.constraints.mission_types:
                allowed = np.isin(np.array(MISSION_TYPES), p.constraints.mission_types)
                preference[b] = np.where(allowed, preference[b], preference[b].min())
        preference = (preference / preference.sum(axis=1, keepdims=True)).astype(np.float32)
        share = preference / preference.max(axis=1, keepdims=True)
        return np.float32(self.weights.mission_type) * np.maximum(
            np.log(share) + np.float32(math.log(TYPE_RANGE)), np.float32(0))

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

    # ---- parts -------------------------------------------------------------------------------------
    def _weigh(self, users: UserBatch, region: np.ndarray, mission_type: np.ndarray, skill: np.ndarray,
               content: np.ndarray, collaborative: np.ndarray, positions: np.ndarray | None, novelty: np.ndarray,
               repeat: np.ndarray) -> dict[str, np.ndarray]:
        """The weighted parts from their signals, for the whole catalog (`positions` None) or for
        (B, P) catalog positions: one set of formulas for both paths."""
        model, w = self.model, self.weights
        types = users.types[:, None]
        if positions is None:
            popularity = self._pop_by_type[users.types]
            success = model.success[users.types] - model.success_mean[users.types][:, None]
            decline = self._decline
        else:
            popularity = self._pop_by_type[types, positions]
            success = model.success[types, positions] - model.success_mean[users.types][:, None]
            decline = self._decline[positions]
        return {
            "region": region,
            "mission_type": mission_type,
            "skill": np.float32(w.skill) * np.where(skill > 0, np.float32(SKILL_MATCH),
                                                    np.where(skill < 0, np.float32(SKILL_MISSING), np.float32(0))),
            "content": np.float32(w.content) * content,
            "collaborative": np.float32(w.collaborative) * collaborative,
            "popularity": np.float32(w.popularity) * popularity,
            "success": np.float32(w.success) * success,
            "novelty": np.float32(w.novelty) * novelty,
            "policy": np.broadcast_to(np.float32(w.policy) * decline, region.shape),
            "repeat": np.float32(w.repeat) * repeat,
        }

    def score(self, profiles: Sequence[UserProfile] | UserBatch, exclude_all_seen: bool = False) -> ScoredBatch:
        """Every part for every (user, mission) of the batch, and the total with exclusions applied:
        the reference (`shortlist` is the fast way to the same top).

        `exclude_all_seen`: also exclude failed and abandoned missions (the evaluation hides only
        missions new to the user, so every method is scored on the same candidates)."""
        users = profiles if isinstance(profiles, UserBatch) else self.users(profiles)
        model, cat = self.model, self.model.catalog
        batch, size = len(users), len(cat)
        matched = (users.skills @ self._skills.T) > 0
        skill = np.where(self._has_skills[None, :], np.where(matched, np.float32(1), np.float32(-1)), np.float32(0))
        repeat = np.zeros((batch, size), dtype=np.float32)
        repeat[users.repeat] = -1.0
        collaborative = np.zeros((batch, size), dtype=np.float32)
        keys, values = self._collaborative(users)
        collaborative.reshape(-1)[keys] = values
        parts = self._weigh(
            users, region=users.region_part[:, cat.region], mission_type=users.type_part[:, cat.mission_type],
            skill=skill, content=np.clip(users.vectors @ model.vectors.T, 0.0, 1.0),
            collaborative=collaborative, positions=None,
            novelty=(~users.visited[:, cat.region]) * self._novelty_base[None, :], repeat=repeat)
        total = np.zeros((batch, size), dtype=np.float32)
        for value in parts.values():
            total += value
        total[self.excluded(users.profiles, exclude_all_seen)] = -np.inf
        return ScoredBatch(parts=parts, total=total)

    def _collaborative(self, users: UserBatch) -> tuple[np.ndarray, np.ndarray]:
        """Co-participation with the user's missions (item-item, weighted by the user's history), each
        user's scores scaled to their maximum. Sparse, as (flat keys b·M + position, sorted, unique;
        values): a user's missions have a few hundred neighbours, not the catalog."""
        sim, size = self.model.item_sim, len(self.model.catalog)
        rows, cols, weights = users.history
        starts = sim.indptr[cols].astype(np.int64)
        counts = sim.indptr[cols + 1].astype(np.int64) - starts
        at = _ranges(starts, counts)
        if at.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        keys = np.repeat(rows, counts) * size + sim.indices[at]
        contributions = np.repeat(weights, counts) * sim.data[at]
        order = np.argsort(keys, kind="stable")
        keys, contributions = keys[order], contributions[order]
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        keys, scores = keys[first], np.add.reduceat(contributions, first)
        user = keys // size
        user_first = np.flatnonzero(np.concatenate(([True], user[1:] != user[:-1])))
        per_user = np.diff(np.append(user_first, user.size))
        top = np.maximum.reduceat(scores, user_first)
        top = np.where(per_user < size, np.maximum(top, np.float32(0)), top)  # as a dense row's maximum
        return keys, (scores / np.repeat(np.where(top > 0, top, np.float32(1)), per_user)).astype(np.float32)

    def excluded(self, profiles: Sequence[UserProfile], exclude_all_seen: bool = False) -> np.ndarray:
        """(B, M) True where a mission must not be shown: done, in progress, full, expired, or
        outside the request's constraints."""
        cat = self.model.catalog
        mask = np.zeros((len(profiles), len(cat)), dtype=bool)
        for b, p in enumerate(profiles):
            row = mask[b]
            row |= self._full
            row |= cat.ends_at < p.now
            for item in p.history:
                i = cat.index.get(item.mission_id)
                if i is not None and (exclude_all_seen or item.outcome in ("completed", "enrolled")):
                    row[i] = True
            outside = self._outside(p)
            if outside is not None:
                row |= outside
        return mask

    def _outside(self, profile: UserProfile) -> np.ndarray | None:
        """(M,) True for missions outside the request's constraints; None when it sets none."""
        c, cat = profile.constraints, self.model.catalog
        if not c.mission_types and c.max_minutes is None and c.max_distance_km is None:
            return None
        row = np.zeros(len(cat), dtype=bool)
        if c.mission_types:
            row |= ~np.isin(cat.mission_type, [MISSION_TYPES.index(t) for t in c.mission_types])
        if c.max_minutes is not None:
            row |= cat.expected_minutes > c.max_minutes
        origin = profile.home if profile.home is not None else profile.hometown
        if c.max_distance_km is not None and origin is not None:
            regions = self.model.regions
            row |= haversine_km(regions.lat[origin], regions.lon[origin], cat.lat, cat.lon) > c.max_distance_km
        return row

    # ---- the fast path -------------------------------------------------------------------------------
    def _fused(self, users: UserBatch, exclude_all_seen: bool
               ) -> tuple[np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray]]:
        """(B, M) total score with exclusions at -inf, in a few passes over memory; also the clipped
        content similarities and the scaled co-participation, which the shortlist's parts reuse."""
        model, w, cat = self.model, self.weights, self.model.catalog
        batch, size = len(users), len(cat)
        table = (users.region_part[:, :, None] + users.type_part[:, None, :]).reshape(batch, -1)
        total = np.take(table, self._key, axis=1)
        total += self._static[users.types]
        flat = total.reshape(-1)  # cell (b, m) is flat[b·M + m]
        holders, skills = np.nonzero(users.skills)
        if holders.size:  # only cells of missions needing a skill the user has (once, however many)
            starts = self._skill_indptr[skills]
            counts = self._skill_indptr[skills + 1] - starts
            flat[np.repeat(holders, counts) * size + self._skill_missions[_ranges(starts, counts)]] += self._skill_gain
        content = None
        if users.vectors.any():
            content = users.vectors @ model.vectors.T
            np.clip(content, 0.0, 1.0, out=content)
            blas.saxpy(content.ravel(), total.ravel(), a=w.content)  # total += w · content, in place
        collaborative = self._collaborative(users)
        flat[collaborative[0]] += np.float32(w.collaborative) * collaborative[1]
        visited_rows, visited_regions = np.nonzero(users.visited)  # novelty is for regions new to the user
        if visited_rows.size:
            starts = self._region_bounds[visited_regions]
            counts = self._region_bounds[visited_regions + 1] - starts
            cols = self._region_missions[_ranges(starts, counts)]
            flat[np.repeat(visited_rows, counts) * size + cols] -= np.float32(w.novelty) * self._novelty_base[cols]
        flat[users.repeat[0] * size + users.repeat[1]] -= np.float32(w.repeat)
        # exclusions (full missions are -inf in the static rows already)
        for now in np.unique(users.nows):
            expired = np.flatnonzero(cat.ends_at < now)
            if expired.size:
                rows = np.flatnonzero(users.nows == now)
                if rows.size == batch:
                    total[:, expired] = -np.inf
                else:
                    total[np.ix_(rows, expired)] = -np.inf
        total[users.seen if exclude_all_seen else users.done] = -np.inf
        for b, p in enumerate(users.profiles):
            outside = self._outside(p)
            if outside is not None:
                total[b, outside] = -np.inf
        return total, content, collaborative

    def _parts_at(self, users: UserBatch, positions: np.ndarray, content: np.ndarray | None,
                  collaborative: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Exact parts (B, P, len(PARTS)) and their sum (B, P) at (B, P) catalog positions."""
        cat = self.model.catalog
        batch, size = len(users), len(cat)
        rows = np.arange(batch)[:, None]
        region_of = cat.region[positions]
        matched = np.einsum("bs,bps->bp", users.skills, self._skills[positions]) > 0
        skill = np.where(self._has_skills[positions], np.where(matched, np.float32(1), np.float32(-1)),
                         np.float32(0))
        keys = rows * size + positions
        repeat_keys = users.repeat[0] * size + users.repeat[1]
        parts = self._weigh(
            users, region=users.region_part[rows, region_of],
            mission_type=users.type_part[rows, self._type_of[positions]], skill=skill,
            content=content[rows, positions] if content is not None else np.zeros(positions.shape, dtype=np.float32),
            collaborative=_lookup(collaborative[0], collaborative[1], keys), positions=positions,
            novelty=(~users.visited[rows, region_of]) * self._novelty_base[positions],
            repeat=-np.isin(keys, repeat_keys).astype(np.float32))
        total = np.zeros(positions.shape, dtype=np.float32)
        for value in parts.values():
            total += value
        return np.stack([parts[name] for name in PARTS], axis=2), total

    def shortlist(self, profiles: Sequence[UserProfile], k: int = DEFAULT_K, diversify: bool = True,
                  exclude_all_seen: bool = False) -> Shortlist:
        """The top `k` of each user (MMR over the best POOL when `diversify`), with exact parts."""
        users = self.users(profiles)
        batch, size = len(users), len(self.model.catalog)
        pool = min(POOL if diversify else k, size)
        if batch == 0 or pool == 0:
            empty = np.zeros((batch, 0), dtype=np.int64)
            return Shortlist(np.full((batch, k), -1, dtype=np.int64), np.zeros((batch, k), dtype=np.int64), empty,
                             np.zeros((batch, 0, len(PARTS)), dtype=np.float32), np.zeros((batch, 0), np.float32))
        total, content, collaborative = self._fused(users, exclude_all_seen)
        if pool < size:
            np.negative(total, out=total)
            candidates = np.argpartition(total, pool - 1, axis=1)[:, :pool]
            allowed = np.isfinite(np.take_along_axis(total, candidates, axis=1))
        else:
            candidates = np.tile(np.arange(size), (batch, 1))
            allowed = np.isfinite(total)
        parts, exact = self._parts_at(users, candidates, content, collaborative)
        exact[~allowed] = -np.inf
        order = np.lexsort((candidates, -exact), axis=1)  # best first; ties by catalog position
        candidates = np.take_along_axis(candidates, order, axis=1)
        exact = np.take_along_axis(exact, order, axis=1)
        parts = np.take_along_axis(parts, order[:, :, None], axis=1)
        picked, valid = self._choose(candidates, exact, k, diversify)
        chosen = np.where(valid, np.take_along_axis(candidates, picked, axis=1), -1)
        if chosen.shape[1] < k:
            pad = ((0, 0), (0, k - chosen.shape[1]))
            chosen, picked = np.pad(chosen, pad, constant_values=-1), np.pad(picked, pad)
        return Shortlist(chosen=chosen, picked=picked, candidates=candidates, parts=parts, total=exact)

    def top(self, profiles: Sequence[UserProfile], k: int = DEFAULT_K, exclude_all_seen: bool = False) -> np.ndarray:
        """(B, k) catalog positions, best first (-1 where fewer than k missions are allowed)."""
        return self.shortlist(profiles, k, exclude_all_seen=exclude_all_seen).chosen

    # ---- choosing -------------------------------------------------------------------------------
    def select(self, scored: ScoredBatch, k: int = DEFAULT_K, diversify: bool = True) -> np.ndarray:
        """(B, k) catalog positions, best first (-1 where fewer than k missions are allowed), from a
        full `score`."""
        total = scored.total
        batch, size = total.shape
        pool = min(POOL if diversify else k, size)
        if size == 0 or batch == 0:
            return np.full((batch, k), -1, dtype=np.int64)
        candidates = np.argpartition(-total, pool - 1, axis=1)[:, :pool] if pool < size else \
            np.tile(np.arange(size), (batch, 1))
        cand_scores = np.take_along_axis(total, candidates, axis=1)
        order = np.lexsort((candidates, -cand_scores), axis=1)
        candidates = np.take_along_axis(candidates, order, axis=1)
        cand_scores = np.take_along_axis(cand_scores, order, axis=1)
        picked, valid = self._choose(candidates, cand_scores, k, diversify)
        out = np.where(valid, np.take_along_axis(candidates, picked, axis=1), -1)
        if out.shape[1] < k:
            out = np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)
        return out

    def _choose(self, candidates: np.ndarray, scores: np.ndarray, k: int, diversify: bool
                ) -> tuple[np.ndarray, np.ndarray]:
        """Positions within the (sorted) pool of the k chosen, and whether each is allowed."""
        batch, pool = candidates.shape
        if not diversify or self.weights.mmr_lambda >= 1.0:
            picked = np.tile(np.arange(min(k, pool)), (batch, 1))
            return picked, np.isfinite(scores[:, :min(k, pool)])
        return self._mmr(candidates, scores, k)

    def _mmr(self, candidates: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Maximal marginal relevance, vectorised over the batch: each step takes the candidate with
        the best λ·relevance − (1−λ)·(highest similarity to those already taken). Returns positions
        within the pool."""
        lam = self.weights.mmr_lambda
        batch, pool = candidates.shape
        finite = np.isfinite(scores)
        low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
        high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
        relevance = np.where(finite, (scores - low) / np.maximum(high - low, 1e-9), -np.inf)
        vectors = self.model.vectors[candidates]  # (B, P, d)
        similarity = np.clip(np.matmul(vectors, vectors.transpose(0, 2, 1)), 0, 1) if vectors.shape[2] else \
            np.zeros((batch, pool, pool), dtype=np.float32)
        taken_sim = np.zeros((batch, pool))
        available = finite.copy()
        picks = np.zeros((batch, min(k, pool)), dtype=np.int64)
        valid = np.zeros((batch, min(k, pool)), dtype=bool)
        rows = np.arange(batch)
        for step in range(min(k, pool)):
            value = np.where(available, lam * relevance - (1 - lam) * taken_sim, -np.inf)
            best = value.argmax(axis=1)
            valid[:, step] = available[rows, best]
            picks[:, step] = best
            available[rows, best] = False
            taken_sim = np.maximum(taken_sim, similarity[rows, best])
        return picks, valid

    # ---- the whole thing ------------------------------------------------------------------------
    def recommend(self, profiles: Sequence[UserProfile], k: int = DEFAULT_K, with_reasons: bool = True
                  ) -> list[list[Recommendation]]:
        """Top `k` for each profile, with parts and reasons (the fast path: `shortlist`)."""
        if not profiles:
            return []
        short = self.shortlist(profiles, k)
        values = np.take_along_axis(short.parts, short.picked[:, :, None], axis=1)
        totals = np.take_along_axis(short.total, short.picked, axis=1)
        return self._recommendations(profiles, short.chosen, values, totals, with_reasons, batched=True)

    def recommend_dense(self, profiles: Sequence[UserProfile], k: int = DEFAULT_K, with_reasons: bool = True
                        ) -> list[list[Recommendation]]:
        """The same from a full `score` and reasons one mission at a time: the reference the fast
        path is tested against and the baseline of the benchmark."""
        if not profiles:
            return []
        scored = self.score(profiles)
        chosen = self.select(scored, k)
        batch, size = scored.total.shape
        positions = np.maximum(chosen, 0)
        values = np.stack([np.take_along_axis(np.broadcast_to(scored.parts[n], (batch, size)), positions, axis=1)
                           for n in PARTS], axis=2)
        totals = np.take_along_axis(scored.total, positions, axis=1)
        return self._recommendations(profiles, chosen, values, totals, with_reasons, batched=False)

    def _recommendations(self, profiles: Sequence[UserProfile], chosen: np.ndarray, values: np.ndarray,
                         totals: np.ndarray, with_reasons: bool, batched: bool) -> list[list[Recommendation]]:
        ids = self.model.catalog.ids
        counts = np.argmin(np.concatenate([chosen, np.full((len(chosen), 1), -1)], axis=1) >= 0, axis=1)
        values = values.astype(np.float64).round(4)
        totals = totals.astype(np.float64).round(4)
        rows = [b for b, n in enumerate(counts.tolist()) for _ in range(n)]
        ranks = [r for n in counts.tolist() for r in range(n)]
        flat = values[rows, ranks] if rows else np.zeros((0, len(PARTS)))
        missions = chosen[rows, ranks].tolist() if rows else []
        reasons: list[list[Reason]] = [[] for _ in missions]
        if with_reasons and batched:
            reasons = explain_many(self, profiles, rows, missions, flat, PARTS)
        elif with_reasons:
            reasons = [explain(self, profiles[b], i, dict(zip(PARTS, v, strict=True)))
                       for b, i, v in zip(rows, missions, flat.tolist(), strict=True)]
        out: list[list[Recommendation]] = [[] for _ in profiles]
        score_of = totals[rows, ranks].tolist() if rows else []
        for n, (b, rank, i, v) in enumerate(zip(rows, ranks, missions, flat.tolist(), strict=True)):
            out[b].append(Recommendation(mission_id=ids[i], rank=rank + 1, score=score_of[n],
                                         parts=dict(zip(PARTS, v, strict=True)), reasons=reasons[n]))
        return out


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[keys == q] for each query, 0 where absent (`keys` sorted and unique)."""
    if keys.size == 0:
        return np.zeros(queries.shape, dtype=np.float32)
    at = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return np.where(keys[at] == queries, values[at], np.float32(0)).astype(np.float32)
