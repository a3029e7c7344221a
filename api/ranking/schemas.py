"""Answers of the ranking endpoints: ranks, points and display names (never other users' ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class RankEntryPublic(BaseModel):
    rank: int = Field(description="standard competition rank: 1 + users with more points (ties share a rank)")
    points: int
    display_name: str
    is_me: bool


class BoardPublic(BaseModel):
    board: str = Field(description="the board key, e.g. `sgg:47730|w2025-48` (core/ranking.py)")
    scope: Literal["all", "sido", "sgg", "near"]
    period: Literal["all", "week", "month"]
    engine: Literal["redis", "postgresql"] = Field(description="who answered: Redis, or the PostgreSQL fallback")
    items: list[RankEntryPublic]
    total: int = Field(description="users with points on the board (for near: within the radius)")
    limit: int
    offset: int


class MyRankPublic(BaseModel):
    board: str
    scope: Literal["all", "sido", "sgg"]
    period: Literal["all", "week", "month"]
    engine: Literal["redis", "postgresql"]
    rank: int | None = Field(description="null when you have no points on this board yet")
    points: int
    as_of: datetime | None = Field(None, description="the instant the pipeline's snapshot of the board counts up to "
                                   "(completions since then are added live); null before the first pipeline run")
