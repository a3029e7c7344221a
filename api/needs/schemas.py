"""Regional needs, ranked candidates, matched needs, invitations and applications."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from api.fields import RegionCode


class NeedCreate(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    description: str = Field("", max_length=4000)
    skill: str = Field(description="one of the platform's skills, e.g. 목공")
    tier_wanted: int = Field(1, ge=1, le=3, description="1 기초, 2 숙련, 3 전문")
    region_code: RegionCode | None = Field(None, description="defaults to your own 시군구; it must be yours")
    place_name: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    starts_on: date | None = None
    ends_on: date | None = None
    headcount: int = Field(1, ge=1, le=50)

    @model_validator(mode="after")
    def _consistent(self) -> NeedCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither (the 시군구's centre is used)")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class NeedPublic(BaseModel):
    id: uuid.UUID
    region_code: str
    region_name: str | None
    title: str
    description: str
    skill: str
    tier_wanted: int
    place_name: str | None
    lat: float | None
    lon: float | None
    starts_on: date | None
    ends_on: date | None
    headcount: int
    accepted_count: int
    status: str = Field(description="open, filled or closed")
    is_past: bool = Field(description="its end date has passed (Korean time): it takes no more people, even if open")
    created_at: datetime


class CandidatePublic(BaseModel):
    user_id: uuid.UUID
    display_name: str
    rank: int
    score: float
    tier: int
    distance_km: float | None
    reasons: list[str]
    engagement_status: str | None = Field(description="pending/accepted/declined/withdrawn, if engaged")
    engagement_kind: str | None


class MatchedNeed(NeedPublic):
    rank: int
    score: float
    reasons: list[str]
    engagement_id: uuid.UUID | None
    engagement_kind: str | None
    engagement_status: str | None


class InvitationCreate(BaseModel):
    user_id: uuid.UUID
    message: str = Field("", max_length=2000)


class ApplicationCreate(BaseModel):
    message: str = Field("", max_length=2000)


class EngagementPublic(BaseModel):
    id: uuid.UUID
    need_id: uuid.UUID
    user_id: uuid.UUID
    kind: str = Field(description="invite (requester → person) or apply (person → need)")
    status: str
    message: str
    created_at: datetime
    responded_at: datetime | None
    need_status: str
    need_title: str
