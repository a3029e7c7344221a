"""Shared dependencies: the database connection, the signed-in user, and role / user-type checks.

Routes declare what they need with the typed aliases (`ConnDep`, `CurrentUser`, `OptionalUser`) and
guard themselves with `require_roles(...)` / `require_user_types(...)`; no route reads a token or opens
a connection itself.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection

from api.attempts.writer import Caller
from api.errors import ApiError
from api.security import TokenError, decode_access_token
from api.users.service import UserRecord, get_user, user_record
from core.db import get_engine
from core.settings import get_settings
from core.vocab import Role, UserType

# auto_error=False: a missing token is answered by us, in the one error shape, or allowed (OptionalUser)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BEARER = {"WWW-Authenticate": "Bearer"}


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def admitted() -> AsyncIterator[None]:
    """Admission to the database: at most API_THREADS requests of this worker hold a connection at once.

    The others wait here, in the event loop, holding nothing. Without this gate a burst of requests took
    every pooled connection, and the requests holding one then waited for a thread while the threads
    waited for a connection (until the pool's 30 s timeout): with API_THREADS=4 and 64 clients the API
    stalled completely. One gate per event loop (a test client runs its own loop).
    """
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(get_settings().api_threads)
    async with gate:
        yield


def get_conn(_: Annotated[None, Depends(admitted)]) -> Iterator[Connection]:
    """A pooled connection for one admitted request. Writers commit explicitly; anything else is rolled back.

    The engine is built on first use from the settings (DATABASE_URL or the embedded PostgreSQL), never
    at import, so tests and child processes choose the database through the environment.
    """
    with get_engine().connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _user_id(token: str | None) -> uuid.UUID:
    """The user id a bearer token names, or 401."""
    if not token:
        raise ApiError(401, "not_authenticated", "Sign in first: POST /auth/token with your e-mail and password, "
                       "then send `Authorization: Bearer <access_token>`.", headers=BEARER)
    try:
        return decode_access_token(token)
    except TokenError as exc:
        raise ApiError(401, exc.code, exc.message, headers=BEARER) from exc


def _signed_in(user: UserRecord | None) -> UserRecord:
    """The token's account, as long as it exists and is active."""
    if user is None:
        raise ApiError(401, "invalid_token", "The account of this token no longer exists; sign in again.",
                       headers=BEARER)
    if not user.is_active:
        raise ApiError(403, "account_disabled", "This account is disabled; contact the Hometown ON team.")
    return user


def _user_from_token(conn: Connection, token: str) -> UserRecord:
    user_id = _user_id(token)
    return _signed_in(get_user(conn, user_id))


def get_current_user(conn: ConnDep, token: TokenDep) -> UserRecord:
    return _signed_in(get_user(conn, _user_id(token)))


def get_optional_user(conn: ConnDep, token: TokenDep) -> UserRecord | None:
    """The signed-in user, or None for an anonymous caller. A token that is sent must still be valid."""
    return _user_from_token(conn, token) if token else None


CurrentUser = Annotated[UserRecord, Depends(get_current_user)]
OptionalUser = Annotated[UserRecord | None, Depends(get_optional_user)]


def require_roles(*roles: Role) -> Callable[[UserRecord], Awaitable[UserRecord]]:
    """A dependency that lets through users holding any of `roles` (admins always), else 403."""
    allowed = {Role.ADMIN.value, *(role.value for role in roles)}

    async def check(user: CurrentUser) -> UserRecord:  # async: no I/O, so no hop to the thread pool
        if not user.has_role(*allowed):
            needed = " or ".join(sorted(allowed))
            raise ApiError(403, "forbidden", f"This needs the role {needed}; your account has "
                           f"{', '.join(user.roles) or 'no staff role'}. Ask an administrator if you need it.")
        return user

    return check


def _of_types(allowed: set[str] | frozenset[str], user: UserRecord) -> UserRecord:
    if user.user_type not in allowed:
        raise ApiError(403, "forbidden", f"This is for {' or '.join(sorted(allowed))} accounts; yours is "
                       f"{user.user_type or 'a staff account'}.")
    return user


def require_user_types(*user_types: UserType) -> Callable[[UserRecord], Awaitable[UserRecord]]:
    """A dependency that lets through app users of the given types, else 403."""
    allowed = {user_type.value for user_type in user_types}

    async def check(user: CurrentUser) -> UserRecord:  # async: no I/O, so no hop to the thread pool
        return _of_types(allowed, user)

    return check


# ---------------------------------------------------------------------------------- batched routes
USER_SQL = f"select {', '.join(UserRecord.__dataclass_fields__)} from app.users where id = %(id)s"


class BatchedCaller(OAuth2PasswordBearer):
    """The caller of a route that runs a unit in batched round trips (api/attempts/writer.py), as one
    dependency: the bearer token is checked here, without the database, and the worker's async pool comes
    along; the user's row comes back with the unit's first reads and is checked (`check`), by the same
    rules as `require_user_types`, before any of them is used.

    A bearer scheme itself (documented as the app's one OAuth2 scheme), not a dependency on one: FastAPI
    solves each dependency of a request in turn, and the loop's busiest requests had three (the token, the
    pool, the caller) where one does."""

    def __init__(self, *user_types: UserType) -> None:
        super().__init__(tokenUrl="/auth/token", auto_error=False, scheme_name=type(oauth2_scheme).__name__)
        self.allowed = frozenset(user_type.value for user_type in user_types)

    def check(self, row: Any) -> UserRecord:
        return _of_types(self.allowed, _signed_in(None if row is None else user_record(row)))

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        token = await super().__call__(request)
        return Caller(_user_id(token), self.check, request.app.state.unit_pool)


AdminUser = Annotated[UserRecord, Depends(require_roles(Role.ADMIN))]
