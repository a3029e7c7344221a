"""Request and response schemas of recommendations, mission drafts and the ranker's settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ai.generate.schema import Citation, DraftStep
from api.fields import RegionCode
from core.vocab import MissionType


class RecommendedMission(BaseModel):
    id: uuid.UUID
    title: str
    mission_type: str
    region_code: str
    place_name: str | None
    skills: list[str]


class RecommendationPublic(BaseModel):
    rank: int
    score: float
    parts: dict[str, float] = Field(description="each part's contribution; they add up to `score`")
    reasons_ko: list[str]
    reasons_en: list[str]
    mission: RecommendedMission


class RecommendationList(BaseModel):
    items: list[RecommendationPublic]
    source: Literal["precomputed", "online"] = Field(
        description="precomputed by the pipeline, or computed now (no precomputed list, or constraints given)")
    engine: str
    generated_at: datetime


class DraftCreate(BaseModel):
    region_code: RegionCode = Field(description="the 시군구 to write missions for, e.g. 47730")
    for_user_id: uuid.UUID | None = Field(default=None,
                                          description="tailor the drafts to this user's skills and interests")
    count: int = Field(default=3, ge=1, le=5)


class DraftUpdate(BaseModel):
    """Fields an admin may change; the result must still be a valid draft."""

    title: str | None = None
    mission_type: MissionType | None = None
    summary: str | None = None
    place_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    skills: list[str] | None = None
    steps: list[DraftStep] | None = None
    expected_minutes: int | None = None
    expected_impact: str | None = None
    citations: list[Citation] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class DraftReview(BaseModel):
    note: str | None = Field(default=None, max_length=1000)


class DraftPublic(BaseModel):
    id: uuid.UUID
    region_code: str
    for_user_id: uuid.UUID | None
    status: str = Field(description="draft, approved or rejected")
    engine: str = Field(description="what wrote it: openai:<model> or template:<version>")
    fallback_reason: str | None = Field(description="why the template writer stood in for the model, if it did")
    draft: dict[str, Any] = Field(description="the mission draft (title, type, steps, place, skills, impact, "
                                              "citations)")
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    reviewer_id: uuid.UUID | None
    reviewed_at: datetime | None
    review_note: str | None
    mission_id: uuid.UUID | None = Field(description="the published mission, once approved")


class PolicyWeight(BaseModel):
    value: float = Field(ge=0.0, le=2.0, description="how much a population-decline area lifts a mission's score "
                                                     "(0 = not at all; default 0.2)")


class PolicyWeightPublic(PolicyWeight):
    is_default: bool
