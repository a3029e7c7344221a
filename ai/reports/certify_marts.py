"""Regional needs and certified skills from the certification marts (marts.fct_regional_needs,
marts.fct_certification_submissions), for the regional report and the policy proposal.

Each function returns None while its mart is not built, so the caller prints NOT_AGGREGATED.
Needs are posted by municipalities and local bodies, not people's private facts; the people who
filled them are counted and suppressed like every other head count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ai.reports.common import Period, rows
from ai.reports.suppression import MIN_COUNT, fmt

NEEDS_MART = "fct_regional_needs"
SUBMISSIONS_MART = "fct_certification_submissions"

Q_REGION_NEEDS = """
select count(*) filter (where posted_at_local >= :start and posted_at_local < :end) as posted,
       count(*) filter (where filled_at_local >= :start and filled_at_local < :end) as filled,
       coalesce(sum(accepted_count) filter (where filled_at_local >= :start and filled_at_local < :end), 0)
           as people_accepted,
       count(*) filter (where posted_at_local < :end and (filled_at_local is null or filled_at_local >= :end)
                         and status <> 'closed') as open_at_end,
       percentile_cont(0.5) within group (order by hours_to_fill)
           filter (where filled_at_local >= :start and filled_at_local < :end) as median_hours_to_fill
from (
    select *, (posted_at at time zone 'Asia/Seoul')::date as posted_at_local,
           (filled_at at time zone 'Asia/Seoul')::date as filled_at_local
    from marts.fct_regional_needs
    where region_code = :code
) as needs
"""

Q_UNMET_NEEDS = """
with open_needs as (
    select skill, count(*) as open_needs, sum(headcount) as headcount_wanted,
           round(avg(extract(epoch from (cast(:end as timestamptz) - posted_at)) / 86400.0)) as mean_days_open,
           max(extract(epoch from (cast(:end as timestamptz) - posted_at)) / 86400.0)::int as max_days_open
    from marts.fct_regional_needs
    where region_code = :code and status = 'open' and posted_at < cast(:end as timestamptz)
    group by skill
), certified as (
    select skill, count(*) as approved_submissions
    from marts.fct_certification_submissions
    where decision = 'approved' and submitted_at < cast(:end as timestamptz)
    group by skill
)
select open_needs.skill, open_needs.open_needs, open_needs.headcount_wanted, open_needs.mean_days_open,
       open_needs.max_days_open, coalesce(certified.approved_submissions, 0) as approved_submissions
from open_needs
left join certified on certified.skill = open_needs.skill
order by open_needs.max_days_open desc, open_needs.skill
"""


def region_needs(conn: Connection, code: str, period: Period, marts: frozenset[str]) -> dict[str, Any] | None:
    """Needs posted, filled, still open at the end of the period, and the median time to fill."""
    if NEEDS_MART not in marts:
        return None
    found = rows(conn, Q_REGION_NEEDS, {"code": code, "start": period.start, "end": period.end})[0]
    return {"model": NEEDS_MART, **found}


def needs_view(found: dict[str, Any]) -> dict[str, Any]:
    people = int(found["people_accepted"] or 0)
    median = found["median_hours_to_fill"]
    return {"rows": [
        ("기간 중 올라온 수요", f"{int(found['posted'] or 0):,}건"),
        ("기간 중 충족된 수요", f"{int(found['filled'] or 0):,}건"),
        ("수요를 채운 사람", "X" if 0 < people < MIN_COUNT else f"{people:,}명"),
        ("기간 말 아직 열려 있는 수요", f"{int(found['open_at_end'] or 0):,}건"),
        ("충족까지 걸린 시간 (중앙값)", "—" if median is None else f"{fmt(float(median) / 24, 1)}일"),
    ]}


def unmet_needs(conn: Connection, code: str, period: Period, marts: frozenset[str]) -> list[dict[str, Any]] | None:
    """Open needs by skill, how long they have waited, and how many certifications exist for the skill."""
    if NEEDS_MART not in marts or SUBMISSIONS_MART not in marts:
        return None
    return rows(conn, Q_UNMET_NEEDS, {"code": code, "end": period.end})
