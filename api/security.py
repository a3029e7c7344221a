"""JWT access tokens (HS256), signed with the settings' secret key.

The token names the user only (`sub`); roles and user type are read from the database on every request,
so a role taken away or an account disabled takes effect at once, not when the token expires.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from core.settings import Settings, get_settings

ALGORITHM = "HS256"
ISSUER = "hometown-on"
TOKEN_TYPE = "access"


class TokenError(Exception):
    """The token cannot be used; `code` says why (expired or invalid)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int  # seconds


def create_access_token(user_id: uuid.UUID, settings: Settings | None = None,
                        now: datetime | None = None) -> IssuedToken:
    settings = settings or get_settings()
    issued = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {"sub": str(user_id), "iss": ISSUER, "typ": TOKEN_TYPE, "iat": issued,
              "exp": issued + lifetime, "jti": uuid.uuid4().hex}
    token = jwt.encode(claims, settings.resolved_secret_key(), algorithm=ALGORITHM)
    return IssuedToken(token=token, expires_in=int(lifetime.total_seconds()))


def decode_access_token(token: str, settings: Settings | None = None) -> uuid.UUID:
    """The user id in a valid access token; TokenError otherwise."""
    settings = settings or get_settings()
    user_id, expires = _verified(token, settings.resolved_secret_key())
    if time.time() >= expires:
        raise TokenError("token_expired", "The access token has expired; sign in again at /auth/token.")
    return user_id


@lru_cache(maxsize=8192)
def _verified(token: str, key: str) -> tuple[uuid.UUID, float]:
    """What a token's signature vouches for (its user and expiry), checked once per token and process: a
    client sends the same token with every request. Its expiry is checked on every use by the caller; a
    token that fails is not cached, and a new secret key is a new cache key."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token_expired", "The access token has expired; sign in again at /auth/token.") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("invalid_token", "The access token is invalid; sign in again at /auth/token "
                         "and send it as `Authorization: Bearer <token>`.") from exc
    if claims.get("typ") != TOKEN_TYPE:
        raise TokenError("invalid_token", "This token is not an access token; sign in at /auth/token.")
    try:
        return uuid.UUID(str(claims["sub"])), float(claims["exp"])
    except ValueError as exc:
        raise TokenError("invalid_token", "The access token names no valid user; sign in again.") from exc
