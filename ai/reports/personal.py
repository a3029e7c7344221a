"""The personal report (나의 고향으로 ON 활동 보고서): one user's missions, regions, stay days, hours, badges,
certified skills and credentials, with a short narrative from the template writer.

It is about that user and for that user only: the queries filter on their pseudonymous key (the marts)
or their id (their own certified skills and credentials in app.*, which no mart carries per person);
nothing about any other person is read, so nothing needs suppressing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Connection

from ai.reports.common import Inputs, Period, existing_marts, num, rows, source_note
from core.badges import user_key
from core.vocab import MISSION_TYPE_LABELS_KO, USER_TYPE_LABELS_KO

Q_USER = "select display_name, user_type, created_at from app.users where id = :user_id"

Q_MISSIONS = """
select attempts.mission_type, count(*) filter (where attempts.outcome = 'completed') as completed,
       count(*) filter (where attempts.outcome = 'failed') as failed,
       count(*) filter (where attempts.outcome = 'in_progress') as in_progress, count(*) as attempts
from marts.fct_mission_attempts as attempts
where attempts.user_key = :key and attempts.enrolled_at < cast(:end as timestamptz)
group by 1
order by 1
"""

Q_RECENT = """
select missions.title, regions.full_name as region_name, attempts.mission_type,
       (attempts.ended_at at time zone 'Asia/Seoul')::date as completed_on
from marts.fct_mission_attempts as attempts
inner join marts.dim_mission as missions on missions.mission_id = attempts.mission_id
left join marts.dim_region as regions on regions.region_code = attempts.region_code
where attempts.user_key = :key and attempts.outcome = 'completed' and attempts.ended_at < cast(:end as timestamptz)
order by attempts.ended_at desc, missions.title
limit 12
"""

Q_REGIONS = """
with done as (
    select region_code, count(*) as completed
    from marts.fct_mission_attempts
    where user_key = :key and outcome = 'completed' and ended_at < cast(:end as timestamptz)
    group by 1
), stays as (
    select region_code, count(*) as present_days, count(*) filter (where is_stay_day) as stay_days,
           round(sum(minutes_present) / 60.0, 1) as hours_present
    from marts.fct_stay_days
    where user_key = :key and stay_date < :end
    group by 1
)
select regions.region_code, regions.full_name, regions.is_decline_area, coalesce(done.completed, 0) as completed,
       coalesce(stays.present_days, 0) as present_days, coalesce(stays.stay_days, 0) as stay_days,
       coalesce(stays.hours_present, 0) as hours_present
from marts.dim_region as regions
left join done on done.region_code = regions.region_code
left join stays on stays.region_code = regions.region_code
where done.region_code is not null or stays.region_code is not null
order by coalesce(stays.stay_days, 0) desc, coalesce(done.completed, 0) desc, regions.region_code
"""

Q_HOURS = """
select coalesce(sum((payload ->> 'hours')::numeric), 0) as hours, count(*) as claims
from marts.fct_activity_events
where user_key = :key and event_type = 'hours_confirmed' and event_date < :end
"""

Q_POINTS = "select coalesce(sum(points), 0) as points from marts.fct_points_ledger where user_key = :key " \
           "and earned_date < :end"

Q_BADGES = """
select badge_name_ko, tier, (awarded_at at time zone 'Asia/Seoul')::date as awarded_on
from marts.fct_badge_awards
where user_key = :key and awarded_at < cast(:end as timestamptz)
order by awarded_at, badge_id
"""

Q_SKILLS = """
select tiers.skill, tiers.tier, (tiers.certified_at at time zone 'Asia/Seoul')::date as certified_on
from app.user_skill_tiers as tiers
where tiers.user_id = :user_id and tiers.certified_at < cast(:end as timestamptz)
order by tiers.skill
"""

Q_CREDENTIALS = """
select skill, tier, (issued_at at time zone 'Asia/Seoul')::date as issued_on, revoked_at is not null as revoked
from app.credentials
where user_id = :user_id and issued_at < cast(:end as timestamptz)
order by issued_at
"""

TIER_KO = {1: "기초", 2: "숙련", 3: "전문", "bronze": "브론즈", "silver": "실버", "gold": "골드"}


def gather(conn: Connection, user_id: uuid.UUID, period: Period) -> dict[str, Any]:
    """The user's own figures up to the end of `period` (all their history until then)."""
    inputs = Inputs()
    user = conn.execute(_text(Q_USER), {"user_id": user_id}).mappings().first()
    if user is None:
        raise LookupError(f"no user {user_id}")
    key = user_key(user_id)
    marts = existing_marts(conn)
    params = {"key": key, "end": period.end}
    missions = inputs.add("missions", rows(conn, Q_MISSIONS, params))
    recent = inputs.add("recent", rows(conn, Q_RECENT, params))
    regions = inputs.add("regions", rows(conn, Q_REGIONS, params)) if "fct_stay_days" in marts else []
    hours = inputs.add("hours", rows(conn, Q_HOURS, params))[0]
    points = inputs.add("points", rows(conn, Q_POINTS, params))[0] if "fct_points_ledger" in marts else None
    badges = inputs.add("badges", rows(conn, Q_BADGES, params)) if "fct_badge_awards" in marts else None
    skills = inputs.add("skills", rows(conn, Q_SKILLS, {"user_id": user_id, "end": period.end}))
    credentials = inputs.add("credentials", rows(conn, Q_CREDENTIALS, {"user_id": user_id, "end": period.end}))
    totals = {"completed": sum(int(r["completed"]) for r in missions),
              "attempts": sum(int(r["attempts"]) for r in missions),
              "regions": sum(1 for r in regions if int(r["completed"]) or int(r["present_days"])),
              "decline_regions": sum(1 for r in regions if r["is_decline_area"]),
              "stay_days": sum(int(r["stay_days"]) for r in regions),
              "hours": num(hours["hours"]), "points": None if points is None else int(points["points"]),
              "badges": None if badges is None else len(badges)}
    context = {
        "kind": "personal", "period": period, "display_name": user["display_name"],
        "user_type_label": USER_TYPE_LABELS_KO.get(user["user_type"], "운영진") if user["user_type"] else "운영진",  # type: ignore[call-overload]
        "member_since": user["created_at"].date() if user["created_at"] else None,
        "missions": [{**r, "label": MISSION_TYPE_LABELS_KO.get(r["mission_type"], r["mission_type"])}  # type: ignore[call-overload]
                     for r in missions],
        "recent": [{**r, "label": MISSION_TYPE_LABELS_KO.get(r["mission_type"], r["mission_type"])} for r in recent],  # type: ignore[call-overload]
        "regions": regions, "badges": [{**b, "tier_ko": TIER_KO.get(b["tier"], b["tier"])} for b in (badges or [])],
        "skills": [{**s, "tier_ko": TIER_KO.get(s["tier"], s["tier"])} for s in skills],
        "credentials": [{**c, "tier_ko": TIER_KO.get(c["tier"], c["tier"])} for c in credentials],
        "totals": totals, "src_missions": source_note("fct_mission_attempts", period.key),
        "src_stays": source_note("fct_stay_days", period.key),
        "src_badges": source_note("fct_badge_awards", period.key),
        "src_hours": source_note("fct_activity_events", period.key) + " (hours_confirmed)",
        "src_points": source_note("fct_points_ledger", period.key),
        "has_badge_mart": badges is not None, "has_stay_mart": "fct_stay_days" in marts,
    }
    context["narrative"] = narrative(context)
    context["inputs"] = inputs
    return context


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


def narrative(context: dict[str, Any]) -> list[str]:
    """The short narrative (template writer): what the user did, in the user's own figures."""
    t = context["totals"]
    name = context["display_name"]
    if t["attempts"] == 0 and t["regions"] == 0:
        return [f"{name}님, 아직 기록된 미션 활동이 없습니다. 관심 지역의 미션에 참여하면 이 보고서에 활동이 쌓입니다."]
    out = [f"{name}님은 {context['period'].label_ko}까지 미션 {t['attempts']:,}번에 도전해 {t['completed']:,}개를 "
           f"완료했습니다."]
    if t["regions"]:
        decline = f", 그중 인구감소지역 {t['decline_regions']}곳" if t["decline_regions"] else ""
        out.append(f"{t['regions']}개 시군구를 도왔고{decline}에 발자취를 남겼습니다.")
    if t["stay_days"]:
        out.append(f"하루 3시간 이상 머문 날은 {t['stay_days']:,}일로, 그만큼 지역의 생활인구가 되었습니다.")
    if t["hours"]:
        out.append(f"호스트가 확인한 봉사 시간은 {t['hours']:,.1f}시간입니다.".replace(".0시간", "시간"))
    if context["skills"]:
        out.append("인증받은 재능: " + ", ".join(f"{s['skill']}({s['tier_ko']})" for s in context["skills"]) + ".")
    return out


def as_of_month(today: date) -> Period:
    return Period.month_of(today)
