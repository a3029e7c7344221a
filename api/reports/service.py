"""Who may see which report, the list, and the download (generated on demand when missing)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, select

from ai.reports import index
from ai.reports.common import Period, PeriodError
from ai.reports.narrative import writer_from_settings
from api.errors import ApiError
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
