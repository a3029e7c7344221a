"""Shared dependencies: the database connection, the signed-in user, and role / user-type checks.

Routes declare what they need with the typed aliases (`ConnDep`, `CurrentUser`, `OptionalUser`) and
guard themselves with `require_roles(...)` / `require_user_types(...)`; no route reads a token or opens
a connection itself.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection

from api.errors import ApiError
from api.security import TokenError, decode_access_token
from api.users.service import UserRecord, get_user
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


def _user_from_token(conn: Connection, token: str) -> UserRecord:
    try:
        user_id = decode_access_token(token)
    except TokenError as exc:
        raise ApiError(401, exc.code, exc.message, headers=BEARER) from exc
    user = get_user(conn, user_id)
    if user is None:
        raise ApiError(401, "invalid_token", "The account of this token no longer exists; sign in again.",
                       headers=BEARER)
    if not user.is_active:
        raise ApiError(403, "account_disabled", "This account is disabled; contact the Hometown ON team.")
    return user


def get_current_user(conn: ConnDep, token: TokenDep) -> UserRecord:
    if not token:
        raise ApiError(401, "not_authenticated", "Sign in first: POST /auth/token with your e-mail and password, "
                       "then send `Authorization: Bearer <access_token>`.", headers=BEARER)
    return _user_from_token(conn, token)


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


def require_user_types(*user_types: UserType) -> Callable[[UserRecord], Awaitable[UserRecord]]:
    """A dependency that lets through app users of the given types, else 403."""
    allowed = {user_type.value for user_type in user_types}

    async def check(user: CurrentUser) -> UserRecord:  # async: no I/O, so no hop to the thread pool
        if user.user_type not in allowed:
            raise ApiError(403, "forbidden", f"This is for {' or '.join(sorted(allowed))} accounts; yours is "
                           f"{user.user_type or 'a staff account'}.")
        return user

    return check


AdminUser = Annotated[UserRecord, Depends(require_roles(Role.ADMIN))]
