"""Notifications: a row in app.notifications plus a PostgreSQL NOTIFY, in the caller's transaction.

The row is what offline clients list later; the NOTIFY (delivered only if the transaction commits)
wakes every API worker's listener, which pushes it to the user's open WebSockets. Both are one
statement (`notification`), so a unit of work can send it with its other writes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection

from core.db import Statement

CHANNEL = "hometown_notifications"

_SQL = ("with n as (insert into app.notifications (user_id, kind, title, body, data, dedupe_key) "
        "values (%(user_id)s::uuid, %(kind)s, %(title)s, %(body)s, %(data)s::jsonb, %(dedupe_key)s) "
        "on conflict (dedupe_key) do nothing returning id, user_id) "
        "select n.id, pg_notify(%(channel)s, json_build_object('id', n.id, 'user_id', n.user_id)::text) from n")


def notification(user_id: uuid.UUID | str, kind: str, title: str, body: str = "",
                 data: dict[str, Any] | None = None, dedupe_key: str | None = None) -> Statement:
    """The statement that creates a notification and wakes the listeners; its row holds the id, or there is
    no row when `dedupe_key` was already used."""
    return Statement(_SQL, {"user_id": str(user_id), "kind": kind, "title": title, "body": body,
                            "data": json.dumps(data or {}, ensure_ascii=False), "dedupe_key": dedupe_key,
                            "channel": CHANNEL}, fetch="one")


def notify(conn: Connection, user_id: uuid.UUID | str, kind: str, title: str, body: str = "",
           data: dict[str, Any] | None = None, dedupe_key: str | None = None) -> int | None:
    """Create a notification; returns its id, or None when `dedupe_key` was already used."""
    row = notification(user_id, kind, title, body, data, dedupe_key).run(conn)
    return None if row is None else int(row["id"])
