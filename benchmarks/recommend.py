"""Recommendation benchmark: precompute for 100,000 users and online latency with 10,000 missions.

    .venv/bin/python benchmarks/recommend.py [--users 100000] [--missions 10000] [--workers 2]

Everything is synthetic and in memory (no database): 229 regions with real-looking positions, a
catalog of M missions (types, skills, capacities, text), U users with declared hometown, interest
regions, skills and interests, 60% of them with a history (~8 attempts each). The model is fitted
on that history and the mission vectors come from the offline embedding engine. Times:
  precompute  top 20 with score parts and Korean/English reasons for every user, rendered as the
              COPY rows of serving.recommendations, on `--workers` processes (one core each)
  baseline    the same ranker one user at a time (batch of 1) on a sample, extrapolated: what
              batching across users buys
  online      one user without precomputed results, end to end in the ranker (profile → parts →
              exclusions → MMR → reasons), 1,000 requests: p50 / p99
  popularity  the popularity baseline per request, same harness, for scale
Targets (issue 4): precompute <= 120 s for 100,000 users on two cores; online p99 <= 30 ms.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools  # noqa: E402

from ai.embeddings import OfflineEmbeddings, fit_offline  # noqa: E402
from ai.recommend.baselines import popularity_top  # noqa: E402
from ai.recommend.data import MISSION_TYPES, SKILLS, USER_TYPES, Catalog, Interaction, Regions, UserRow  # noqa: E402
from ai.recommend.model import fit_model  # noqa: E402
from ai.recommend.profile import build_profile  # noqa: E402
from ai.recommend.ranker import HybridRanker  # noqa: E402
from ai.recommend.service import PRECOMPUTE_CELLS  # noqa: E402
from core.vocab import INTERESTS_KO  # noqa: E402

NOW = 1.8e9
_STATE: dict[str, object] = {}


def make_regions(rng: np.random.Generator, count: int = 229) -> Regions:
    sido = rng.integers(0, 17, size=count)
    centres = np.column_stack([rng.uniform(34.5, 38.0, 17), rng.uniform(126.5, 129.3, 17)])
    lat = centres[sido, 0] + rng.normal(0, 0.25, count)
    lon = centres[sido, 1] + rng.normal(0, 0.25, count)
    codes = [f"{10000 + i * 7:05d}" for i in range(count)]
    return Regions(codes=codes, full_names=[f"도{s} 군{i}" for i, s in enumerate(sido)],
                   short_names=[f"도{s} 군{i}" for i, s in enumerate(sido)], sido=sido.astype(np.int32), lat=lat,
                   lon=lon, is_decline=rng.random(count) < 0.4)


def make_catalog(rng: np.random.Generator, regions: Regions, count: int) -> Catalog:
    region = rng.integers(0, len(regions), size=count).astype(np.int32)
    kind = rng.integers(0, 4, size=count).astype(np.int8)
    skills = np.zeros((count, len(SKILLS)), dtype=bool)
    skill_missions = np.flatnonzero(kind == 2)
    skills[skill_missions, rng.integers(0, len(SKILLS), size=skill_missions.size)] = True
    titles = [f"{regions.full_names[r]} {MISSION_TYPES[k]} 미션 {i}"
              for i, (r, k) in enumerate(zip(region, kind, strict=True))]
    texts = [f"{t}. {' '.join(SKILLS[s] for s in np.flatnonzero(skills[i]))} {regions.full_names[region[i]]}"
             for i, t in enumerate(titles)]
    return Catalog(
        ids=[f"00000000-0000-4000-8000-{i:012d}" for i in range(count)], titles=titles, texts=texts, region=region,
        mission_type=kind, skills=skills,
        capacity=np.where(rng.random(count) < 0.3, rng.integers(5, 40, count), np.inf).astype(float),
        taken=rng.integers(0, 10, count).astype(float), starts_at=np.full(count, -np.inf),
        ends_at=np.where(rng.random(count) < 0.1, NOW - 86400, np.inf), expected_minutes=np.full(count, 120),
        lat=regions.lat[region] + rng.normal(0, 0.05, count), lon=regions.lon[region] + rng.normal(0, 0.05, count))


def make_users(rng: np.random.Generator, regions: Regions, catalog: Catalog, count: int
               ) -> tuple[list[UserRow], dict[str, list[Interaction]]]:
    users, history = [], {}
    by_region: dict[int, np.ndarray] = {}
    order = np.argsort(catalog.region, kind="stable")
    bounds = np.searchsorted(catalog.region[order], np.arange(len(regions) + 1))
    for r in range(len(regions)):
        by_region[r] = order[bounds[r]:bounds[r + 1]]
    for u in range(count):
        uid = f"10000000-0000-4000-8000-{u:012d}"
        hometown = int(rng.integers(0, len(regions)))
        interest = rng.integers(0, len(regions), size=int(rng.integers(0, 3))).tolist()
        users.append(UserRow(
            user_id=uid, user_type=USER_TYPES[u % len(USER_TYPES)], hometown_region_code=regions.codes[hometown],
            home_region_code=regions.codes[int(rng.integers(0, len(regions)))],
            interest_region_codes=tuple(regions.codes[i] for i in interest),
            skills=tuple(SKILLS[s] for s in rng.choice(len(SKILLS), size=int(rng.integers(0, 3)), replace=False)),
            interests=tuple(rng.choice(INTERESTS_KO, size=2, replace=False))))
        if rng.random() < 0.6:
            places = [hometown, *interest]
            items = []
            for _ in range(int(rng.integers(1, 16))):
                pool = by_region[places[int(rng.integers(0, len(places)))]]
                m = int(pool[rng.integers(0, pool.size)]) if pool.size else int(rng.integers(0, len(catalog)))
                items.append(Interaction(uid, catalog.ids[m], NOW - float(rng.uniform(0, 400)) * 86400,
                                         ("completed", "failed", "abandoned", "enrolled")[int(rng.integers(0, 4))]))
            history[uid] = items
    return users, history


def rows_for(ranker: HybridRanker, profiles: list, label: str) -> int:
    """The ranker's output rendered as serving.recommendations COPY rows (what precompute writes)."""
    written = 0
    for profile, recs in zip(profiles, ranker.recommend(profiles, 20), strict=True):
        for r in recs:
            line = "\t".join((profile.user_id, str(r.rank), r.mission_id, repr(r.score), json.dumps(r.parts),
                              "{" + ",".join(r.reasons_ko) + "}", "{" + ",".join(r.reasons_en) + "}", label))
            written += len(line) > 0
    return written


def _work(part: tuple[int, int]) -> tuple[int, float]:
    ranker, users, history, regions, catalog = (_STATE[k] for k in ("ranker", "users", "history", "regions",
                                                                     "catalog"))
    started = time.perf_counter()
    rows = 0
    step = max(50, min(1000, PRECOMPUTE_CELLS // len(catalog)))  # type: ignore[arg-type]
    for start in range(part[0], part[1], step):
        batch = users[start:min(start + step, part[1])]  # type: ignore[index]
        profiles = [build_profile(u, regions, catalog, history.get(u.user_id, []), now=NOW)  # type: ignore[union-attr]
                    for u in batch]
        rows += rows_for(ranker, profiles, "bench")  # type: ignore[arg-type]
    return rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--missions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    regions = make_regions(rng)
    catalog = make_catalog(rng, regions, args.missions)
    users, history = make_users(rng, regions, catalog, args.users)
    engine = OfflineEmbeddings(fit_offline(catalog.texts[:3000], dims=128))
    vectors = engine.embed_array(catalog.texts)
    flat = [h for items in history.values() for h in items]
    model = fit_model(regions, catalog, vectors, "bench", flat, {u.user_id: u for u in users if u.user_id})
    ranker = HybridRanker(model, embed=engine)
    print(f"set-up: {len(users):,} users ({len(history):,} with history, {len(flat):,} attempts), "
          f"{len(catalog):,} missions, {len(regions)} regions in {time.perf_counter() - t0:.1f}s")
    _STATE.update(ranker=ranker, users=users, history=history, regions=regions, catalog=catalog)

    # baseline: one user at a time, on a sample
    sample = users[:1000]
    started = time.perf_counter()
    for u in sample:
        rows_for(ranker, [build_profile(u, regions, catalog, history.get(u.user_id or "", []), now=NOW)], "bench")
    single = (time.perf_counter() - started) / len(sample)
    print(f"baseline (batch of 1, one core): {1 / single:,.0f} users/s → {single * len(users):,.0f}s for "
          f"{len(users):,} users")

    # precompute on `workers` processes
    cuts = np.linspace(0, len(users), args.workers + 1).astype(int)
    started = time.perf_counter()
    with mp.get_context("fork").Pool(args.workers) as pool:
        results = pool.map(_work, [(int(a), int(b)) for a, b in itertools.pairwise(cuts)])
    wall = time.perf_counter() - started
    rows = sum(r for r, _ in results)
    print(f"precompute: {len(users):,} users, {rows:,} rows in {wall:.1f}s on {args.workers} processes "
          f"({len(users) / wall:,.0f} users/s; {single * len(users) / wall:.1f}x the baseline) — target <= 120 s: "
          f"{'met' if wall <= 120 else 'NOT met'}")

    # online: one user, no precomputed list
    random.seed(1)
    picks = random.sample(users, 1000)
    timings, pop_timings = [], []
    for u in picks:
        started = time.perf_counter()
        profile = build_profile(u, regions, catalog, history.get(u.user_id or "", []), now=NOW)
        ranker.recommend([profile], 20)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        popularity_top(ranker, [build_profile(u, regions, catalog, history.get(u.user_id or "", []), now=NOW)], 20)
        pop_timings.append(time.perf_counter() - started)
    p50, p99 = np.percentile(np.array(timings) * 1000, [50, 99])
    q50, q99 = np.percentile(np.array(pop_timings) * 1000, [50, 99])
    print(f"online ({len(catalog):,} missions): p50 {p50:.1f} ms, p99 {p99:.1f} ms — target p99 <= 30 ms: "
          f"{'met' if p99 <= 30 else 'NOT met'}")
    print(f"popularity baseline, same harness: p50 {q50:.1f} ms, p99 {q99:.1f} ms (hybrid p99 = {p99 / q99:.1f}x)")


if __name__ == "__main__":
    main()
