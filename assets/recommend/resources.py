"""The AI clients of the recommend assets as resources, so tests (and deployments) swap them:
the embedding engine, the vector store, and the chat model for mission drafts."""

from pathlib import Path
from typing import Any

from dagster import ConfigurableResource

from ai.embeddings import OfflineEmbeddings, fit_offline, get_embeddings, load_offline, models_dir, uses_openai
from ai.generate.writer import chat_model
from ai.vectorstore import VectorStore, make_client
from core.settings import get_settings


class EmbeddingsResource(ConfigurableResource):
    """OpenAI embeddings when configured, else the offline engine saved under `models_dir`
    (unset: <var_dir>/models)."""

    models_dir: str | None = None

    def folder(self) -> Path:
        return Path(self.models_dir) if self.models_dir else models_dir(get_settings())

    def uses_openai(self) -> bool:
        return uses_openai(get_settings())

    def engine(self) -> Any:
        return get_embeddings(get_settings()) if self.uses_openai() else load_offline(self.folder())

    def refit(self, corpus: list[str]) -> OfflineEmbeddings:
        """Fit the offline model on the platform's corpus and make it current (same corpus → same version)."""
        model = fit_offline(corpus)
        model.save(self.folder())
        return load_offline(self.folder())


class VectorStoreResource(ConfigurableResource):
    """Chroma: a server at CHROMA_URL, else the persistent client at `path` (unset: <var_dir>/chroma)."""

    path: str | None = None

    def store(self, engine: Any) -> VectorStore:
        if self.path and not get_settings().chroma_url:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            client = chromadb.PersistentClient(path=self.path, settings=ChromaSettings(anonymized_telemetry=False))
            return VectorStore(engine, client)
        return VectorStore(engine, make_client(get_settings()))


class LLMResource(ConfigurableResource):
    """The chat model for mission drafts (OpenAI settings); `enabled=False` forces the template writer."""

    enabled: bool = True

    def model(self) -> tuple[Any, str] | None:
        return chat_model(get_settings()) if self.enabled else None
