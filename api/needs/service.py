"""Regional needs: who may post and see them, the ranked candidates, and invitations/applications.

Municipality officers act for their `managed_region_code`, local requesters for their home 시군구;
both see only their own region's needs and candidates. App users see the needs the matching asset
matched them to. A need takes people (matching, invitations, applications, acceptances) only while it
is open and its last day (`ends_on`, Korean calendar) has not passed: `OPEN_NEED_SQL`. Accepting
counts toward the headcount under a row lock on the need, so two simultaneous acceptances never
over-fill it; the acceptance that reaches it marks the need filled.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, text, update

from ai.evidence.matching import OPEN_NEED_SQL, TOP_K, match_one_need, seoul_today
from api.errors import ApiError
from api.needs.schemas import NeedCreate
from api.users.service import UserRecord
from core.audit import audit
from core.geo import valid_position
from core.notify import notify
from core.tables import regional_needs
from core.tables_certify import need_engagements
from core.vocab import SKILLS_KO, Role, UserType


def managed_region(user: UserRecord) -> str | None:
    """The 시군구 this user posts needs for; None for administrators (every region). 403 for others."""
    if user.has_role(Role.ADMIN.value):
        return None
    if user.has_role(Role.MUNICIPALITY_OFFICER.value):
        if not user.managed_region_code:
            raise ApiError(403, "no_region", "Your officer account has no managed region; ask an administrator "
                           "to set managed_region_code.")
        return user.managed_region_code
    if user.user_type == UserType.REQUESTER.value:
        if not user.home_region_code:
            raise ApiError(403, "no_region", "Set your home region (home_region_code) before posting needs.")
        return user.home_region_code
    raise ApiError(403, "forbidden", "Only municipality officers and local requesters manage needs; "
                   "see the needs matched to you at GET /needs/matched.")


_NEED_SQL = f"""
select n.*, r.sgg_name as region_name, coalesce(n.ends_on < :today, false) as is_past,
       ({OPEN_NEED_SQL}) as takes_people,
       (select count(*) from app.need_engagements e where e.need_id = n.id and e.status = 'accepted')
           as accepted_count
from app.regional_needs n left join raw.regions r on r.region_code = n.region_code
"""


def create_need(conn: Connection, user: UserRecord, body: NeedCreate) -> RowMapping:
    own = managed_region(user)
    region = body.region_code or own
    if region is None:
        raise ApiError.validation("body.region_code", "administrators must name the region")
    if own is not None and region != own:
        raise ApiError(403, "other_region", f"You post needs for {own} only, not {region}.")
    if body.skill not in SKILLS_KO:
        raise ApiError.validation("body.skill", f"use one of {', '.join(SKILLS_KO)}")
    centre = conn.execute(text("select centroid_lat, centroid_lon from raw.regions where region_code = :r"),
                          {"r": region}).first()
    if centre is None:
        raise ApiError.validation("body.region_code", f"{region} is not a known 시군구 code (see /regions)")
    lat, lon = (body.lat, body.lon) if body.lat is not None else (centre.centroid_lat, centre.centroid_lon)
    problem = valid_position(lat, lon)
    if problem:
        raise ApiError.validation("body.lat", problem)
    need_id = conn.execute(insert(regional_needs).values(
        region_code=region, title=body.title.strip(), description=body.description.strip(), skill=body.skill,
        tier_wanted=body.tier_wanted, place_name=body.place_name, lat=lat, lon=lon, starts_on=body.starts_on,
        ends_on=body.ends_on, headcount=body.headcount, status="open", posted_by=user.id)
        .returning(regional_needs.c.id)).scalar_one()
    audit(conn, user.id, "need.create", "regional_need", str(need_id), None, {"region_code": region})
    conn.commit()
    row = get_need(conn, need_id)
    assert row is not None
    return row


def get_need(conn: Connection, need_id: uuid.UUID) -> RowMapping | None:
    return conn.execute(text(_NEED_SQL + " where n.id = :id"),
                        {"id": need_id, "today": seoul_today()}).mappings().first()


def list_needs(conn: Connection, user: UserRecord, region: str | None, status: str | None, open_only: bool,
               limit: int, offset: int) -> tuple[list[RowMapping], int]:
    """`open_only`: just the needs that still take people (open, and not past their last day)."""
    own = managed_region(user)
    if own is not None:
        region = own
    where = "where (cast(:r as text) is null or n.region_code = :r) and (cast(:s as text) is null or n.status = :s)"
    if open_only:
        where += f" and {OPEN_NEED_SQL}"
    params = {"r": region, "s": status, "l": limit, "o": offset, "today": seoul_today()}
    rows = conn.execute(text(f"{_NEED_SQL} {where} order by n.created_at desc limit :l offset :o"),
                        params).mappings().all()
    total = conn.execute(text(f"select count(*) from app.regional_needs n {where}"), params).scalar_one()
    return list(rows), int(total)


def need_for_manager(conn: Connection, user: UserRecord, need_id: uuid.UUID) -> RowMapping:
    """The need, if the caller manages its region (404 otherwise: other regions' needs are not revealed)."""
    own = managed_region(user)
    row = get_need(conn, need_id)
    if row is None or (own is not None and row["region_code"] != own):
        raise ApiError.not_found(f"No need {need_id} in your region; list yours at GET /needs.")
    return row


@dataclass(frozen=True)
class Candidates:
    rows: Sequence[Mapping[Any, Any]]
    computed_at: datetime | None  # when this ranking was computed; None if matching never ran
    on_request: bool  # ranked just now: the need is newer than the last matching run


_CANDIDATE_ENGAGEMENTS = (
    "select u.id as user_id, u.display_name, e.status as engagement_status, e.kind as engagement_kind "
    "from app.users u left join app.need_engagements e on e.need_id = :n and e.user_id = u.id "
    "where u.id = any(cast(:ids as uuid[]))")


def candidates(conn: Connection, need: RowMapping, limit: int) -> Candidates:
    """The matching run's ranking for the need; for an open need posted after the last run (which has
    none yet), the need is ranked on the spot with the same code, for its skill's people only."""
    rows = list(conn.execute(text(
        "select m.user_id, u.display_name, m.rank, m.score, m.tier, m.distance_km, m.reasons, m.computed_at, "
        "       e.status as engagement_status, e.kind as engagement_kind "
        "from serving.need_matches m join app.users u on u.id = m.user_id and u.is_active "
        "left join app.need_engagements e on e.need_id = m.need_id and e.user_id = m.user_id "
        "where m.need_id = :n order by m.rank limit :l"), {"n": need["id"], "l": limit}).mappings().all())
    if rows:
        return Candidates(rows, rows[0]["computed_at"], on_request=False)
    last_run = conn.execute(text("select max(computed_at) from serving.need_matches")).scalar()
    if not need["takes_people"] or (last_run is not None and need["created_at"] <= last_run):
        return Candidates([], last_run, on_request=False)
    now = datetime.now(UTC)
    matches = match_one_need(conn, str(need["id"]), now, top_k=TOP_K)[:limit]
    people = {r["user_id"]: r for r in conn.execute(text(_CANDIDATE_ENGAGEMENTS), {
        "n": need["id"], "ids": [m.user_id for m in matches]}).mappings()} if matches else {}
    ranked = [{**people[uuid.UUID(m.user_id)], "rank": m.rank, "score": m.score, "tier": m.tier,
               "distance_km": m.distance_km, "reasons": m.reasons} for m in matches]
    return Candidates(ranked, now, on_request=True)


def matched_needs(conn: Connection, user_id: uuid.UUID, limit: int) -> list[RowMapping]:
    return list(conn.execute(text(
        f"select q.*, m.rank, m.score, m.reasons, e.id as engagement_id, e.kind as engagement_kind, "
        f"       e.status as engagement_status "
        f"from serving.need_matches m join ({_NEED_SQL}) q on q.id = m.need_id "
        f"left join app.need_engagements e on e.need_id = m.need_id and e.user_id = m.user_id "
        f"where m.user_id = :u and q.takes_people order by m.rank, m.score desc limit :l"),
        {"u": user_id, "l": limit, "today": seoul_today()}).mappings().all())


def _user_tier(conn: Connection, user_id: uuid.UUID, skill: str) -> int | None:
    return conn.execute(text("select tier from app.user_skill_tiers where user_id = :u and skill = :s"),
                        {"u": user_id, "s": skill}).scalar()


def _engage(conn: Connection, need: RowMapping, user_id: uuid.UUID, kind: str, actor: UserRecord,
            message: str) -> uuid.UUID:
    if need["status"] != "open":
        raise ApiError(409, "need_not_open", f"This need is {need['status']}; it takes no more people.")
    if need["is_past"]:
        raise ApiError(409, "need_ended", f"This need ended on {need['ends_on']:%Y-%m-%d}; it takes no more "
                       "people. Post a new need with new dates for further help.")
    tier = _user_tier(conn, user_id, need["skill"])
    if tier is None or tier < need["tier_wanted"] - 1:
        raise ApiError(422, "not_certified", f"{need['skill']} certification at tier {need['tier_wanted'] - 1 or 1} "
                       f"or higher is needed (certify at POST /certifications).")
    existing = conn.execute(select(need_engagements.c.id, need_engagements.c.kind, need_engagements.c.status)
                            .where(need_engagements.c.need_id == need["id"], need_engagements.c.user_id == user_id)
                            ).first()
    if existing is not None:
        raise ApiError(409, "already_engaged", f"There is already an {existing.kind} for this person and need "
                       f"({existing.status}); see engagement {existing.id}.")
    return conn.execute(insert(need_engagements).values(
        need_id=need["id"], user_id=user_id, kind=kind, initiated_by=actor.id, message=message.strip())
        .returning(need_engagements.c.id)).scalar_one()


def invite(conn: Connection, manager: UserRecord, need_id: uuid.UUID, user_id: uuid.UUID, message: str) -> uuid.UUID:
    need = need_for_manager(conn, manager, need_id)
    engagement_id = _engage(conn, need, user_id, "invite", manager, message)
    notify(conn, user_id, "need_invitation", f"{need['region_name'] or need['region_code']}에서 {need['skill']} "
           f"재능을 요청했습니다: {need['title']}", message.strip(),
           {"need_id": str(need_id), "engagement_id": str(engagement_id)}, dedupe_key=f"engagement:{engagement_id}")
    conn.commit()
    return engagement_id


def apply(conn: Connection, user: UserRecord, need_id: uuid.UUID, message: str) -> uuid.UUID:
    need = get_need(conn, need_id)
    if need is None:
        raise ApiError.not_found(f"No need has the id {need_id}; see GET /needs/matched.")
    engagement_id = _engage(conn, need, user.id, "apply", user, message)
    if need["posted_by"] is not None:
        notify(conn, need["posted_by"], "need_application", f"'{need['title']}'에 지원자가 있습니다",
               message.strip(), {"need_id": str(need_id), "engagement_id": str(engagement_id)},
               dedupe_key=f"engagement:{engagement_id}")
    conn.commit()
    return engagement_id


def get_engagement(conn: Connection, engagement_id: uuid.UUID) -> RowMapping | None:
    return conn.execute(text(
        "select e.*, n.status as need_status, n.title as need_title, n.region_code, n.posted_by "
        "from app.need_engagements e join app.regional_needs n on n.id = e.need_id where e.id = :id"),
        {"id": engagement_id}).mappings().first()


def my_engagements(conn: Connection, user_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(text(
        "select e.*, n.status as need_status, n.title as need_title from app.need_engagements e "
        "join app.regional_needs n on n.id = e.need_id where e.user_id = :u order by e.created_at desc"),
        {"u": user_id}).mappings().all())


def _manages(user: UserRecord, region_code: str) -> bool:
    try:
        own = managed_region(user)
    except ApiError:
        return False
    return own is None or own == region_code


def _may_respond(user: UserRecord, engagement: RowMapping) -> bool:
    """An invitation is answered by the invited person; an application by the need's region managers."""
    if engagement["kind"] == "invite":
        return engagement["user_id"] == user.id
    return _manages(user, engagement["region_code"])


def respond(conn: Connection, user: UserRecord, engagement_id: uuid.UUID, accept: bool) -> RowMapping:
    """Accept or decline; acceptance counts toward the headcount and may fill the need."""
    engagement = get_engagement(conn, engagement_id)
    if engagement is None or not (engagement["user_id"] == user.id or _manages(user, engagement["region_code"])):
        raise ApiError.not_found(f"No invitation or application {engagement_id} is yours to answer.")
    if not _may_respond(user, engagement):
        raise ApiError(403, "not_yours_to_answer", "The other side answers this one: an invitation is answered by "
                       "the invited person, an application by the need's region.")
    if engagement["status"] != "pending":
        raise ApiError(409, "already_answered", f"This was already {engagement['status']}.")
    need = conn.execute(select(regional_needs).where(regional_needs.c.id == engagement["need_id"])
                        .with_for_update()).mappings().one()
    now = datetime.now(UTC)
    if accept:
        if need["status"] != "open":
            raise ApiError(409, "need_not_open", f"The need is already {need['status']}.")
        if need["ends_on"] is not None and need["ends_on"] < seoul_today():
            raise ApiError(409, "need_ended", f"The need ended on {need['ends_on']:%Y-%m-%d}; it can only be "
                           "declined now.")
        accepted = conn.execute(text("select count(*) from app.need_engagements where need_id = :n "
                                     "and status = 'accepted'"), {"n": need["id"]}).scalar_one()
        if accepted + 1 >= need["headcount"]:
            conn.execute(update(regional_needs).where(regional_needs.c.id == need["id"]).values(status="filled"))
    conn.execute(update(need_engagements).where(need_engagements.c.id == engagement_id).values(
        status="accepted" if accept else "declined", responded_at=now, responded_by=user.id))
    audit(conn, user.id, f"need.{'accept' if accept else 'decline'}", "need_engagement", str(engagement_id), None,
          {"need_id": str(need["id"]), "kind": engagement["kind"]})
    other = engagement["initiated_by"] if engagement["kind"] == "invite" else engagement["user_id"]
    if other is not None and other != user.id:
        verb = "수락" if accept else "거절"
        notify(conn, other, f"need_{'accepted' if accept else 'declined'}",
               f"'{need['title']}' 요청이 {verb}되었습니다", "",
               {"need_id": str(need["id"]), "engagement_id": str(engagement_id)},
               dedupe_key=f"engagement:{engagement_id}:{verb}")
    conn.commit()
    row = get_engagement(conn, engagement_id)
    assert row is not None
    return row
