"""Who may see which report, the list, and the download (generated on demand when missing)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, select, text

from ai.reports import index
from ai.reports.common import Period, PeriodError
from ai.reports.narrative import writer_from_settings
from api.errors import ApiError
from api.reports.schemas import ReportPeriod
from api.users.service import UserRecord
from core.audit import audit
from core.settings import get_settings
from core.storage import get_storage
from core.tables_report import reports
from core.vocab import Role

REGION_KINDS = ("regional", "policy")
SEOUL = ZoneInfo("Asia/Seoul")


def sees_every_region(user: UserRecord) -> bool:
    return user.has_role(Role.ADMIN.value, Role.POLICY_STAFF.value)


def may_see_region(user: UserRecord, region_code: str) -> bool:
    """Policy staff and admins see every region; a municipality officer only their managed 시군구."""
    if sees_every_region(user):
        return True
    return user.has_role(Role.MUNICIPALITY_OFFICER.value) and user.managed_region_code == region_code


def refuse(conn: Connection, user: UserRecord, object_id: str, reason: str, details: dict[str, object]) -> ApiError:
    """Audit the refusal (committed, so it stays even though the request fails) and return the 403."""
    audit(conn, user.id, "report.download_refused", "report", object_id, reason, details)
    conn.commit()
    return ApiError(403, "forbidden", reason)


def parse_period(period: str, today: date | None = None) -> Period:
    """A past or the current period (the current one is reported as far as it has gone); a period whose
    first day is still ahead in Korea has nothing to report: 422."""
    try:
        parsed = Period.parse(period)
    except PeriodError as exc:
        raise ApiError.validation("path.period", str(exc)) from exc
    today = today or datetime.now(SEOUL).date()
    if parsed.start > today:
        raise ApiError.validation("path.period", f"{parsed.key} has not started yet (today is {today:%Y-%m-%d} "
                                  f"in Korea); ask for a past period or the current one, "
                                  f"{Period.month_of(today).key}, which is reported so far")
    return parsed


def list_visible(conn: Connection, user: UserRecord, kind: str | None, region_code: str | None,
                 period: str | None) -> list[RowMapping]:
    query = select(reports).order_by(reports.c.period.desc(), reports.c.kind, reports.c.subject)
    if kind:
        query = query.where(reports.c.kind == kind)
    if region_code:
        query = query.where(reports.c.region_code == region_code)
    if period:
        query = query.where(reports.c.period == period)
    own = (reports.c.kind == "personal") & (reports.c.user_id == user.id)
    if sees_every_region(user):
        query = query.where((reports.c.kind != "personal") | own)
    elif user.has_role(Role.MUNICIPALITY_OFFICER.value) and user.managed_region_code:
        query = query.where(((reports.c.kind != "personal") & (reports.c.region_code == user.managed_region_code))
                            | own)
    else:
        query = query.where(own)
    return list(conn.execute(query.limit(500)).mappings().all())


def regional_pdf(conn: Connection, user: UserRecord, region_code: str, kind: str, period_key: str) -> tuple[
        RowMapping, bytes]:
    """The stored PDF, generated now (and indexed) when this region-period has none yet or its inputs changed."""
    if kind not in REGION_KINDS:
        raise ApiError.validation("path.kind", "kind must be regional or policy")
    period = parse_period(period_key)
    if not may_see_region(user, region_code):
        own = user.managed_region_code
        raise refuse(conn, user, f"{kind}:{region_code}:{period.key}",
                     f"Municipality officers may download only their own region's reports"
                     f"{f' ({own})' if own else ''}; {region_code} is not yours. Policy staff can see every region.",
                     {"region_code": region_code, "kind": kind, "period": period.key,
                      "managed_region_code": own, "roles": list(user.roles)})
    try:
        if kind == "regional":
            ensured = index.ensure_regional(conn, region_code, period.key)
        else:
            ensured = index.ensure_policy(conn, region_code, period.key, writer=writer_from_settings(get_settings()))
    except LookupError as exc:
        raise ApiError.not_found(f"No 시군구 has the code {region_code}; list the codes at /regions.") from exc
    conn.commit()
    return ensured.row, get_storage().get(ensured.row["storage_key"])


def personal_pdf(conn: Connection, user: UserRecord, period_key: str) -> tuple[RowMapping, bytes]:
    period = parse_period(period_key)
    if period.kind != "month":
        raise ApiError.validation("path.period", "a personal report is made up to the end of a month: YYYY-MM")
    ensured = index.ensure_personal(conn, user.id, period.key)
    conn.commit()
    return ensured.row, get_storage().get(ensured.row["storage_key"])


def periods_offered(conn: Connection, user: UserRecord, kind: str | None,
                    region_code: str | None) -> list[ReportPeriod]:
    """Every report the caller may download, generated or not: for a region (an officer's own, or the one
    a policy staff member names) its regional report and policy proposal for each month and quarter from
    its first activity to the current one; for a user with an account, their personal report for each month
    since they signed up. Generated ones carry their generation time and state; the others are made on the
    first download."""
    today = datetime.now(SEOUL).date()
    current = Period.month_of(today)
    offers: list[tuple[str, str | None, Period]] = []
    if kind in (None, *REGION_KINDS):
        region = _offered_region(conn, user, region_code, required=kind is not None)
        if region is not None:
            periods = _periods_between(_first_activity_month(conn, region) or current.start, current)
            offers += [(k, region, p) for p in periods for k in REGION_KINDS if kind in (None, k)]
    if kind in (None, "personal") and region_code is None and user.user_type is not None:
        since = user.created_at.astimezone(SEOUL).date()
        offers += [("personal", None, p) for p in _periods_between(since, current) if p.kind == "month"]
    stored = {(r["kind"], r["region_code"], r["period"]): r for r in _stored_rows(conn, user, offers)}
    out = []
    for k, region, period in offers:
        row = stored.get((k, region, period.key))
        url = (f"/reports/me/{period.key}.pdf" if k == "personal"
               else f"/reports/regions/{region}/{k}/{period.key}.pdf")
        out.append(ReportPeriod(kind=k, region_code=region, period=period.key, period_start=period.start,
                                period_end=period.end, generated_at=row["generated_at"] if row else None,
                                state=row["state"] if row else None, download_url=url))
    out.sort(key=lambda o: (o.period_end, o.period_start, o.kind), reverse=True)
    return out


def _offered_region(conn: Connection, user: UserRecord, region_code: str | None, required: bool) -> str | None:
    if user.has_role(Role.MUNICIPALITY_OFFICER.value) and not sees_every_region(user) and user.managed_region_code:
        if region_code not in (None, user.managed_region_code):
            raise refuse(conn, user, f"periods:{region_code}", f"Municipality officers see only their own region's "
                         f"reports ({user.managed_region_code}); {region_code} is not yours.",
                         {"region_code": region_code, "managed_region_code": user.managed_region_code})
        return user.managed_region_code
    if sees_every_region(user):
        if region_code is None:
            if required:
                raise ApiError.validation("query.region_code", "name the region whose reports you want to list, "
                                          "e.g. ?region_code=47730 (see /regions)")
            return None
        if conn.execute(text("select 1 from raw.regions where region_code = :r"), {"r": region_code}).first() is None:
            raise ApiError.not_found(f"No 시군구 has the code {region_code}; list the codes at /regions.")
        return region_code
    if region_code is not None or required:
        raise refuse(conn, user, f"periods:{region_code}", "Regional reports are for policy staff and the region's "
                     "municipality officer; your own report is listed without a region.",
                     {"region_code": region_code, "roles": list(user.roles)})
    return None


def _first_activity_month(conn: Connection, region_code: str) -> date | None:
    """The region's first month with activity in the warehouse (None before dbt has built it)."""
    if conn.execute(text("select to_regclass('marts.mart_region_activity_monthly')")).scalar() is None:
        return None
    first = conn.execute(text("select min(activity_month) from marts.mart_region_activity_monthly "
                              "where region_code = :r"), {"r": region_code}).scalar()
    return first if isinstance(first, date) else None


def _periods_between(first: date, current: Period) -> list[Period]:
    """The months from `first`'s to `current`, and the quarters they fall in."""
    months, quarters = [], {}
    month = Period.month_of(first)
    while month.start <= current.start:
        months.append(month)
        quarter = Period.parse(f"{month.start.year}-Q{(month.start.month - 1) // 3 + 1}")
        quarters[quarter.key] = quarter
        month = Period.month_of(month.end)
    return months + list(quarters.values())


def _stored_rows(conn: Connection, user: UserRecord, offers: list[tuple[str, str | None, Period]]) -> list[RowMapping]:
    if not offers:
        return []
    regions = {region for _, region, _ in offers if region is not None}
    query = select(reports.c.kind, reports.c.region_code, reports.c.period, reports.c.generated_at, reports.c.state)
    own = (reports.c.kind == "personal") & (reports.c.user_id == user.id)
    return list(conn.execute(query.where(own | ((reports.c.kind != "personal") & reports.c.region_code.in_(regions))))
                .mappings().all())
