"""One settings object, read from the environment (and an optional `.env`), failing fast.

Every variable is documented in `.env.example`. Outside development and test, a missing
or placeholder secret stops the process with a message that names the variable.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "please-change-me"}


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore", env_prefix="")

    env: Literal["development", "test", "production"] = Field("development", alias="HOMETOWN_ENV")

    # where the embedded services keep their files
    var_dir: Path = Field(ROOT / "var", alias="HOMETOWN_VAR_DIR")
    data_dir: Path = Field(ROOT.parent / "shared" / "data" / "korea", alias="HOMETOWN_DATA_DIR")

    # PostgreSQL: unset means the embedded pgserver in var/pg
    database_url: str | None = Field(None, alias="DATABASE_URL")
    database_name: str = Field("hometown", alias="HOMETOWN_DB_NAME")

    redis_url: str | None = Field(None, alias="REDIS_URL")
    chroma_url: str | None = Field(None, alias="CHROMA_URL")
    storage_url: str | None = Field(None, alias="STORAGE_URL")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_chat_model: str = Field("gpt-4o-mini", alias="OPENAI_CHAT_MODEL")
    openai_embedding_model: str = Field("text-embedding-3-small", alias="OPENAI_EMBEDDING_MODEL")

    sentry_dsn: str | None = Field(None, alias="SENTRY_DSN")
    slack_webhook_url: str | None = Field(None, alias="SLACK_WEBHOOK_URL")
    smtp_url: str | None = Field(None, alias="SMTP_URL")

    # secrets: required outside development/test
    secret_key: str | None = Field(None, alias="SECRET_KEY")
    access_token_minutes: int = Field(60 * 24, alias="ACCESS_TOKEN_MINUTES", ge=1, le=60 * 24 * 30)

    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, alias="API_PORT")
    # requests one API worker runs at once (its thread pool), each on its own pooled connection
    api_threads: int = Field(16, alias="API_THREADS", ge=1, le=200)
    dagster_port: int = Field(3000, alias="DAGSTER_PORT")

    @field_validator("database_url", "redis_url", "chroma_url", "storage_url", "openai_api_key",
                     "openai_base_url", "sentry_dsn", "slack_webhook_url", "smtp_url", "secret_key",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgresql+", "postgres://")):
            raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://user:pass@host:port/db)")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("s3://", "file://", "/")):
            raise ValueError("STORAGE_URL must be s3://bucket/prefix, file:///path or an absolute path")
        return value

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> Settings:
        if self.env == "production" and (self.secret_key or "").lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SECRET_KEY must be set to a long random value when HOMETOWN_ENV=production "
                             "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if self.secret_key is not None and len(self.secret_key) < 32 and self.env == "production":
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        return self

    # ---- derived paths -------------------------------------------------------------------
    @property
    def pg_dir(self) -> Path:
        return self.var_dir / "pg"

    @property
    def landing_dir(self) -> Path:
        return self.var_dir / "landing"

    @property
    def storage_dir(self) -> Path:
        return self.var_dir / "storage"

    @property
    def chroma_dir(self) -> Path:
        return self.var_dir / "chroma"

    @property
    def dagster_home(self) -> Path:
        return self.var_dir / "dagster"

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    def resolved_secret_key(self) -> str:
        """The JWT/HMAC key. In development a random key is made once and kept in var/."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError, re-raised with the variable names
        raise SettingsError(f"invalid configuration: {exc}") from exc
