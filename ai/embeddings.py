"""One embedding interface (a LangChain `Embeddings`) with two engines behind it.

- `OpenAIEmbeddingEngine`: OpenAI (or any OpenAI-compatible server) when `OPENAI_API_KEY` or
  `OPENAI_BASE_URL` is set.
- `OfflineEmbeddings`: shipped with the code, no download. Character n-grams (1–3, with word
  boundaries marked, so Korean syllables and their bigrams count as much as English words do) are
  hashed (a fixed 64-bit mix: stable across processes and machines), weighted by
  TF × IDF, and reduced by a truncated SVD to ~256 dimensions. IDF and SVD are fitted on the
  platform's own corpus (missions, regional knowledge, policy documents) and saved, versioned, under
  `<var_dir>/models/offline_embedding/`. Fitting is deterministic: the same corpus gives the same
  model and the same version.

Every engine exposes `engine_id` and `version`; a vector collection records both, so vectors of
different engines are never mixed (ai/vectorstore.py rebuilds a collection whose engine changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings
from scipy import sparse
from sklearn.decomposition import TruncatedSVD

from core.settings import Settings, get_settings

OFFLINE_ENGINE_ID = "offline-charngram-tfidf-svd"
HASH_BITS = 20  # 1M hashed n-gram slots: collisions are rare at our vocabulary sizes
NGRAM_RANGE = (1, 3)
DEFAULT_DIMS = 256
MAX_FEATURES = 40_000  # n-grams kept after fitting (the most frequent): bounds the model to ~40 MB
MIN_DF = 2  # an n-gram seen in one document only carries no co-occurrence for the SVD
MODEL_SUBDIR = "offline_embedding"


def normalise_text(text: str) -> str:
    """NFKC (full-width forms, compatibility jamo), lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


class EmbeddingEngine(Protocol):
    """What the vector store and the ranker need from an engine, beyond LangChain's interface."""

    engine_id: str
    version: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def embed_array(self, texts: Sequence[str]) -> np.ndarray: ...


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SPACE = 32


def _mix(keys: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (stable across processes,
    unlike Python's salted `hash`)."""
    keys = keys ^ (keys >> np.uint64(30))
    keys = keys * _MIX1
    keys = keys ^ (keys >> np.uint64(27))
    keys = keys * _MIX2
    return keys ^ (keys >> np.uint64(31))


def ngram_slots(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed character n-grams (1..3) of each text: (indptr, slots), CSR-style, in text order.

    Vectorised over the whole batch: the texts are joined into one array of code points, every
    n-gram key is computed with array arithmetic (one row of three keys per position, so entries
    come out grouped by text and need no sort), and n-grams that would straddle two texts are
    dropped. Each text is padded with a space on both sides, so word starts and ends are n-grams
    of their own (what sklearn's `char_wb` does, at several times its speed). Lone spaces are
    skipped. A repeated n-gram appears once per occurrence (term frequency).
    """
    padded = [" " + normalise_text(t) + " " for t in texts]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    total = codes.size
    width = NGRAM_RANGE[1]
    keys = np.zeros((total, width), dtype=np.uint64)
    valid = np.zeros((total, width), dtype=bool)
    with np.errstate(over="ignore"):
        for n in range(1, width + 1):
            count = total - n + 1
            if count <= 0:
                continue
            key = codes[:count] + np.uint64(n) * _GOLDEN
            for offset in range(1, n):
                key = key * np.uint64(0x100000001B3) + codes[offset:offset + count]
            keys[:count, n - 1] = key
            valid[:count, n - 1] = doc[:count] == doc[n - 1:n - 1 + count]
        valid[:, 0] &= codes != _SPACE
        if NGRAM_RANGE[0] > 1:
            valid[:, :NGRAM_RANGE[0] - 1] = False
        slots = (_mix(keys[valid]) >> np.uint64(64 - HASH_BITS)).astype(np.int64)
    per_text = np.bincount(np.repeat(doc, width)[valid.ravel()], minlength=len(padded))
    indptr = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(per_text, out=indptr[1:])
    return indptr, slots


def hashed_ngrams(texts: Sequence[str]) -> sparse.csr_matrix:
    """Counts of hashed n-grams per text, as a canonical (n, 2**HASH_BITS) CSR matrix (for fitting)."""
    indptr, slots = ngram_slots(texts)
    matrix = sparse.csr_matrix((np.ones(slots.size, dtype=np.float32), slots, indptr),
                               shape=(len(texts), 2 ** HASH_BITS))
    matrix.sum_duplicates()
    return matrix


# ---------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class OfflineModel:
    """The fitted parameters of the offline engine (all arrays; saved as one .npz)."""

    features: np.ndarray  # int64 (V,): hashed n-gram slots kept, ascending
    idf: np.ndarray  # float32 (V,)
    components: np.ndarray  # float32 (V, dims): the SVD projection
    corpus_size: int
    corpus_sha: str
    fitted_at: str

    @property
    def dims(self) -> int:
        return int(self.components.shape[1])

    @property
    def version(self) -> str:
        """A digest of the parameters: a different model is a different version, the same one is not."""
        digest = hashlib.sha256()
        digest.update(json.dumps({"engine": OFFLINE_ENGINE_ID, "bits": HASH_BITS, "ngrams": NGRAM_RANGE}).encode())
        for array in (self.features, self.idf, self.components):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def save(self, models_dir: Path) -> Path:
        """Write `<version>.npz` and point `current.json` at it (atomically, by rename)."""
        folder = models_dir / MODEL_SUBDIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.version}.npz"
        if not path.exists():
            scratch = path.with_suffix(".tmp.npz")
            np.savez_compressed(scratch, features=self.features, idf=self.idf, components=self.components,
                                meta=np.array(json.dumps({"corpus_size": self.corpus_size,
                                                          "corpus_sha": self.corpus_sha,
                                                          "fitted_at": self.fitted_at})))
            os.replace(scratch, path)
        pointer = folder / "current.json"
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(json.dumps({"engine_id": OFFLINE_ENGINE_ID, "version": self.version, "file": path.name,
                                   "dims": self.dims, "corpus_size": self.corpus_size,
                                   "corpus_sha": self.corpus_sha, "fitted_at": self.fitted_at}, indent=2))
        os.replace(tmp, pointer)
        return path

    @classmethod
    def load(cls, path: Path) -> OfflineModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(features=data["features"], idf=data["idf"], components=data["components"], **meta)


def corpus_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def fit_offline(corpus: Sequence[str], dims: int = DEFAULT_DIMS, max_features: int = MAX_FEATURES,
                min_df: int = MIN_DF, seed: int = 0) -> OfflineModel:
    """Fit IDF and the SVD projection on `corpus` (deterministic for a given corpus and seed)."""
    texts = [t for t in corpus if t and t.strip()]
    if len(texts) < 3:
        raise ValueError(f"the offline embedding needs a corpus of at least 3 non-empty texts (got {len(texts)})")
    counts = hashed_ngrams(texts)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    candidates = np.flatnonzero(df >= min_df)
    if candidates.size < 8:  # a tiny corpus: keep every n-gram rather than none
        candidates = np.flatnonzero(df >= 1)
    order = np.lexsort((candidates, -df[candidates]))  # most frequent first, ties by slot: deterministic
    features = np.sort(candidates[order[:max_features]]).astype(np.int64)
    n = len(texts)
    idf = (np.log((1.0 + n) / (1.0 + df[features])) + 1.0).astype(np.float32)
    weighted = _project_columns(counts, features, idf)
    k = max(1, min(dims, weighted.shape[1] - 1, n - 1))
    svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=5, random_state=seed)
    svd.fit(weighted)
    components = svd.components_.T.astype(np.float32)
    # fix the sign of each component (SVD signs are arbitrary): largest absolute loading positive
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(k)])
    components *= np.where(signs == 0, 1, signs).astype(np.float32)
    return OfflineModel(features=features, idf=idf, components=np.ascontiguousarray(components), corpus_size=n,
                        corpus_sha=corpus_digest(texts), fitted_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _project_columns(counts: sparse.csr_matrix, features: np.ndarray, idf: np.ndarray) -> sparse.csr_matrix:
    """Hashed counts → the kept columns only, TF-IDF weighted and L2-normalised per row."""
    position = np.searchsorted(features, counts.indices)
    position[position >= features.size] = 0
    keep = features[position] == counts.indices
    row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    cols = position[keep]
    data = counts.data[keep] * idf[cols]
    matrix = sparse.csr_matrix((data, (row_of[keep], cols)), shape=(counts.shape[0], features.size),
                               dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms).astype(np.float32) @ matrix)


class OfflineEmbeddings(Embeddings):
    """The offline engine as a LangChain `Embeddings` (batched numpy underneath)."""

    engine_id = OFFLINE_ENGINE_ID

    def __init__(self, model: OfflineModel) -> None:
        self.model = model
        self.version = model.version
        self.dims = model.dims
        # slot → column lookup table for the hot path (4 MB), instead of a binary search per n-gram
        self._lookup = np.full(2 ** HASH_BITS, -1, dtype=np.int32)
        self._lookup[model.features] = np.arange(model.features.size, dtype=np.int32)
        self._centre = np.full(self.dims, 1.0 / np.sqrt(self.dims), dtype=np.float32)

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) float32, rows L2-normalised. A text with no known n-gram gets the centre vector
        (never a zero vector, which cosine distance cannot handle).

        TF × IDF times the projection, summed per text; the per-text L2 norm of the TF-IDF vector is
        skipped because only the direction of the result matters and it is normalised at the end.
        """
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        indptr, slots = ngram_slots(texts)
        cols = self._lookup[slots]
        keep = cols >= 0
        kept_before = np.zeros(keep.size + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        cols = cols[keep]
        matrix = sparse.csr_matrix((self.model.idf[cols], cols, kept_before[indptr]),
                                   shape=(len(texts), self.model.features.size))
        out = np.asarray(matrix @ self.model.components, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1)
        empty = norms < 1e-9
        out[~empty] /= norms[~empty, None]
        out[empty] = self._centre
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- OpenAI
class OpenAIEmbeddingEngine(Embeddings):
    """OpenAI embeddings (langchain-openai) with the engine identity the vector store records."""

    def __init__(self, settings: Settings, client: Embeddings | None = None) -> None:
        self.engine_id = f"openai:{settings.openai_embedding_model}"
        self.version = settings.openai_embedding_model
        if client is None:
            from langchain_openai import OpenAIEmbeddings

            kwargs: dict[str, Any] = {"model": settings.openai_embedding_model, "max_retries": 2, "timeout": 30}
            if settings.openai_api_key:
                kwargs["api_key"] = settings.openai_api_key
            if settings.openai_base_url:
                kwargs["base_url"] = settings.openai_base_url
                kwargs.setdefault("api_key", settings.openai_api_key or "not-needed")
                kwargs["check_embedding_ctx_length"] = False  # compatible servers lack tiktoken's models
            client = OpenAIEmbeddings(**kwargs)
        self.client = client

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self.client.embed_documents(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- choosing
def models_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).var_dir / "models"


def uses_openai(settings: Settings) -> bool:
    return bool(settings.openai_api_key or settings.openai_base_url)


_CACHE: dict[tuple[str, str], OfflineEmbeddings] = {}
_CACHE_LOCK = threading.Lock()


def current_offline_version(folder: Path) -> str | None:
    pointer = folder / MODEL_SUBDIR / "current.json"
    if not pointer.exists():
        return None
    return str(json.loads(pointer.read_text())["version"])


def load_offline(folder: Path, bootstrap: Sequence[str] | None = None) -> OfflineEmbeddings:
    """The current saved offline model (cached per process and version). Without one, a model is
    fitted on `bootstrap` (default: the policy documents and the domain vocabulary) and saved, so
    a fresh install works; the embedding asset refits it on the whole platform corpus."""
    version = current_offline_version(folder)
    with _CACHE_LOCK:
        if version is not None and (str(folder), version) in _CACHE:
            return _CACHE[(str(folder), version)]
        if version is None:
            from ai.corpus import bootstrap_corpus

            model = fit_offline(list(bootstrap) if bootstrap is not None else bootstrap_corpus())
            model.save(folder)
        else:
            pointer = json.loads((folder / MODEL_SUBDIR / "current.json").read_text())
            model = OfflineModel.load(folder / MODEL_SUBDIR / pointer["file"])
        engine = OfflineEmbeddings(model)
        _CACHE[(str(folder), engine.version)] = engine
        return engine


def get_embeddings(settings: Settings | None = None) -> OfflineEmbeddings | OpenAIEmbeddingEngine:
    """OpenAI when configured, else the offline engine (the current model under var/models)."""
    settings = settings or get_settings()
    if uses_openai(settings):
        return OpenAIEmbeddingEngine(settings)
    return load_offline(models_dir(settings))
