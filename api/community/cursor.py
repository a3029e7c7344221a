"""Opaque, signed cursors for keyset pagination.

A cursor is base64url(JSON of the last row's sort key) + "." + an HMAC of it with the platform's secret,
so a client cannot forge a position or smuggle values into the query, and a cursor made for one list is
refused by another. A malformed, tampered or foreign cursor is a 400 that says to start from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Query

from api.errors import ApiError
from core.settings import get_settings

MAX_CURSOR_LENGTH = 400
CursorParam = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH,
                                          description="`next_cursor` of the previous page; omit for the first")]


@dataclass(frozen=True)
class Position:
    """Where the previous page ended: the last row's timestamp and id (ties broken by id)."""

    at: datetime
    id: uuid.UUID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(kind: str, payload: str) -> str:
    key = get_settings().resolved_secret_key().encode()
    return _b64(hmac.new(key, f"cursor:{kind}:{payload}".encode(), hashlib.sha256).digest()[:18])


def encode_cursor(kind: str, position: Position) -> str:
    payload = _b64(json.dumps({"t": position.at.isoformat(), "i": str(position.id)}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(kind, payload)}"


def _invalid(reason: str) -> ApiError:
    return ApiError(400, "invalid_cursor", f"The cursor is not valid ({reason}); pass the `next_cursor` of the "
                    "previous page unchanged, or leave it out to start from the first page.")


def decode_cursor(kind: str, cursor: str | None) -> Position | None:
    """The position a cursor of list `kind` names, None for no cursor, or a 400."""
    if cursor is None:
        return None
    payload, dot, signature = cursor.partition(".")
    if not dot or not payload or not signature:
        raise _invalid("it is not of the form <data>.<signature>")
    if not hmac.compare_digest(signature, _signature(kind, payload)):
        raise _invalid("its signature does not match: it was changed, or made for another list")
    try:
        data = json.loads(_unb64(payload))
        return Position(at=datetime.fromisoformat(data["t"]), id=uuid.UUID(data["i"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _invalid("its content cannot be read") from exc
