"""The attempt lifecycle: enrol, verify a step, report it done, complete, fail, abandon, resume.

Every function that changes something is a unit for `run_write` (api/attempts/writer.py): it takes a
`Tx`, checks first, writes app rows and adds the events. Rules that make completions without proof
impossible by construction:
- steps are done in order, and only the current step can be verified;
- a step is done only if its verification is satisfied in this attempt (an accepted check-in or QR scan,
  an uploaded photo, hours confirmed by a host, or nothing for `none`);
- a mission is completed only when every step is done; its points count once per user and mission, and
  at most `core.ranking.DAILY_POINTS_CAP` mission points a day.
The attempt row is locked (FOR UPDATE) for each change, so concurrent requests on one attempt queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from api.attempts.writer import Tx
from api.errors import ApiError
from api.users.service import UserRecord
from core import ranking
from core.notify import notify
from core.vocab import FAILURE_REASON_LABELS_KO, FailureReason, MissionStatus, StepVerification

OPEN = "in_progress"


@dataclass(frozen=True)
class Step:
    step_no: int
    title: str
    verification: str
    lat: float | None
    lon: float | None
    radius_m: int | None


@dataclass(frozen=True)
class Mission:
    id: uuid.UUID
    title: str
    mission_type: str
    status: str
    region_code: str
    sido_code: str
    lat: float | None
    lon: float | None
    radius_m: int
    capacity: int | None
    points: int
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: uuid.UUID | None
    region_known: bool  # its region_code is a 시군구 of raw.regions (joined when it was loaded)
    steps: tuple[Step, ...]

    def step(self, step_no: int) -> Step:
        if not 1 <= step_no <= len(self.steps):
            raise ApiError.not_found(f"Mission {self.id} has no step {step_no}; its steps are 1 to "
                                     f"{len(self.steps)} (see GET /missions/{self.id}).")
        return self.steps[step_no - 1]


# ---------------------------------------------------------------------------------- loading
def load_mission(conn: Connection, mission_id: uuid.UUID, lock: bool = False) -> Mission | None:
    """The mission with its steps, in one statement (every mission-loop request reads one)."""
    row = conn.execute(text(
        "select m.id, m.title, m.mission_type, m.status, m.region_code, coalesce(r.sido_code, left(m.region_code, 2)) "
        "as sido_code, m.lat, m.lon, m.radius_m, m.capacity, m.points, m.starts_at, m.ends_at, m.created_by, "
        "r.region_code is not null as region_known, "
        "(select coalesce(json_agg(json_build_array(s.step_no, s.title, s.verification, s.lat, s.lon, s.radius_m) "
        "order by s.step_no), '[]') from app.mission_steps s where s.mission_id = m.id) as steps "
        "from app.missions m left join raw.regions r on r.region_code = m.region_code where m.id = :id"
        + (" for no key update of m" if lock else "")), {"id": mission_id}).mappings().first()
    if row is None:
        return None
    fields = dict(row)
    steps = fields.pop("steps")
    return Mission(**fields, steps=tuple(Step(int(s[0]), s[1], s[2], s[3], s[4], s[5]) for s in steps))


def mission_or_404(conn: Connection, mission_id: uuid.UUID, lock: bool = False) -> Mission:
    mission = load_mission(conn, mission_id, lock)
    if mission is None or mission.status not in (MissionStatus.PUBLISHED, MissionStatus.CLOSED):
        raise ApiError.not_found(f"No published mission has the id {mission_id}; find missions at /missions.")
    return mission


def lock_attempt(conn: Connection, attempt_id: uuid.UUID, user: UserRecord) -> RowMapping:
    """The caller's attempt, locked for this transaction; 404 for anyone else's (not revealed)."""
    row = conn.execute(text("select * from app.mission_attempts where id = :id for update"),
                       {"id": attempt_id}).mappings().first()
    if row is None or row["user_id"] != user.id:
        raise ApiError.not_found(f"You have no attempt with the id {attempt_id}; list yours at GET /me/attempts.")
    return row


def require_open(attempt: RowMapping, action: str) -> None:
    if attempt["status"] != OPEN:
        hint = " Resume it first: POST /me/attempts/{id}/resume." if attempt["status"] == "abandoned" else ""
        raise ApiError(409, "attempt_not_open", f"Cannot {action}: this attempt is {attempt['status']}.{hint}"
                       .replace("{id}", str(attempt["id"])))


def require_window(mission: Mission, now: datetime, action: str) -> None:
    if mission.status != MissionStatus.PUBLISHED:
        raise ApiError(409, "mission_closed", f"Cannot {action}: the mission is {mission.status}.")
    if mission.starts_at is not None and now < mission.starts_at:
        raise ApiError(409, "mission_not_started", f"Cannot {action} before the mission starts at "
                       f"{mission.starts_at.isoformat()}.")
    if mission.ends_at is not None and now > mission.ends_at:
        raise ApiError(409, "mission_ended", f"Cannot {action}: the mission ended at {mission.ends_at.isoformat()}.")


def require_current_step(attempt: RowMapping, mission: Mission, step_no: int, verification: str | None,
                         action: str) -> Step:
    """The step must exist, be the next one in order, and (for a verification) be verified that way."""
    step = mission.step(step_no)
    done = attempt["steps_done"]
    if step_no <= done:
        raise ApiError(409, "step_already_done", f"Step {step_no} is already done; the next step is "
                       f"{done + 1 if done < len(mission.steps) else 'none (complete the mission)'}.")
    if step_no != done + 1:
        raise ApiError(409, "step_out_of_order", f"Steps are done in order: step {done + 1} comes before step "
                       f"{step_no}. {action.capitalize()} step {done + 1} first.")
    if verification is not None and step.verification != verification:
        raise ApiError(409, "wrong_verification", f"Step {step_no} is verified by {step.verification!r}, not by "
                       f"{verification!r}; see GET /missions/{mission.id} for how each step is proven.")
    return step


def unit_mission(tx: Tx, user: UserRecord, mission_id: uuid.UUID, lock: bool = False) -> Mission:
    """`mission_or_404` inside a unit of work: the user and the mission (and its region, when it is a known
    시군구) were read in this transaction, so the unit's events need no second look at them (Tx.vouch)."""
    mission = mission_or_404(tx.conn, mission_id, lock)
    tx.vouch(user.id, mission.id, mission.region_code if mission.region_known else None)
    return mission


def _payload(attempt_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {"attempt_id": str(attempt_id), **{k: v for k, v in values.items() if v is not None}}


def _touch(tx: Tx, attempt_id: uuid.UUID, **values: Any) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    tx.conn.execute(text(f"update app.mission_attempts set updated_at = :now{', ' if sets else ''}{sets} "
                         "where id = :id"), {"now": tx.now, "id": attempt_id, **values})


# ---------------------------------------------------------------------------------- lifecycle
def enrol(tx: Tx, user: UserRecord, mission_id: uuid.UUID, channel: str = "app") -> uuid.UUID:
    """A new attempt; 409 when one is open, the mission is full, closed or over."""
    mission = unit_mission(tx, user, mission_id, lock=True)  # enrolments of one mission queue here
    if mission.status != MissionStatus.PUBLISHED:
        raise ApiError(409, "mission_closed", f"Mission {mission_id} is {mission.status}: it takes no new "
                       "participants.")
    if mission.ends_at is not None and tx.now > mission.ends_at:
        raise ApiError(409, "mission_ended", f"Mission {mission_id} ended at {mission.ends_at.isoformat()}.")
    if not mission.steps:
        raise ApiError(409, "mission_has_no_steps", f"Mission {mission_id} has no steps yet; it cannot be taken.")
    open_id = tx.conn.execute(text("select id from app.mission_attempts where user_id = :u and mission_id = :m "
                                   "and status = 'in_progress'"), {"u": user.id, "m": mission_id}).scalar()
    if open_id is not None:
        raise ApiError(409, "attempt_open", f"You already have an open attempt {open_id} on this mission; continue "
                       f"it at /me/attempts/{open_id}.", details={"attempt_id": str(open_id)})
    if mission.capacity is not None:
        taken: int = tx.conn.execute(text(
            "select count(distinct user_id) from app.mission_attempts where mission_id = :m and user_id <> :u "
            "and status in ('in_progress', 'completed')"), {"m": mission_id, "u": user.id}).scalar_one()
        if taken >= mission.capacity:
            raise ApiError(409, "mission_full", f"Mission {mission_id} is full ({mission.capacity} participants).")
    attempt_id = uuid.uuid4()
    tx.conn.execute(text(
        "insert into app.mission_attempts (id, user_id, mission_id, status, steps_total, started_at, updated_at, "
        "channel) values (:id, :u, :m, 'in_progress', :n, :now, :now, :channel)"),
        {"id": attempt_id, "u": user.id, "m": mission_id, "n": len(mission.steps), "now": tx.now,
         "channel": channel})
    tx.event(user.id, "mission_enrolled", mission_id=mission_id, region_code=mission.region_code,
             payload=_payload(attempt_id, channel=channel))
    return attempt_id


def _verification_evidence(conn: Connection, attempt_id: uuid.UUID, step: Step) -> dict[str, Any] | None:
    """What proves this step in this attempt, or None when nothing does yet."""
    params = {"a": attempt_id, "s": step.step_no}
    if step.verification == StepVerification.NONE:
        return {}
    if step.verification == StepVerification.CHECKIN:
        found = conn.execute(text("select id from app.checkins where attempt_id = :a and step_no = :s and accepted "
                                  "order by id desc limit 1"), params).scalar()
        return None if found is None else {"checkin_id": found}
    if step.verification == StepVerification.QR:
        found = conn.execute(text("select id from app.qr_scans where attempt_id = :a and step_no = :s and accepted "
                                  "order by id desc limit 1"), params).scalar()
        return None if found is None else {"qr_scan_id": found}
    if step.verification == StepVerification.PHOTO:
        row = conn.execute(text("select id, storage_key from app.step_photos where attempt_id = :a and step_no = :s "
                                "order by id desc limit 1"), params).first()
        return None if row is None else {"photo_id": row.id, "photo_key": row.storage_key}
    if step.verification == StepVerification.HOST_CONFIRM:
        row = conn.execute(text("select id, hours from app.volunteer_hours where attempt_id = :a and step_no = :s "
                                "and status = 'confirmed'"), params).first()
        return None if row is None else {"hours_id": row.id, "hours": float(row.hours)}
    raise AssertionError(f"unknown verification {step.verification}")


_MISSING = {
    StepVerification.CHECKIN: "an accepted check-in at the spot (POST …/steps/{n}/checkins)",
    StepVerification.QR: "an accepted scan of the host's QR code (POST …/steps/{n}/qr-scans)",
    StepVerification.PHOTO: "a photo (POST …/steps/{n}/photos)",
    StepVerification.HOST_CONFIRM: "hours confirmed by the host (claim them: POST …/steps/{n}/hours)",
}


def complete_step(tx: Tx, user: UserRecord, attempt_id: uuid.UUID, step_no: int) -> None:
    attempt = lock_attempt(tx.conn, attempt_id, user)
    require_open(attempt, f"report step {step_no} done")
    mission = unit_mission(tx, user, attempt["mission_id"])
    step = require_current_step(attempt, mission, step_no, None, "report")
    require_window(mission, tx.now, f"report step {step_no} done")
    evidence = _verification_evidence(tx.conn, attempt_id, step)
    if evidence is None:
        needed = _MISSING[StepVerification(step.verification)].replace("{n}", str(step_no))
        raise ApiError(409, "step_not_verified", f"Step {step_no} needs {needed} in this attempt before it is done.")
    tx.conn.execute(text("insert into app.attempt_steps (attempt_id, step_no, verification, evidence, completed_at) "
                         "values (:a, :s, :v, cast(:e as jsonb), :now)"),
                    {"a": attempt_id, "s": step_no, "v": step.verification, "e": _json(evidence), "now": tx.now})
    _touch(tx, attempt_id, steps_done=step_no)
    tx.event(user.id, "step_completed", mission_id=mission.id, step_no=step_no, region_code=mission.region_code,
             payload=_payload(attempt_id, verification=step.verification, **evidence))


def complete(tx: Tx, user: UserRecord, attempt_id: uuid.UUID) -> int:
    """Complete the attempt; returns the points it earned (0 for a mission completed before)."""
    attempt = lock_attempt(tx.conn, attempt_id, user)
    require_open(attempt, "complete the mission")
    mission = unit_mission(tx, user, attempt["mission_id"])
    if attempt["steps_done"] < attempt["steps_total"]:
        missing = list(range(attempt["steps_done"] + 1, attempt["steps_total"] + 1))
        raise ApiError(409, "steps_missing", f"Steps {', '.join(map(str, missing))} are not done yet; report each "
                       "done (POST /me/attempts/{id}/steps/{n}/complete) before completing the mission."
                       .replace("{id}", str(attempt_id)), details={"missing_steps": missing})
    require_window(mission, tx.now, "complete the mission")
    # One user's completions queue on the user row, so the daily cap and "once per mission" hold under
    # concurrency. The lock is its own statement: in READ COMMITTED the next statement's snapshot then
    # includes a completion that committed while we waited. Both counts come from that one next statement.
    tx.conn.execute(text("select 1 from app.users where id = :u for no key update"), {"u": user.id})
    day_start, day_end = ranking.kst_day_bounds(tx.now)
    done = tx.conn.execute(text(
        "select coalesce(bool_or(mission_id = :m), false) as before, "
        "coalesce(sum(points_awarded) filter (where completed_at >= :a and completed_at < :b), 0) as today "
        "from app.mission_attempts where user_id = :u and status = 'completed'"),
        {"u": user.id, "m": mission.id, "a": day_start, "b": day_end}).one()
    completed_before, earned_today = bool(done.before), int(done.today)
    points = ranking.points_for_completion(mission.points, completed_before, earned_today)
    _touch(tx, attempt_id, status="completed", completed_at=tx.now, ended_at=tx.now, points_awarded=points)
    tx.event(user.id, "mission_completed", mission_id=mission.id, region_code=mission.region_code,
             payload=_payload(attempt_id, points=points, mission_points=mission.points,
                              repeat=True if completed_before else None))
    body = f"+{points}점" if points else ("이미 완료한 미션이라 점수는 더해지지 않습니다." if completed_before
                                          else "오늘 받을 수 있는 점수를 모두 받았습니다.")
    notify(tx.conn, user.id, "mission_completed", f"미션 완료: {mission.title}", body,
           {"attempt_id": str(attempt_id), "mission_id": str(mission.id), "points": points},
           dedupe_key=f"mission_completed:{attempt_id}")
    if points:
        completion = ranking.Completion(attempt_id, user.id, points, mission.region_code, mission.sido_code,
                                        tx.now, mission.lat, mission.lon)
        tx.after_commit.append(lambda: _after_completion(completion))
    else:
        tx.after_commit.append(lambda: _award_badges(user.id))
    return points


def _after_completion(completion: ranking.Completion) -> None:
    from api.ranking.service import count_completion  # the boards are the ranking domain's

    count_completion(completion)
    _award_badges(completion.user_id)


def _award_badges(user_id: uuid.UUID) -> None:
    """Badges that this user's events now earn, issued at once through core.badges (helper E2's rules);
    the Dagster sensor issues the same awards later if this fails, never twice (one dedupe key)."""
    try:
        from core import badges  # type: ignore[attr-defined]
    except ImportError:  # the badge rules are not installed in this checkout
        return
    award = getattr(badges, "award_for_user", None)
    if award is None:
        return
    from core.db import get_engine

    with get_engine().begin() as conn:
        award(conn, user_id)


def fail(tx: Tx, user: UserRecord, attempt_id: uuid.UUID, reason: FailureReason, reason_text: str) -> None:
    attempt = lock_attempt(tx.conn, attempt_id, user)
    require_open(attempt, "report the mission failed")
    mission = unit_mission(tx, user, attempt["mission_id"])
    _touch(tx, attempt_id, status="failed", ended_at=tx.now, failure_reason=reason.value,
           failure_text=reason_text or None)
    at_step = attempt["steps_done"] + 1 if attempt["steps_done"] < attempt["steps_total"] else None
    tx.event(user.id, "mission_failed", mission_id=mission.id, step_no=at_step, region_code=mission.region_code,
             payload=_payload(attempt_id, reason=reason.value, reason_text=reason_text or None,
                              reason_label=FAILURE_REASON_LABELS_KO[reason]))


def abandon(tx: Tx, user: UserRecord, attempt_id: uuid.UUID) -> None:
    attempt = lock_attempt(tx.conn, attempt_id, user)
    require_open(attempt, "abandon the attempt")
    mission = unit_mission(tx, user, attempt["mission_id"])
    _touch(tx, attempt_id, status="abandoned", ended_at=tx.now)
    tx.event(user.id, "mission_abandoned", mission_id=mission.id, region_code=mission.region_code,
             payload=_payload(attempt_id, steps_done=attempt["steps_done"]))


def resume(tx: Tx, user: UserRecord, attempt_id: uuid.UUID) -> None:
    """Come back to an attempt: an open one (a new outing) or an abandoned one (reopened)."""
    attempt = lock_attempt(tx.conn, attempt_id, user)
    if attempt["status"] not in (OPEN, "abandoned"):
        raise ApiError(409, "attempt_not_resumable", f"This attempt is {attempt['status']}; only open or abandoned "
                       f"attempts can be resumed. Enrol again: POST /missions/{attempt['mission_id']}/attempts.")
    mission = unit_mission(tx, user, attempt["mission_id"])
    require_window(mission, tx.now, "resume the attempt")
    if attempt["status"] == "abandoned":
        other = tx.conn.execute(text(
            "select id from app.mission_attempts where user_id = :u and mission_id = :m and status = 'in_progress'"),
            {"u": user.id, "m": mission.id}).scalar()
        if other is not None:
            raise ApiError(409, "attempt_open", f"Attempt {other} on this mission is open; continue that one or "
                           "abandon it first.", details={"attempt_id": str(other)})
        _touch(tx, attempt_id, status=OPEN, ended_at=None)
    else:
        _touch(tx, attempt_id)
    tx.event(user.id, "mission_resumed", mission_id=mission.id, region_code=mission.region_code,
             payload=_payload(attempt_id, steps_done=attempt["steps_done"]))


# ---------------------------------------------------------------------------------- reading
def list_attempts(conn: Connection, user: UserRecord, status: str | None, limit: int,
                  offset: int) -> tuple[Sequence[RowMapping], int]:
    where = "a.user_id = :u" + (" and a.status = :status" if status else "")
    params = {"u": user.id, "status": status, "limit": limit, "offset": offset}
    total: int = conn.execute(text(f"select count(*) from app.mission_attempts a where {where}"), params).scalar_one()
    rows = conn.execute(text(
        f"select a.*, m.title as mission_title, m.mission_type, m.region_code from app.mission_attempts a "
        f"join app.missions m on m.id = a.mission_id where {where} "
        f"order by a.updated_at desc, a.id limit :limit offset :offset"), params).mappings().all()
    return rows, int(total)


def attempt_with_steps(conn: Connection, user: UserRecord,
                       attempt_id: uuid.UUID) -> tuple[RowMapping, list[dict[str, Any]]]:
    """The caller's attempt and each step of its mission (done or not, what has been submitted for it),
    in one statement: every lifecycle answer reads it, just before its commit. 404 for anyone else's."""
    row = conn.execute(text("""
        select a.*, m.title as mission_title, m.mission_type, m.region_code,
            (select coalesce(json_agg(json_build_object(
                'step_no', s.step_no, 'title', s.title, 'verification', s.verification,
                'completed_at', d.completed_at,
                'checkin_accepted', (select bool_or(c.accepted) from app.checkins c
                                     where c.attempt_id = a.id and c.step_no = s.step_no),
                'qr_accepted', (select bool_or(q.accepted) from app.qr_scans q
                                where q.attempt_id = a.id and q.step_no = s.step_no),
                'photos', (select count(*) from app.step_photos p where p.attempt_id = a.id and p.step_no = s.step_no),
                'hours_status', (select h.status from app.volunteer_hours h where h.attempt_id = a.id
                                 and h.step_no = s.step_no order by h.id desc limit 1))
                order by s.step_no), '[]')
             from app.mission_steps s
             left join app.attempt_steps d on d.attempt_id = a.id and d.step_no = s.step_no
             where s.mission_id = a.mission_id) as step_rows
        from app.mission_attempts a join app.missions m on m.id = a.mission_id where a.id = :id"""),
        {"id": attempt_id}).mappings().first()
    if row is None or row["user_id"] != user.id:
        raise ApiError.not_found(f"You have no attempt with the id {attempt_id}; list yours at GET /me/attempts.")
    steps = []
    for r in row["step_rows"]:
        verified = {
            StepVerification.NONE: True, StepVerification.CHECKIN: bool(r["checkin_accepted"]),
            StepVerification.QR: bool(r["qr_accepted"]), StepVerification.PHOTO: r["photos"] > 0,
            StepVerification.HOST_CONFIRM: r["hours_status"] == "confirmed",
        }[StepVerification(r["verification"])]
        done_at = r["completed_at"]
        steps.append({"step_no": r["step_no"], "title": r["title"], "verification": r["verification"],
                      "done": done_at is not None,
                      "completed_at": None if done_at is None else datetime.fromisoformat(done_at),
                      "verified": verified, "hours_status": r["hours_status"]})
    return row, steps


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)
