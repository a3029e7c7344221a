"""Reading user rows. Rows become `UserRecord`s here and schemas in the router: never a row to a client."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from core.tables import users


@dataclass(frozen=True)
class UserRecord:
    """A user as the API's checks see it (no password hash)."""

    id: uuid.UUID
    email: str
    display_name: str
    user_type: str | None
    roles: tuple[str, ...]
    birth_year: int | None
    hometown_region_code: str | None
    home_region_code: str | None
    interest_region_codes: tuple[str, ...]
    skills: tuple[str, ...]
    interests: tuple[str, ...]
    managed_region_code: str | None
    is_active: bool
    created_at: datetime

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


_COLUMNS = [users.c[name] for name in UserRecord.__dataclass_fields__]


def user_record(mapping: Mapping[str, Any] | RowMapping) -> UserRecord:
    """A user row (any mapping of UserRecord's columns) → the record."""
    data = {name: mapping[name] for name in UserRecord.__dataclass_fields__}
    for name in ("roles", "interest_region_codes", "skills", "interests"):
        data[name] = tuple(data[name] or ())
    return UserRecord(**data)


def get_user(conn: Connection, user_id: uuid.UUID) -> UserRecord | None:
    row = conn.execute(select(*_COLUMNS).where(users.c.id == user_id)).first()
    return user_record(row._mapping) if row else None


def get_user_with_hash(conn: Connection, email: str) -> tuple[UserRecord, str] | None:
    """The user with this e-mail (case-insensitive) and their password hash, for signing in."""
    row = conn.execute(select(*_COLUMNS, users.c.password_hash)
                       .where(users.c.email == email.strip().lower())).first()
    if row is None:
        return None
    return user_record(row._mapping), row.password_hash
