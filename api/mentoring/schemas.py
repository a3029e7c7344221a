"""Mentor and mentee profiles, suggestions, requests and mentorships as the API takes and gives them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from api.fields import RegionCode
from core.vocab import SKILLS_KO

Slot = Literal["weekday_daytime", "weekday_evening", "weekend", "online"]


def _skill(value: str) -> str:
    value = value.strip()
    if value not in SKILLS_KO:
        raise ValueError(f"unknown skill {value!r}; one of {', '.join(SKILLS_KO)}")
    return value


Skill = Annotated[str, AfterValidator(_skill)]
Goal = Annotated[str, Field(min_length=1, max_length=200)]


class MentorProfileIn(BaseModel):
    headline: str = Field(min_length=1, max_length=120, examples=["의성 귀향 5년 차, 한옥 목공"])
    bio: str = Field("", max_length=3000)
    skills: list[Skill] = Field(min_length=1, max_length=10, examples=[["목공", "건축"]])
    region_codes: list[RegionCode] = Field(min_length=1, max_length=20, examples=[["47730"]])
    availability: list[Slot] = Field([], max_length=4)
    capacity: int = Field(3, ge=0, le=20)
    is_accepting: bool = True


class MentorProfilePublic(MentorProfileIn):
    user_id: uuid.UUID
    display_name: str
    active_mentees: int
    tiers: dict[str, int] = Field(description="certified tier per skill, where certification exists")
    updated_at: datetime


class MenteeProfileIn(BaseModel):
    needs: str = Field(min_length=1, max_length=2000, examples=["의성에서 목공을 배워 빈집을 고치고 싶어요"])
    skills: list[Skill] = Field([], max_length=10, examples=[["목공"]])
    region_codes: list[RegionCode] = Field([], max_length=20, examples=[["47730"]])
    availability: list[Slot] = Field([], max_length=4)


class MenteeProfilePublic(MenteeProfileIn):
    user_id: uuid.UUID
    updated_at: datetime


class SuggestionPublic(BaseModel):
    mentor_id: uuid.UUID
    display_name: str
    headline: str
    skills: list[str]
    region_codes: list[str]
    score: float
    components: dict[str, float]
    reasons: list[str] = Field(description="why this mentor, in words a mentee can check")
    open_slots: int
    request_pending: bool


class SuggestionList(BaseModel):
    items: list[SuggestionPublic]
    engine: str = Field(description="embedding engine and version used for the similarity component")


class MentorRequestCreate(BaseModel):
    mentor_id: uuid.UUID
    message: str = Field(min_length=1, max_length=2000)
    goals: list[Goal] = Field([], max_length=5)


class MentorResponse(BaseModel):
    message: str = Field("", max_length=2000)
    weeks: int = Field(12, ge=4, le=26, description="accept only: how long the mentorship runs")
    goals: list[Goal] | None = Field(None, max_length=5, description="accept only: replaces the mentee's goals")


class MentorRequestPublic(BaseModel):
    id: uuid.UUID
    mentee_id: uuid.UUID
    mentor_id: uuid.UUID
    message: str
    goals: list[str]
    status: str
    match_score: float | None
    match_reasons: list[str]
    response_message: str | None
    created_at: datetime
    responded_at: datetime | None
    mentorship_id: uuid.UUID | None = None


class CheckinCreate(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    goals_done: list[Goal] = Field([], max_length=5)


class CheckinPublic(BaseModel):
    id: int
    author_id: uuid.UUID
    note: str
    goals_done: list[str]
    created_at: datetime


class EndMentorship(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class MentorshipPublic(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    mentor_id: uuid.UUID
    mentee_id: uuid.UUID
    goals: list[str]
    region_code: str | None
    starts_on: date
    ends_on: date
    status: str
    ended_at: datetime | None
    end_reason: str | None
    checkins: list[CheckinPublic] = []
