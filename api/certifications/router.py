"""`/certifications`: submit evidence, follow its checks and review, and (administrators) decide.

The upload route reads the multipart body itself (see upload.py) so that limits hold while the bytes
arrive; its request schema is documented by hand in `openapi_extra`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from ai.evidence.assessment import TIER_LABELS_KO
from api.certifications import service
from api.certifications.schemas import (
    AssessmentPublic,
    CheckPublic,
    EvidencePublic,
    QueueItem,
    ReviewCreate,
    ReviewPublic,
    ReviewResult,
    SkillTierPublic,
    SubmissionCreated,
    SubmissionDetail,
    SubmissionSummary,
)
from api.certifications.schemas import Decision as DecisionKind
from api.certifications.upload import UploadLimits, UploadRefused, read_upload
from api.deps import AdminUser, ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.pagination import Limit, Offset, Page
from api.users.service import UserRecord
from core.storage import get_storage
from core.vocab import SKILLS_KO, Role

router = APIRouter(prefix="/certifications", tags=["certifications"],
                   responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
LIMITS = UploadLimits()

_UPLOAD_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["skill", "photos"],
    "properties": {
        "skill": {"type": "string", "enum": list(SKILLS_KO)},
        "description": {"type": "string", "maxLength": 4000, "description": "what the work is and how it was done"},
        "mission_id": {"type": "string", "format": "uuid", "description": "the mission the evidence belongs to"},
        "step_no": {"type": "integer", "minimum": 1},
        "resubmission_of": {"type": "string", "format": "uuid", "description": "your rejected submission"},
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"},
                   "description": f"JPEG, PNG or WebP; up to {LIMITS.max_photos}, "
                                  f"{LIMITS.max_photo_bytes // 2**20} MB and {LIMITS.max_pixels // 10**6} MP each"},
        "recordings": {"type": "array", "items": {"type": "string", "format": "binary"},
                       "description": f"WAV, FLAC, OGG or MP3; up to {LIMITS.max_recordings}, "
                                      f"{LIMITS.max_recording_bytes // 2**20} MB and "
                                      f"{LIMITS.max_seconds:.0f} s each"},
    }}}}}}


def _evidence(row: RowMapping) -> EvidencePublic:
    return EvidencePublic(id=row["id"], position=row["position"], kind=row["kind"],
                          original_name=row["original_name"], sniffed_type=row["sniffed_type"], sha256=row["sha256"],
                          size_bytes=row["size_bytes"], width=row["width"], height=row["height"],
                          duration_s=row["duration_s"], has_capture_time=row["exif_taken_at"] is not None,
                          has_gps=row["exif_lat"] is not None)


def _summary_fields(row: RowMapping) -> dict[str, Any]:
    return {name: row[name] for name in SubmissionSummary.model_fields}


@router.post("", status_code=201, response_model=SubmissionCreated, openapi_extra=_UPLOAD_DOC,
             summary="Submit photos and recordings as evidence of a skill",
             responses={413: {"model": ErrorResponse, "description": "A file or the submission is over a limit"},
                        415: {"model": ErrorResponse, "description": "A file's type is refused (named in details)"}})
async def submit(request: Request, user: CurrentUser, conn: ConnDep) -> SubmissionCreated:
    """Nothing is stored unless every file is valid; a refusal lists each file with its problem."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > LIMITS.max_total_bytes + 1_000_000:
        raise service.refusal([UploadRefused(413, "submission_too_large", f"the request is {declared // 2**20} MB; "
                                             f"files together may be {LIMITS.max_total_bytes // 2**20} MB")])
    try:
        parsed = await read_upload(request.headers.get("content-type", ""), request.stream(), LIMITS)
    except UploadRefused as exc:
        raise service.refusal([exc]) from None
    form = service.parse_form(parsed.fields)
    await run_in_threadpool(service.check_references, conn, user, form)
    prepared = await run_in_threadpool(service.prepare_files, parsed.files, LIMITS.max_seconds)
    submission_id, rows = await run_in_threadpool(service.store_submission, conn, get_storage(), user, form,
                                                  prepared)
    return SubmissionCreated(id=submission_id, status="pending", files=[_evidence(r) for r in rows])


@router.get("", response_model=Page[SubmissionSummary], summary="Your certification history, newest first")
def history(conn: ConnDep, user: CurrentUser, limit: Limit = 20, offset: Offset = 0) -> Page[SubmissionSummary]:
    rows, total = service.list_history(conn, user.id, limit, offset)
    return Page[SubmissionSummary](items=[SubmissionSummary(**_summary_fields(r)) for r in rows], total=total,
                                   limit=limit, offset=offset)


@router.get("/tiers", response_model=list[SkillTierPublic], summary="Your current tier in each certified skill")
def tiers(conn: ConnDep, user: CurrentUser) -> list[SkillTierPublic]:
    return [SkillTierPublic(skill=r["skill"], tier=r["tier"], tier_label=TIER_LABELS_KO[r["tier"]],
                            certified_at=r["certified_at"], credential_id=r["credential_id"])
            for r in service.skill_tiers(conn, user.id)]


@router.get("/review-queue", response_model=Page[QueueItem],
            summary="Submissions awaiting review (administrators), riskiest and oldest first")
def queue(conn: ConnDep, _admin: AdminUser, limit: Limit = 20, offset: Offset = 0) -> Page[QueueItem]:
    rows, total = service.review_queue(conn, limit, offset)
    items = [QueueItem(**_summary_fields(r), user_id=r["user_id"], age_hours=round(float(r["age_hours"]), 2),
                       risk_level=r["risk_level"], assessment_summary=r["assessment_summary"]) for r in rows]
    return Page[QueueItem](items=items, total=total, limit=limit, offset=offset)


def submission_or_404(submission_id: Annotated[uuid.UUID, Path(description="the submission's UUID")],
                      conn: ConnDep, user: CurrentUser) -> RowMapping:
    """The submission, for its owner or an administrator; 404 for anyone else (existence is not revealed)."""
    row = service.get_submission(conn, submission_id)
    if row is None or (row["user_id"] != user.id and not user.has_role(Role.ADMIN.value)):
        raise ApiError.not_found(f"You have no submission with the id {submission_id}; list yours at "
                                 "GET /certifications.")
    return row


@router.get("/{submission_id}", response_model=SubmissionDetail,
            summary="One submission with its files, checks, assessment and reviews")
def read_submission(row: Annotated[RowMapping, Depends(submission_or_404)], conn: ConnDep) -> SubmissionDetail:
    report = row["report"]
    assessment = AssessmentPublic(**{k: report[k] for k in AssessmentPublic.model_fields}) if report else None
    return SubmissionDetail(
        **_summary_fields(row), user_id=row["user_id"], description=row["description"],
        mission_id=row["mission_id"], step_no=row["step_no"], resubmission_of=row["resubmission_of"],
        files=[_evidence(e) for e in service.evidence_of(conn, row["id"])],
        checks=[CheckPublic(**c) for c in service.checks_of(conn, row["id"])],
        assessment=assessment,
        reviews=[ReviewPublic(**{k: r[k] for k in ReviewPublic.model_fields}) for r in service.reviews_of(conn,
                                                                                                          row["id"])])


@router.post("/{submission_id}/review", response_model=ReviewResult,
             summary="Approve with a tier, or reject with feedback (administrators; not your own submission)",
             responses={409: {"model": ErrorResponse, "description": "Checks still running, or already decided"}})
def review(submission_id: uuid.UUID, body: ReviewCreate, conn: ConnDep, admin: AdminUser) -> ReviewResult:
    reviewer: UserRecord = admin
    outcome = service.decide(conn, reviewer, submission_id, body.decision is DecisionKind.APPROVE, body.tier,
                             body.feedback)
    return ReviewResult(submission_id=submission_id, status=outcome.status, tier=outcome.tier,
                        credential_id=outcome.credential_id)
