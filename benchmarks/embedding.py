"""Offline embedding benchmark: texts per second on one core, against sklearn in the same run.

    .venv/bin/python benchmarks/embedding.py [--texts 20000]

Synthetic Korean mission-like texts (region, place, skill, type words, ~120 characters). The engine
is fitted on 5,000 of them, then times:
  ours      OfflineEmbeddings.embed_array (hash n-grams → TF-IDF → SVD projection, 256 dims)
  sklearn   TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).fit_transform — the usual
            baseline, and it only makes sparse vectors (no projection)
  hashing   sklearn HashingVectorizer(char_wb 1–3).transform — the n-gram hashing alone
Target (issue 4): ours >= 5,000 texts/s on one core. BLAS and OpenMP are held to one thread.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer  # noqa: E402

from ai.embeddings import OfflineEmbeddings, fit_offline  # noqa: E402
from core.vocab import INTERESTS_KO, SKILLS_KO  # noqa: E402

REGIONS = ["의성군", "영동군", "고흥군", "양구군", "남해군", "보은군", "청송군", "영양군", "무주군", "진안군"]
PLACES = ["마을회관", "전통시장", "오층석탑", "생태공원", "향교", "축제장", "폐교 캠핑장", "저수지 둘레길"]
KINDS = ["재능기부형 미션", "지역탐색형 미션", "사회유대형 미션", "학습형 미션"]


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        region, place, skill = rng.choice(REGIONS), rng.choice(PLACES), rng.choice(SKILLS_KO)
        out.append(f"[{rng.choice(KINDS)}] {region} {place} {skill} 봉사. {region} {place}에서 {skill} 재능을 "
                   f"가진 분을 찾습니다. 관심사 {rng.choice(INTERESTS_KO)}, {rng.choice(INTERESTS_KO)}. "
                   f"번호 {rng.randrange(10_000)}")
    return out


def rate(label: str, count: int, run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<8} {count:>7,} texts in {seconds:6.2f}s = {count / seconds:>9,.0f} texts/s")
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    corpus, sample = texts(5_000, 1), texts(args.texts, 2)
    print(f"average text length {sum(map(len, sample)) / len(sample):.0f} characters")
    started = time.perf_counter()
    engine = OfflineEmbeddings(fit_offline(corpus))
    print(f"fit on {len(corpus):,} texts in {time.perf_counter() - started:.1f}s ({engine.dims} dims, "
          f"{engine.model.features.size:,} n-grams kept, version {engine.version})")
    engine.embed_array(sample[:100])  # warm-up
    ours = rate("ours", len(sample), lambda: engine.embed_array(sample))
    tfidf = rate("sklearn", len(sample), lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3))
                 .fit_transform(sample))
    hashing = rate("hashing", len(sample), lambda: HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3))
                   .transform(sample))
    print(f"ours / sklearn TF-IDF = {ours / tfidf:.1f}x, ours / sklearn hashing = {ours / hashing:.1f}x")
    print(f"target >= 5,000 texts/s on one core: {'met' if ours >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
