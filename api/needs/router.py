"""`/needs`: post and list a region's needs, see ranked candidates, invite, apply, accept."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import RowMapping

from api.deps import ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.fields import RegionCode
from api.needs import service
from api.needs.schemas import (
    ApplicationCreate,
    CandidatePublic,
    EngagementPublic,
    InvitationCreate,
    MatchedNeed,
    NeedCreate,
    NeedPublic,
)
from api.pagination import Limit, Offset, Page

router = APIRouter(prefix="/needs", tags=["needs"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
NOT_FOUND = {404: {"model": ErrorResponse, "description": "Unknown, or not in your region"}}
CONFLICT = {409: {"model": ErrorResponse, "description": "The need is not open, or this was already answered"}}


def _need(row: RowMapping) -> NeedPublic:
    return NeedPublic(**{name: row[name] for name in NeedPublic.model_fields})


def _engagement(row: RowMapping) -> EngagementPublic:
    return EngagementPublic(**{name: row[name] for name in EngagementPublic.model_fields})


@router.post("", status_code=201, response_model=NeedPublic,
             summary="Post a need for your region (municipality officers and local requesters)")
def create(body: NeedCreate, conn: ConnDep, user: CurrentUser) -> NeedPublic:
    return _need(service.create_need(conn, user, body))


@router.get("", response_model=Page[NeedPublic], summary="Your region's needs (administrators: any region)")
def list_needs(conn: ConnDep, user: CurrentUser,
               region_code: Annotated[RegionCode | None, Query(description="administrators only")] = None,
               status: Annotated[str | None, Query(pattern="^(open|filled|closed)$")] = None,
               open_only: Annotated[bool, Query(description="only needs that still take people: open and not "
                                                            "past their end date (Korean time)")] = False,
               limit: Limit = 20, offset: Offset = 0) -> Page[NeedPublic]:
    rows, total = service.list_needs(conn, user, region_code, status, open_only, limit, offset)
    return Page[NeedPublic](items=[_need(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/matched", response_model=list[MatchedNeed],
            summary="Open needs the platform matched you to (not those past their end date)")
def matched(conn: ConnDep, user: CurrentUser, limit: Limit = 20) -> list[MatchedNeed]:
    return [MatchedNeed(**{name: row[name] for name in MatchedNeed.model_fields})
            for row in service.matched_needs(conn, user.id, limit)]


@router.get("/engagements", response_model=list[EngagementPublic],
            summary="Your invitations and applications, newest first")
def engagements(conn: ConnDep, user: CurrentUser) -> list[EngagementPublic]:
    return [_engagement(r) for r in service.my_engagements(conn, user.id)]


@router.get("/{need_id}", response_model=NeedPublic, responses=NOT_FOUND, summary="One need of your region")
def read(need_id: uuid.UUID, conn: ConnDep, user: CurrentUser) -> NeedPublic:
    return _need(service.need_for_manager(conn, user, need_id))


CANDIDATE_HEADERS = {
    "X-Matches-Computed-At": {"description": "when this ranking was computed (ISO 8601); absent if matching "
                                             "never ran", "schema": {"type": "string", "format": "date-time"}},
    "X-Matches-Source": {"description": "`batch`: the last matching run; `on-request`: the need is newer than "
                                        "that run, so it was ranked just now", "schema": {"type": "string"}},
}


@router.get("/{need_id}/candidates", response_model=list[CandidatePublic],
            responses={**NOT_FOUND, 200: {"headers": CANDIDATE_HEADERS}},
            summary="Certified people ranked for the need, with the reasons (your region only)")
def candidates(need_id: uuid.UUID, conn: ConnDep, user: CurrentUser, response: Response,
               limit: Limit = 20) -> list[CandidatePublic]:
    ranked = service.candidates(conn, service.need_for_manager(conn, user, need_id), limit)
    if ranked.computed_at is not None:
        response.headers["X-Matches-Computed-At"] = ranked.computed_at.isoformat()
    response.headers["X-Matches-Source"] = "on-request" if ranked.on_request else "batch"
    return [CandidatePublic(**{name: r[name] for name in CandidatePublic.model_fields}) for r in ranked.rows]


@router.post("/{need_id}/invitations", status_code=201, response_model=EngagementPublic,
             responses={**NOT_FOUND, **CONFLICT}, summary="Invite a certified person (your region's needs)")
def invite(need_id: uuid.UUID, body: InvitationCreate, conn: ConnDep, user: CurrentUser) -> EngagementPublic:
    engagement_id = service.invite(conn, user, need_id, body.user_id, body.message)
    return _engagement(_found(service.get_engagement(conn, engagement_id)))


@router.post("/{need_id}/applications", status_code=201, response_model=EngagementPublic,
             responses={**NOT_FOUND, **CONFLICT}, summary="Apply to a need with your certified skill")
def apply(need_id: uuid.UUID, body: ApplicationCreate, conn: ConnDep, user: CurrentUser) -> EngagementPublic:
    engagement_id = service.apply(conn, user, need_id, body.message)
    return _engagement(_found(service.get_engagement(conn, engagement_id)))


@router.post("/engagements/{engagement_id}/accept", response_model=EngagementPublic,
             responses={**NOT_FOUND, **CONFLICT},
             summary="Accept: the invited person accepts an invitation, the region accepts an application")
def accept(engagement_id: uuid.UUID, conn: ConnDep, user: CurrentUser) -> EngagementPublic:
    return _engagement(service.respond(conn, user, engagement_id, accept=True))


@router.post("/engagements/{engagement_id}/decline", response_model=EngagementPublic,
             responses={**NOT_FOUND, **CONFLICT}, summary="Decline an invitation or an application")
def decline(engagement_id: uuid.UUID, conn: ConnDep, user: CurrentUser) -> EngagementPublic:
    return _engagement(service.respond(conn, user, engagement_id, accept=False))


def _found(row: RowMapping | None) -> RowMapping:
    if row is None:
        raise ApiError(500, "internal_error", "The engagement just written could not be read back.")
    return row
