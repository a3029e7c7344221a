"""The baselines the hybrid is measured against, on the same candidates: random, popularity,
item-kNN on co-participation (popularity for users with no history, as item-kNN usually falls back)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from ai.recommend.profile import UserProfile
from ai.recommend.ranker import HybridRanker


def _top(scores: np.ndarray, excluded: np.ndarray, k: int) -> np.ndarray:
    scores = np.where(excluded, -np.inf, scores.astype(np.float64))
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    return np.where(np.isfinite(np.take_along_axis(scores, top, axis=1)), top, -1)


def random_top(ranker: HybridRanker, profiles: Sequence[UserProfile], k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.random((len(profiles), len(ranker.model.catalog)))
    return _top(scores, ranker.excluded(profiles, exclude_all_seen=True), k)


def popularity_top(ranker: HybridRanker, profiles: Sequence[UserProfile], k: int) -> np.ndarray:
    # a tiny deterministic tie-break so equal counts do not fall back to catalog order
    pop = ranker.model.popularity + 1e-6 * np.linspace(0, 1, len(ranker.model.catalog))
    scores = np.broadcast_to(pop, (len(profiles), pop.size))
    return _top(scores, ranker.excluded(profiles, exclude_all_seen=True), k)


def item_knn_top(ranker: HybridRanker, profiles: Sequence[UserProfile], k: int) -> np.ndarray:
    """Σ co-participation similarity to the missions the user attempted (binary history)."""
    cat = ranker.model.catalog
    rows, cols = [], []
    for b, p in enumerate(profiles):
        for i in {cat.index[h.mission_id] for h in p.history if h.mission_id in cat.index}:
            rows.append(b)
            cols.append(i)
    history = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                shape=(len(profiles), len(cat)))
    scores = np.asarray((history @ ranker.model.item_sim).todense(), dtype=np.float64)
    pop = np.log1p(ranker.model.popularity) / max(1.0, float(np.log1p(ranker.model.popularity).max()))
    scores += 1e-3 * pop[None, :]  # ties (and users without history) fall back to popularity
    return _top(scores, ranker.excluded(profiles, exclude_all_seen=True), k)
