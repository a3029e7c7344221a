"""Requests and answers of the xAPI administration endpoints (statements themselves are raw xAPI JSON)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class XapiClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{2,63}$", description="the Basic-auth user name",
                           examples=["kmooc"])
    name: str = Field(min_length=1, max_length=200, examples=["K-MOOC"])


class XapiClientCreated(BaseModel):
    client_id: str
    name: str
    secret: str = Field(description="shown once: the Basic-auth password; only its hash is kept")


class XapiActivityMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity_id: str = Field(min_length=8, max_length=2048, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$",
                             description="the platform's activity IRI")
    mission_id: uuid.UUID
    step_no: int | None = Field(None, ge=1, le=100, description="a step of the mission, or the whole mission")
