"""The attempt lifecycle: enrol, verify a step, report it done, complete, fail, abandon, resume.

Every function that changes something is a *unit* (api/attempts/writer.py): a generator that yields its
reads, checks them, plans its writes and events on a `Plan`, yields `FLUSH` and returns its answer; the
app's routes run units in two round trips, the xAPI endpoint several in one transaction.
Rules that make completions without proof impossible by construction:
- steps are done in order, and only the current step can be verified;
- a step is done only if its verification is satisfied in this attempt (an accepted check-in or QR scan,
  an uploaded photo, hours confirmed by a host, or nothing for `none`);
- a mission is completed only when every step is done; its points count once per user and mission, and
  at most `core.ranking.DAILY_POINTS_CAP` mission points a day.
The attempt row is locked (FOR UPDATE) by a unit's first read, and whatever else the unit reads comes in
later statements of the same round trip: in READ COMMITTED each statement sees what committed before it
began, so reads after the lock see every change of a request that held the lock before us.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from api.attempts.writer import FLUSH, Batched, Plan, Unit
from api.errors import ApiError
from api.users.service import UserRecord
from core import ranking
from core.db import Statement
from core.notify import notification
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


# ---------------------------------------------------------------------------------- reading state
_MISSION = """m.id, m.title, m.mission_type, m.status, m.region_code,
    coalesce(r.sido_code, left(m.region_code, 2)) as sido_code, m.lat, m.lon, m.radius_m, m.capacity, m.points,
    m.starts_at, m.ends_at, m.created_by, r.region_code is not null as region_known,
    (select coalesce(json_agg(json_build_array(s.step_no, s.title, s.verification, s.lat, s.lon, s.radius_m)
                              order by s.step_no), '[]')
     from app.mission_steps s where s.mission_id = m.id) as steps"""
_MISSION_FIELDS = tuple(f for f in Mission.__dataclass_fields__ if f != "steps")
MISSION_SQL = (f"select {_MISSION} from app.missions m left join raw.regions r on r.region_code = m.region_code "
               "where m.id = %(m)s")
# the caller's attempt, locked, with its mission (any user's row is locked for a moment; only theirs is used)
ATTEMPT_SQL = ("select a.id as attempt_id, a.user_id as attempt_user_id, a.mission_id as attempt_mission_id, "
               f"a.status as attempt_status, a.steps_done, a.steps_total, {_MISSION} "
               "from app.mission_attempts a join app.missions m on m.id = a.mission_id "
               "left join raw.regions r on r.region_code = m.region_code where a.id = %(a)s for update of a")


def _mission(row: Any) -> Mission:
    steps = tuple(Step(int(s[0]), s[1], s[2], s[3], s[4], s[5]) for s in row["steps"])
    return Mission(**{name: row[name] for name in _MISSION_FIELDS}, steps=steps)


def load_mission(conn: Connection, mission_id: uuid.UUID, lock: bool = False) -> Mission | None:
    """The mission with its steps, in one statement."""
    row = Statement(MISSION_SQL + (" for no key update of m" if lock else ""), {"m": mission_id}, "one").run(conn)
    return None if row is None else _mission(row)


def _published(mission: Mission | None, mission_id: uuid.UUID) -> Mission:
    if mission is None or mission.status not in (MissionStatus.PUBLISHED, MissionStatus.CLOSED):
        raise ApiError.not_found(f"No published mission has the id {mission_id}; find missions at /missions.")
    return mission


def mission_or_404(conn: Connection, mission_id: uuid.UUID, lock: bool = False) -> Mission:
    return _published(load_mission(conn, mission_id, lock), mission_id)


def lock_attempt(attempt_id: uuid.UUID) -> Statement:
    """The first read of a unit on an attempt: the attempt (locked) and its mission."""
    return Statement(ATTEMPT_SQL, {"a": attempt_id}, "one")


def own_attempt(plan: Plan, row: Any, user_id: uuid.UUID, attempt_id: uuid.UUID) -> tuple[dict[str, Any], Mission]:
    """The caller's attempt and its (published or closed) mission from `lock_attempt`'s row; 404 for anyone
    else's attempt (not revealed). The user and the mission were read in this transaction: vouched for."""
    if row is None or row["attempt_user_id"] != user_id:
        raise ApiError.not_found(f"You have no attempt with the id {attempt_id}; list yours at GET /me/attempts.")
    attempt = {"id": row["attempt_id"], "user_id": row["attempt_user_id"], "mission_id": row["attempt_mission_id"],
               "status": row["attempt_status"], "steps_done": row["steps_done"], "steps_total": row["steps_total"]}
    mission = _published(_mission(row), row["attempt_mission_id"])
    plan.vouch(user_id, mission.id, mission.region_code if mission.region_known else None)
    return attempt, mission


def require_open(attempt: Mapping[str, Any], action: str) -> None:
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


def require_current_step(attempt: Mapping[str, Any], mission: Mission, step_no: int, verification: str | None,
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


def _payload(attempt_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {"attempt_id": str(attempt_id), **{k: v for k, v in values.items() if v is not None}}


def _touch(plan: Plan, attempt_id: uuid.UUID, **values: Any) -> None:
    sets = "".join(f", {k} = %({k})s" for k in values)
    plan.write(Statement(f"update app.mission_attempts set updated_at = %(now)s{sets} where id = %(id)s",
                         {"now": plan.now, "id": attempt_id, **values}))


def _answer(plan: Plan, attempt_id: uuid.UUID, answer: bool) -> int | None:
    """Plan the read of the answer (the attempt with its steps) after the unit's writes, before the commit."""
    return plan.write(Statement(ANSWER_SQL, {"id": attempt_id}, "one")) if answer else None


Answer = tuple[Mapping[str, Any], list[dict[str, Any]]]


def _answered(results: list[Any], index: int | None, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Answer | None:
    return None if index is None else answer_rows(results[index], user_id, attempt_id)


# ---------------------------------------------------------------------------------- lifecycle
def enrol(plan: Plan, user_id: uuid.UUID, mission_id: uuid.UUID, channel: str = "app",
          answer: bool = True) -> Unit[tuple[uuid.UUID, Answer | None]]:
    """A new attempt; 409 when one is open, the mission is full, closed or over."""
    row, taken = yield (
        Statement(MISSION_SQL + " for no key update of m", {"m": mission_id}, "one"),  # enrolments queue here
        Statement("select (select id from app.mission_attempts where user_id = %(u)s and mission_id = %(m)s "
                  "and status = 'in_progress' limit 1) as open_id, "
                  "(select count(distinct user_id) from app.mission_attempts where mission_id = %(m)s "
                  "and user_id <> %(u)s and status in ('in_progress', 'completed')) as taken",
                  {"u": user_id, "m": mission_id}, "one"))
    mission = _published(None if row is None else _mission(row), mission_id)
    plan.vouch(user_id, mission.id, mission.region_code if mission.region_known else None)
    if mission.status != MissionStatus.PUBLISHED:
        raise ApiError(409, "mission_closed", f"Mission {mission_id} is {mission.status}: it takes no new "
                       "participants.")
    if mission.ends_at is not None and plan.now > mission.ends_at:
        raise ApiError(409, "mission_ended", f"Mission {mission_id} ended at {mission.ends_at.isoformat()}.")
    if not mission.steps:
        raise ApiError(409, "mission_has_no_steps", f"Mission {mission_id} has no steps yet; it cannot be taken.")
    open_id = taken["open_id"]
    if open_id is not None:
        raise ApiError(409, "attempt_open", f"You already have an open attempt {open_id} on this mission; continue "
                       f"it at /me/attempts/{open_id}.", details={"attempt_id": str(open_id)})
    if mission.capacity is not None and taken["taken"] >= mission.capacity:
        raise ApiError(409, "mission_full", f"Mission {mission_id} is full ({mission.capacity} participants).")
    attempt_id = uuid.uuid4()
    plan.write(Statement(
        "insert into app.mission_attempts (id, user_id, mission_id, status, steps_total, started_at, updated_at, "
        "channel) values (%(id)s, %(u)s, %(m)s, 'in_progress', %(n)s, %(now)s, %(now)s, %(channel)s)",
        {"id": attempt_id, "u": user_id, "m": mission_id, "n": len(mission.steps), "now": plan.now,
         "channel": channel}))
    plan.event(user_id, "mission_enrolled", mission_id=mission_id, region_code=mission.region_code,
               payload=_payload(attempt_id, channel=channel))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return attempt_id, _answered(results, index, user_id, attempt_id)


def _evidence_read(attempt_id: uuid.UUID, step_no: int) -> Statement:
    """What has been submitted for a step in an attempt, of every kind (one statement, four index probes)."""
    return Statement(
        "select (select id from app.checkins where attempt_id = %(a)s and step_no = %(s)s and accepted "
        "        order by id desc limit 1) as checkin_id, "
        "(select id from app.qr_scans where attempt_id = %(a)s and step_no = %(s)s and accepted "
        " order by id desc limit 1) as qr_scan_id, "
        "(select json_build_array(id, storage_key) from app.step_photos where attempt_id = %(a)s "
        " and step_no = %(s)s order by id desc limit 1) as photo, "
        "(select json_build_array(id, hours) from app.volunteer_hours where attempt_id = %(a)s "
        " and step_no = %(s)s and status = 'confirmed' order by id desc limit 1) as hours",
        {"a": attempt_id, "s": step_no}, "one")


def _verification_evidence(step: Step, found: Mapping[str, Any]) -> dict[str, Any] | None:
    """What proves this step in this attempt, or None when nothing does yet."""
    if step.verification == StepVerification.NONE:
        return {}
    if step.verification == StepVerification.CHECKIN:
        return None if found["checkin_id"] is None else {"checkin_id": found["checkin_id"]}
    if step.verification == StepVerification.QR:
        return None if found["qr_scan_id"] is None else {"qr_scan_id": found["qr_scan_id"]}
    if step.verification == StepVerification.PHOTO:
        photo = found["photo"]
        return None if photo is None else {"photo_id": photo[0], "photo_key": photo[1]}
    if step.verification == StepVerification.HOST_CONFIRM:
        hours = found["hours"]
        return None if hours is None else {"hours_id": hours[0], "hours": float(hours[1])}
    raise AssertionError(f"unknown verification {step.verification}")


_MISSING = {
    StepVerification.CHECKIN: "an accepted check-in at the spot (POST …/steps/{n}/checkins)",
    StepVerification.QR: "an accepted scan of the host's QR code (POST …/steps/{n}/qr-scans)",
    StepVerification.PHOTO: "a photo (POST …/steps/{n}/photos)",
    StepVerification.HOST_CONFIRM: "hours confirmed by the host (claim them: POST …/steps/{n}/hours)",
}


def complete_step(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int,
                  answer: bool = True) -> Unit[Answer | None]:
    row, found = yield lock_attempt(attempt_id), _evidence_read(attempt_id, step_no)
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    require_open(attempt, f"report step {step_no} done")
    step = require_current_step(attempt, mission, step_no, None, "report")
    require_window(mission, plan.now, f"report step {step_no} done")
    evidence = _verification_evidence(step, found)
    if evidence is None:
        needed = _MISSING[StepVerification(step.verification)].replace("{n}", str(step_no))
        raise ApiError(409, "step_not_verified", f"Step {step_no} needs {needed} in this attempt before it is done.")
    plan.write(Statement(
        "insert into app.attempt_steps (attempt_id, step_no, verification, evidence, completed_at) "
        "values (%(a)s, %(s)s, %(v)s, %(e)s::jsonb, %(now)s)",
        {"a": attempt_id, "s": step_no, "v": step.verification, "e": _json(evidence), "now": plan.now}))
    _touch(plan, attempt_id, steps_done=step_no)
    plan.event(user_id, "step_completed", mission_id=mission.id, step_no=step_no, region_code=mission.region_code,
               payload=_payload(attempt_id, verification=step.verification, **evidence))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return _answered(results, index, user_id, attempt_id)


def complete(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, answer: bool = True) -> Unit[Answer | None]:
    """Complete the attempt; its points (0 for a mission completed before) are in the answer and the event."""
    day_start, day_end = ranking.kst_day_bounds(plan.now)
    # One user's completions queue on the user row, so the daily cap and "once per mission" hold under
    # concurrency. The lock is its own statement: in READ COMMITTED the next statement's snapshot then
    # includes a completion that committed while we waited. Both counts come from that one next statement.
    row, _, done = yield (
        lock_attempt(attempt_id),
        Statement("select 1 from app.users where id = %(u)s for no key update", {"u": user_id}),
        Statement("select coalesce(bool_or(mission_id = (select mission_id from app.mission_attempts "
                  "where id = %(a)s)), false) as before, coalesce(sum(points_awarded) filter "
                  "(where completed_at >= %(from)s and completed_at < %(to)s), 0) as today "
                  "from app.mission_attempts where user_id = %(u)s and status = 'completed'",
                  {"u": user_id, "a": attempt_id, "from": day_start, "to": day_end}, "one"))
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    require_open(attempt, "complete the mission")
    if attempt["steps_done"] < attempt["steps_total"]:
        missing = list(range(attempt["steps_done"] + 1, attempt["steps_total"] + 1))
        raise ApiError(409, "steps_missing", f"Steps {', '.join(map(str, missing))} are not done yet; report each "
                       "done (POST /me/attempts/{id}/steps/{n}/complete) before completing the mission."
                       .replace("{id}", str(attempt_id)), details={"missing_steps": missing})
    require_window(mission, plan.now, "complete the mission")
    completed_before, earned_today = bool(done["before"]), int(done["today"])
    points = ranking.points_for_completion(mission.points, completed_before, earned_today)
    _touch(plan, attempt_id, status="completed", completed_at=plan.now, ended_at=plan.now, points_awarded=points)
    plan.event(user_id, "mission_completed", mission_id=mission.id, region_code=mission.region_code,
               payload=_payload(attempt_id, points=points, mission_points=mission.points,
                                repeat=True if completed_before else None))
    body = f"+{points}점" if points else ("이미 완료한 미션이라 점수는 더해지지 않습니다." if completed_before
                                          else "오늘 받을 수 있는 점수를 모두 받았습니다.")
    plan.write(notification(user_id, "mission_completed", f"미션 완료: {mission.title}", body,
                            {"attempt_id": str(attempt_id), "mission_id": str(mission.id), "points": points},
                            dedupe_key=f"mission_completed:{attempt_id}"))
    if points:
        completion = ranking.Completion(attempt_id, user_id, points, mission.region_code, mission.sido_code,
                                        plan.now, mission.lat, mission.lon)
        plan.after_commit.append(Batched(_after_completions, completion))
    else:
        plan.after_commit.append(Batched(_award_badges, user_id))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return _answered(results, index, user_id, attempt_id)


def _after_completions(completions: list[ranking.Completion]) -> None:
    from api.ranking.service import count_completions  # the boards are the ranking domain's

    count_completions(completions)
    _award_badges([c.user_id for c in completions])


def _award_badges(user_ids: list[uuid.UUID]) -> None:
    """Badges that these users' events now earn, issued at once through core.badges; the Dagster sensor
    issues the same awards later if this fails, never twice (one dedupe key)."""
    from core import badges
    from core.db import get_engine

    with get_engine().begin() as conn:
        badges.award_for_users(conn, user_ids)


def fail(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, reason: FailureReason, reason_text: str,
         answer: bool = True) -> Unit[Answer | None]:
    row, = yield (lock_attempt(attempt_id),)
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    require_open(attempt, "report the mission failed")
    _touch(plan, attempt_id, status="failed", ended_at=plan.now, failure_reason=reason.value,
           failure_text=reason_text or None)
    at_step = attempt["steps_done"] + 1 if attempt["steps_done"] < attempt["steps_total"] else None
    plan.event(user_id, "mission_failed", mission_id=mission.id, step_no=at_step, region_code=mission.region_code,
               payload=_payload(attempt_id, reason=reason.value, reason_text=reason_text or None,
                                reason_label=FAILURE_REASON_LABELS_KO[reason]))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return _answered(results, index, user_id, attempt_id)


def abandon(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, answer: bool = True) -> Unit[Answer | None]:
    row, = yield (lock_attempt(attempt_id),)
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    require_open(attempt, "abandon the attempt")
    _touch(plan, attempt_id, status="abandoned", ended_at=plan.now)
    plan.event(user_id, "mission_abandoned", mission_id=mission.id, region_code=mission.region_code,
               payload=_payload(attempt_id, steps_done=attempt["steps_done"]))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return _answered(results, index, user_id, attempt_id)


def resume(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, answer: bool = True) -> Unit[Answer | None]:
    """Come back to an attempt: an open one (a new outing) or an abandoned one (reopened)."""
    row, other = yield (
        lock_attempt(attempt_id),
        Statement("select id from app.mission_attempts where user_id = %(u)s and status = 'in_progress' "
                  "and id <> %(a)s and mission_id = (select mission_id from app.mission_attempts where id = %(a)s) "
                  "limit 1", {"u": user_id, "a": attempt_id}, "one"))
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    if attempt["status"] not in (OPEN, "abandoned"):
        raise ApiError(409, "attempt_not_resumable", f"This attempt is {attempt['status']}; only open or abandoned "
                       f"attempts can be resumed. Enrol again: POST /missions/{attempt['mission_id']}/attempts.")
    require_window(mission, plan.now, "resume the attempt")
    if attempt["status"] == "abandoned":
        if other is not None:
            raise ApiError(409, "attempt_open", f"Attempt {other['id']} on this mission is open; continue that one "
                           "or abandon it first.", details={"attempt_id": str(other["id"])})
        _touch(plan, attempt_id, status=OPEN, ended_at=None)
    else:
        _touch(plan, attempt_id)
    plan.event(user_id, "mission_resumed", mission_id=mission.id, region_code=mission.region_code,
               payload=_payload(attempt_id, steps_done=attempt["steps_done"]))
    index = _answer(plan, attempt_id, answer)
    results = yield FLUSH
    return _answered(results, index, user_id, attempt_id)


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


# the answer of every lifecycle request: the attempt and each step of its mission (done or not, what has
# been submitted for it), in one statement
ANSWER_SQL = """
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
    from app.mission_attempts a join app.missions m on m.id = a.mission_id where a.id = %(id)s"""


def attempt_with_steps(conn: Connection, user: UserRecord, attempt_id: uuid.UUID) -> Answer:
    """The caller's attempt with its steps; 404 for anyone else's."""
    answer = answer_rows(Statement(ANSWER_SQL, {"id": attempt_id}, "one").run(conn), user.id, attempt_id)
    return answer


def answer_rows(row: Mapping[str, Any] | None, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Answer:
    """ANSWER_SQL's row → (the attempt, its steps); 404 when it is not the caller's."""
    if row is None or row["user_id"] != user_id:
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
