"""The municipal policy proposal (정책 제안서): findings derived from the marts by explicit rules.

Each rule is a function that queries one evidence table over the EVIDENCE_MONTHS ending with the
period, suppresses it, and returns a Finding (statement, evidence, concrete proposal, source) — or a
Finding that says why nothing can be concluded (too few people, or the mart is not built yet).
A rate is printed only when both its numerator and its denominator are printable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from ai.reports import certify_marts
from ai.reports.common import NOT_AGGREGATED, Inputs, Period, existing_marts, josa, month_label, rows, source_note
from ai.reports.suppression import MARK, MIN_COUNT, fmt
from core.vocab import FAILURE_REASON_LABELS_KO, MISSION_TYPE_LABELS_KO, USER_TYPE_LABELS_KO

EVIDENCE_MONTHS = 12
FAILURE_RATE_ALERT = 0.15  # a mission type failing more often than this gets a proposal
NEED_WAIT_DAYS = 30  # an open need older than this is "unmet"
PLACE_KIND_KO = {"tourist_spot": "관광지", "festival": "축제", "heritage": "문화유산", "need": "지역 수요",
                 "manual": "직접 등록", "ai_draft": "AI 초안"}
REASON_PROPOSALS = {
    "weather": "우천·폭염 시 실내 대체 단계와 일정 연기 옵션을 미션에 넣으십시오.",
    "schedule_conflict": "주말·저녁 회차를 늘리고, 단계를 나눠 여러 날에 걸쳐 완료할 수 있게 하십시오.",
    "too_far": "가까운 역·터미널과 미션 장소를 잇는 교통편(수요응답형 버스, 동승)을 연계하십시오.",
    "too_difficult": "단계를 더 작게 나누고 첫 참여자를 위한 입문 단계를 두십시오.",
    "host_unavailable": "호스트를 두 명 이상 지정하고 호스트 일정표를 미션 개설 조건으로 삼으십시오.",
    "safety": "안전 점검과 보험, 안전 안내를 미션 시작 단계에 넣으십시오.",
    "health": "난이도·소요 시간을 미리 알리고 가벼운 대안 단계를 두십시오.",
    "verification_failed": "체크인 반경과 QR 발급 방식을 현장 조건에 맞게 조정하고 인증 안내를 보완하십시오.",
    "other": "실패 사유의 자유 기술을 검토해 반복되는 원인을 찾으십시오.",
}


@dataclass
class Evidence:
    headers: list[str]
    rows: list[list[str]]
    source: str


@dataclass
class Finding:
    id: str
    title: str
    question: str
    statement: str
    proposal: str | None
    evidence: Evidence | None
    available: bool = True  # False: the mart is not built, or too few people to conclude
    facts: dict[str, Any] = field(default_factory=dict)  # the printable figures the narrative may cite


def window(period: Period) -> tuple[date, date]:
    months = period.trailing_months(EVIDENCE_MONTHS)
    return months[0], period.end


def _shown(count: int) -> bool:
    return not (0 < count < MIN_COUNT)


def _rate(numerator: int, denominator: int) -> float | None:
    if not (_shown(numerator) and _shown(denominator)) or denominator == 0:
        return None
    return numerator / denominator


def _pct(value: float | None) -> str:
    return MARK if value is None else f"{value * 100:.1f}%"


def _count(value: int) -> str:
    return fmt(value if _shown(value) else None)


# ---------------------------------------------------------------------------------- 1. return
Q_RETURN = """
with firsts as (
    select user_key, mission_type, min((ended_at at time zone 'Asia/Seoul')::date) as first_completed_date
    from marts.fct_mission_attempts
    where region_code = :code and outcome = 'completed'
      and (ended_at at time zone 'Asia/Seoul')::date >= :wstart and (ended_at at time zone 'Asia/Seoul')::date < :end
    group by 1, 2
), later as (
    select firsts.user_key, firsts.mission_type, count(stays.stay_date) as later_days,
           count(stays.stay_date) filter (where stays.is_stay_day) as later_stay_days
    from firsts
    left join marts.fct_stay_days as stays
        on stays.user_key = firsts.user_key and stays.region_code = :code
       and stays.stay_date > firsts.first_completed_date and stays.stay_date < :end
    group by 1, 2
)
select mission_type, count(*) as people, count(*) filter (where later_days > 0) as returned_people,
       sum(later_stay_days) as later_stay_days
from later
group by 1
order by 1
"""


def return_by_type(conn: Connection, inputs: Inputs, code: str, period: Period, as_of: str) -> Finding:
    wstart, end = window(period)
    found = inputs.add("return_by_type", rows(conn, Q_RETURN, {"code": code, "wstart": wstart, "end": end}))
    table, rates = [], {}
    for r in found:
        people, back = int(r["people"]), int(r["returned_people"])
        rate = _rate(back, people)
        label = MISSION_TYPE_LABELS_KO.get(r["mission_type"], r["mission_type"])  # type: ignore[call-overload]
        stay_days = int(r["later_stay_days"] or 0)
        table.append([label, _count(people), _count(back), _pct(rate),
                      fmt(stay_days) if _shown(back) and _shown(people) else MARK])
        if rate is not None:
            rates[label] = rate
    evidence = Evidence(["미션 유형", "완료한 사람", "다시 방문한 사람", "재방문율", "이후 체류일"], table,
                        source_note("fct_mission_attempts", as_of) + ", marts.fct_stay_days")
    base = Finding("return", "다시 오게 하는 미션", "어떤 미션 유형이 사람들을 다시 오게 하는가?", "", None, evidence)
    if len(rates) < 1:
        base.statement = f"재방문을 비교할 만큼(유형별 {MIN_COUNT}명 이상) 미션을 완료한 사람이 아직 없습니다."
        base.available = False
        return base
    best = max(rates, key=lambda k: rates[k])
    worst = min(rates, key=lambda k: rates[k])
    base.facts = {"best_type": best, "best_rate": _pct(rates[best]), "worst_type": worst,
                  "worst_rate": _pct(rates[worst])}
    if best == worst:
        base.statement = f"{best} 미션을 완료한 사람의 {_pct(rates[best])}가 이후 다시 방문했습니다."
        base.proposal = f"{best} 미션 완료 직후 다음 방문을 잇는 후속 미션(다른 계절·다른 장소)을 제안하십시오."
    else:
        base.statement = (f"{best} 미션을 완료한 사람의 {_pct(rates[best])}가 이후 다시 방문해, {worst} 미션"
                          f"({_pct(rates[worst])})보다 재방문율이 높습니다.")
        base.proposal = (f"{best} 미션을 늘리고, {worst} 미션에는 완료 뒤 {best} 미션으로 이어지는 후속 단계를 "
                         "붙여 재방문을 유도하십시오.")
    return base


# ---------------------------------------------------------------------------------- 2. failures
Q_FAILING = """
select attempts.mission_type, count(*) as ended, count(*) filter (where outcome = 'failed') as failed,
       count(distinct user_key) as people,
       count(distinct user_key) filter (where outcome = 'failed') as failed_people,
       mode() within group (order by failure_reason) filter (where outcome = 'failed') as top_reason,
       count(*) filter (where outcome = 'failed' and failure_reason = (
           select mode() within group (order by inner_attempts.failure_reason)
           from marts.fct_mission_attempts as inner_attempts
           where inner_attempts.region_code = :code and inner_attempts.mission_type = attempts.mission_type
             and inner_attempts.outcome = 'failed'
             and (inner_attempts.ended_at at time zone 'Asia/Seoul')::date >= :wstart
             and (inner_attempts.ended_at at time zone 'Asia/Seoul')::date < :end)) as top_reason_failed
from marts.fct_mission_attempts as attempts
where region_code = :code and outcome in ('completed', 'failed', 'abandoned')
  and (ended_at at time zone 'Asia/Seoul')::date >= :wstart and (ended_at at time zone 'Asia/Seoul')::date < :end
group by 1
order by 1
"""


def failing_types(conn: Connection, inputs: Inputs, code: str, period: Period, as_of: str) -> Finding:
    wstart, end = window(period)
    found = inputs.add("failing_types", rows(conn, Q_FAILING, {"code": code, "wstart": wstart, "end": end}))
    table, rates = [], {}
    for r in found:
        label = MISSION_TYPE_LABELS_KO.get(r["mission_type"], r["mission_type"])  # type: ignore[call-overload]
        ok = _shown(int(r["people"])) and _shown(int(r["failed_people"]))
        rate = int(r["failed"]) / int(r["ended"]) if ok and int(r["ended"]) else None
        reason = FAILURE_REASON_LABELS_KO.get(r["top_reason"], "—") if r["top_reason"] else "—"  # type: ignore[call-overload]
        table.append([label, _count(int(r["people"])), fmt(int(r["ended"]) if ok else None),
                      fmt(int(r["failed"]) if ok else None), _pct(rate), reason if ok else MARK])
        if rate is not None:
            rates[label] = (rate, r["top_reason"])
    evidence = Evidence(["미션 유형", "참여한 사람", "끝난 시도", "실패", "실패율", "주된 실패 사유"], table,
                        source_note("fct_mission_attempts", as_of))
    base = Finding("failure", "실패가 잦은 미션", "어떤 미션이 실패하고, 왜 실패하는가?", "", None, evidence)
    if not rates:
        base.statement = f"실패율을 공개할 만큼({MIN_COUNT}명 이상) 실패를 겪은 사람이 있는 미션 유형이 없습니다."
        base.available = False
        return base
    worst = max(rates, key=lambda k: rates[k][0])
    rate, reason = rates[worst]
    reason_ko = FAILURE_REASON_LABELS_KO.get(reason, "기타")  # type: ignore[call-overload]
    base.facts = {"type": worst, "failure_rate": _pct(rate), "top_reason": reason_ko}
    if rate >= FAILURE_RATE_ALERT:
        base.statement = (f"{worst} 미션의 실패율이 {_pct(rate)}로 가장 높고, 주된 사유는 '{reason_ko}'입니다.")
        base.proposal = f"{worst} 미션: {REASON_PROPOSALS.get(reason, REASON_PROPOSALS['other'])}"
    else:
        base.statement = (f"실패율이 가장 높은 {worst} 미션도 {_pct(rate)}로 기준({FAILURE_RATE_ALERT * 100:.0f}%) "
                          "아래입니다.")
        base.proposal = f"현재 미션 설계를 유지하되, '{reason_ko}' 사유의 실패를 분기마다 점검하십시오."
    return base


# ---------------------------------------------------------------------------------- 3. unmet needs
def unmet_needs(conn: Connection, inputs: Inputs, code: str, period: Period, marts: frozenset[str],
                as_of: str) -> Finding:
    found = certify_marts.unmet_needs(conn, code, period, marts)
    base = Finding("needs", "채워지지 않은 지역 수요", "어떤 수요가 오래 비어 있고, 어떤 재능이 모자라는가?", "",
                   None, None)
    if found is None:
        base.statement = NOT_AGGREGATED
        base.available = False
        return base
    inputs.add("unmet_needs", found)
    table = [[r["skill"], fmt(int(r["open_needs"])), fmt(int(r["headcount_wanted"] or 0)),
              fmt(float(r["mean_days_open"] or 0)), fmt(int(r["approved_submissions"]))] for r in found]
    base.evidence = Evidence(["재능", "열린 수요", "필요 인원", "평균 대기(일)", "플랫폼 전체 인증 건수"], table,
                             source_note("fct_regional_needs", as_of) + ", marts.fct_certification_submissions")
    waiting = [r for r in found if int(r["max_days_open"] or 0) >= NEED_WAIT_DAYS]
    missing = [r["skill"] for r in found if int(r["approved_submissions"]) == 0]
    if not found:
        base.statement = "기간 말 현재 열려 있는 지역 수요가 없습니다."
        base.proposal = "새 수요를 등록하면 인증된 재능 보유자에게 자동으로 추천됩니다."
        return base
    base.facts = {"open_skills": [r["skill"] for r in found], "waiting": [r["skill"] for r in waiting],
                  "missing": missing}
    parts = [f"열린 수요 {sum(int(r['open_needs']) for r in found)}건"]
    if waiting:
        parts.append(f"{NEED_WAIT_DAYS}일 넘게 비어 있는 재능: {', '.join(r['skill'] for r in waiting)}")
    if missing:
        parts.append(f"인증된 보유자가 없는 재능: {', '.join(missing)}")
    base.statement = "; ".join(parts) + "."
    targets = missing or [r["skill"] for r in waiting] or [found[0]["skill"]]
    base.proposal = (f"{', '.join(targets)} 재능을 가진 귀향자·멘토를 대상으로 재능 인증 캠페인을 열고, "
                     "해당 수요를 재능기부형 미션으로 바꿔 게시하십시오.")
    return base


# ---------------------------------------------------------------------------------- 4. groups
Q_GROUPS = """
select grouping(users.user_type) as by_age, coalesce(users.user_type, 'staff') as user_type,
       coalesce(users.age_band, '미상') as age_band,
       count(*) as ended, count(*) filter (where attempts.outcome = 'completed') as completed,
       count(distinct attempts.user_key) as people,
       count(distinct attempts.user_key) filter (where attempts.outcome = 'completed') as completed_people
from marts.fct_mission_attempts as attempts
inner join marts.dim_user as users on users.user_key = attempts.user_key
where attempts.region_code = :code and attempts.outcome in ('completed', 'failed', 'abandoned')
  and (attempts.ended_at at time zone 'Asia/Seoul')::date >= :wstart
  and (attempts.ended_at at time zone 'Asia/Seoul')::date < :end
group by grouping sets ((users.user_type), (users.age_band))
order by 1, 2, 3
"""


def responsive_groups(conn: Connection, inputs: Inputs, code: str, period: Period, as_of: str) -> Finding:
    wstart, end = window(period)
    found = inputs.add("groups", rows(conn, Q_GROUPS, {"code": code, "wstart": wstart, "end": end}))
    table, rates = [], {}
    for r in found:
        type_label = USER_TYPE_LABELS_KO.get(r["user_type"], "운영진·기타")  # type: ignore[call-overload]
        label = f"연령 {r['age_band']}" if r["by_age"] else type_label
        ok = _shown(int(r["people"])) and _shown(int(r["completed_people"]))
        rate = int(r["completed"]) / int(r["ended"]) if ok and int(r["ended"]) else None
        table.append([label, _count(int(r["people"])), fmt(int(r["ended"]) if ok else None),
                      fmt(int(r["completed"]) if ok else None), _pct(rate)])
        if rate is not None:
            rates[label] = rate
    evidence = Evidence(["집단", "참여한 사람", "끝난 시도", "완료", "완료율"], table,
                        source_note("fct_mission_attempts", as_of) + ", marts.dim_user")
    base = Finding("groups", "반응하는 집단", "어떤 이용자 집단이 미션에 잘 반응하는가?", "", None, evidence)
    if len(rates) < 2:
        base.statement = f"집단을 비교할 만큼({MIN_COUNT}명 이상) 참여한 집단이 둘 이상 없습니다."
        base.available = False
        return base
    best = max(rates, key=lambda k: rates[k])
    worst = min(rates, key=lambda k: rates[k])
    base.facts = {"best_group": best, "best_rate": _pct(rates[best]), "worst_group": worst,
                  "worst_rate": _pct(rates[worst])}
    base.statement = (f"완료율은 {josa(best, '이', '가')} {_pct(rates[best])}로 가장 높고, {josa(worst, '이', '가')} "
                      f"{_pct(rates[worst])}로 가장 낮습니다.")
    base.proposal = (f"{best} 대상 홍보(고향사랑기부 답례, 지역 커뮤니티)를 강화하고, {worst}에게는 난이도가 낮은 "
                     "입문 미션과 멘토 연결을 먼저 제안하십시오.")
    return base


# ---------------------------------------------------------------------------------- 5. stays
Q_STAY_MONTHS = """
select months.month as stay_month, coalesce(stays.stay_users_count, 0) as people,
       coalesce(stays.stay_days_count, 0) as stay_days
from unnest(cast(:months as date[])) as months (month)
left join marts.mart_stay_days_monthly as stays on stays.region_code = :code and stays.stay_month = months.month
order by 1
"""

Q_STAY_PLACES = """
select coalesce(missions.source_kind, 'manual') as place_kind,
       count(distinct (stays.user_key, stays.stay_date)) as stay_days, count(distinct stays.user_key) as people
from marts.fct_stay_days as stays
inner join marts.fct_activity_events as events
    on events.user_key = stays.user_key and events.region_code = stays.region_code
   and events.event_date = stays.stay_date and events.mission_id is not null
inner join marts.dim_mission as missions on missions.mission_id = events.mission_id
where stays.region_code = :code and stays.is_stay_day and stays.stay_date >= :wstart and stays.stay_date < :end
group by 1
order by 2 desc
"""


def stay_concentration(conn: Connection, inputs: Inputs, code: str, period: Period, marts: frozenset[str],
                       as_of: str) -> Finding:
    base = Finding("stays", "체류가 몰리는 때와 곳", "체류일(생활인구)은 언제, 어떤 장소에 몰리는가?", "", None, None)
    if "mart_stay_days_monthly" not in marts or "fct_stay_days" not in marts:
        base.statement = NOT_AGGREGATED
        base.available = False
        return base
    wstart, end = window(period)
    months = inputs.add("stay_months", rows(conn, Q_STAY_MONTHS, {"code": code,
                                                                  "months": period.trailing_months(EVIDENCE_MONTHS)}))
    places = inputs.add("stay_places", rows(conn, Q_STAY_PLACES, {"code": code, "wstart": wstart, "end": end}))
    month_rows = [[month_label(r["stay_month"]), _count(int(r["people"])),
                   fmt(int(r["stay_days"]) if _shown(int(r["people"])) else None), ""] for r in months]
    place_rows = [[f"장소: {PLACE_KIND_KO.get(r['place_kind'], r['place_kind'])}", _count(int(r["people"])),
                   fmt(int(r["stay_days"]) if _shown(int(r["people"])) else None), ""] for r in places]
    base.evidence = Evidence(["월 / 장소 유형", "체류한 사람", "체류일", ""], month_rows + place_rows,
                             source_note("mart_stay_days_monthly", as_of) + ", marts.fct_stay_days, marts.dim_mission")
    shown_months = [(r["stay_month"], int(r["stay_days"])) for r in months if _shown(int(r["people"]))
                    and int(r["stay_days"]) > 0]
    total = sum(days for _, days in shown_months)
    if not shown_months or total == 0:
        base.statement = f"공개할 만큼({MIN_COUNT}명 이상) 체류한 달이 아직 없습니다."
        base.available = False
        return base
    top3 = sorted(shown_months, key=lambda item: -item[1])[:3]
    share = sum(days for _, days in top3) / total
    peak = ", ".join(f"{m.month}월" for m, _ in sorted(top3))
    shown_places = [r for r in places if _shown(int(r["people"]))]
    top_kind = shown_places[0]["place_kind"] if shown_places else None
    top_place = PLACE_KIND_KO.get(top_kind, top_kind) if top_kind else None
    base.facts = {"peak_months": peak, "peak_share": _pct(share), "top_place_kind": top_place}
    base.statement = f"공개 가능한 체류일의 {_pct(share)}가 {peak}에 몰렸습니다" + (
        f"; 체류일이 가장 많은 장소 유형은 {top_place}입니다." if top_place else ".")
    base.proposal = (f"비수기에 {top_place or '주요 장소'} 연계 체류형 미션(1박 이상, 지역 숙박 할인)을 열어 체류를 "
                     f"{peak} 밖으로 분산하십시오.")
    return base


# ---------------------------------------------------------------------------------- all
def gather(conn: Connection, code: str, period: Period) -> dict[str, Any]:
    marts = existing_marts(conn)
    inputs = Inputs()
    region_rows = inputs.add("region", rows(conn, "select * from marts.dim_region where region_code = :code",
                                            {"code": code}))
    if not region_rows:
        raise LookupError(f"no 시군구 has the code {code} in marts.dim_region")
    as_of = period.key
    findings = [return_by_type(conn, inputs, code, period, as_of),
                failing_types(conn, inputs, code, period, as_of),
                unmet_needs(conn, inputs, code, period, marts, as_of),
                responsive_groups(conn, inputs, code, period, as_of),
                stay_concentration(conn, inputs, code, period, marts, as_of)]
    wstart, _ = window(period)
    return {"kind": "policy", "region": region_rows[0], "period": period, "findings": findings,
            "window_label": f"{month_label(wstart)} ~ {month_label(period.months[-1])}", "inputs": inputs,
            "as_of": as_of}
