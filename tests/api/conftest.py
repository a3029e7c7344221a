"""The API under test: the real app on the session database, and accounts made through core.accounts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from api.security import create_access_token
from core.accounts import NewUser, create_users, hash_password
from core.settings import get_settings
from core.storage import get_storage

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def client(db_url: str) -> Iterator[TestClient]:
    """The app as uvicorn would serve it; it builds its engine from DATABASE_URL (set by db_url)."""
    get_settings.cache_clear()
    get_storage.cache_clear()
    with TestClient(create_app()) as test_client:
        yield test_client


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    headers: dict[str, str]  # Authorization: Bearer …


MakeUser = Callable[..., Account]


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2id costs ~0.1 s: once per session


@pytest.fixture()
def make_user(engine: Engine, password_hash: str) -> MakeUser:
    """Create an account with its own unique e-mail and return it with a bearer header."""

    def make(roles: tuple[str, ...] = (), user_type: str | None = "youth", managed_region_code: str | None = None,
             is_active: bool = True) -> Account:
        email = f"t-{uuid.uuid4().hex[:12]}@test.hometown-on.kr"
        new = NewUser(email=email, display_name="테스트", password_hash=password_hash, user_type=user_type,
                      roles=list(roles), managed_region_code=managed_region_code)
        with engine.begin() as conn:
            (user_id,) = create_users(conn, [new])
            if not is_active:
                conn.exec_driver_sql("update app.users set is_active = false where id = %(id)s", {"id": user_id})
        token = create_access_token(user_id).token
        return Account(id=user_id, email=email, headers={"Authorization": f"Bearer {token}"})

    return make


def assert_error(response: object, status: int, code: str) -> dict:
    """The one error shape, with the expected status and code, and a message that says something."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert len(body["error"]["message"]) > 20, body
    return body["error"]
