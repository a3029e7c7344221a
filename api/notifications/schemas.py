"""Notifications as clients see them (REST and WebSocket alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import RowMapping

from api.pagination import Page


class NotificationPublic(BaseModel):
    id: int
    kind: str = Field(description="mission_completed, badge_awarded, rank_changed, hours_confirmed, …")
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> NotificationPublic:
        return cls(**{name: row[name] for name in cls.model_fields})


class NotificationPage(Page[NotificationPublic]):
    unread_count: int


class MarkedPublic(BaseModel):
    marked: int = Field(description="notifications marked read by this call")
