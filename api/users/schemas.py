"""Response schemas of user accounts (the request schema for registration lives in api.auth)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.users.service import UserRecord


class UserPublic(BaseModel):
    """An account as its owner (or an admin) sees it. Never the password hash."""

    id: uuid.UUID
    email: str
    display_name: str
    user_type: str | None = Field(description="returnee, youth, supporter, requester or mentor; null for staff")
    roles: list[str]
    birth_year: int | None
    hometown_region_code: str | None
    home_region_code: str | None
    interest_region_codes: list[str]
    skills: list[str]
    interests: list[str]
    managed_region_code: str | None
    created_at: datetime

    @classmethod
    def from_record(cls, user: UserRecord) -> UserPublic:
        return cls(id=user.id, email=user.email, display_name=user.display_name, user_type=user.user_type,
                   roles=list(user.roles), birth_year=user.birth_year,
                   hometown_region_code=user.hometown_region_code, home_region_code=user.home_region_code,
                   interest_region_codes=list(user.interest_region_codes), skills=list(user.skills),
                   interests=list(user.interests), managed_region_code=user.managed_region_code,
                   created_at=user.created_at)
