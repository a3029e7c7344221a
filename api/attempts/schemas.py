"""Requests and answers of the attempt lifecycle and verified presence."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import RowMapping

from core.vocab import FailureReason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a mistake worth saying


class StepStatePublic(BaseModel):
    step_no: int
    title: str
    verification: str = Field(description="none, checkin, qr, photo or host_confirm")
    done: bool
    completed_at: datetime | None
    verified: bool = Field(description="its verification is satisfied in this attempt (it can be reported done)")
    hours_status: str | None = Field(None, description="host_confirm steps: claimed, confirmed or rejected")


class AttemptSummary(BaseModel):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    mission_type: str
    region_code: str
    status: str = Field(description="in_progress, completed, failed or abandoned")
    steps_done: int
    steps_total: int
    progress: float = Field(description="steps done ÷ steps, 0–1")
    next_step: int | None = Field(description="the step to do next; null when all are done or the attempt ended")
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    ended_at: datetime | None
    failure_reason: str | None
    points_awarded: int = Field(description="points this completion earned (0 for a repeat or over the daily cap)")

    @classmethod
    def from_row(cls, row: RowMapping | Mapping[str, Any]) -> AttemptSummary:
        done, total = row["steps_done"], row["steps_total"]
        data = {name: row[name] for name in cls.model_fields if name not in ("progress", "next_step")}
        return cls(**data, progress=round(done / total, 4) if total else 0.0,
                   next_step=done + 1 if row["status"] == "in_progress" and done < total else None)


class AttemptPublic(AttemptSummary):
    steps: list[StepStatePublic]

    @classmethod
    def from_rows(cls, row: RowMapping | Mapping[str, Any], steps: list[dict[str, Any]]) -> AttemptPublic:
        return cls(**AttemptSummary.from_row(row).model_dump(), steps=[StepStatePublic(**s) for s in steps])


class AttemptFail(_Strict):
    reason: FailureReason = Field(description="why, from the fixed list")
    reason_text: str = Field("", max_length=500, description="in the user's words (optional)")


class CheckinCreate(_Strict):
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude of the device", examples=[36.3512])
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude of the device", examples=[128.6971])
    accuracy_m: float | None = Field(None, ge=0, le=100_000, description="the GPS fix's reported accuracy (m)")


class CheckinPublic(BaseModel):
    id: int
    accepted: bool
    reason: str | None
    distance_m: float = Field(description="from the spot")
    allowed_m: float = Field(description="the spot's radius plus the GPS accuracy allowance")
    speed_kmh: float | None = Field(description="implied speed since your previous accepted check-in")


class QrScanCreate(_Strict):
    token: str = Field(min_length=1, max_length=2000, description="the text of the host's QR code (HT1.…)")


class QrScanPublic(BaseModel):
    id: int
    accepted: bool
    reason: str | None
    token_id: str | None


class PhotoPublic(BaseModel):
    id: int
    storage_key: str = Field(description="where the photo is stored; certification reads it from there")
    content_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str


class HoursClaimCreate(_Strict):
    hours: float = Field(gt=0, le=24, multiple_of=0.5, description="hours volunteered, in half hours")
    note: str = Field("", max_length=500)


class HoursClaimPublic(BaseModel):
    id: int
    status: str
    hours: float
