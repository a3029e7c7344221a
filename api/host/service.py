"""Who hosts a mission, QR tokens for its steps, and decisions on volunteer-hour claims.

A mission's hosts are its creator (missions.created_by) and the co-hosts in app.mission_hosts, each
holding the host role; a municipality officer acts for every mission of their own 시군구; admins for all.
Ownership is checked on the mission, not only the role.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, text

from api.attempts.service import Mission, _payload, mission_or_404
from api.attempts.writer import Tx
from api.errors import ApiError
from api.users.service import UserRecord
from core import qr
from core.audit import audit
from core.notify import notify
from core.settings import get_settings
from core.vocab import Role, StepVerification


def may_host(conn: Connection, user: UserRecord, mission: Mission) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.MUNICIPALITY_OFFICER) and user.managed_region_code == mission.region_code:
        return True
    if not user.has_role(Role.HOST):
        return False
    if mission.created_by == user.id:
        return True
    return bool(conn.execute(text("select exists (select 1 from app.mission_hosts where mission_id = :m "
                                  "and user_id = :u)"), {"m": mission.id, "u": user.id}).scalar_one())


def hosted_mission(conn: Connection, user: UserRecord, mission_id: uuid.UUID) -> Mission:
    mission = mission_or_404(conn, mission_id)
    if not may_host(conn, user, mission):
        raise ApiError(403, "not_your_mission", f"You do not host mission {mission_id}: only its hosts, the "
                       "municipality officers of its 시군구 and admins can do this.")
    return mission


def issue_token(conn: Connection, user: UserRecord, mission_id: uuid.UUID, step_no: int,
                ttl_seconds: int) -> tuple[str, qr.QrClaims]:
    mission = hosted_mission(conn, user, mission_id)
    step = mission.step(step_no)
    if step.verification != StepVerification.QR:
        raise ApiError(409, "wrong_verification", f"Step {step_no} is verified by {step.verification!r}; QR codes "
                       "are for steps verified by 'qr'.")
    return qr.issue(get_settings().resolved_secret_key(), str(mission.id), step_no, str(user.id), ttl_seconds)


def token_png(conn: Connection, user: UserRecord, token: str) -> bytes:
    """The QR code image of a valid token for a mission the caller hosts."""
    import qrcode

    try:
        claims = qr.verify(get_settings().resolved_secret_key(), token)
    except qr.QrTokenError as exc:
        raise ApiError(422, "qr_invalid", f"Cannot draw this token ({exc.reason}): {exc}.") from None
    hosted_mission(conn, user, uuid.UUID(claims.mission_id))
    image = qrcode.make(token, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def add_cohost(conn: Connection, user: UserRecord, mission_id: uuid.UUID, cohost_id: uuid.UUID) -> None:
    mission = hosted_mission(conn, user, mission_id)
    roles = conn.execute(text("select roles from app.users where id = :u and is_active"), {"u": cohost_id}).scalar()
    if roles is None:
        raise ApiError.not_found(f"No active user has the id {cohost_id}.")
    if Role.HOST.value not in roles:
        raise ApiError(409, "not_a_host", f"User {cohost_id} does not hold the host role; an admin grants it first.")
    conn.execute(text("insert into app.mission_hosts (mission_id, user_id) values (:m, :u) on conflict do nothing"),
                 {"m": mission.id, "u": cohost_id})
    audit(conn, user.id, "mission.add_host", "mission", str(mission.id), details={"host_id": str(cohost_id)})
    conn.commit()


_CLAIMS_SQL = """
    select h.id, h.attempt_id, h.user_id, u.display_name, h.mission_id, m.title as mission_title, h.step_no,
        h.hours, h.note, h.status, h.created_at, h.decided_at, h.decision_note
    from app.volunteer_hours h
    join app.missions m on m.id = h.mission_id
    join app.users u on u.id = h.user_id
"""


def _hostable_clause(user: UserRecord) -> tuple[str, dict[str, object]]:
    if user.has_role(Role.ADMIN):
        return "true", {}
    clauses = ["(:is_host and (m.created_by = :me or exists (select 1 from app.mission_hosts mh "
               "where mh.mission_id = m.id and mh.user_id = :me)))"]
    params: dict[str, object] = {"me": user.id, "is_host": user.has_role(Role.HOST)}
    if user.has_role(Role.MUNICIPALITY_OFFICER) and user.managed_region_code:
        clauses.append("m.region_code = :region")
        params["region"] = user.managed_region_code
    return "(" + " or ".join(clauses) + ")", params


def list_claims(conn: Connection, user: UserRecord, status: str | None, limit: int,
                offset: int) -> tuple[Sequence[RowMapping], int]:
    clause, params = _hostable_clause(user)
    where = clause + (" and h.status = :status" if status else "")
    params |= {"status": status, "limit": limit, "offset": offset}
    total: int = conn.execute(text(f"select count(*) from app.volunteer_hours h join app.missions m on "
                              f"m.id = h.mission_id where {where}"), params).scalar_one()
    rows = conn.execute(text(f"{_CLAIMS_SQL} where {where} order by h.created_at, h.id limit :limit offset :offset"),
                        params).mappings().all()
    return rows, int(total)


def decide_claim(tx: Tx, user: UserRecord, claim_id: int, confirm: bool, note: str) -> RowMapping:
    claim = tx.conn.execute(text("select * from app.volunteer_hours where id = :id for update"),
                            {"id": claim_id}).mappings().first()
    if claim is None:
        raise ApiError.not_found(f"There is no hours claim {claim_id}; list the claims at GET /host/hours.")
    mission = hosted_mission(tx.conn, user, claim["mission_id"])
    if claim["status"] != "claimed":
        raise ApiError(409, "claim_decided", f"Claim {claim_id} was already {claim['status']}.")
    status = "confirmed" if confirm else "rejected"
    tx.conn.execute(text("update app.volunteer_hours set status = :s, decided_by = :by, decided_at = :now, "
                         "decision_note = :note where id = :id"),
                    {"s": status, "by": user.id, "now": tx.now, "note": note or None, "id": claim_id})
    hours = float(claim["hours"])
    tx.event(claim["user_id"], "hours_confirmed" if confirm else "hours_rejected", mission_id=mission.id,
             step_no=claim["step_no"], region_code=mission.region_code,
             payload=_payload(claim["attempt_id"], hours=hours, host_id=str(user.id), claim_id=claim_id,
                              note=note or None))
    title = f"봉사 시간 {'확인' if confirm else '반려'}: {mission.title}"
    notify(tx.conn, claim["user_id"], f"hours_{status}", title, f"{hours:g}시간" + (f" — {note}" if note else ""),
           {"claim_id": claim_id, "attempt_id": str(claim["attempt_id"]), "mission_id": str(mission.id)},
           dedupe_key=f"hours:{claim_id}:{status}")
    audit(tx.conn, user.id, f"hours.{'confirm' if confirm else 'reject'}", "volunteer_hours", str(claim_id),
          reason=note or None, details={"hours": hours, "user_id": str(claim["user_id"])})
    return tx.conn.execute(text(f"{_CLAIMS_SQL} where h.id = :id"), {"id": claim_id}).mappings().one()
