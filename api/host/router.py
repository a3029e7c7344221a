"""`/host/…`: QR tokens (and their PNG) for mission steps, co-hosts, and volunteer-hour decisions.

For the host role on missions they host, municipality officers on missions of their 시군구, and admins.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.attempts.router import JSON_BODY_MAX, body_limit
from api.attempts.writer import run_write
from api.deps import ConnDep, require_roles
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorResponse
from api.host import service
from api.host.schemas import CohostCreate, HoursClaimHostView, HoursDecision, QrTokenCreate, QrTokenPublic
from api.pagination import Limit, Offset, Page
from api.users.service import UserRecord
from core.vocab import Role

HostUser = Annotated[UserRecord, Depends(require_roles(Role.HOST, Role.MUNICIPALITY_OFFICER))]
router = APIRouter(prefix="/host", tags=["host"], dependencies=[Depends(body_limit(JSON_BODY_MAX))],
                   responses={**ERROR_RESPONSES, **AUTH_RESPONSES,
                              404: {"model": ErrorResponse, "description": "Unknown mission, step or claim"},
                              409: {"model": ErrorResponse, "description": "Not possible in this state"}})


@router.post("/qr-tokens", response_model=QrTokenPublic, status_code=status.HTTP_201_CREATED,
             summary="Issue a signed, time-limited QR token for a step verified by QR")
def issue_qr_token(body: QrTokenCreate, conn: ConnDep, user: HostUser) -> QrTokenPublic:
    token, claims = service.issue_token(conn, user, body.mission_id, body.step_no, body.ttl_seconds)
    return QrTokenPublic(token=token, token_id=claims.token_id, mission_id=body.mission_id, step_no=body.step_no,
                         issued_at=datetime.fromtimestamp(claims.issued_at, UTC),
                         expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
                         png_url=f"/host/qr-tokens/qr.png?token={quote(token)}")


@router.get("/qr-tokens/qr.png", response_class=Response, summary="The QR code of a token, as a PNG",
            responses={200: {"content": {"image/png": {}}, "description": "the QR code"}})
def qr_png(conn: ConnDep, user: HostUser,
           token: Annotated[str, Query(min_length=10, max_length=2000, description="a token from POST /host/qr-tokens")]
           ) -> Response:
    return Response(service.token_png(conn, user, token), media_type="image/png",
                    headers={"Cache-Control": "no-store"})


@router.post("/missions/{mission_id}/hosts", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             summary="Add a co-host (a user with the host role) to a mission you host")
def add_cohost(mission_id: Annotated[uuid.UUID, Path()], body: CohostCreate, conn: ConnDep,
               user: HostUser) -> Response:
    service.add_cohost(conn, user, mission_id, body.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/hours", response_model=Page[HoursClaimHostView], summary="Hours claimed on missions you host")
def list_claims(conn: ConnDep, user: HostUser,
                status_: Annotated[str | None, Query(alias="status", pattern="^(claimed|confirmed|rejected)$")] = (
                    "claimed"),
                limit: Limit = 20, offset: Offset = 0) -> Page[HoursClaimHostView]:
    rows, total = service.list_claims(conn, user, status_, limit, offset)
    return Page[HoursClaimHostView](items=[HoursClaimHostView.from_row(r) for r in rows], total=total, limit=limit,
                                    offset=offset)


ClaimId = Annotated[int, Path(ge=1, le=2**62, description="the claim's id")]


@router.post("/hours/{claim_id}/confirm", response_model=HoursClaimHostView, summary="Confirm claimed hours")
def confirm_claim(claim_id: ClaimId, conn: ConnDep, user: HostUser,
                  body: HoursDecision | None = None) -> HoursClaimHostView:
    note = (body.note if body else "").strip()
    row = run_write(conn, lambda tx: service.decide_claim(tx, user, claim_id, True, note))
    return HoursClaimHostView.from_row(row)


@router.post("/hours/{claim_id}/reject", response_model=HoursClaimHostView, summary="Reject claimed hours")
def reject_claim(claim_id: ClaimId, body: HoursDecision, conn: ConnDep, user: HostUser) -> HoursClaimHostView:
    row = run_write(conn, lambda tx: service.decide_claim(tx, user, claim_id, False, body.note.strip()))
    return HoursClaimHostView.from_row(row)
