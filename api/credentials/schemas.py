"""Credential documents as issued, the verification verdict, and revocation requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CredentialPublic(BaseModel):
    id: uuid.UUID
    skill: str
    tier: int
    issued_at: datetime
    valid_until: datetime | None
    revoked: bool
    revoked_at: datetime | None
    revocation_reason: str | None
    document: dict[str, Any] = Field(description="the signed OpenBadgeCredential, exactly as issued")


class VerificationPublic(BaseModel):
    verified: bool = Field(description="true only when every check passed")
    checks: dict[str, bool] = Field(description="format, issuer, signature, valid_from, expiry, known, revocation")
    errors: list[str]
    credential_id: str | None
    revoked_at: datetime | None
    revocation_reason: str | None


class RevocationCreate(BaseModel):
    reason: str = Field(min_length=5, max_length=1000, description="why the credential is withdrawn (audited)")
