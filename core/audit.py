"""The audit log: every staff decision and every refused access, with who, when and why."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, text


def audit(conn: Connection, actor_id: uuid.UUID | str | None, action: str, object_type: str,
          object_id: str | None = None, reason: str | None = None, details: dict[str, Any] | None = None) -> int:
    row = conn.execute(text(
        "insert into app.audit_log (actor_id, action, object_type, object_id, reason, details) "
        "values (:actor_id, :action, :object_type, :object_id, :reason, cast(:details as jsonb)) returning id"),
        {"actor_id": str(actor_id) if actor_id else None, "action": action, "object_type": object_type,
         "object_id": object_id, "reason": reason, "details": json.dumps(details or {}, ensure_ascii=False)})
    return int(row.scalar_one())
