"""Reading and marking notifications (rows written by core.notify in whichever transaction made them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, text

COLUMNS = "id, user_id, kind, title, body, data, created_at, read_at"


def list_for(conn: Connection, user_id: uuid.UUID, unread_only: bool, limit: int,
             offset: int) -> tuple[Sequence[RowMapping], int, int]:
    where = "user_id = :u" + (" and read_at is null" if unread_only else "")
    params = {"u": user_id, "limit": limit, "offset": offset}
    total: int = conn.execute(text(f"select count(*) from app.notifications where {where}"), params).scalar_one()
    unread: int = conn.execute(text("select count(*) from app.notifications where user_id = :u and read_at is null"),
                          params).scalar_one()
    rows = conn.execute(text(f"select {COLUMNS} from app.notifications where {where} "
                             "order by id desc limit :limit offset :offset"), params).mappings().all()
    return rows, int(total), int(unread)


def mark_read(conn: Connection, user_id: uuid.UUID, notification_id: int) -> RowMapping | None:
    row = conn.execute(text(f"update app.notifications set read_at = coalesce(read_at, now()) "
                            f"where id = :id and user_id = :u returning {COLUMNS}"),
                       {"id": notification_id, "u": user_id}).mappings().first()
    conn.commit()
    return row


def mark_all_read(conn: Connection, user_id: uuid.UUID) -> int:
    result = conn.execute(text("update app.notifications set read_at = now() where user_id = :u and read_at is null"),
                          {"u": user_id})
    conn.commit()
    return int(result.rowcount or 0)
