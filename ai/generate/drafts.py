"""Drafts in app.mission_drafts: stored only when valid, edited only into something valid, and made
into a real published mission (through core.catalog, the rules every mission follows) on approval.
Rejected drafts stay for the record; only approved ones reach users.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ai.generate.schema import MissionDraft
from ai.generate.writer import GeneratedDraft
from core.catalog import NewMission, NewStep, create_missions
from core.tables_recommend import mission_drafts
from core.vocab import MissionStatus


class DraftStateError(ValueError):
    """The draft is not in a state that allows this (e.g. approving a rejected draft)."""


@dataclass(frozen=True)
class StoredDraft:
    id: uuid.UUID
    region_code: str
    for_user_id: uuid.UUID | None
    draft: MissionDraft
    engine: str
    fallback_reason: str | None
    status: str
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    reviewer_id: uuid.UUID | None
    reviewed_at: datetime | None
    review_note: str | None
    mission_id: uuid.UUID | None


def _stored(row: Any) -> StoredDraft:
    m = row._mapping
    return StoredDraft(id=m["id"], region_code=m["region_code"], for_user_id=m["for_user_id"],
                       draft=MissionDraft.model_validate(m["payload"]), engine=m["engine"],
                       fallback_reason=m["fallback_reason"], status=m["status"], created_by=m["created_by"],
                       created_at=m["created_at"], updated_at=m["updated_at"], reviewer_id=m["reviewer_id"],
                       reviewed_at=m["reviewed_at"], review_note=m["review_note"], mission_id=m["mission_id"])


def save_drafts(conn: Connection, generated: list[GeneratedDraft], created_by: uuid.UUID | None,
                for_user_id: uuid.UUID | None = None) -> list[StoredDraft]:
    """Store generated drafts as `draft` (each re-validated: a draft that fails is never stored)."""
    out = []
    for item in generated:
        draft = MissionDraft.model_validate(item.draft.model_dump())
        payload = draft.model_dump(mode="json")
        row = conn.execute(insert(mission_drafts).values(
            region_code=draft.region_code, for_user_id=for_user_id, payload=payload, citations=payload["citations"],
            engine=item.engine, fallback_reason=item.fallback_reason, created_by=created_by
        ).returning(*mission_drafts.c)).first()
        out.append(_stored(row))
    return out


def get_draft(conn: Connection, draft_id: uuid.UUID, lock: bool = False) -> StoredDraft | None:
    query = select(mission_drafts).where(mission_drafts.c.id == draft_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return _stored(row) if row else None


def list_drafts(conn: Connection, status: str | None = None, region_code: str | None = None, limit: int = 50,
                offset: int = 0) -> tuple[list[StoredDraft], int]:
    from sqlalchemy import func

    query = select(mission_drafts)
    if status:
        query = query.where(mission_drafts.c.status == status)
    if region_code:
        query = query.where(mission_drafts.c.region_code == region_code)
    total = int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = conn.execute(query.order_by(mission_drafts.c.created_at.desc(), mission_drafts.c.id)
                        .limit(limit).offset(offset)).all()
    return [_stored(r) for r in rows], total


def _require_draft(conn: Connection, draft_id: uuid.UUID) -> StoredDraft:
    stored = get_draft(conn, draft_id, lock=True)
    if stored is None:
        raise LookupError(f"no draft has the id {draft_id}")
    if stored.status != "draft":
        raise DraftStateError(f"the draft is already {stored.status}; only drafts in status 'draft' can change")
    return stored


def edit_draft(conn: Connection, draft_id: uuid.UUID, changes: dict[str, Any]) -> StoredDraft:
    """Apply an admin's changes; the result must still be a valid draft (else pydantic's error)."""
    stored = _require_draft(conn, draft_id)
    draft = MissionDraft.model_validate({**stored.draft.model_dump(mode="json"), **changes})
    if draft.region_code != stored.region_code:
        raise DraftStateError("a draft's region cannot change; generate a draft for the other region instead")
    payload = draft.model_dump(mode="json")
    row = conn.execute(update(mission_drafts).where(mission_drafts.c.id == draft_id).values(
        payload=payload, citations=payload["citations"], updated_at=datetime.now().astimezone()
    ).returning(*mission_drafts.c)).first()
    return _stored(row)


def approve_draft(conn: Connection, draft_id: uuid.UUID, reviewer_id: uuid.UUID, note: str | None = None
                  ) -> StoredDraft:
    """Make the draft a published mission (with its steps) and record who approved it."""
    stored = _require_draft(conn, draft_id)
    d = stored.draft
    mission = NewMission(
        title=d.title, mission_type=d.mission_type.value, region_code=d.region_code, summary=d.summary,
        status=MissionStatus.PUBLISHED.value, place_name=d.place_name, lat=d.lat, lon=d.lon,
        source_kind="ai_draft", source_ref=str(stored.id), skills=list(d.skills), tags=["AI 초안", stored.engine],
        expected_minutes=d.expected_minutes, created_by=reviewer_id,
        steps=[NewStep(step_no=n, title=s.title, verification=s.verification.value, description=s.description,
                       lat=d.lat if s.verification.value == "checkin" else None,
                       lon=d.lon if s.verification.value == "checkin" else None,
                       radius_m=200 if s.verification.value == "checkin" else None)
               for n, s in enumerate(d.steps, start=1)])
    (mission_id,) = create_missions(conn, [mission])
    row = conn.execute(update(mission_drafts).where(mission_drafts.c.id == draft_id).values(
        status="approved", mission_id=mission_id, reviewer_id=reviewer_id, reviewed_at=datetime.now().astimezone(),
        review_note=note, updated_at=datetime.now().astimezone()).returning(*mission_drafts.c)).first()
    return _stored(row)


def reject_draft(conn: Connection, draft_id: uuid.UUID, reviewer_id: uuid.UUID, note: str | None = None
                 ) -> StoredDraft:
    _require_draft(conn, draft_id)
    row = conn.execute(update(mission_drafts).where(mission_drafts.c.id == draft_id).values(
        status="rejected", reviewer_id=reviewer_id, reviewed_at=datetime.now().astimezone(), review_note=note,
        updated_at=datetime.now().astimezone()).returning(*mission_drafts.c)).first()
    return _stored(row)
