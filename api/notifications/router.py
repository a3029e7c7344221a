"""`/me/notifications` (list, read/unread, mark read) and the WebSocket `/notifications/ws`.

WebSocket: connect to `/notifications/ws?token=<access token>` (or send `{"type": "auth", "token": …}` as
the first message within 10 s); optional `since=<notification id>` re-sends what came after it. The
server sends `{"type": "ready", "unread_count": n, "last_id": id, "worker": pid}`, then `{"type": "notification",
"notification": {...}}` as they happen; `{"type": "ping"}` is answered `{"type": "pong"}`. A missing or
bad token closes the socket with code 4401 (4403 for a disabled account) and the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query, WebSocket, WebSocketDisconnect
from sqlalchemy import text

from api.deps import ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.notifications import service
from api.notifications.hub import hub
from api.notifications.schemas import MarkedPublic, NotificationPage, NotificationPublic
from api.pagination import Limit, Offset
from api.security import TokenError, decode_access_token
from api.users.service import get_user
from core.db import get_engine

router = APIRouter(prefix="/me/notifications", tags=["notifications"],
                   responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
ws_router = APIRouter(tags=["notifications"])
AUTH_TIMEOUT_S = 10.0
CLOSE_BAD_TOKEN = 4401
CLOSE_DISABLED = 4403


@router.get("", response_model=NotificationPage, summary="My notifications, newest first")
def list_mine(conn: ConnDep, user: CurrentUser,
              unread_only: Annotated[bool, Query(description="only those not read yet")] = False,
              limit: Limit = 20, offset: Offset = 0) -> NotificationPage:
    rows, total, unread = service.list_for(conn, user.id, unread_only, limit, offset)
    return NotificationPage(items=[NotificationPublic.from_row(r) for r in rows], total=total, limit=limit,
                            offset=offset, unread_count=unread)


@router.post("/read-all", response_model=MarkedPublic, summary="Mark all my notifications read")
def read_all(conn: ConnDep, user: CurrentUser) -> MarkedPublic:
    return MarkedPublic(marked=service.mark_all_read(conn, user.id))


@router.post("/{notification_id}/read", response_model=NotificationPublic, summary="Mark one notification read",
             responses={404: {"model": ErrorResponse, "description": "Not one of your notifications"}})
def read_one(notification_id: Annotated[int, Path(ge=1, le=2**62)], conn: ConnDep,
             user: CurrentUser) -> NotificationPublic:
    row = service.mark_read(conn, user.id, notification_id)
    if row is None:
        raise ApiError.not_found(f"You have no notification {notification_id}; list yours at GET /me/notifications.")
    return NotificationPublic.from_row(row)


def _authenticate(token: str) -> tuple[uuid.UUID | None, int, str, int, int]:
    """(user id or None, close code, reason, unread count, last id) — sync: runs in a worker thread."""
    try:
        user_id = decode_access_token(token)
    except TokenError as exc:
        return None, CLOSE_BAD_TOKEN, f"{exc.code}: {exc.message}", 0, 0
    with get_engine().connect() as conn:
        user = get_user(conn, user_id)
        if user is None:
            return None, CLOSE_BAD_TOKEN, "invalid_token: the account of this token no longer exists", 0, 0
        if not user.is_active:
            return None, CLOSE_DISABLED, "account_disabled: this account is disabled", 0, 0
        counts = conn.execute(text(
            "select count(*) filter (where read_at is null), coalesce(max(id), 0) from app.notifications "
            "where user_id = :u"), {"u": user_id}).one()
    return user_id, 1000, "", int(counts[0]), int(counts[1])


async def _token(socket: WebSocket, token: str | None) -> str | None:
    if token:
        return token
    try:
        with anyio.fail_after(AUTH_TIMEOUT_S):
            first = await socket.receive_json()
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if isinstance(first, dict) and first.get("type") == "auth" and isinstance(first.get("token"), str):
        return str(first["token"])
    return None


@ws_router.websocket("/notifications/ws")
async def notifications_ws(socket: WebSocket, token: str | None = None, since: int | None = None) -> None:
    await socket.accept()
    raw = await _token(socket, token)
    if raw is None:
        await socket.close(CLOSE_BAD_TOKEN, "not_authenticated: send ?token=<access token> or "
                           '{"type": "auth", "token": …} first')
        return
    user_id, code, reason, unread, last = await anyio.to_thread.run_sync(_authenticate, raw)
    if user_id is None:
        await socket.close(code, reason[:120])
        return
    start = last if since is None else max(0, since)
    await socket.send_json({"type": "ready", "unread_count": unread, "last_id": last, "worker": os.getpid()})
    try:
        await hub.connect(user_id, socket, start)
        while True:
            message = await socket.receive_json()
            if isinstance(message, dict) and message.get("type") == "ping":
                await socket.send_json({"type": "pong"})
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError, ValueError):
        pass
    finally:
        hub.disconnect(user_id, socket)
