"""What the certification API accepts and says: submissions, their files, checks, assessment and reviews.

Storage keys, EXIF positions and the uploader's other data never leave the API; reviewers see the
checks' values and messages, which is what they decide on.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator


class ProblemDetail(BaseModel):
    """One refused file (or the request itself when `file` is null) in a 4xx answer's `details`."""

    file: str | None
    problem: str = Field(description="stable key: too_large, too_many_pixels, polyglot, extension_mismatch, "
                                     "unsupported_type, unsupported_codec, truncated, corrupt, empty_file, …")
    message: str


class EvidencePublic(BaseModel):
    id: uuid.UUID
    position: int
    kind: str
    original_name: str
    sniffed_type: str
    sha256: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_s: float | None
    has_capture_time: bool
    has_gps: bool


class CheckPublic(BaseModel):
    name: str
    status: str = Field(description="pass, warn or fail")
    value: Any
    threshold: str
    message: str
    evidence_position: int | None


class AssessmentPublic(BaseModel):
    engine: str = Field(description="template-v1, or openai:<model>")
    recommended_tier: int
    tier_label: str
    risk_level: str
    risk_score: float
    reasons: list[str]
    summary: str
    flagged: list[str]
    fallback_reason: str | None


class ReviewPublic(BaseModel):
    decision: str
    tier: int | None
    feedback: str
    reviewer_id: uuid.UUID
    created_at: datetime


class SubmissionSummary(BaseModel):
    id: uuid.UUID
    skill: str
    status: str = Field(description="pending (checks running), checked (awaiting review), approved, rejected")
    created_at: datetime
    checked_at: datetime | None
    decided_at: datetime | None
    photo_count: int
    recording_count: int
    risk_score: float | None
    recommended_tier: int | None
    approved_tier: int | None
    feedback: str | None = Field(description="the reviewer's feedback on the latest decision")
    credential_id: uuid.UUID | None


class SubmissionCreated(BaseModel):
    id: uuid.UUID
    status: str
    files: list[EvidencePublic]


class SubmissionDetail(SubmissionSummary):
    user_id: uuid.UUID
    description: str
    mission_id: uuid.UUID | None
    step_no: int | None
    resubmission_of: uuid.UUID | None
    files: list[EvidencePublic]
    checks: list[CheckPublic]
    assessment: AssessmentPublic | None
    reviews: list[ReviewPublic]


class QueueItem(SubmissionSummary):
    user_id: uuid.UUID
    age_hours: float
    risk_level: str | None = Field(description="high, medium or low: the queue's first key (then oldest first)")
    assessment_summary: str | None


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ReviewCreate(BaseModel):
    decision: Decision
    tier: int | None = Field(None, ge=1, le=3, description="required to approve: 1 기초, 2 숙련, 3 전문")
    feedback: str = Field("", max_length=4000, description="required to reject: what to fix before resubmitting")

    @model_validator(mode="after")
    def _shape(self) -> ReviewCreate:
        if self.decision is Decision.APPROVE and self.tier is None:
            raise ValueError("approving needs a tier: 1 (기초), 2 (숙련) or 3 (전문)")
        if self.decision is Decision.REJECT and not self.feedback.strip():
            raise ValueError("rejecting needs feedback that tells the user what to fix before resubmitting")
        if self.decision is Decision.REJECT and self.tier is not None:
            raise ValueError("a rejection has no tier; leave tier out")
        return self


class ReviewResult(BaseModel):
    submission_id: uuid.UUID
    status: str
    tier: int | None
    credential_id: uuid.UUID | None


class SkillTierPublic(BaseModel):
    skill: str
    tier: int
    tier_label: str
    certified_at: datetime
    credential_id: uuid.UUID | None
