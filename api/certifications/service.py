"""Certification: validating and storing a submission, the review queue, decisions, history and tiers.

A submission is stored whole or not at all: every file is validated in memory first; then the
objects are written and the rows inserted in one transaction; if the transaction fails, the objects
written so far are deleted. A decision is one transaction too: the review row, the submission's
status, the user's tier, the credential, the audit entry and the notification commit together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ai.evidence.assessment import TIER_LABELS_KO
from ai.evidence.prepare import prepare_evidence
from ai.evidence.sniff import EvidenceError, MediaKind
from api.certifications.upload import FilePart, UploadRefused, refused
from api.errors import ApiError
from api.users.service import UserRecord
from core.audit import audit
from core.credentials import CredentialClaim, EvidenceRef, issue_credential
from core.notify import notify
from core.storage import ObjectStorage
from core.tables_certify import (
    certification_evidence,
    certification_reviews,
    certification_submissions,
    user_skill_tiers,
)
from core.vocab import SKILLS_KO


@dataclass(frozen=True)
class PreparedFile:
    position: int
    part: FilePart
    kind: MediaKind
    sha256: str
    stored: bytes
    stored_ext: str
    content_type: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class SubmissionForm:
    skill: str
    description: str
    mission_id: uuid.UUID | None
    step_no: int | None
    resubmission_of: uuid.UUID | None


# ---------------------------------------------------------------------------------- the upload
def parse_form(fields: dict[str, str]) -> SubmissionForm:
    """The form fields, or a 422 naming the field."""
    skill = fields.get("skill", "").strip()
    if skill not in SKILLS_KO:
        raise ApiError.validation("body.skill", f"{skill or 'nothing'} is not a skill; use one of "
                                  f"{', '.join(SKILLS_KO)}")
    description = fields.get("description", "").strip()
    if len(description) > 4000:
        raise ApiError.validation("body.description", "at most 4000 characters")

    def optional_uuid(name: str) -> uuid.UUID | None:
        raw = fields.get(name, "").strip()
        try:
            return uuid.UUID(raw) if raw else None
        except ValueError:
            raise ApiError.validation(f"body.{name}", f"{raw!r} is not a UUID") from None

    step_raw = fields.get("step_no", "").strip()
    if step_raw and not step_raw.isdigit():
        raise ApiError.validation("body.step_no", "a step number is a positive integer")
    mission_id = optional_uuid("mission_id")
    step_no = int(step_raw) if step_raw else None
    if step_no is not None and mission_id is None:
        raise ApiError.validation("body.step_no", "a step needs its mission: add mission_id")
    return SubmissionForm(skill, description, mission_id, step_no, optional_uuid("resubmission_of"))


def check_references(conn: Connection, user: UserRecord, form: SubmissionForm) -> None:
    """The mission (and step) exist, and a resubmission follows the user's own rejected submission."""
    if form.mission_id is not None:
        found = conn.execute(text(
            "select exists(select 1 from app.missions where id = :m), "
            "       (cast(:s as integer) is null or exists(select 1 from app.mission_steps "
            "        where mission_id = :m and step_no = :s))"), {"m": form.mission_id, "s": form.step_no}).one()
        if not found[0]:
            raise ApiError.validation("body.mission_id", f"no mission has the id {form.mission_id}")
        if not found[1]:
            raise ApiError.validation("body.step_no", f"mission {form.mission_id} has no step {form.step_no}")
    if form.resubmission_of is not None:
        row = conn.execute(select(certification_submissions.c.user_id, certification_submissions.c.status)
                           .where(certification_submissions.c.id == form.resubmission_of)).first()
        if row is None or row.user_id != user.id:
            raise ApiError.validation("body.resubmission_of", "that is not one of your submissions")
        if row.status != "rejected":
            raise ApiError.validation("body.resubmission_of", f"only a rejected submission can be resubmitted; "
                                      f"that one is {row.status}")


def _prepare_one(position: int, part: FilePart, max_seconds: float) -> PreparedFile:
    sniffed = part.sniffed
    assert sniffed is not None  # the reader sniffed every complete part
    e = prepare_evidence(bytes(part.data), sniffed, max_seconds)
    return PreparedFile(position, part, e.kind, e.sha256, e.stored, e.stored_ext, e.content_type, e.facts)


def prepare_files(files: Sequence[FilePart], max_seconds: float) -> list[PreparedFile]:
    """Validate every file; a 4xx lists every refused file with its problem (nothing is stored)."""
    if not any(part.field == "photos" for part in files):
        raise ApiError(422, "validation_error", "A submission needs at least one photo of the work in 'photos'.",
                       [{"file": None, "problem": "no_photos", "message": "add at least one photo"}])
    prepared, problems = [], []
    for position, part in enumerate(files):
        try:
            prepared.append(_prepare_one(position, part, max_seconds))
        except EvidenceError as exc:
            problems.append(refused(exc, part.label))
    if problems:
        raise refusal(problems)
    return prepared


def refusal(problems: Sequence[UploadRefused]) -> ApiError:
    first = problems[0]
    names = "; ".join(f"{p.file or 'request'}: {p.message}" for p in problems)
    codes = {413: "payload_too_large", 415: "unsupported_media_type", 400: "bad_request"}
    return ApiError(first.status, codes.get(first.status, "invalid_file"),
                    f"The submission was not accepted and nothing was stored. {names}.",
                    [{"file": p.file, "problem": p.problem, "message": p.message} for p in problems])


def store_submission(conn: Connection, storage: ObjectStorage, user: UserRecord, form: SubmissionForm,
                     files: Sequence[PreparedFile]) -> tuple[uuid.UUID, list[RowMapping]]:
    """Write the objects, then the rows, and commit; on any failure remove what was written."""
    submission_id = uuid.uuid4()
    now = datetime.now(UTC)
    written: list[str] = []
    try:
        rows = []
        for f in files:
            key = f"certifications/{now:%Y/%m}/{submission_id}/{f.position}.{f.stored_ext}"
            stored_sha = storage.put(key, f.stored, f.content_type)
            written.append(key)
            rows.append({"submission_id": submission_id, "position": f.position, "kind": f.kind.value,
                         "original_name": f.part.filename[:255], "sniffed_type": f.part.sniffed.name,  # type: ignore[union-attr]
                         "sha256": f.sha256, "size_bytes": len(f.part.data), "storage_key": key,
                         "stored_sha256": stored_sha, "stored_size_bytes": len(f.stored),
                         "content_type": f.content_type, **f.facts})
        conn.execute(insert(certification_submissions).values(
            id=submission_id, user_id=user.id, skill=form.skill, description=form.description,
            mission_id=form.mission_id, step_no=form.step_no, resubmission_of=form.resubmission_of,
            status="pending", created_at=now))
        inserted = conn.execute(insert(certification_evidence).returning(*certification_evidence.c), rows)
        stored = list(inserted.mappings().all())
        conn.commit()
    except BaseException:
        conn.rollback()
        for key in written:
            storage.delete(key)
        raise
    return submission_id, stored


# ---------------------------------------------------------------------------------- reading
_SUMMARY_SQL = """
select s.id, s.user_id, s.skill, s.status, s.description, s.mission_id, s.step_no, s.resubmission_of,
       s.created_at, s.checked_at, s.decided_at, s.risk_score,
       (select count(*) from app.certification_evidence e where e.submission_id = s.id and e.kind = 'image')
           as photo_count,
       (select count(*) from app.certification_evidence e where e.submission_id = s.id and e.kind = 'audio')
           as recording_count,
       a.recommended_tier, a.risk_level, a.summary as assessment_summary, a.report,
       r.tier as approved_tier, r.feedback,
       (select c.id from app.credentials c where c.submission_id = s.id) as credential_id,
       extract(epoch from now() - s.created_at) / 3600.0 as age_hours
from app.certification_submissions s
left join app.certification_assessments a on a.submission_id = s.id
left join lateral (select tier, feedback from app.certification_reviews rv where rv.submission_id = s.id
                   order by rv.created_at desc limit 1) r on true
"""


def get_submission(conn: Connection, submission_id: uuid.UUID) -> RowMapping | None:
    return conn.execute(text(_SUMMARY_SQL + " where s.id = :id"), {"id": submission_id}).mappings().first()


def list_history(conn: Connection, user_id: uuid.UUID, limit: int, offset: int) -> tuple[list[RowMapping], int]:
    rows = conn.execute(text(_SUMMARY_SQL + " where s.user_id = :u order by s.created_at desc limit :l offset :o"),
                        {"u": user_id, "l": limit, "o": offset}).mappings().all()
    total = conn.execute(select(func.count()).select_from(certification_submissions)
                         .where(certification_submissions.c.user_id == user_id)).scalar_one()
    return list(rows), int(total)


def review_queue(conn: Connection, limit: int, offset: int) -> tuple[list[RowMapping], int]:
    """Checked submissions awaiting a decision, riskiest and oldest first: by the assessment's risk level
    (high, medium, low, then any without an assessment), and within a level the longest waiting first."""
    rows = conn.execute(text(
        f"select * from ({_SUMMARY_SQL} where s.status = 'checked') q "
        "order by case q.risk_level when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end desc, "
        "         q.created_at, q.id limit :l offset :o"),
        {"l": limit, "o": offset}).mappings().all()
    total = conn.execute(select(func.count()).select_from(certification_submissions)
                         .where(certification_submissions.c.status == "checked")).scalar_one()
    return list(rows), int(total)


def evidence_of(conn: Connection, submission_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(select(certification_evidence).where(
        certification_evidence.c.submission_id == submission_id).order_by(certification_evidence.c.position))
        .mappings().all())


def checks_of(conn: Connection, submission_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(text(
        "select c.name, c.status, c.value, c.threshold, c.message, e.position as evidence_position "
        "from app.certification_checks c left join app.certification_evidence e on e.id = c.evidence_id "
        "where c.submission_id = :s order by e.position nulls last, c.id"), {"s": submission_id}).mappings().all())


def reviews_of(conn: Connection, submission_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(select(certification_reviews).where(
        certification_reviews.c.submission_id == submission_id).order_by(certification_reviews.c.created_at))
        .mappings().all())


def skill_tiers(conn: Connection, user_id: uuid.UUID) -> list[RowMapping]:
    return list(conn.execute(select(user_skill_tiers).where(user_skill_tiers.c.user_id == user_id)
                             .order_by(user_skill_tiers.c.skill)).mappings().all())


# ---------------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class DecisionOutcome:
    status: str
    tier: int | None
    credential_id: uuid.UUID | None


def _evidence_refs(conn: Connection, submission_id: uuid.UUID) -> list[EvidenceRef]:
    rows = conn.execute(text(
        "select e.sha256, e.kind, count(c.id) filter (where c.status = 'pass') as passed, count(c.id) as total "
        "from app.certification_evidence e left join app.certification_checks c on c.evidence_id = e.id "
        "where e.submission_id = :s group by e.id, e.sha256, e.kind, e.position order by e.position"),
        {"s": submission_id}).all()
    return [EvidenceRef(r.sha256, r.kind, int(r.passed), int(r.total)) for r in rows]


def decide(conn: Connection, reviewer: UserRecord, submission_id: uuid.UUID, approve: bool, tier: int | None,
           feedback: str) -> DecisionOutcome:
    """Approve (with a tier, issuing the credential) or reject (with feedback); audited and notified."""
    sub = conn.execute(select(certification_submissions).where(certification_submissions.c.id == submission_id)
                       .with_for_update()).mappings().first()
    if sub is None:
        raise ApiError.not_found(f"No submission has the id {submission_id}; see GET /certifications/review-queue.")
    if sub["user_id"] == reviewer.id:
        audit(conn, reviewer.id, "certification.review_refused", "certification_submission", str(submission_id),
              "a reviewer cannot review their own submission")
        conn.commit()
        raise ApiError(403, "own_submission", "You cannot review your own submission; another administrator must.")
    if sub["status"] != "checked":
        hint = "its checks are still running" if sub["status"] == "pending" else f"it is already {sub['status']}"
        raise ApiError(409, "not_reviewable", f"This submission cannot be decided now: {hint}.")
    now = datetime.now(UTC)
    status = "approved" if approve else "rejected"
    conn.execute(insert(certification_reviews).values(submission_id=submission_id, reviewer_id=reviewer.id,
                                                      decision=status, tier=tier if approve else None,
                                                      feedback=feedback.strip(), created_at=now))
    conn.execute(update(certification_submissions).where(certification_submissions.c.id == submission_id)
                 .values(status=status, decided_at=now))
    credential_id = None
    if approve:
        assert tier is not None
        credential_id = uuid.uuid4()
        issue_credential(conn, CredentialClaim(credential_id, sub["user_id"], sub["skill"], tier, now,
                                               _evidence_refs(conn, submission_id)), submission_id)
        upsert = pg_insert(user_skill_tiers).values(user_id=sub["user_id"], skill=sub["skill"], tier=tier,
                                                    submission_id=submission_id, credential_id=credential_id,
                                                    certified_at=now)
        conn.execute(upsert.on_conflict_do_update(
            index_elements=["user_id", "skill"],
            set_={"tier": tier, "submission_id": submission_id, "credential_id": credential_id, "certified_at": now}))
    audit(conn, reviewer.id, f"certification.{'approve' if approve else 'reject'}", "certification_submission",
          str(submission_id), feedback.strip() or None,
          {"skill": sub["skill"], "tier": tier, "credential_id": str(credential_id) if credential_id else None})
    _notify_decision(conn, sub, approve, tier, feedback, credential_id)
    conn.commit()
    return DecisionOutcome(status, tier, credential_id)


def _notify_decision(conn: Connection, sub: RowMapping, approve: bool, tier: int | None, feedback: str,
                     credential_id: uuid.UUID | None) -> None:
    skill = sub["skill"]
    if approve:
        assert tier is not None
        title = f"{skill} {TIER_LABELS_KO[tier]}({tier}단계) 인증이 승인되었습니다"
        body = "디지털 인증서(Open Badge)가 발급되었습니다. " + (feedback.strip() or "")
        data = {"submission_id": str(sub["id"]), "tier": tier, "credential_id": str(credential_id)}
        kind = "certification_approved"
    else:
        title = f"{skill} 인증 신청이 반려되었습니다"
        body = f"검토 의견: {feedback.strip()} 보완하여 다시 제출할 수 있습니다."
        data = {"submission_id": str(sub["id"]), "feedback": feedback.strip(), "can_resubmit": True}
        kind = "certification_rejected"
    notify(conn, sub["user_id"], kind, title, body, data, dedupe_key=f"certification:{sub['id']}:decision")
