"""What the ranker learns from the platform's own data (never from the demo's hidden profiles).

- popularity: distinct users per mission, overall and per user type;
- success prior: the completion rate of a mission among users of the same type (from the marts in
  production, from the training side of the split in evaluation), shrunk toward the type's mean;
- co-participation: item-item cosine over who attempted what (top neighbours kept), the
  collaborative signal and the item-kNN baseline alike;
- mission-type priors: which kinds of mission users of a type, or with an interest, take —
  learned from histories, so a cold-start user's declared interests say something;
- region kernel: how much a place pulls the regions around it (distance, same 시도).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ai.recommend.data import (
    MISSION_TYPES,
    UNKNOWN_USER_TYPE,
    USER_TYPES,
    Catalog,
    Interaction,
    Regions,
    UserRow,
    user_type_index,
)

NEIGHBOURS = 50  # kept per mission in the co-participation matrix
SUCCESS_SHRINK = 5.0  # pseudo-attempts pulling a mission's rate toward its user type's mean
TYPE_SMOOTH = 2.0
REGION_SCALE_KM = 25.0  # pull halves about every 17 km
SAME_SIDO_FLOOR = 0.3  # the same 시도 still pulls a little, however far


@dataclass
class RecommenderModel:
    regions: Regions
    catalog: Catalog
    vectors: np.ndarray  # (M, d) float32, L2-normalised mission vectors from the vector store
    engine: str  # "<engine_id>@<version>" of the vectors
    region_kernel: np.ndarray  # (R, R) float32
    popularity: np.ndarray  # (M,) distinct users
    popularity_by_type: np.ndarray  # (T+1, M)
    success: np.ndarray  # (T+1, M) completion-rate prior
    success_mean: np.ndarray  # (T+1,)
    item_sim: sparse.csr_matrix  # (M, M)
    type_by_user_type: np.ndarray  # (T+1, 4)
    type_by_interest: dict[str, np.ndarray]
    type_global: np.ndarray  # (4,)

    @property
    def size(self) -> int:
        return len(self.catalog)


def region_kernel(regions: Regions) -> np.ndarray:
    distance = regions.distances()
    kernel = np.exp(-distance / REGION_SCALE_KM)
    same_sido = regions.sido[:, None] == regions.sido[None, :]
    return np.maximum(kernel, SAME_SIDO_FLOOR * same_sido).astype(np.float32)


def co_participation(catalog: Catalog, history: Iterable[Interaction], neighbours: int = NEIGHBOURS
                     ) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Item-item cosine over the binary user × mission matrix (top `neighbours` per row, no self
    similarity), and distinct users per mission."""
    users: dict[str, int] = {}
    pairs: set[tuple[int, int]] = set()
    for item in history:
        m = catalog.index.get(item.mission_id)
        if m is not None:
            pairs.add((users.setdefault(item.user_id, len(users)), m))
    size = len(catalog)
    if not pairs:
        return sparse.csr_matrix((size, size), dtype=np.float32), np.zeros(size, dtype=np.float32)
    rows, cols = np.array(sorted(pairs)).T
    matrix = sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(len(users), size))
    counts = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
    co = (matrix.T @ matrix).tocsr().astype(np.float32)
    co.setdiag(0)
    co.eliminate_zeros()
    norms = np.sqrt(np.maximum(counts, 1.0))
    co = sparse.csr_matrix(sparse.diags(1 / norms) @ co @ sparse.diags(1 / norms), dtype=np.float32)
    return _top_per_row(co, neighbours), counts


def _top_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    keep_rows, keep_cols, keep_vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        top = np.argpartition(-data[start:end], k)[:k] + start if end - start > k else np.arange(start, end)
        keep_rows.append(np.full(top.size, row))
        keep_cols.append(indices[top])
        keep_vals.append(data[top])
    if not keep_rows:
        return matrix
    return sparse.csr_matrix((np.concatenate(keep_vals), (np.concatenate(keep_rows), np.concatenate(keep_cols))),
                             shape=matrix.shape, dtype=np.float32)


def success_prior(catalog: Catalog, counts: Iterable[tuple[str, str | None, str, int]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(mission, user type, outcome, n) for ended attempts → smoothed completion rate per type."""
    types = len(USER_TYPES) + 1
    done = np.zeros((types, len(catalog)), dtype=np.float64)
    ended = np.zeros((types, len(catalog)), dtype=np.float64)
    for mission_id, user_type, outcome, n in counts:
        m = catalog.index.get(mission_id)
        if m is None:
            continue
        t = user_type_index(user_type)
        ended[t, m] += n
        if outcome == "completed":
            done[t, m] += n
    overall = (done.sum() + 1.0) / (ended.sum() + 2.0)
    mean = (done.sum(axis=1) + SUCCESS_SHRINK * overall) / (ended.sum(axis=1) + SUCCESS_SHRINK)
    rate = (done + SUCCESS_SHRINK * mean[:, None]) / (ended + SUCCESS_SHRINK)
    return rate.astype(np.float32), mean.astype(np.float32)


def success_counts_from(history: Iterable[Interaction], users: Mapping[str, UserRow]
                        ) -> list[tuple[str, str | None, str, int]]:
    """The same counts as the mart gives, computed from attempts (the evaluation's training side)."""
    tally: dict[tuple[str, str | None, str], int] = {}
    for item in history:
        if item.outcome == "enrolled":
            continue
        row = users.get(item.user_id)
        key = (item.mission_id, row.user_type if row else None, item.outcome)
        tally[key] = tally.get(key, 0) + 1
    return [(m, t, o, n) for (m, t, o), n in tally.items()]


def type_priors(catalog: Catalog, history: Sequence[Interaction], users: Mapping[str, UserRow]
                ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """P(mission type | user type) and P(mission type | declared interest), learned from histories."""
    per_user: dict[str, np.ndarray] = {}
    for item in history:
        m = catalog.index.get(item.mission_id)
        if m is None:
            continue
        per_user.setdefault(item.user_id, np.zeros(len(MISSION_TYPES)))[catalog.mission_type[m]] += 1
    global_counts = np.ones(len(MISSION_TYPES))
    by_type = np.ones((len(USER_TYPES) + 1, len(MISSION_TYPES))) * TYPE_SMOOTH
    by_interest: dict[str, np.ndarray] = {}
    for user_id, counts in per_user.items():
        share = counts / counts.sum()
        global_counts += share
        row = users.get(user_id)
        by_type[user_type_index(row.user_type if row else None)] += share
        for interest in (row.interests if row else ()):
            by_interest.setdefault(interest, np.ones(len(MISSION_TYPES)) * TYPE_SMOOTH)
            by_interest[interest] += share
    type_global = global_counts / global_counts.sum()
    by_type[UNKNOWN_USER_TYPE] += type_global * TYPE_SMOOTH
    return ((by_type / by_type.sum(axis=1, keepdims=True)).astype(np.float32),
            {k: (v / v.sum()).astype(np.float32) for k, v in by_interest.items()}, type_global.astype(np.float32))


def fit_model(regions: Regions, catalog: Catalog, vectors: np.ndarray, engine: str, history: Sequence[Interaction],
              users: Mapping[str, UserRow], success_counts: Iterable[tuple[str, str | None, str, int]] | None = None
              ) -> RecommenderModel:
    """Learn the model from attempts (and the marts' success counts when given)."""
    if vectors.shape[0] != len(catalog):
        raise ValueError(f"{vectors.shape[0]} mission vectors for {len(catalog)} missions")
    item_sim, popularity = co_participation(catalog, history)
    by_type = np.zeros((len(USER_TYPES) + 1, len(catalog)), dtype=np.float32)
    seen: set[tuple[str, int]] = set()
    for item in history:
        m = catalog.index.get(item.mission_id)
        if m is not None and (item.user_id, m) not in seen:
            seen.add((item.user_id, m))
            row = users.get(item.user_id)
            by_type[user_type_index(row.user_type if row else None), m] += 1
    rate, mean = success_prior(catalog, success_counts if success_counts is not None
                               else success_counts_from(history, users))
    type_by_user_type, type_by_interest, type_global = type_priors(catalog, history, users)
    return RecommenderModel(
        regions=regions, catalog=catalog, vectors=np.ascontiguousarray(vectors, dtype=np.float32), engine=engine,
        region_kernel=region_kernel(regions), popularity=popularity, popularity_by_type=by_type, success=rate,
        success_mean=mean, item_sim=item_sim, type_by_user_type=type_by_user_type,
        type_by_interest=type_by_interest, type_global=type_global)
