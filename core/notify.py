"""Notifications: a row in app.notifications plus a PostgreSQL NOTIFY, in the caller's transaction.

The row is what offline clients list later; the NOTIFY (delivered only if the transaction commits)
wakes every API worker's listener, which pushes it to the user's open WebSockets.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

CHANNEL = "hometown_notifications"


def notify(conn: Connection, user_id: uuid.UUID | str, kind: str, title: str, body: str = "",
           data: dict[str, Any] | None = None, dedupe_key: str | None = None) -> int | None:
    """Create a notification; returns its id, or None when `dedupe_key` was already used."""
    row = conn.execute(text(
        "insert into app.notifications (user_id, kind, title, body, data, dedupe_key) "
        "values (:user_id, :kind, :title, :body, cast(:data as jsonb), :dedupe_key) "
        "on conflict (dedupe_key) do nothing returning id"),
        {"user_id": str(user_id), "kind": kind, "title": title, "body": body,
         "data": json.dumps(data or {}, ensure_ascii=False), "dedupe_key": dedupe_key}).first()
    if row is None:
        return None
    conn.execute(text("select pg_notify(:channel, :payload)"),
                 {"channel": CHANNEL, "payload": json.dumps({"id": row.id, "user_id": str(user_id)})})
    return int(row.id)
