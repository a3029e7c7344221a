"""`/mentoring`: mentors and mentees declare themselves, mentees get ranked suggestions with reasons,
send requests; mentors accept or decline; a mentorship runs for a fixed period with goals and check-ins,
and either side ends it with feedback. Requests and answers arrive as notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError
from api.mentoring import service
from api.mentoring.schemas import (
    CheckinCreate,
    CheckinPublic,
    EndMentorship,
    MenteeProfileIn,
    MenteeProfilePublic,
    MentorProfileIn,
    MentorProfilePublic,
    MentorRequestCreate,
    MentorRequestPublic,
    MentorResponse,
    MentorshipPublic,
    SuggestionList,
    SuggestionPublic,
)

router = APIRouter(prefix="/mentoring", tags=["mentoring"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


def _mentor_profile(conn: ConnDep, user_id: uuid.UUID) -> MentorProfilePublic:
    row = service.get_mentor_profile(conn, user_id)
    if row is None:
        raise ApiError.not_found(f"User {user_id} has no mentor profile.")
    return MentorProfilePublic(**{name: row[name] for name in MentorProfilePublic.model_fields})


@router.put("/mentor-profile", response_model=MentorProfilePublic, summary="Declare or update yourself as a mentor")
def put_mentor_profile(data: MentorProfileIn, conn: ConnDep, user: CurrentUser) -> MentorProfilePublic:
    service.upsert_mentor_profile(conn, user, data)
    return _mentor_profile(conn, user.id)


@router.get("/mentors/{user_id}", response_model=MentorProfilePublic, summary="A mentor's profile")
def read_mentor(user_id: uuid.UUID, conn: ConnDep, _: CurrentUser) -> MentorProfilePublic:
    return _mentor_profile(conn, user_id)


@router.put("/mentee-profile", response_model=MenteeProfilePublic, summary="Say what you need from a mentor")
def put_mentee_profile(data: MenteeProfileIn, conn: ConnDep, user: CurrentUser) -> MenteeProfilePublic:
    service.upsert_mentee_profile(conn, user, data)
    row = service.get_mentee_profile(conn, user.id)
    return MenteeProfilePublic(**{name: row[name] for name in MenteeProfilePublic.model_fields})  # type: ignore


@router.get("/suggestions", response_model=SuggestionList, summary="Mentors for me, ranked, with reasons")
def read_suggestions(conn: ConnDep, user: CurrentUser,
                     limit: Annotated[int, Query(ge=1, le=30)] = 10) -> SuggestionList:
    ranked, engine, pending = service.suggestions(conn, user, limit)
    items = [SuggestionPublic(mentor_id=uuid.UUID(s.mentor.user_id), display_name=s.mentor.display_name,
                              headline=s.mentor.headline, skills=list(s.mentor.skills),
                              region_codes=list(s.mentor.region_codes), score=s.score, components=s.components,
                              reasons=s.reasons, open_slots=s.mentor.open_slots,
                              request_pending=s.mentor.user_id in pending) for s in ranked]
    return SuggestionList(items=items, engine=engine)


def _request(row: object) -> MentorRequestPublic:
    data = dict(row)  # type: ignore[call-overload]
    return MentorRequestPublic(**{name: data.get(name) for name in MentorRequestPublic.model_fields})


@router.post("/requests", response_model=MentorRequestPublic, status_code=status.HTTP_201_CREATED,
             summary="Ask a mentor")
def create_request(data: MentorRequestCreate, conn: ConnDep, user: CurrentUser) -> MentorRequestPublic:
    request_id = service.create_request(conn, user, data)
    return _request(service.get_request(conn, request_id, user))


@router.get("/requests", response_model=list[MentorRequestPublic], summary="Requests I sent or received")
def list_requests(conn: ConnDep, user: CurrentUser,
                  box: Annotated[str, Query(pattern="^(sent|received)$")] = "received") -> list[MentorRequestPublic]:
    return [_request(r) for r in service.list_requests(conn, user, box)]


@router.post("/requests/{request_id}/accept", response_model=MentorRequestPublic,
             summary="Accept a request (mentor): the mentorship starts today")
def accept_request(request_id: uuid.UUID, data: MentorResponse, conn: ConnDep,
                   user: CurrentUser) -> MentorRequestPublic:
    service.respond(conn, user, request_id, True, data)
    return _request(service.get_request(conn, request_id, user))


@router.post("/requests/{request_id}/decline", response_model=MentorRequestPublic,
             summary="Decline a request (mentor)")
def decline_request(request_id: uuid.UUID, data: MentorResponse, conn: ConnDep,
                    user: CurrentUser) -> MentorRequestPublic:
    service.respond(conn, user, request_id, False, data)
    return _request(service.get_request(conn, request_id, user))


@router.post("/requests/{request_id}/withdraw", response_model=MentorRequestPublic,
             summary="Withdraw a pending request (mentee)")
def withdraw_request(request_id: uuid.UUID, conn: ConnDep, user: CurrentUser) -> MentorRequestPublic:
    service.withdraw(conn, user, request_id)
    return _request(service.get_request(conn, request_id, user))


def _mentorship(conn: ConnDep, row: object) -> MentorshipPublic:
    data = dict(row)  # type: ignore[call-overload]
    checkins = [CheckinPublic(**{n: c[n] for n in CheckinPublic.model_fields})
                for c in service.checkins(conn, data["id"])]
    return MentorshipPublic(**{n: data[n] for n in MentorshipPublic.model_fields if n != "checkins"},
                            checkins=checkins)


@router.get("/mentorships", response_model=list[MentorshipPublic], summary="My mentorships")
def list_mentorships(conn: ConnDep, user: CurrentUser) -> list[MentorshipPublic]:
    return [_mentorship(conn, r) for r in service.list_mentorships(conn, user)]


@router.get("/mentorships/{mentorship_id}", response_model=MentorshipPublic, summary="One mentorship")
def read_mentorship(mentorship_id: uuid.UUID, conn: ConnDep, user: CurrentUser) -> MentorshipPublic:
    return _mentorship(conn, service.get_mentorship(conn, mentorship_id, user))


@router.post("/mentorships/{mentorship_id}/checkins", response_model=MentorshipPublic,
             status_code=status.HTTP_201_CREATED, summary="Record a check-in")
def add_checkin(mentorship_id: uuid.UUID, data: CheckinCreate, conn: ConnDep, user: CurrentUser) -> MentorshipPublic:
    service.add_checkin(conn, user, mentorship_id, data.note, data.goals_done)
    return _mentorship(conn, service.get_mentorship(conn, mentorship_id, user))


@router.post("/mentorships/{mentorship_id}/end", status_code=status.HTTP_204_NO_CONTENT,
             summary="End the mentorship with feedback (the other side may add theirs afterwards)")
def end_mentorship(mentorship_id: uuid.UUID, data: EndMentorship, conn: ConnDep, user: CurrentUser) -> Response:
    service.end(conn, user, mentorship_id, data.reason, data.rating, data.comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
