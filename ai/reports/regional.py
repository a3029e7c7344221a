"""The regional social-contribution effect report (지역 사회공헌 효과 보고서): one 시군구, one month or quarter.

Every figure comes from `marts.*` (the SQL below, one statement per section) and goes through
suppression before it reaches the template. A period with no activity, or with fewer than five active
people, gives the short version: the region's context, the statement, and the map without activity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ai.reports import charts, maps
from ai.reports.common import (
    NOT_AGGREGATED,
    Inputs,
    Period,
    existing_marts,
    josa,
    month_label,
    num,
    rows,
    source_note,
)
from ai.reports.suppression import FOOTNOTE, MARK, MIN_COUNT, SuppressedTable, fmt, suppress, suppress_series
from core.vocab import FAILURE_REASON_LABELS_KO, MISSION_TYPE_LABELS_KO, USER_TYPE_LABELS_KO

TREND_MONTHS = 12
PEERS = 5
STAFF_LABEL = "운영진·기타"
SEOUL = "Asia/Seoul"

Q_REGION = "select * from marts.dim_region where region_code = :code"

Q_PARTICIPANTS = """
select coalesce(users.user_type, 'staff') as user_type, count(distinct events.user_key) as people
from marts.fct_activity_events as events
inner join marts.dim_user as users on users.user_key = events.user_key
where events.region_code = :code and events.event_date >= :start and events.event_date < :end
group by 1
"""

Q_PRESENCE = """
select count(distinct user_key) as present_people, count(*) as present_days,
       count(distinct user_key) filter (where is_stay_day) as stay_people,
       count(*) filter (where is_stay_day) as stay_days,
       coalesce(round(sum(minutes_present) / 60.0, 1), 0) as hours_present
from marts.fct_stay_days
where region_code = :code and stay_date >= :start and stay_date < :end
"""

Q_CHECKINS = """
select coalesce(sum(checkins_count), 0) as checkins
from marts.mart_region_activity_monthly
where region_code = :code and activity_month >= :start and activity_month < :end
"""

Q_VOLUNTEER = """
select count(distinct user_key) as people, count(*) as claims,
       coalesce(sum((payload ->> 'hours')::numeric), 0) as hours
from marts.fct_activity_events
where region_code = :code and event_type = 'hours_confirmed'
  and event_date >= :start and event_date < :end
"""

Q_OUTCOMES = """
select mission_type, outcome, count(*) as attempts, count(distinct user_key) as people
from marts.fct_mission_attempts
where region_code = :code and outcome in ('completed', 'failed', 'abandoned')
  and (ended_at at time zone 'Asia/Seoul')::date >= :start and (ended_at at time zone 'Asia/Seoul')::date < :end
group by 1, 2
"""

Q_OUTCOME_PEOPLE = """
select mission_type, outcome, count(distinct user_key) as people
from marts.fct_mission_attempts
where region_code = :code and outcome in ('completed', 'failed', 'abandoned')
  and (ended_at at time zone 'Asia/Seoul')::date >= :start and (ended_at at time zone 'Asia/Seoul')::date < :end
group by grouping sets ((mission_type), (outcome), ())
"""

Q_FAILURES = """
select failure_reason, count(*) as failures, count(distinct user_key) as people
from marts.fct_mission_attempts
where region_code = :code and outcome = 'failed'
  and (ended_at at time zone 'Asia/Seoul')::date >= :start and (ended_at at time zone 'Asia/Seoul')::date < :end
group by 1
order by 2 desc, 1
"""

Q_SKILLS = """
select skill, count(*) as completions, count(distinct attempts.user_key) as people
from marts.fct_mission_attempts as attempts
inner join marts.dim_mission as missions on missions.mission_id = attempts.mission_id
cross join lateral unnest(missions.skills) as skill
where attempts.region_code = :code and attempts.outcome = 'completed'
  and (attempts.ended_at at time zone 'Asia/Seoul')::date >= :start
  and (attempts.ended_at at time zone 'Asia/Seoul')::date < :end
group by 1
order by 3 desc, 2 desc, 1
"""

Q_TREND = """
select months.month as activity_month, activity.active_users_count, activity.completions_count,
       activity.failures_count, activity.is_small_cell, stays.stay_users_count, stays.stay_days_count,
       stays.is_small_cell as stay_small
from unnest(cast(:months as date[])) as months (month)
left join marts.mart_region_activity_monthly as activity
    on activity.region_code = :code and activity.activity_month = months.month
left join {stay_mart} as stays on stays.region_code = :code and stays.stay_month = months.month
order by 1
"""

Q_PEER_CANDIDATES = """
select region_code, full_name, sgg_name, population_total, extinction_risk_index, extinction_risk_level,
       extinction_risk_label_ko, is_decline_area
from marts.dim_region
where extinction_risk_level = :level and region_code <> :code and population_total > 0
"""

Q_PEER_ACTIVITY = """
with people as (
    select region_code, count(distinct user_key) as active_people
    from marts.fct_activity_events
    where region_code = any(:codes) and event_date >= :start and event_date < :end
    group by 1
), stays as (
    select region_code, count(*) filter (where is_stay_day) as stay_days,
           count(distinct user_key) filter (where is_stay_day) as stay_people
    from marts.fct_stay_days
    where region_code = any(:codes) and stay_date >= :start and stay_date < :end
    group by 1
), ended as (
    select region_code, count(*) filter (where outcome = 'completed') as completed,
           count(*) as ended, count(distinct user_key) as ended_people
    from marts.fct_mission_attempts
    where region_code = any(:codes) and outcome in ('completed', 'failed', 'abandoned')
      and (ended_at at time zone 'Asia/Seoul')::date >= :start
      and (ended_at at time zone 'Asia/Seoul')::date < :end
    group by 1
)
select codes.code as region_code, coalesce(people.active_people, 0) as active_people,
       coalesce(stays.stay_days, 0) as stay_days, coalesce(stays.stay_people, 0) as stay_people,
       coalesce(ended.completed, 0) as completed, coalesce(ended.ended, 0) as ended,
       coalesce(ended.ended_people, 0) as ended_people
from unnest(cast(:codes as text[])) as codes (code)
left join people on people.region_code = codes.code
left join stays on stays.region_code = codes.code
left join ended on ended.region_code = codes.code
"""

Q_MAP_CELLS = """
select floor(coalesce(events.lat, missions.lat) / :dlat) as gy, floor(coalesce(events.lon, missions.lon) / :dlon) as gx,
       count(distinct events.user_key) as people, count(*) as events
from marts.fct_activity_events as events
left join marts.dim_mission as missions on missions.mission_id = events.mission_id
where events.region_code = :code and events.event_date >= :start and events.event_date < :end
  and events.event_type in ('checkin', 'qr_scanned', 'step_completed', 'mission_completed', 'hours_confirmed')
  and coalesce(events.lat, missions.lat) is not null
group by 1, 2
"""

Q_AS_OF = "select max(occurred_at) as last_event_at from marts.fct_activity_events"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: float | None  # None: suppressed
    unit: str
    note: str
    digits: int = 0

    @property
    def text(self) -> str:
        return fmt(self.value, self.digits)


def _params(code: str, period: Period) -> dict[str, Any]:
    return {"code": code, "start": period.start, "end": period.end}


def _hide_if_few(value: float, people: float) -> float | None:
    return None if 0 < people < MIN_COUNT else value


def gather(conn: Connection, code: str, period: Period, atlas: maps.Atlas | None = None) -> dict[str, Any]:
    """Everything the template needs, and the inputs (exact query results) behind it, under 'inputs'."""
    marts = existing_marts(conn)
    inputs = Inputs()
    params = _params(code, period)
    region_rows = inputs.add("region", rows(conn, Q_REGION, {"code": code}))
    if not region_rows:
        raise LookupError(f"no 시군구 has the code {code} in marts.dim_region")
    region = region_rows[0]
    participants = inputs.add("participants", rows(conn, Q_PARTICIPANTS, params))
    total_people = sum(int(r["people"]) for r in participants)
    outcomes = inputs.add("outcomes", rows(conn, Q_OUTCOMES, params))
    as_of = period.key
    context: dict[str, Any] = {
        "kind": "regional", "period": period, "region": region, "as_of": as_of, "footnote": FOOTNOTE,
        "min_count": MIN_COUNT, "mark": MARK, "active_people": total_people,
        "state": "none" if total_people == 0 and not outcomes else ("small" if total_people < MIN_COUNT else "full"),
        "context_table": _context_table(region), "src_region": source_note("dim_region", as_of),
    }
    atlas = atlas or maps.load_atlas(conn, code)
    context["map"] = _map(conn, inputs, atlas, code, period, region, context["state"] == "full")
    context["src_map"] = source_note("fct_activity_events", as_of) + " · 경계: raw.regions (행정안전부 행정구역 경계)"
    if context["state"] == "full":
        context.update(_full_sections(conn, inputs, code, period, region, marts, participants, outcomes, as_of))
    context["inputs"] = inputs
    return context


def _full_sections(conn: Connection, inputs: Inputs, code: str, period: Period, region: dict[str, Any],
                   marts: frozenset[str], participants: list[dict[str, Any]], outcomes: list[dict[str, Any]],
                   as_of: str) -> dict[str, Any]:
    params = _params(code, period)
    out: dict[str, Any] = {}
    out["participants"] = _participants(participants)
    out["participants_chart"] = _participants_chart(out["participants"], region["sgg_name"])
    out["src_participants"] = source_note("fct_activity_events", as_of) + ", marts.dim_user"

    if "fct_stay_days" in marts:
        presence = inputs.add("presence", rows(conn, Q_PRESENCE, params))[0]
        out["presence"] = _presence(presence)
        out["src_presence"] = source_note("fct_stay_days", as_of)
    else:
        out["presence"] = None
    checkins = inputs.add("checkins", rows(conn, Q_CHECKINS, params))[0]
    out["checkins"] = _hide_if_few(num(checkins["checkins"]), out["participants"].total() or 0)
    volunteer = inputs.add("volunteer", rows(conn, Q_VOLUNTEER, params))[0]
    out["volunteer"] = {"people": _hide_if_few(num(volunteer["people"]), num(volunteer["people"])),
                        "hours": _hide_if_few(num(volunteer["hours"]), num(volunteer["people"])),
                        "claims": _hide_if_few(num(volunteer["claims"]), num(volunteer["people"]))}
    out["src_volunteer"] = source_note("fct_activity_events", as_of) + " (hours_confirmed)"

    outcome_people = inputs.add("outcome_people", rows(conn, Q_OUTCOME_PEOPLE, params))
    out["missions"] = _missions(outcomes, outcome_people)
    out["missions_chart"] = _missions_chart(out["missions"])
    out["src_missions"] = source_note("fct_mission_attempts", as_of)
    failures = inputs.add("failures", rows(conn, Q_FAILURES, params))
    out["failures"] = _failures(failures, out["missions"])
    out["failures_chart"] = _failures_chart(out["failures"]) if out["failures"] is not None else None

    skills = inputs.add("skills", rows(conn, Q_SKILLS, params))
    out["skills"] = _skills(skills)
    out["src_skills"] = source_note("fct_mission_attempts", as_of) + ", marts.dim_mission"
    out["needs"] = _needs_section(conn, inputs, code, period, marts, as_of)

    out["kpis"] = _kpis(out)
    out["trend"] = _trend(conn, inputs, code, period, marts)
    out["src_trend"] = source_note("mart_region_activity_monthly", as_of) + (
        ", marts.mart_stay_days_monthly" if "mart_stay_days_monthly" in marts else "")
    out["peers"] = _peers(conn, inputs, region, period, marts)
    out["src_peers"] = source_note("dim_region", as_of) + ", marts.fct_activity_events, marts.fct_stay_days, " \
                                                          "marts.fct_mission_attempts"
    out["summary"] = _summary_sentences(region, period, out)
    return out


# ------------------------------------------------------------------------------ region context
def _context_table(region: dict[str, Any]) -> list[tuple[str, str]]:
    def maybe(value: Any, digits: int = 0, unit: str = "") -> str:
        return "—" if value is None else f"{fmt(float(value), digits)}{unit}"

    risk = region["extinction_risk_index"]
    return [
        ("인구 (" + str(region["population_year"] or "—") + "년 말)", maybe(region["population_total"], unit="명")),
        ("2022년 대비 인구 변화", "—" if region["population_change_pct"] is None
         else f"{float(region['population_change_pct']):+.2f}%"),
        ("20~39세 여성", maybe(region["women_20_39_count"], unit="명")),
        ("65세 이상", maybe(region["people_65_plus_count"], unit="명")),
        ("소멸위험지수", "—" if risk is None else f"{float(risk):.3f} ({region['extinction_risk_label_ko']})"),
        ("소멸위험 순위 (229개 시군구 중)", maybe(region["extinction_risk_rank"], unit="위")),
        ("인구감소지역 지정", "지정" if region["is_decline_area"] else (
            "관심지역" if region["is_interest_area"] else "해당 없음")),
        ("빈집", maybe(region["empty_houses_count"], unit="호") + (
            f" ({region['empty_houses_year']}년)" if region["empty_houses_year"] else "")),
        ("관광지 · 축제 · 문화재", f"{region['tourist_spot_count'] or 0} · {region['festival_count'] or 0} · "
                            f"{region['heritage_count'] or 0}곳"),
    ]


# ------------------------------------------------------------------------------ sections
def _participants(found: list[dict[str, Any]]) -> SuppressedTable:
    order = [*USER_TYPE_LABELS_KO.keys()]
    counts = {r["user_type"]: int(r["people"]) for r in found}
    keys = [str(k) for k in order] + (["staff"] if counts.get("staff") else [])
    labels = [USER_TYPE_LABELS_KO.get(k, STAFF_LABEL) for k in keys]  # type: ignore[call-overload]
    return suppress([[counts.get(k, 0)] for k in keys], row_labels=labels, col_labels=["참여자"], col_totals=True)


def _participants_chart(table: SuppressedTable, name: str) -> charts.Chart | None:
    values = [table.cell(i, 0) for i in range(len(table.row_labels))]
    if not charts.any_shown(values):
        return None
    return charts.hbar(table.row_labels, values, "명", f"{name} 참여자 수 (이용자 유형별)", width_mm=150)


def _presence(found: dict[str, Any]) -> dict[str, Any]:
    present, stay = num(found["present_people"]), num(found["stay_people"])
    return {"present_people": _hide_if_few(present, present),
            "present_days": _hide_if_few(num(found["present_days"]), present),
            "hours_present": _hide_if_few(num(found["hours_present"]), present),
            "stay_people": _hide_if_few(stay, stay), "stay_days": _hide_if_few(num(found["stay_days"]), stay)}


OUTCOME_COLUMNS = (("completed", "완료"), ("failed", "실패"), ("abandoned", "중도 포기"))


def _missions(found: list[dict[str, Any]], people_rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not found:
        return None
    types = [t for t in MISSION_TYPE_LABELS_KO if any(r["mission_type"] == t for r in found)]
    cell = {(r["mission_type"], r["outcome"]): r for r in found}
    values = [[int(cell[(t, o)]["attempts"]) if (t, o) in cell else 0 for o, _ in OUTCOME_COLUMNS] for t in types]
    people = [[int(cell[(t, o)]["people"]) if (t, o) in cell else 0 for o, _ in OUTCOME_COLUMNS] for t in types]
    by_type = {r["mission_type"]: int(r["people"]) for r in people_rows if r["mission_type"] is not None}
    by_outcome = {r["outcome"]: int(r["people"]) for r in people_rows if r["outcome"] is not None}
    everyone = next((int(r["people"]) for r in people_rows if r["mission_type"] is None and r["outcome"] is None), 0)
    col_people = [by_outcome.get(o, 0) for o, _ in OUTCOME_COLUMNS]
    table = suppress(values, people=people, row_labels=[MISSION_TYPE_LABELS_KO[t] for t in types],  # type: ignore[index]
                     col_labels=[label for _, label in OUTCOME_COLUMNS], row_totals=True, col_totals=True,
                     row_total_people=[by_type.get(t, 0) for t in types], col_total_people=col_people)
    if 0 < everyone < MIN_COUNT:
        table.grand_total_hidden = True
    rates = []
    for i in range(len(types)):
        shown = not any(table.hidden[i]) and table.row_total(i) is not None
        total = table.row_totals[i] if table.row_totals else 0
        rates.append(values[i][0] / total if (shown and total) else None)
    completed, ended = table.col_total(0), table.total()
    overall = completed / ended if (completed is not None and ended) else None
    return {"table": table, "rates": rates, "overall_rate": overall, "types": types, "people": everyone}


def _missions_chart(missions: dict[str, Any] | None) -> charts.Chart | None:
    if missions is None:
        return None
    table: SuppressedTable = missions["table"]
    series = {label: [table.cell(i, j) for i in range(len(table.row_labels))]
              for j, label in enumerate(table.col_labels)}
    if not charts.any_shown([v for values in series.values() for v in values]):
        return None
    return charts.vbar(table.row_labels, series, "건", "미션 유형별 완료·실패·중도 포기 건수", height_mm=55)


def _failures(found: list[dict[str, Any]], missions: dict[str, Any] | None) -> SuppressedTable | None:
    if not found:
        return None
    labels = [FAILURE_REASON_LABELS_KO.get(r["failure_reason"], r["failure_reason"]) for r in found]  # type: ignore[call-overload]
    table = suppress([[int(r["failures"])] for r in found], people=[[int(r["people"])] for r in found],
                     row_labels=labels, col_labels=["실패 건수"], col_totals=True,
                     col_total_people=[max(int(r["people"]) for r in found)])
    if missions is not None and missions["table"].col_total(1) is None:
        table.col_total_hidden[0] = True  # the same total is hidden in the missions table
    return table


def _failures_chart(table: SuppressedTable) -> charts.Chart | None:
    values = [table.cell(i, 0) for i in range(len(table.row_labels))]
    if not charts.any_shown(values):
        return None
    return charts.hbar(table.row_labels, values, "건", "실패 사유별 건수", width_mm=150)


def _skills(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in found:
        people = int(r["people"])
        out.append({"skill": r["skill"], "people": _hide_if_few(people, people),
                    "completions": _hide_if_few(int(r["completions"]), people)})
    return out


def _needs_section(conn: Connection, inputs: Inputs, code: str, period: Period, marts: frozenset[str],
                   as_of: str) -> dict[str, Any]:
    """Needs posted and filled in the region (the certification marts), or NOT_AGGREGATED without them."""
    from ai.reports import certify_marts

    found = certify_marts.region_needs(conn, code, period, marts)
    if found is None:
        return {"available": False, "message": NOT_AGGREGATED}
    inputs.add("needs", found)
    return {"available": True, **certify_marts.needs_view(found), "src": source_note(found["model"], as_of)}


def _kpis(out: dict[str, Any]) -> list[Kpi]:
    participants: SuppressedTable = out["participants"]
    presence = out["presence"] or {}
    missions = out["missions"]
    kpis = [Kpi("참여자", participants.col_total(0), "명", "활동 기록이 있는 사람"),
            Kpi("체류일 (생활인구)", presence.get("stay_days"), "일", "하루 3시간 이상 머문 날"),
            Kpi("봉사 시간", out["volunteer"]["hours"], "시간", "호스트가 확인한 시간", 1 if out["volunteer"]["hours"]
                and out["volunteer"]["hours"] % 1 else 0),
            Kpi("미션 완료", missions["table"].col_total(0) if missions else 0, "건", "기간 중 끝난 미션"),
            Kpi("미션 실패", missions["table"].col_total(1) if missions else 0, "건", "사유는 4장"),
            Kpi("완료율", None if not missions or missions["overall_rate"] is None
                else round(missions["overall_rate"] * 100, 1), "%", "완료 ÷ (완료+실패+포기)", 1)]
    return kpis


def _trend(conn: Connection, inputs: Inputs, code: str, period: Period, marts: frozenset[str]) -> dict[str, Any]:
    months = period.trailing_months(TREND_MONTHS)
    stay_mart = "marts.mart_stay_days_monthly" if "mart_stay_days_monthly" in marts else \
        "(select null::varchar as region_code, null::date as stay_month, null::int as stay_users_count, " \
        "null::int as stay_days_count, null::boolean as is_small_cell) "
    found = inputs.add("trend", rows(conn, Q_TREND.format(stay_mart=stay_mart), {"code": code, "months": months}))
    labels = [month_label(r["activity_month"]) for r in found]
    active = [num(r["active_users_count"]) for r in found]
    active_shown = suppress_series(active)
    completions = [None if (r["is_small_cell"] and num(r["active_users_count"]) > 0) else num(r["completions_count"])
                   for r in found]
    stay_days = [None if r["stay_small"] and num(r["stay_users_count"]) > 0 else num(r["stay_days_count"])
                 for r in found]
    chart = charts.lines(labels, {"참여자(명)": active_shown, "미션 완료(건)": completions,
                                  "체류일(일)": stay_days}, "명 / 건 / 일",
                         f"최근 {TREND_MONTHS}개월 참여자·미션 완료·체류일 추이")
    rows_out = [{"label": labels[k], "active": active_shown[k], "completions": completions[k],
                 "stay_days": stay_days[k]} for k in range(len(found))]
    return {"chart": chart, "rows": rows_out, "first": labels[0], "last": labels[-1]}


def _peers(conn: Connection, inputs: Inputs, region: dict[str, Any], period: Period,
           marts: frozenset[str]) -> dict[str, Any]:
    """Peers: same extinction-risk class, population within half to double, nearest in size and index."""
    candidates = rows(conn, Q_PEER_CANDIDATES,
                      {"level": region["extinction_risk_level"], "code": region["region_code"]})
    pop0 = float(region["population_total"] or 1)
    idx0 = float(region["extinction_risk_index"] or 0)

    def distance(r: dict[str, Any]) -> float:
        size = abs(math.log(float(r["population_total"]) / pop0))
        return size + 2 * abs(float(r["extinction_risk_index"] or 0) - idx0)

    close = [r for r in candidates if 0.5 <= float(r["population_total"]) / pop0 <= 2.0] or candidates
    peers = sorted(close, key=lambda r: (distance(r), r["region_code"]))[:PEERS]
    inputs.add("peers", peers)
    codes = [region["region_code"], *[p["region_code"] for p in peers]]
    activity = {r["region_code"]: r for r in inputs.add(
        "peer_activity", rows(conn, Q_PEER_ACTIVITY, {"codes": codes, "start": period.start, "end": period.end}))}
    table = []
    for entry in [region, *peers]:
        act = activity[entry["region_code"]]
        people = num(act["active_people"])
        per_10k = people / float(entry["population_total"]) * 10_000 if entry["population_total"] else None
        stay_ok = not (0 < num(act["stay_people"]) < MIN_COUNT)
        rate_ok = not (0 < num(act["ended_people"]) < MIN_COUNT) and num(act["ended"]) > 0
        table.append({
            "name": entry["full_name"], "is_self": entry["region_code"] == region["region_code"],
            "population": entry["population_total"], "risk_index": entry["extinction_risk_index"],
            "active_people": _hide_if_few(people, people),
            "per_10k": None if (0 < people < MIN_COUNT or per_10k is None) else round(per_10k, 2),
            "stay_days": num(act["stay_days"]) if stay_ok else None,
            "completion_rate": num(act["completed"]) / num(act["ended"]) if rate_ok else None,
            "has_rate": num(act["ended"]) > 0 or 0 < num(act["ended_people"]) < MIN_COUNT,
        })
    chart = charts.hbar([t["name"].split(" ")[-1] for t in table], [t["per_10k"] for t in table], "명",
                        "주민 1만 명당 참여자 수 (유사 지역 비교)", width_mm=150, highlight=0, digits=2)
    return {"rows": table, "chart": chart, "class_label": region["extinction_risk_label_ko"]}


def _map(conn: Connection, inputs: Inputs, atlas: maps.Atlas, code: str, period: Period, region: dict[str, Any],
         with_activity: bool) -> dict[str, Any]:
    cells: list[maps.Cell] = []
    hidden = 0
    if with_activity:
        found = inputs.add("map_cells", rows(conn, Q_MAP_CELLS, {
            **_params(code, period), "dlat": maps.GRID_DEG_LAT, "dlon": maps.GRID_DEG_LON}))
        for r in found:
            if int(r["people"]) >= maps.MIN_PEOPLE:
                cells.append(maps.Cell((float(r["gy"]) + 0.5) * maps.GRID_DEG_LAT,
                                       (float(r["gx"]) + 0.5) * maps.GRID_DEG_LON, int(r["people"]), int(r["events"])))
            else:
                hidden += 1
    alt = f"{josa(region['full_name'], '과', '와')} 이웃 시군구, 활동이 있었던 약 1km 격자"
    chart = maps.region_map(atlas, code, cells, alt)
    return {"chart": chart, "cells": len(cells), "hidden_cells": hidden,
            "neighbours": [atlas.names[c] for c in atlas.neighbours(code)]}


def _summary_sentences(region: dict[str, Any], period: Period, out: dict[str, Any]) -> list[str]:
    """The opening paragraph, from the published (suppressed) figures only."""
    kpi = {k.label: k for k in out["kpis"]}
    name = region["sgg_name"]
    first = f"{period.label_ko} {name}에서는 고향으로 ON 참여자 {kpi['참여자'].text}명이 활동했습니다."
    sentences = [first]
    presence = out["presence"]
    if presence is not None and presence["stay_days"] is not None:
        sentences.append(f"하루 3시간 이상 머문 체류일은 {fmt(presence['stay_days'])}일"
                         f"({fmt(presence['stay_people'])}명)로, 생활인구 증가에 기여했습니다.")
    if out["volunteer"]["hours"]:
        hours = fmt(out["volunteer"]["hours"], kpi["봉사 시간"].digits)
        sentences.append(f"호스트가 확인한 봉사 시간은 {hours}시간입니다.")
    missions = out["missions"]
    if missions is not None and missions["overall_rate"] is not None:
        sentences.append(f"기간 중 끝난 미션의 완료율은 {missions['overall_rate'] * 100:.1f}%입니다.")
    failures = out["failures"]
    if failures is not None and failures.cell(0, 0) is not None:
        sentences.append(f"실패의 주된 사유는 '{failures.row_labels[0]}'입니다.")
    return sentences


def empty_reason(context: dict[str, Any]) -> str | None:
    """What the short version says, or None for the full report."""
    if context["state"] == "none":
        return (f"{context['period'].label_ko}에는 {context['region']['sgg_name']}에서 기록된 고향으로 ON 활동이 "
                "없습니다.")
    if context["state"] == "small":
        return (f"{context['period'].label_ko} {context['region']['sgg_name']}의 활동 인원이 {MIN_COUNT}명 미만이어서, "
                "개인이 드러나지 않도록 세부 통계를 공개하지 않습니다.")
    return None

