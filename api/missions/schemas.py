"""What the API says about missions and their steps (never `created_by` or internal source keys)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import RowMapping

from core.vocab import MISSION_TYPE_LABELS_KO, MissionType


class MissionStepPublic(BaseModel):
    step_no: int
    title: str
    description: str
    verification: str = Field(description="none, checkin, qr, photo or host_confirm")
    lat: float | None
    lon: float | None
    radius_m: int | None

    @classmethod
    def from_row(cls, row: RowMapping) -> MissionStepPublic:
        return cls(**{name: row[name] for name in cls.model_fields})


class MissionSummary(BaseModel):
    id: uuid.UUID
    title: str
    summary: str
    mission_type: str = Field(description="exploration, social, skill or learning")
    mission_type_label_ko: str
    status: str
    region_code: str
    place_name: str | None
    lat: float | None
    lon: float | None
    skills: list[str]
    tags: list[str]
    capacity: int | None
    points: int
    expected_minutes: int
    starts_at: datetime | None
    ends_at: datetime | None
    distance_km: float | None = Field(None, description="from the `near` point, when one was given")

    @classmethod
    def from_row(cls, row: RowMapping) -> MissionSummary:
        data = {name: row[name] for name in cls.model_fields
                if name not in ("mission_type_label_ko", "distance_km")}
        distance = row.get("distance_km")
        return cls(**data, mission_type_label_ko=MISSION_TYPE_LABELS_KO[MissionType(row["mission_type"])],
                   distance_km=None if distance is None else round(float(distance), 3))


class MissionPublic(MissionSummary):
    radius_m: int = Field(description="how close a check-in must be to the place, in metres")
    source_kind: str | None = Field(description="tourist_spot, festival, heritage, need, manual or ai_draft")
    created_at: datetime
    updated_at: datetime
    steps: list[MissionStepPublic]

    @classmethod
    def from_rows(cls, row: RowMapping, steps: Sequence[RowMapping]) -> MissionPublic:
        summary = MissionSummary.from_row(row).model_dump()
        return cls(**summary, radius_m=row["radius_m"], source_kind=row["source_kind"],
                   created_at=row["created_at"], updated_at=row["updated_at"],
                   steps=[MissionStepPublic.from_row(s) for s in steps])
