"""User accounts: password hashing and creation. Used by the API and the demo generator alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

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


def create_users(conn: Connection, new_users: Sequence[NewUser]) -> list[uuid.UUID]:
    """Insert users in one statement (the API passes one, the demo generator thousands)."""
    if not new_users:
        return []
    rows = [{**u.__dict__, "email": u.email.strip().lower()} for u in new_users]
    conn.execute(insert(users), rows)
    return [u.id for u in new_users]
