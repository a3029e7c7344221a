"""`/reports`: the list of reports the caller may see, and PDF downloads.

Municipality officers download their own 시군구's regional reports and policy proposals, policy staff
and admins any region's, and every user only their own personal report. A refused download is a 403
and is written to the audit log. A regional report or proposal that does not exist yet for a region
and period is generated on the spot (one document, a few seconds), indexed, and returned.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES
from api.fields import RegionCode
from api.reports import service
from api.reports.schemas import ReportPeriod, ReportPublic

router = APIRouter(prefix="/reports", tags=["reports"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

PeriodKey = Annotated[str, Path(description="a month (2026-10) or a quarter (2026-Q3)", examples=["2026-10"])]
PDF = {200: {"content": {"application/pdf": {}}, "description": "The PDF"}}


def _pdf(body: bytes, title: str, sha256: str) -> Response:
    fallback = "report.pdf"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(title + '.pdf')}"
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": disposition, "ETag": f'"{sha256}"'})


@router.get("", response_model=list[ReportPublic], summary="Reports you may see, with periods and generation times")
def list_reports(conn: ConnDep, user: CurrentUser,
                 kind: Annotated[Literal["regional", "policy", "personal"] | None, Query()] = None,
                 region_code: Annotated[RegionCode | None, Query(description="5-digit 시군구 code")] = None,
                 period: Annotated[str | None, Query(description="2026-10 or 2026-Q3")] = None) -> list[ReportPublic]:
    return [ReportPublic.from_row(r) for r in service.list_visible(conn, user, kind, region_code, period)]


@router.get("/periods", response_model=list[ReportPeriod],
            summary="Every report you may download, generated or not, newest period first")
def list_periods(conn: ConnDep, user: CurrentUser,
                 kind: Annotated[Literal["regional", "policy", "personal"] | None, Query()] = None,
                 region_code: Annotated[RegionCode | None, Query(description="5-digit 시군구 code; policy staff name "
                                                                 "one, an officer's own is the default")] = None,
                 ) -> list[ReportPeriod]:
    """An officer gets their region's regional reports and policy proposals for each month and quarter
    since its first activity, a user their personal report for each month since signing up; policy staff
    name a region. `generated_at` is null for a report not made yet: its `download_url` makes it."""
    return service.periods_offered(conn, user, kind, region_code)


@router.get("/regions/{region_code}/{kind}/{period}.pdf", response_class=Response, responses=PDF,
            summary="A region's report or policy proposal (officers: their own region only; generated if missing)")
def region_pdf(region_code: Annotated[RegionCode, Path(examples=["47730"])],
               kind: Annotated[Literal["regional", "policy"], Path()], period: PeriodKey,
               conn: ConnDep, user: CurrentUser) -> Response:
    row, body = service.regional_pdf(conn, user, region_code, kind, period)
    return _pdf(body, row["title"], row["sha256"])


@router.get("/me/{period}.pdf", response_class=Response, responses=PDF,
            summary="Your personal report up to the end of a month (generated if missing)")
def my_pdf(period: PeriodKey, conn: ConnDep, user: CurrentUser) -> Response:
    row, body = service.personal_pdf(conn, user, period)
    return _pdf(body, row["title"], row["sha256"])


@router.get("/users/{user_id}/{period}.pdf", response_class=Response, responses=PDF,
            summary="A user's personal report: only that user may download it (others get 403, audited)")
def user_pdf(user_id: uuid.UUID, period: PeriodKey, conn: ConnDep, user: CurrentUser) -> Response:
    if user_id != user.id:
        raise service.refuse(conn, user, f"personal:{user_id}:{period}",
                             "A personal report is for its owner only; download yours at /reports/me/<period>.pdf.",
                             {"user_id": str(user_id), "period": period})
    row, body = service.personal_pdf(conn, user, period)
    return _pdf(body, row["title"], row["sha256"])



