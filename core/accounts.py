"""User accounts: password hashing and creation. Used by the API and the demo generator alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert

from core.tables import users

# argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass
class NewUser:
    email: str
    display_name: str
    password_hash: str
    user_type: str | None = None
    roles: list[str] = field(default_factory=list)
    birth_year: int | None = None
    hometown_region_code: str | None = None
    home_region_code: str | None = None
    interest_region_codes: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    managed_region_code: str | None = None
    is_demo: bool = False
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime | None = None  # registration time; None = now (the demo sets its simulated one)


def create_users(conn: Connection, new_users: Sequence[NewUser]) -> list[uuid.UUID]:
    """Insert users in one statement (the API passes one, the demo generator thousands)."""
    if not new_users:
        return []
    rows = [{**u.__dict__, "email": u.email.strip().lower()} for u in new_users]
    dated = [row for row in rows if row["created_at"] is not None]
    undated = [{k: v for k, v in row.items() if k != "created_at"} for row in rows if row["created_at"] is None]
    for batch in (dated, undated):  # one statement per key set; undated rows take the column's now()
        if batch:
            conn.execute(insert(users), batch)
    return [u.id for u in new_users]
