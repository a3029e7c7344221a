"""Storing xAPI statements and turning completions of learning missions into the mission loop's events.

A batch is one transaction: every statement is checked first (xAPI rules and our mapping), then each new
one is stored (its id is the key: the same statement again changes nothing, the same id with another
statement is a 409 for the whole batch) and, for a completion of a learning mission, the learner's
attempt moves: a `learning_completed` event, an enrolment if the learner had no open attempt, the
mission's remaining `none` steps done (the platform's statement is their proof), and the completion
when no other step is left — through the same lifecycle functions as the app, with the same rules.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from api.attempts import service as attempts
from api.attempts.writer import Tx
from api.errors import ApiError
from api.users.service import UserRecord, get_user
from core.accounts import hash_password, verify_password
from core.vocab import MissionType, StepVerification
from core.xapi import Statement, mission_from_iri, new_secret

SECRET_CACHE_SECONDS = 300.0  # argon2 costs ~0.1 s; a verified secret is remembered (as a hash) this long


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str


_verified: dict[str, tuple[str, float]] = {}
_verified_lock = threading.Lock()


def authenticate(conn: Connection, client_id: str, secret: str) -> Client | None:
    row = conn.execute(text("select client_id, name, secret_hash, is_active from app.xapi_clients "
                            "where client_id = :c"), {"c": client_id}).first()
    if row is None or not row.is_active:
        return None
    fingerprint = hashlib.sha256(f"{row.secret_hash}|{secret}".encode()).hexdigest()
    with _verified_lock:
        cached = _verified.get(client_id)
    if cached and cached[0] == fingerprint and time.monotonic() - cached[1] < SECRET_CACHE_SECONDS:
        return Client(row.client_id, row.name)
    if not verify_password(row.secret_hash, secret):
        return None
    with _verified_lock:
        _verified[client_id] = (fingerprint, time.monotonic())
    return Client(row.client_id, row.name)


def create_client(conn: Connection, client_id: str, name: str, created_by: uuid.UUID) -> str:
    """A new client and its secret (returned once; only its argon2 hash is kept)."""
    secret = new_secret()
    inserted = conn.execute(text(
        "insert into app.xapi_clients (client_id, name, secret_hash, created_by) values (:c, :n, :h, :by) "
        "on conflict (client_id) do nothing returning client_id"),
        {"c": client_id, "n": name, "h": hash_password(secret), "by": created_by}).scalar()
    if inserted is None:
        raise ApiError(409, "conflict", f"An xAPI client {client_id!r} exists already; choose another id.")
    conn.commit()
    return secret


def map_activity(conn: Connection, activity_id: str, mission_id: uuid.UUID, step_no: int | None) -> None:
    mission = attempts.mission_or_404(conn, mission_id)
    if mission.mission_type != MissionType.LEARNING:
        raise ApiError(409, "not_a_learning_mission", f"Mission {mission_id} is a {mission.mission_type} mission; "
                       "xAPI activities map to learning missions.")
    if step_no is not None:
        mission.step(step_no)
    conn.execute(text("insert into app.xapi_activities (activity_id, mission_id, step_no) values (:a, :m, :s) "
                      "on conflict (activity_id) do update set mission_id = excluded.mission_id, "
                      "step_no = excluded.step_no"), {"a": activity_id, "m": mission_id, "s": step_no})
    conn.commit()


# ---------------------------------------------------------------------------------- statements
@dataclass(frozen=True)
class Mapped:
    statement: Statement
    user: UserRecord
    mission: attempts.Mission | None
    step_no: int | None


def _problem(index: int, field: str, message: str) -> dict[str, str]:
    return {"field": f"statement[{index}].{field}", "message": message, "type": "xapi_invalid"}


def resolve(conn: Connection, statements: list[Statement]) -> tuple[list[Mapped], list[dict[str, str]]]:
    """Each statement's learner and (if any) learning mission, or the problems that stop the batch."""
    out, problems = [], []
    for i, st in enumerate(statements):
        if st.actor.user_id is not None:
            user = get_user(conn, st.actor.user_id)
        else:
            user_id = conn.execute(text("select id from app.users where email = :e"), {"e": st.actor.email}).scalar()
            user = get_user(conn, user_id) if user_id else None
        if user is None or not user.is_active:
            problems.append(_problem(i, "actor", "names no active Hometown ON user (account.name is the user id, "
                                     "or mbox is mailto:<their e-mail>)"))
            continue
        target = mission_from_iri(st.object_id)
        if target is None:
            row = conn.execute(text("select mission_id, step_no from app.xapi_activities where activity_id = :a"),
                               {"a": st.object_id}).first()
            target = (row.mission_id, row.step_no) if row else None
        mission = attempts.load_mission(conn, target[0]) if target else None
        if target is not None and (mission is None or mission.mission_type != MissionType.LEARNING):
            what = "no mission" if mission is None else f"a {mission.mission_type} mission"
            problems.append(_problem(i, "object.id", f"maps to {what}; statements map to learning missions"))
            continue
        step_no = target[1] if target else None
        if mission is not None and step_no is not None and not 1 <= step_no <= len(mission.steps):
            problems.append(_problem(i, "object.id", f"mission {mission.id} has no step {step_no}"))
            continue
        out.append(Mapped(st, user, mission, step_no))
    return out, problems


def store(tx: Tx, client: Client, items: list[Mapped]) -> list[str]:
    """Store the batch and move the learners' attempts; the statement ids in order."""
    ids = [str(m.statement.id) for m in items]
    existing = {r.id: r.statement for r in tx.conn.execute(
        text("select id, statement from app.xapi_statements where id = any(:ids)"),
        {"ids": [m.statement.id for m in items]})}
    conflicts = [i for i, m in enumerate(items)
                 if m.statement.id in existing and existing[m.statement.id] != m.statement.body]
    if conflicts:
        raise ApiError(409, "xapi_conflict", "A statement with the same id but different content is stored already "
                       "(xAPI statements are immutable); send it with a new id.",
                       details=[{"field": f"statement[{i}].id", "message": f"{ids[i]} exists with other content",
                                 "type": "conflict"} for i in conflicts])
    done: set[uuid.UUID] = set(existing)
    for mapped in items:
        if mapped.statement.id in done:
            continue  # the same statement again: nothing changes
        done.add(mapped.statement.id)
        outcome, attempt_id = _apply(tx, client, mapped)
        st = mapped.statement
        tx.conn.execute(text(
            "insert into app.xapi_statements (id, client_id, user_id, verb_id, object_id, statement, timestamp, "
            "mission_id, attempt_id, outcome) values (:id, :c, :u, :v, :o, cast(:s as jsonb), :t, :m, :a, :outcome)"),
            {"id": st.id, "c": client.client_id, "u": mapped.user.id, "v": st.verb_id, "o": st.object_id,
             "s": json.dumps(st.body, ensure_ascii=False), "t": st.timestamp or tx.now,
             "m": mapped.mission.id if mapped.mission else None, "a": attempt_id, "outcome": outcome})
    return ids


def _apply(tx: Tx, client: Client, mapped: Mapped) -> tuple[str, uuid.UUID | None]:
    """What a stored statement does to the learner's attempt: (outcome, attempt id)."""
    st, user, mission = mapped.statement, mapped.user, mapped.mission
    if mission is None:
        return "recorded", None
    if not st.is_completion:
        return "recorded_not_completion", None
    attempt_id = tx.conn.execute(text("select id from app.mission_attempts where user_id = :u and mission_id = :m "
                                      "and status = 'in_progress'"), {"u": user.id, "m": mission.id}).scalar()
    mark = len(tx.events)
    try:
        with tx.conn.begin_nested():
            if attempt_id is None:
                attempt_id, _ = tx.run(attempts.enrol(tx, user.id, mission.id, channel=f"xapi:{client.client_id}",
                                                      answer=False))
            tx.event(user.id, "learning_completed", mission_id=mission.id, step_no=mapped.step_no,
                     region_code=mission.region_code,
                     payload={"attempt_id": str(attempt_id), "statement_id": str(st.id), "verb": st.verb_id,
                              "score": st.score_scaled, "success": st.success, "client": client.client_id,
                              "statement_timestamp": st.timestamp.isoformat() if st.timestamp else None})
            return _advance(tx, user, mission, attempt_id, mapped.step_no), attempt_id
    except ApiError as exc:  # e.g. the mission is full or over: the statement is kept, the attempt is not moved
        del tx.events[mark:]
        return f"recorded_not_applied: {exc.code}", attempt_id


def _advance(tx: Tx, user: UserRecord, mission: attempts.Mission, attempt_id: uuid.UUID,
             step_no: int | None) -> str:
    """Do the `none` steps the statement proves (one step, or all that are left), then complete if possible."""
    row = tx.conn.execute(text("select steps_done, steps_total from app.mission_attempts where id = :a"),
                          {"a": attempt_id}).one()
    done, total = row.steps_done, row.steps_total
    targets = range(done + 1, total + 1) if step_no is None else [step_no]
    for n in targets:
        if n != done + 1 or mission.steps[n - 1].verification != StepVerification.NONE:
            break
        tx.run(attempts.complete_step(tx, user.id, attempt_id, n, answer=False))
        done = n
    if done == total:
        tx.run(attempts.complete(tx, user.id, attempt_id, answer=False))
        return "completed_mission"
    return f"steps_done:{done}"
