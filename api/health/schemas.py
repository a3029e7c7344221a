"""The health report: one block per dependency, so a monitor can tell which one failed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DatabaseHealth(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float | None = None
    server_version: str | None = None
    schema_heads: list[str] = Field(default_factory=list,
                                    description="the Alembic revisions the database is at (one per domain branch)")
    error: str | None = Field(default=None, description="the kind of failure (details are in the server log)")


class StorageHealth(BaseModel):
    status: Literal["ok", "error"]
    kind: str | None = Field(default=None, description="local or s3")
    error: str | None = None


class RankingHealth(BaseModel):
    status: Literal["ok", "degraded"]
    engine: Literal["redis", "postgresql"] = Field(description="who answers rank questions now")
    reason: str | None = Field(default=None, description="why ranks come from PostgreSQL, when they do")


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: DatabaseHealth
    storage: StorageHealth
    ranking: RankingHealth | None = None
