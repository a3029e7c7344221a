"""Requests and answers of the host endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import RowMapping

from core.qr import DEFAULT_TTL_SECONDS


class QrTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mission_id: uuid.UUID
    step_no: int = Field(ge=1, le=100)
    ttl_seconds: int = Field(DEFAULT_TTL_SECONDS, ge=15, le=3600,
                             description="how long a scan is accepted; host screens rotate the code")


class QrTokenPublic(BaseModel):
    token: str = Field(description="the text to encode in the QR code")
    token_id: str
    mission_id: uuid.UUID
    step_no: int
    issued_at: datetime
    expires_at: datetime
    png_url: str = Field(description="the QR code as a PNG image (same authorisation)")


class CohostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID


class HoursDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=500, description="why (shown to the user)")


class HoursClaimHostView(BaseModel):
    id: int
    attempt_id: uuid.UUID
    user_id: uuid.UUID
    display_name: str
    mission_id: uuid.UUID
    mission_title: str
    step_no: int
    hours: float
    note: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> HoursClaimHostView:
        return cls(**{name: row[name] for name in cls.model_fields})
