"""`/missions/{mission_id}/attempts` (enrol) and `/me/attempts/…` (progress, presence, outcome).

Flow: enrol → for each step in order: prove it (check-in, QR scan, photo, or hours the host confirms; none
for `none` steps) → `…/steps/{n}/complete` → `…/complete`. Or `…/fail` (a reason from the list),
`…/abandon`, `…/resume`. Refused check-ins and QR scans answer 422 (`checkin_refused`, `qr_refused`) or
409 (`qr_replayed`) with the stored decision in `details`: the refusal is recorded, nothing else changes.
Every change is an activity event in raw.activity_events, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile, status

from api.attempts import presence, service
from api.attempts.schemas import (
    AttemptFail,
    AttemptPublic,
    AttemptSummary,
    CheckinCreate,
    CheckinPublic,
    HoursClaimCreate,
    HoursClaimPublic,
    PhotoPublic,
    QrScanCreate,
    QrScanPublic,
)
from api.attempts.writer import Caller, Plan, Unit, run_batched, run_write
from api.deps import USER_SQL, BatchedCaller, ConnDep, require_user_types
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.pagination import Limit, Offset, Page
from api.users.service import UserRecord
from core.vocab import UserType

T = TypeVar("T")
JSON_BODY_MAX = 16 * 1024
PHOTO_BODY_MAX = presence.PHOTO_MAX_BYTES + 64 * 1024


def body_limit(max_bytes: int) -> Callable[[Request], Awaitable[None]]:
    """A dependency answering 413 for a body larger than `max_bytes` (declared or actual)."""

    async def check(request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise ApiError(413, "payload_too_large", f"The request body is {int(declared)} bytes; this endpoint "
                           f"takes at most {max_bytes} bytes.")
        if declared is None and request.method in ("POST", "PUT", "PATCH"):
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(413, "payload_too_large", f"The request body is over {max_bytes} bytes, the "
                                   "limit of this endpoint.")

    return check


AppUser = Annotated[UserRecord, Depends(require_user_types(*UserType))]
# the lifecycle's hot routes run their unit in two round trips (api/attempts/writer.py)
AppCaller = Annotated[Caller, Depends(BatchedCaller(*UserType))]
AttemptId = Annotated[uuid.UUID, Path(description="the attempt's UUID (from enrolment or GET /me/attempts)")]
StepNo = Annotated[int, Path(ge=1, le=100, description="the step number, from 1")]
RESPONSES = {**ERROR_RESPONSES, **AUTH_RESPONSES,
             404: {"model": ErrorResponse, "description": "Unknown mission, step, or not your attempt"},
             409: {"model": ErrorResponse, "description": "Not allowed in this state (order, window, capacity, …)"},
             413: {"model": ErrorResponse, "description": "The body is too large"}}

enrol_router = APIRouter(prefix="/missions/{mission_id}/attempts", tags=["attempts"], responses=RESPONSES,
                         dependencies=[Depends(body_limit(JSON_BODY_MAX))])
router = APIRouter(prefix="/me/attempts", tags=["attempts"], responses=RESPONSES)
json_limit = [Depends(body_limit(JSON_BODY_MAX))]


async def _run(caller: Caller, unit: Callable[[Plan], Unit[T]], key: object = None) -> T:
    """`key`: what else than the caller the unit's decision rests on (run_batched groups one unit per key)."""
    return await run_batched(caller.pool, caller, unit, USER_SQL, key=key)


def _public(answer: service.Answer | None) -> AttemptPublic:
    assert answer is not None
    return AttemptPublic.from_rows(*answer)


@enrol_router.post("", response_model=AttemptPublic, status_code=status.HTTP_201_CREATED,
                   summary="Take the mission: start an attempt")
async def enrol(mission_id: Annotated[uuid.UUID, Path(description="the mission's UUID")],
                caller: AppCaller) -> AttemptPublic:
    _, answer = await _run(caller, lambda plan: service.enrol(plan, caller.user_id, mission_id),
                           key=("mission", mission_id))  # enrolments count the mission's places
    return _public(answer)


@router.get("", response_model=Page[AttemptSummary], summary="My attempts with their progress, newest first")
def list_mine(conn: ConnDep, user: AppUser,
              status_: Annotated[str | None, Query(alias="status", pattern="^(in_progress|completed|failed|abandoned)$",
                                                   description="only attempts in this state")] = None,
              limit: Limit = 20, offset: Offset = 0) -> Page[AttemptSummary]:
    rows, total = service.list_attempts(conn, user, status_, limit, offset)
    return Page[AttemptSummary](items=[AttemptSummary.from_row(r) for r in rows], total=total, limit=limit,
                                offset=offset)


@router.get("/{attempt_id}", response_model=AttemptPublic, summary="One attempt with the state of each step")
def read_mine(attempt_id: AttemptId, conn: ConnDep, user: AppUser) -> AttemptPublic:
    return AttemptPublic.from_rows(*service.attempt_with_steps(conn, user, attempt_id))


@router.post("/{attempt_id}/steps/{step_no}/checkins", response_model=CheckinPublic, status_code=201,
             dependencies=json_limit, summary="Check in at the step's spot (geofence + impossible-travel check)",
             responses={422: {"model": ErrorResponse, "description": "Invalid position, or the check-in was "
                              "refused (`checkin_refused`; the decision is recorded, see details)"}})
async def check_in(attempt_id: AttemptId, step_no: StepNo, body: CheckinCreate,
                   caller: AppCaller) -> CheckinPublic:
    decision = await _run(caller, lambda plan: presence.check_in(
        plan, caller.user_id, attempt_id, step_no, body.lat, body.lon, body.accuracy_m))
    return CheckinPublic(id=decision.id, accepted=decision.accepted, reason=decision.reason,
                         distance_m=decision.distance_m, allowed_m=decision.allowed_m, speed_kmh=decision.speed_kmh)


@router.post("/{attempt_id}/steps/{step_no}/qr-scans", response_model=QrScanPublic, status_code=201,
             dependencies=json_limit, summary="Scan the host's QR code for the step",
             responses={422: {"model": ErrorResponse, "description": "Refused: forged, expired, malformed, other "
                              "mission or step (`qr_refused`, recorded)"},
                        409: {"model": ErrorResponse, "description": "`qr_replayed` (recorded), or a state conflict"}})
async def scan_qr(attempt_id: AttemptId, step_no: StepNo, body: QrScanCreate,
                  caller: AppCaller) -> QrScanPublic:
    decision = await _run(caller, lambda plan: presence.scan_qr(plan, caller.user_id, attempt_id, step_no,
                                                                       body.token))
    return QrScanPublic(id=decision.id, accepted=decision.accepted, reason=decision.reason, token_id=decision.token_id)


@router.post("/{attempt_id}/steps/{step_no}/photos", response_model=PhotoPublic, status_code=201,
             dependencies=[Depends(body_limit(PHOTO_BODY_MAX))],
             summary="Upload the photo of a photo step (JPEG/PNG/WebP, ≤10 MB; certified later)",
             responses={415: {"model": ErrorResponse, "description": "Not a JPEG, PNG or WebP image"}})
def add_photo(attempt_id: AttemptId, step_no: StepNo, conn: ConnDep, user: AppUser,
              file: Annotated[UploadFile, File(description="the photo")]) -> PhotoPublic:
    data = file.file.read(presence.PHOTO_MAX_BYTES + 1)
    photo = run_write(conn, lambda tx: tx.run(presence.add_photo(tx, user.id, attempt_id, step_no, data)))
    return PhotoPublic(id=photo.id, storage_key=photo.storage_key, content_type=photo.content_type,
                       size_bytes=photo.size_bytes, width=photo.width, height=photo.height, sha256=photo.sha256)


@router.post("/{attempt_id}/steps/{step_no}/hours", response_model=HoursClaimPublic, status_code=201,
             dependencies=json_limit, summary="Claim volunteer hours for a host_confirm step")
def claim_hours(attempt_id: AttemptId, step_no: StepNo, body: HoursClaimCreate, conn: ConnDep,
                user: AppUser) -> HoursClaimPublic:
    claim_id = run_write(conn, lambda tx: tx.run(presence.claim_hours(tx, user.id, attempt_id, step_no, body.hours,
                                                                      body.note)))
    return HoursClaimPublic(id=claim_id, status="claimed", hours=body.hours)


@router.post("/{attempt_id}/steps/{step_no}/complete", response_model=AttemptPublic, dependencies=json_limit,
             summary="Report the step done (in order; its verification must be satisfied)")
async def complete_step(attempt_id: AttemptId, step_no: StepNo, caller: AppCaller) -> AttemptPublic:
    return _public(await _run(caller, lambda plan: service.complete_step(plan, caller.user_id, attempt_id,
                                                                                step_no)))


@router.post("/{attempt_id}/complete", response_model=AttemptPublic, dependencies=json_limit,
             summary="Complete the mission (every step done); points once per mission")
async def complete(attempt_id: AttemptId, caller: AppCaller) -> AttemptPublic:
    return _public(await _run(caller, lambda plan: service.complete(plan, caller.user_id, attempt_id)))


@router.post("/{attempt_id}/fail", response_model=AttemptPublic, dependencies=json_limit,
             summary="Report the mission failed, with a reason from the list")
async def fail(attempt_id: AttemptId, body: AttemptFail, caller: AppCaller) -> AttemptPublic:
    return _public(await _run(caller, lambda plan: service.fail(plan, caller.user_id, attempt_id, body.reason,
                                                                       body.reason_text.strip())))


@router.post("/{attempt_id}/abandon", response_model=AttemptPublic, dependencies=json_limit,
             summary="Give up for now (resume later)")
async def abandon(attempt_id: AttemptId, caller: AppCaller) -> AttemptPublic:
    return _public(await _run(caller, lambda plan: service.abandon(plan, caller.user_id, attempt_id)))


@router.post("/{attempt_id}/resume", response_model=AttemptPublic, dependencies=json_limit,
             summary="Come back to an open or abandoned attempt")
async def resume(attempt_id: AttemptId, caller: AppCaller) -> AttemptPublic:
    return _public(await _run(caller, lambda plan: service.resume(plan, caller.user_id, attempt_id)))
