"""Reading, verifying and revoking credentials (the signing itself lives in core.credentials)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, select

from api.errors import ApiError
from api.users.service import UserRecord
from core import credentials as cr
from core.audit import audit
from core.notify import notify
from core.tables_certify import credentials, user_skill_tiers


def get_credential(conn: Connection, credential_id: uuid.UUID) -> RowMapping | None:
    return conn.execute(select(credentials).where(credentials.c.id == credential_id)).mappings().first()


def list_credentials(conn: Connection, user_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(select(credentials).where(credentials.c.user_id == user_id)
                             .order_by(credentials.c.issued_at.desc())).mappings().all())


def verify(conn: Connection, document: Any) -> cr.Verification:
    return cr.verify_credential(conn, document)


def revoke(conn: Connection, admin: UserRecord, credential_id: uuid.UUID, reason: str) -> RowMapping:
    """Revoke once, with the reason in the audit log and a notification to the holder."""
    row = get_credential(conn, credential_id)
    if row is None:
        raise ApiError.not_found(f"No credential has the id {credential_id}.")
    if not cr.revoke_credential(conn, credential_id, admin.id, reason.strip()):
        raise ApiError(409, "already_revoked", f"This credential was already revoked on {row['revoked_at']:%Y-%m-%d}.")
    # the tier the credential stood for is withdrawn with it (an earlier, unrevoked tier is not restored)
    conn.execute(delete(user_skill_tiers).where(user_skill_tiers.c.credential_id == credential_id))
    audit(conn, admin.id, "credential.revoke", "credential", str(credential_id), reason.strip(),
          {"skill": row["skill"], "tier": row["tier"], "user_id": str(row["user_id"])})
    notify(conn, row["user_id"], "credential_revoked", f"{row['skill']} 인증서가 취소되었습니다",
           f"사유: {reason.strip()}", {"credential_id": str(credential_id)},
           dedupe_key=f"credential:{credential_id}:revoked")
    conn.commit()
    result = get_credential(conn, credential_id)
    assert result is not None
    return result
