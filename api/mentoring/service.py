"""Mentoring: profiles, ranked suggestions, requests, mentorships with check-ins and feedback.

Certification tiers come from app.user_skill_tiers (the certification domain's table) through a LEFT
JOIN made only when that table exists, so mentoring works on a platform without certification.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, RowMapping, text
from sqlalchemy.exc import IntegrityError

from ai.embeddings import get_embeddings
from api.community.service import rate_limited, refuse_if_sanctioned
from api.errors import ApiError
from api.mentoring.matching import Mentee, MentorCandidate, Suggestion, rank_mentors
from api.mentoring.schemas import MenteeProfileIn, MentorProfileIn, MentorRequestCreate, MentorResponse
from api.users.service import UserRecord
from core import ratelimit
from core.notify import notify

UNANSWERED_AFTER_DAYS = 7  # a pending request older than this counts as unanswered in the response rate


# ---------------------------------------------------------------------------------- profiles
def _has_tiers_table(conn: Connection) -> bool:
    return conn.execute(text("select to_regclass('app.user_skill_tiers') is not null")).scalar_one()  # type: ignore


def tiers_of(conn: Connection, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    if not user_ids or not _has_tiers_table(conn):
        return {}
    rows = conn.execute(text("select user_id, skill, tier from app.user_skill_tiers where user_id = any(:ids)"),
                        {"ids": list(user_ids)}).all()
    out: dict[uuid.UUID, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row.user_id, {})[row.skill] = int(row.tier)
    return out


def upsert_mentor_profile(conn: Connection, user: UserRecord, data: MentorProfileIn) -> None:
    conn.execute(text(
        "insert into app.mentor_profiles (user_id, headline, bio, skills, region_codes, availability, capacity, "
        "is_accepting) values (:u, :headline, :bio, :skills, :regions, :availability, :capacity, :accepting) "
        "on conflict (user_id) do update set headline = excluded.headline, bio = excluded.bio, "
        "skills = excluded.skills, region_codes = excluded.region_codes, availability = excluded.availability, "
        "capacity = excluded.capacity, is_accepting = excluded.is_accepting, updated_at = now()"),
        {"u": user.id, "headline": data.headline, "bio": data.bio, "skills": data.skills,
         "regions": data.region_codes, "availability": data.availability, "capacity": data.capacity,
         "accepting": data.is_accepting})
    conn.commit()


def get_mentor_profile(conn: Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    row = conn.execute(text(
        "select mp.*, u.display_name, (select count(*) from app.mentorships m where m.mentor_id = mp.user_id "
        "and m.status = 'active') as active_mentees from app.mentor_profiles mp "
        "join app.users u on u.id = mp.user_id where mp.user_id = :u"), {"u": user_id}).mappings().first()
    if row is None:
        return None
    return {**row, "tiers": tiers_of(conn, [user_id]).get(user_id, {})}


def upsert_mentee_profile(conn: Connection, user: UserRecord, data: MenteeProfileIn) -> None:
    conn.execute(text(
        "insert into app.mentee_profiles (user_id, needs, skills, region_codes, availability) "
        "values (:u, :needs, :skills, :regions, :availability) on conflict (user_id) do update set "
        "needs = excluded.needs, skills = excluded.skills, region_codes = excluded.region_codes, "
        "availability = excluded.availability, updated_at = now()"),
        {"u": user.id, "needs": data.needs, "skills": data.skills, "regions": data.region_codes,
         "availability": data.availability})
    conn.commit()


def get_mentee_profile(conn: Connection, user_id: uuid.UUID) -> RowMapping | None:
    return conn.execute(text("select * from app.mentee_profiles where user_id = :u"), {"u": user_id}).mappings().first()


# ---------------------------------------------------------------------------------- suggestions
def _mentee(conn: Connection, user: UserRecord) -> Mentee:
    profile = get_mentee_profile(conn, user.id)
    if profile is None:
        raise ApiError(409, "no_mentee_profile", "Say what you need first: PUT /mentoring/mentee-profile with "
                       "needs, skills and the regions you are heading to; suggestions are ranked against it.")
    regions = list(dict.fromkeys([*profile["region_codes"], *user.interest_region_codes]))
    return Mentee(user_id=str(user.id), needs=profile["needs"], skills=tuple(profile["skills"]),
                  region_codes=tuple(regions), hometown_region_code=user.hometown_region_code,
                  availability=tuple(profile["availability"]))


def candidates(conn: Connection, only: uuid.UUID | None = None) -> list[MentorCandidate]:
    """Accepting mentors with active accounts and no suspension or ban, with their response history."""
    rows = conn.execute(text(
        "select mp.*, u.display_name, u.hometown_region_code, u.home_region_code, "
        "(select count(*) from app.mentorships m where m.mentor_id = mp.user_id and m.status = 'active') as active, "
        "rs.total, rs.answered, rs.median_hours "
        "from app.mentor_profiles mp join app.users u on u.id = mp.user_id "
        "left join lateral (select count(*) filter (where r.status in ('accepted', 'declined') or "
        "  (r.status = 'pending' and r.created_at < now() - make_interval(days => :days))) as total, "
        "  count(*) filter (where r.status in ('accepted', 'declined')) as answered, "
        "  percentile_cont(0.5) within group (order by extract(epoch from r.responded_at - r.created_at) / 3600) "
        "    filter (where r.responded_at is not null) as median_hours "
        "  from app.mentor_requests r where r.mentor_id = mp.user_id) rs on true "
        "where mp.is_accepting and u.is_active and (cast(:only as uuid) is null or mp.user_id = :only) "
        "and not exists (select 1 from app.user_sanctions s where s.user_id = mp.user_id "
        "  and s.kind in ('suspend', 'ban') and s.lifted_at is null and (s.ends_at is null or s.ends_at > now())) "
        "order by mp.user_id"), {"days": UNANSWERED_AFTER_DAYS, "only": only}).mappings().all()
    tiers = tiers_of(conn, [r["user_id"] for r in rows])
    return [MentorCandidate(
        user_id=str(r["user_id"]), display_name=r["display_name"], headline=r["headline"], bio=r["bio"],
        skills=tuple(r["skills"]), region_codes=tuple(r["region_codes"]),
        hometown_region_code=r["hometown_region_code"], home_region_code=r["home_region_code"],
        availability=tuple(r["availability"]), capacity=r["capacity"], active_mentees=r["active"],
        tiers=tiers.get(r["user_id"], {}), requests_total=r["total"] or 0, requests_answered=r["answered"] or 0,
        median_hours_to_answer=float(r["median_hours"]) if r["median_hours"] is not None else None)
        for r in rows]


def region_names(conn: Connection) -> dict[str, str]:
    rows = conn.execute(text("select region_code, full_name, sido_code, sido_name from raw.regions")).all()
    names = {r.region_code: r.full_name for r in rows}
    names.update({r.sido_code: r.sido_name for r in rows})
    return names


def rank_for(conn: Connection, mentee: Mentee, pool: list[MentorCandidate], limit: int) -> tuple[list[Suggestion],
                                                                                                    str]:
    engine = get_embeddings()
    if pool:
        vectors = engine.embed_array([f"{mentee.needs} {' '.join(mentee.skills)}",
                                      *(c.profile_text() for c in pool)])
        similarities = vectors[1:] @ vectors[0]
    else:
        similarities = np.zeros(0, dtype=np.float32)
    ranked = rank_mentors(mentee, pool, similarities, region_names(conn), limit)
    return ranked, f"{engine.engine_id}@{engine.version}"


def suggestions(conn: Connection, user: UserRecord, limit: int) -> tuple[list[Suggestion], str, set[str]]:
    """Ranked suggestions, the engine, and the mentors this mentee already has a pending request with."""
    ranked, engine = rank_for(conn, _mentee(conn, user), candidates(conn), limit)
    pending: set[str] = set(conn.execute(text("select mentor_id::text from app.mentor_requests where mentee_id = :u "
                                    "and status = 'pending'"), {"u": user.id}).scalars().all())
    return ranked, engine, pending


# ---------------------------------------------------------------------------------- requests
def create_request(conn: Connection, user: UserRecord, data: MentorRequestCreate) -> uuid.UUID:
    if data.mentor_id == user.id:
        raise ApiError.validation("body.mentor_id", "you cannot be your own mentor")
    profile = get_mentor_profile(conn, data.mentor_id)
    if profile is None:
        raise ApiError.not_found(f"User {data.mentor_id} has no mentor profile; find mentors at "
                                 "GET /mentoring/suggestions.")
    if not profile["is_accepting"] or profile["active_mentees"] >= profile["capacity"]:
        raise ApiError(409, "mentor_unavailable", "This mentor is not taking new mentees right now; "
                       "GET /mentoring/suggestions lists mentors with open places.")
    active = conn.execute(text("select 1 from app.mentorships where mentor_id = :m and mentee_id = :u and "
                               "status = 'active'"), {"m": data.mentor_id, "u": user.id}).first()
    if active:
        raise ApiError(409, "already_mentored", "You already have an active mentorship with this mentor.")
    refuse_if_sanctioned(conn, user)
    mentee = _mentee(conn, user)
    rate_limited(conn, (ratelimit.MENTOR_REQUESTS_PER_DAY,), user)
    pool = candidates(conn, only=data.mentor_id)
    ranked, _ = rank_for(conn, mentee, pool, 1) if pool else ([], "")
    match = ranked[0] if ranked else None
    try:
        request_id: uuid.UUID = conn.execute(text(
            "insert into app.mentor_requests (mentee_id, mentor_id, message, goals, match_score, match_reasons) "
            "values (:u, :m, :message, :goals, :score, :reasons) returning id"),
            {"u": user.id, "m": data.mentor_id, "message": data.message, "goals": data.goals,
             "score": match.score if match else None, "reasons": match.reasons if match else []}).scalar_one()
    except IntegrityError:
        conn.rollback()
        raise ApiError(409, "request_pending", "You already have a pending request with this mentor; wait for "
                       "the answer or withdraw it first.") from None
    notify(conn, data.mentor_id, "mentor_request", f"{user.display_name}님이 멘토링을 요청했어요",
           data.message[:140], {"request_id": str(request_id), "mentee_id": str(user.id)},
           f"mentor_request:{request_id}")
    conn.commit()
    return request_id


def list_requests(conn: Connection, user: UserRecord, box: str) -> Sequence[RowMapping]:
    column = "mentor_id" if box == "received" else "mentee_id"
    return conn.execute(text(
        f"select r.*, m.id as mentorship_id from app.mentor_requests r "
        f"left join app.mentorships m on m.request_id = r.id where r.{column} = :u order by r.created_at desc"),
        {"u": user.id}).mappings().all()


def get_request(conn: Connection, request_id: uuid.UUID, user: UserRecord) -> RowMapping:
    row = conn.execute(text(
        "select r.*, m.id as mentorship_id from app.mentor_requests r left join app.mentorships m "
        "on m.request_id = r.id where r.id = :id and :u in (r.mentor_id, r.mentee_id)"),
        {"id": request_id, "u": user.id}).mappings().first()
    if row is None:
        raise ApiError.not_found(f"No mentor request {request_id} involves you.")
    return row


def _pending_for_update(conn: Connection, request_id: uuid.UUID, user: UserRecord, side: str) -> RowMapping:
    row = conn.execute(text("select * from app.mentor_requests where id = :id for update"),
                       {"id": request_id}).mappings().first()
    if row is None or user.id not in (row["mentor_id"], row["mentee_id"]):
        raise ApiError.not_found(f"No mentor request {request_id} involves you.")
    if row[side] != user.id:
        who = "mentor" if side == "mentor_id" else "mentee"
        raise ApiError(403, "forbidden", f"Only the {who} of this request can do that.")
    if row["status"] != "pending":
        raise ApiError(409, "request_closed", f"This request is already {row['status']}.")
    return row


def respond(conn: Connection, user: UserRecord, request_id: uuid.UUID, accept: bool,
            data: MentorResponse) -> uuid.UUID | None:
    """Accept (a mentorship starts today for `weeks`) or decline; the mentee is notified either way."""
    row = _pending_for_update(conn, request_id, user, "mentor_id")
    mentorship_id: uuid.UUID | None = None
    if accept:
        profile = get_mentor_profile(conn, user.id)
        if profile is None or profile["active_mentees"] >= profile["capacity"]:
            raise ApiError(409, "mentor_full", "You have no open place (capacity reached); raise your capacity in "
                           "PUT /mentoring/mentor-profile or end a mentorship first.")
        mentee = get_mentee_profile(conn, row["mentee_id"])
        region = next(iter([c for c in (mentee["region_codes"] if mentee else []) if c in profile["region_codes"]]),
                      None)
        mentorship_id = conn.execute(text(
            "insert into app.mentorships (request_id, mentor_id, mentee_id, goals, region_code, starts_on, ends_on) "
            "values (:r, :m, :u, :goals, :region, current_date, current_date + :days) returning id"),
            {"r": request_id, "m": user.id, "u": row["mentee_id"], "goals": data.goals or list(row["goals"]),
             "region": region, "days": data.weeks * 7}).scalar_one()
    status = "accepted" if accept else "declined"
    conn.execute(text("update app.mentor_requests set status = :s, response_message = :msg, responded_at = now() "
                      "where id = :id"), {"s": status, "msg": data.message, "id": request_id})
    title = f"{user.display_name}님이 멘토링 요청을 {'수락' if accept else '거절'}했어요"
    notify(conn, row["mentee_id"], "mentor_response", title, data.message[:140],
           {"request_id": str(request_id), "status": status,
            "mentorship_id": str(mentorship_id) if mentorship_id else None}, f"mentor_response:{request_id}")
    conn.commit()
    return mentorship_id


def withdraw(conn: Connection, user: UserRecord, request_id: uuid.UUID) -> None:
    _pending_for_update(conn, request_id, user, "mentee_id")
    conn.execute(text("update app.mentor_requests set status = 'withdrawn' where id = :id"), {"id": request_id})
    conn.commit()


# ---------------------------------------------------------------------------------- mentorships
def list_mentorships(conn: Connection, user: UserRecord) -> Sequence[RowMapping]:
    return conn.execute(text("select * from app.mentorships where :u in (mentor_id, mentee_id) "
                             "order by created_at desc"), {"u": user.id}).mappings().all()


def get_mentorship(conn: Connection, mentorship_id: uuid.UUID, user: UserRecord, lock: bool = False) -> RowMapping:
    row = conn.execute(text("select * from app.mentorships where id = :id and :u in (mentor_id, mentee_id)"
                            + (" for update" if lock else "")), {"id": mentorship_id, "u": user.id}).mappings().first()
    if row is None:
        raise ApiError.not_found(f"No mentorship {mentorship_id} involves you.")
    return row


def checkins(conn: Connection, mentorship_id: uuid.UUID) -> Sequence[RowMapping]:
    return conn.execute(text("select * from app.mentorship_checkins where mentorship_id = :m order by created_at"),
                        {"m": mentorship_id}).mappings().all()


def add_checkin(conn: Connection, user: UserRecord, mentorship_id: uuid.UUID, note: str, goals_done: list[str]) -> None:
    row = get_mentorship(conn, mentorship_id, user)
    if row["status"] != "active":
        raise ApiError(409, "mentorship_ended", "This mentorship has ended; check-ins are closed.")
    conn.execute(text("insert into app.mentorship_checkins (mentorship_id, author_id, note, goals_done) "
                      "values (:m, :u, :note, :goals)"), {"m": mentorship_id, "u": user.id, "note": note,
                                                          "goals": goals_done})
    conn.commit()


def end(conn: Connection, user: UserRecord, mentorship_id: uuid.UUID, reason: str, rating: int, comment: str) -> None:
    row = get_mentorship(conn, mentorship_id, user, lock=True)
    if row["status"] == "active":
        conn.execute(text("update app.mentorships set status = 'ended', ended_at = now(), ended_by = :u, "
                          "end_reason = :r where id = :m"), {"u": user.id, "r": reason, "m": mentorship_id})
    try:  # the other side leaves feedback through the same call after the end
        conn.execute(text("insert into app.mentorship_feedback (mentorship_id, author_id, rating, comment) "
                          "values (:m, :u, :rating, :comment)"),
                     {"m": mentorship_id, "u": user.id, "rating": rating, "comment": comment})
    except IntegrityError:
        conn.rollback()
        raise ApiError(409, "feedback_given", "You already ended this mentorship or gave your feedback.") from None
    conn.commit()
