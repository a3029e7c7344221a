"""Checking one stored submission end to end: measure every file, look up earlier photos, judge,
assess, and record it all (checks, hashes, assessment, status) in one transaction.

The certify Dagster assets call `check_submission` for each pending submission; tests call it
directly. Re-running it replaces the previous checks and assessment of that submission.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, text, update

from ai.evidence import audio, images
from ai.evidence.assessment import AssessmentFacts, AssessmentReport, AssessmentWriter
from ai.evidence.checks import (
    DEFAULT_THRESHOLDS,
    CheckResult,
    DuplicateHit,
    ImageEvidence,
    MissionContext,
    Thresholds,
    audio_checks,
    image_checks,
    risk_score,
    submission_checks,
)
from ai.evidence.phash_index import find_similar, record_hash
from ai.evidence.sniff import SUPPORTED
from core.storage import ObjectStorage
from core.tables_certify import (
    certification_assessments,
    certification_checks,
    certification_evidence,
    certification_submissions,
    user_skill_tiers,
)

_TYPES = {t.name: t for t in SUPPORTED}


@dataclass(frozen=True)
class CheckOutcome:
    submission_id: uuid.UUID
    checks: list[CheckResult]
    report: AssessmentReport


def pending_submissions(conn: Connection, limit: int = 100) -> list[uuid.UUID]:
    """Submissions waiting for their checks, oldest first."""
    rows = conn.execute(select(certification_submissions.c.id)
                        .where(certification_submissions.c.status == "pending")
                        .order_by(certification_submissions.c.created_at).limit(limit)).scalars().all()
    return list(rows)


def mission_context(conn: Connection, mission_id: uuid.UUID | None, step_no: int | None) -> MissionContext | None:
    """The time window, place and QR need of the mission step the evidence belongs to."""
    if mission_id is None:
        return None
    row = conn.execute(text(
        "select m.id, m.starts_at, m.ends_at, coalesce(s.lat, m.lat) as lat, coalesce(s.lon, m.lon) as lon, "
        "       coalesce(s.radius_m, m.radius_m) as radius_m, coalesce(s.verification = 'qr', false) as needs_qr "
        "from app.missions m left join app.mission_steps s on s.mission_id = m.id and s.step_no = :step "
        "where m.id = :mission"), {"mission": mission_id, "step": step_no}).first()
    if row is None:
        return None
    return MissionContext(str(row.id), step_no, row.starts_at, row.ends_at, row.lat, row.lon, row.radius_m,
                          bool(row.needs_qr))


def _duplicates(conn: Connection, value: int, submission_id: uuid.UUID, radius: int) -> list[DuplicateHit]:
    return [DuplicateHit(h.evidence_id, h.submission_id, h.user_id, h.skill, h.distance)
            for h in find_similar(conn, value, radius, exclude_submission=submission_id)]


def _store_checks(conn: Connection, submission_id: uuid.UUID, evidence_ids: dict[int, uuid.UUID],
                  results: Sequence[CheckResult]) -> None:
    conn.execute(delete(certification_checks).where(certification_checks.c.submission_id == submission_id))
    conn.execute(insert(certification_checks), [{
        "submission_id": submission_id,
        "evidence_id": evidence_ids.get(r.evidence_position) if r.evidence_position is not None else None,
        "name": r.name, "status": r.status.value, "value": r.value, "threshold": r.threshold,
        "message": r.message} for r in results])


def _store_assessment(conn: Connection, submission_id: uuid.UUID, report: AssessmentReport) -> None:
    conn.execute(delete(certification_assessments)
                 .where(certification_assessments.c.submission_id == submission_id))
    conn.execute(insert(certification_assessments).values(
        submission_id=submission_id, engine=report.engine, recommended_tier=report.recommended_tier,
        risk_level=report.risk_level, summary=report.summary, report=json.loads(report.model_dump_json()),
        fallback_reason=report.fallback_reason))


def check_submission(conn: Connection, storage: ObjectStorage, submission_id: uuid.UUID,
                     writer: AssessmentWriter, secret_key: str | None = None,
                     thresholds: Thresholds = DEFAULT_THRESHOLDS) -> CheckOutcome:
    """Run every check of one submission and record the results (in the caller's transaction)."""
    sub = conn.execute(select(certification_submissions).where(certification_submissions.c.id == submission_id)
                       .with_for_update()).mappings().one()
    if sub["status"] not in ("pending", "checked"):
        raise ValueError(f"submission {submission_id} is already {sub['status']}: its checks are final")
    files = conn.execute(select(certification_evidence)
                         .where(certification_evidence.c.submission_id == submission_id)
                         .order_by(certification_evidence.c.position)).mappings().all()
    ctx = mission_context(conn, sub["mission_id"], sub["step_no"])
    results: list[CheckResult] = []
    photo_count = audio_count = 0
    audio_seconds = 0.0
    for row in files:
        data = storage.get(row["storage_key"])
        if row["kind"] == "image":
            photo_count += 1
            measured = images.measure(data, with_qr=ctx is not None and ctx.needs_qr)
            exif = images.ExifFacts(row["exif_taken_at"], row["exif_lat"], row["exif_lon"])
            evidence = ImageEvidence(row["position"], row["width"], row["height"], exif, measured,
                                     _duplicates(conn, measured.phash, submission_id, thresholds.duplicate_distance))
            results += image_checks(evidence, sub["user_id"], sub["skill"], sub["created_at"], ctx, secret_key,
                                    thresholds)
            record_hash(conn, row["id"], submission_id, sub["user_id"], sub["skill"], measured.phash)
        else:
            audio_count += 1
            measures = audio.measure(data, _TYPES[row["sniffed_type"]])
            audio_seconds += measures.duration_s
            results += audio_checks(measures, row["position"], thresholds)
    results += submission_checks(photo_count, audio_count, sub["description"], thresholds)
    current = conn.execute(select(user_skill_tiers.c.tier).where(
        user_skill_tiers.c.user_id == sub["user_id"], user_skill_tiers.c.skill == sub["skill"])).scalar()
    report = writer.write(AssessmentFacts(sub["skill"], sub["description"], photo_count, audio_count,
                                          audio_seconds, current, results))
    _store_checks(conn, submission_id, {r["position"]: r["id"] for r in files}, results)
    _store_assessment(conn, submission_id, report)
    conn.execute(update(certification_submissions).where(certification_submissions.c.id == submission_id)
                 .values(status="checked", risk_score=risk_score(results), checked_at=datetime.now(UTC)))
    return CheckOutcome(submission_id, results, report)
