"""Offline evaluation with a time split: learn from what happened before a cutoff, predict after.

The cutoff is a quantile of all enrolment times. Everything the methods see (history, check-ins,
popularity, co-participation, success rates, type priors) is taken from before it. The held-out
items of a user are the missions they enrolled in after the cutoff that they had not attempted
before (every method excludes the user's earlier missions, so all are scored on the same
candidates). Users with history before the cutoff form the `history` segment; users with none
(new, or registered but idle until then) form the `cold_start` segment and are ranked from their
declared profile alone. The demo's hidden preference profiles are not read here either.

Metrics: nDCG@10 (binary relevance), Recall@10 (hits / held-out items), catalog coverage (share
of the candidate missions that appear in some top 10 of the segment).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ai.recommend.baselines import item_knn_top, popularity_top, random_top
from ai.recommend.data import Catalog, Interaction, Regions, UserRow
from ai.recommend.model import fit_model
from ai.recommend.profile import UserProfile, build_profile
from ai.recommend.ranker import HybridRanker, Weights

K = 10
METHODS = ("hybrid", "item_knn", "popularity", "random")
SEGMENTS = ("history", "cold_start", "all")
BATCH = 500


@dataclass(frozen=True)
class EvaluationRow:
    segment: str
    method: str
    ndcg_at_10: float
    recall_at_10: float
    coverage: float
    users_count: int
    heldout_count: int


@dataclass
class EvaluationResult:
    cutoff: float
    rows: list[EvaluationRow]
    candidates_count: int
    train_attempts: int

    def get(self, segment: str, method: str) -> EvaluationRow:
        return next(r for r in self.rows if r.segment == segment and r.method == method)

    def markdown(self) -> str:
        lines = ["| segment | method | nDCG@10 | Recall@10 | coverage | users |", "|---|---|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r.segment} | {r.method} | {r.ndcg_at_10:.4f} | {r.recall_at_10:.4f} | "
                         f"{r.coverage:.1%} | {r.users_count:,} |")
        return "\n".join(lines)


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int = K) -> float:
    gains = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def as_of(item: Interaction, cutoff: float) -> Interaction:
    """The attempt as it stood at the cutoff (an end after it is not known yet)."""
    if item.ended_at is not None and item.ended_at >= cutoff:
        return Interaction(item.user_id, item.mission_id, item.at, "enrolled", None)
    return item


def split(history: Sequence[Interaction], cutoff: float, catalog: Catalog
          ) -> tuple[list[Interaction], dict[str, set[int]]]:
    train = [as_of(h, cutoff) for h in history if h.at < cutoff]
    seen: dict[str, set[str]] = {}
    for h in train:
        seen.setdefault(h.user_id, set()).add(h.mission_id)
    test: dict[str, set[int]] = {}
    for h in history:
        if h.at >= cutoff and h.mission_id in catalog.index and h.mission_id not in seen.get(h.user_id, ()):
            test.setdefault(h.user_id, set()).add(catalog.index[h.mission_id])
    return train, test


def evaluate(regions: Regions, catalog: Catalog, vectors: np.ndarray, engine: str, history: Sequence[Interaction],
             users: Mapping[str, UserRow], checkins: Mapping[str, list[tuple[str, float]]], embed: object | None,
             weights: Weights | None = None, cutoff_quantile: float = 0.85, seed: int = 0,
             max_users: int | None = None) -> EvaluationResult:
    """Every method and segment on one time split (see the module docstring)."""
    times = np.array([h.at for h in history])
    if times.size == 0:
        raise ValueError("no attempts to evaluate on: load activity first")
    cutoff = float(np.quantile(times, cutoff_quantile))
    train, test = split(history, cutoff, catalog)
    model = fit_model(regions, catalog, vectors, engine, train, users)
    ranker = HybridRanker(model, weights, embed)
    by_user: dict[str, list[Interaction]] = {}
    for h in train:
        by_user.setdefault(h.user_id, []).append(h)
    evaluated = sorted(u for u in test if u in users)
    if max_users is not None and len(evaluated) > max_users:
        rng = np.random.default_rng(seed)
        evaluated = sorted(rng.choice(evaluated, size=max_users, replace=False).tolist())
    live = catalog.ends_at >= cutoff
    methods: dict[str, Callable[[list[UserProfile]], np.ndarray]] = {
        "hybrid": lambda ps: ranker.top(ps, K, exclude_all_seen=True),
        "item_knn": lambda ps: item_knn_top(ranker, ps, K),
        "popularity": lambda ps: popularity_top(ranker, ps, K),
        "random": lambda ps: random_top(ranker, ps, K, seed),
    }
    per_user: dict[str, dict[str, tuple[float, float]]] = {m: {} for m in methods}
    shown: dict[tuple[str, str], set[int]] = {}
    segment_of: dict[str, str] = {}
    for start in range(0, len(evaluated), BATCH):
        ids = evaluated[start:start + BATCH]
        profiles = [build_profile(users[u], regions, catalog, by_user.get(u, []),
                                  [c for c in checkins.get(u, []) if c[1] < cutoff], now=cutoff) for u in ids]
        for u, p in zip(ids, profiles, strict=True):
            segment_of[u] = "cold_start" if p.is_cold_start else "history"
        for method, top in methods.items():
            chosen = top(profiles)
            for u, row in zip(ids, chosen, strict=True):
                ranked = [int(i) for i in row if i >= 0]
                per_user[method][u] = (ndcg_at_k(ranked, test[u]), recall_at_k(ranked, test[u]))
                for segment in (segment_of[u], "all"):
                    shown.setdefault((segment, method), set()).update(ranked[:K])
    rows = []
    candidates = int(live.sum())
    for segment in SEGMENTS:
        members = [u for u in evaluated if segment == "all" or segment_of[u] == segment]
        for method in METHODS:
            scores = [per_user[method][u] for u in members]
            rows.append(EvaluationRow(
                segment=segment, method=method,
                ndcg_at_10=round(float(np.mean([s[0] for s in scores])) if scores else 0.0, 5),
                recall_at_10=round(float(np.mean([s[1] for s in scores])) if scores else 0.0, 5),
                coverage=round(len(shown.get((segment, method), set())) / max(candidates, 1), 5),
                users_count=len(members), heldout_count=sum(len(test[u]) for u in members)))
    return EvaluationResult(cutoff=cutoff, rows=rows, candidates_count=candidates, train_attempts=len(train))
