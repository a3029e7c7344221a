"""Reports, the queue, actions and appeals as the API takes and gives them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from api.community.schemas import Reason
from core.tables_community import REPORT_CATEGORIES

TargetType = Literal["post", "comment", "user"]
Category = Literal["spam", "abuse", "harassment", "hate", "sexual", "violence", "privacy", "misinformation", "other"]
assert set(Category.__args__) == set(REPORT_CATEGORIES)  # type: ignore[attr-defined]


class ReportCreate(BaseModel):
    target_type: TargetType
    target_id: uuid.UUID
    category: Category
    details: str = Field("", max_length=1000)


class ReportPublic(BaseModel):
    id: int
    target_type: str
    target_id: uuid.UUID
    category: str
    case_id: int
    created_at: datetime


class ActionCreate(BaseModel):
    target_type: TargetType
    target_id: uuid.UUID
    action: Literal["dismiss", "hide", "warn", "suspend", "ban"]
    reason: Reason
    suspend_days: int | None = Field(None, ge=1, le=365, description="required for suspend")

    @model_validator(mode="after")
    def _suspend_needs_days(self) -> ActionCreate:
        if (self.action == "suspend") != (self.suspend_days is not None):
            raise ValueError("suspend_days is required for action suspend, and only for it")
        if self.action == "hide" and self.target_type == "user":
            raise ValueError("hide applies to posts and comments; for a user, use warn, suspend or ban")
        return self


class ActionPublic(BaseModel):
    id: int
    case_id: int | None
    target_type: str
    target_id: uuid.UUID
    target_user_id: uuid.UUID
    action: str
    reason: str
    suspended_until: datetime | None
    created_at: datetime
    reverted_at: datetime | None
    appeal_status: str | None = None


class QueueItem(BaseModel):
    case_id: int
    target_type: str
    target_id: uuid.UUID
    target_user_id: uuid.UUID
    target_user_name: str
    opened_by: str = Field(description="report or screen")
    severity: int = Field(description="1 (low) … 5 (urgent)")
    report_count: int
    categories: list[str]
    screen_score: float | None
    screen_reasons: list[str]
    content_status: str | None
    title: str | None
    excerpt: str | None
    opened_at: datetime


class AppealCreate(BaseModel):
    body: str = Field(min_length=1, max_length=2000)


class AppealDecision(BaseModel):
    decision: Literal["upheld", "overturned"]
    reason: Reason


class AppealPublic(BaseModel):
    id: int
    action_id: int
    appellant_id: uuid.UUID
    body: str
    status: str
    decision_reason: str | None
    created_at: datetime
    decided_at: datetime | None
