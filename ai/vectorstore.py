"""Chroma collections embedded with our own engine: missions, regional knowledge, policy documents.

Embedded by default (a persistent client in `<var_dir>/chroma`), a Chroma server with
`CHROMA_URL`. Telemetry is off. Vectors always come from our embedding engine (ai/embeddings.py),
never from Chroma's default model. Each collection's metadata records the engine id and version
that built it: asking for a collection with another engine deletes and rebuilds it, so vectors of
two engines are never mixed in one collection.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.config import Settings as ChromaSettings

from ai.corpus import Document
from ai.embeddings import EmbeddingEngine
from core.settings import Settings, get_settings

MISSIONS = "missions"
REGIONAL = "regional_knowledge"
POLICY = "policy_documents"
COLLECTIONS = (MISSIONS, REGIONAL, POLICY)
BATCH = 2000  # Chroma's max batch is ~5k; smaller batches keep memory flat


class HometownEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's embedding-function interface over our engine (so Chroma never falls back to its own)."""

    def __init__(self, engine: EmbeddingEngine) -> None:
        self.engine = engine

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self.engine.embed_array(list(input)))

    @staticmethod
    def name() -> str:
        return "hometown-on"

    def get_config(self) -> dict[str, Any]:
        return {"engine_id": self.engine.engine_id, "version": self.engine.version}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HometownEmbeddingFunction:
        from ai.embeddings import get_embeddings

        return HometownEmbeddingFunction(get_embeddings())

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    similarity: float  # cosine similarity, 1 = same direction


@dataclass(frozen=True)
class SyncResult:
    collection: str
    rebuilt: bool  # the engine changed (or the collection was new): every vector was (re)made
    added: int
    updated: int
    removed: int
    total: int


def make_client(settings: Settings | None = None) -> Any:
    """A Chroma client: HttpClient for CHROMA_URL, else a PersistentClient in var/chroma."""
    settings = settings or get_settings()
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=settings.env != "production")
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _text_sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class VectorStore:
    """Our collections on one Chroma client, for one embedding engine."""

    def __init__(self, engine: EmbeddingEngine, client: Any | None = None, settings: Settings | None = None) -> None:
        self.engine = engine
        self.client = client if client is not None else make_client(settings)
        self._function = HometownEmbeddingFunction(engine)
        self._lock = threading.Lock()

    # ---- collections ------------------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        return {"engine_id": self.engine.engine_id, "engine_version": self.engine.version, "hnsw:space": "cosine"}

    def collection(self, name: str) -> tuple[Any, bool]:
        """The collection for this engine, and whether it was (re)created now."""
        with self._lock:
            existing = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
            if name in existing:
                current = self.client.get_collection(name, embedding_function=self._function)
                meta = current.metadata or {}
                if (meta.get("engine_id"), meta.get("engine_version")) == (self.engine.engine_id, self.engine.version):
                    return current, False
                self.client.delete_collection(name)  # another engine built it: never mix vectors
            created = self.client.create_collection(name, metadata=self._metadata(),
                                                    embedding_function=self._function)
            return created, True

    def engine_of(self, name: str) -> tuple[str | None, str | None]:
        """(engine_id, version) recorded on a collection, or (None, None) if it does not exist."""
        try:
            meta = self.client.get_collection(name, embedding_function=self._function).metadata or {}
        except Exception:  # chromadb raises NotFoundError/ValueError depending on the client
            return None, None
        return meta.get("engine_id"), meta.get("engine_version")

    # ---- writing ----------------------------------------------------------------------------------
    def sync(self, name: str, documents: Sequence[Document]) -> SyncResult:
        """Make the collection hold exactly `documents`: new and changed texts are embedded, vanished
        ids are removed, unchanged ones are left alone (a text's digest is kept in its metadata)."""
        collection, rebuilt = self.collection(name)
        stored: dict[str, str] = {}
        if not rebuilt:
            for offset in range(0, collection.count(), BATCH * 5):
                got = collection.get(include=["metadatas"], limit=BATCH * 5, offset=offset)
                for doc_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                    stored[doc_id] = (meta or {}).get("text_sha", "")
        wanted = {d.id: d for d in documents}
        if len(wanted) != len(documents):
            raise ValueError(f"collection {name}: document ids are not unique")
        changed = [d for d in documents if stored.get(d.id) != _text_sha(d.text)]
        removed = [doc_id for doc_id in stored if doc_id not in wanted]
        for start in range(0, len(removed), BATCH):
            collection.delete(ids=removed[start:start + BATCH])
        self._upsert(collection, changed)
        added = sum(1 for d in changed if d.id not in stored)
        return SyncResult(collection=name, rebuilt=rebuilt, added=added, updated=len(changed) - added,
                          removed=len(removed), total=collection.count())

    def upsert(self, name: str, documents: Sequence[Document]) -> None:
        """Add or replace some documents (e.g. a mission just approved) without touching the rest."""
        collection, _ = self.collection(name)
        self._upsert(collection, list(documents))

    def _upsert(self, collection: Any, documents: list[Document]) -> None:
        for start in range(0, len(documents), BATCH):
            batch = documents[start:start + BATCH]
            vectors = self.engine.embed_array([d.text for d in batch])
            collection.upsert(ids=[d.id for d in batch], documents=[d.text for d in batch],
                              embeddings=vectors, metadatas=[{**d.metadata, "text_sha": _text_sha(d.text)}
                                                             for d in batch])

    # ---- reading ----------------------------------------------------------------------------------
    def query(self, name: str, text: str, k: int = 5, where: dict[str, Any] | None = None) -> list[Hit]:
        """The `k` nearest documents to `text` (optionally filtered by metadata)."""
        collection, _ = self.collection(name)
        if collection.count() == 0:
            return []
        vector = self.engine.embed_array([text])
        result = collection.query(query_embeddings=vector, n_results=min(k, collection.count()), where=where,
                                  include=["documents", "metadatas", "distances"])
        return [Hit(id=i, text=d or "", metadata=dict(m or {}), similarity=1.0 - float(dist))
                for i, d, m, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                         result["distances"][0], strict=True)]

    def vectors(self, name: str) -> tuple[list[str], np.ndarray]:
        """Every id and vector of a collection (the ranker keeps mission vectors in memory)."""
        collection, _ = self.collection(name)
        ids: list[str] = []
        parts: list[np.ndarray] = []
        total = collection.count()
        for offset in range(0, total, BATCH * 5):
            got = collection.get(include=["embeddings"], limit=BATCH * 5, offset=offset)
            ids.extend(got["ids"])
            parts.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1))
        if not parts:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.concatenate(parts)
