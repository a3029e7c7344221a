"""Store generated PDFs (core.storage) and index them in serving.reports; regenerate only on change.

`ensure_regional` / `ensure_policy` / `ensure_personal` compute the inputs hash first (the marts'
query results + template version + engine) and render only when no indexed document has that hash
(or `force`). They run in the caller's transaction; the PDF is written to storage before the row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from ai.reports import documents, maps
from ai.reports.common import Period
from ai.reports.narrative import NarrativeWriter, TemplateWriter
from core.storage import ObjectStorage, get_storage
from core.tables_report import reports


@dataclass(frozen=True)
class Ensured:
    row: RowMapping
    generated: bool  # False: the indexed document was already made from the same inputs


def storage_key(kind: str, subject: str, period: str, inputs_hash: str) -> str:
    """reports/<kind>/<period>/<subject>-<hash12>.pdf (personal reports under the user's id)."""
    return f"reports/{kind}/{period}/{subject}-{inputs_hash[:12]}.pdf"


def current(conn: Connection, kind: str, subject: str, period: str) -> RowMapping | None:
    return conn.execute(select(reports).where(reports.c.kind == kind, reports.c.subject == subject,
                                              reports.c.period == period)).mappings().first()


def store(conn: Connection, doc: documents.ReportDocument, storage: ObjectStorage | None = None) -> RowMapping:
    """Write the PDF to object storage and upsert its index row (the previous PDF's object is removed)."""
    storage = storage or get_storage()
    subject = str(doc.user_id) if doc.kind == "personal" else str(doc.region_code)
    key = storage_key(doc.kind, subject, doc.period_key, doc.inputs_hash)
    previous = current(conn, doc.kind, subject, doc.period_key)
    digest = storage.put(key, doc.pdf, "application/pdf")
    values: dict[str, Any] = {
        "kind": doc.kind, "subject": subject, "region_code": doc.region_code, "user_id": doc.user_id,
        "period": doc.period_key, "title": doc.title, "storage_key": key, "sha256": digest,
        "size_bytes": len(doc.pdf), "pages": doc.pages, "inputs_hash": doc.inputs_hash, "engine": doc.engine,
        "fallback_reason": doc.fallback_reason, "state": doc.state, "generated_at": doc.generated_at}
    statement = insert(reports).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "subject", "period"],
        set_={k: statement.excluded[k] for k in values if k not in ("kind", "subject", "period")})
    conn.execute(statement)
    if previous is not None and previous["storage_key"] != key:
        storage.delete(previous["storage_key"])
    row = current(conn, doc.kind, subject, doc.period_key)
    assert row is not None
    return row


def _unchanged(conn: Connection, kind: str, subject: str, period: str, digest: str,
               storage: ObjectStorage) -> RowMapping | None:
    row = current(conn, kind, subject, period)
    if row is not None and row["inputs_hash"] == digest and storage.exists(row["storage_key"]):
        return row
    return None


def ensure_regional(conn: Connection, region_code: str, period_key: str, *, atlas: maps.Atlas | None = None,
                    force: bool = False, storage: ObjectStorage | None = None) -> Ensured:
    storage = storage or get_storage()
    period = Period.parse(period_key)
    if not force:
        _, digest = documents.regional_inputs(conn, region_code, period, atlas)
        row = _unchanged(conn, "regional", region_code, period.key, digest, storage)
        if row is not None:
            return Ensured(row, False)
    doc = documents.build_regional(conn, region_code, period.key, atlas=atlas)
    return Ensured(store(conn, doc, storage), True)


def ensure_policy(conn: Connection, region_code: str, period_key: str, *, writer: NarrativeWriter | None = None,
                  force: bool = False, storage: ObjectStorage | None = None) -> Ensured:
    storage = storage or get_storage()
    writer = writer or TemplateWriter()
    period = Period.parse(period_key)
    if not force:
        _, digest = documents.policy_inputs(conn, region_code, period, writer.engine)
        row = _unchanged(conn, "policy", region_code, period.key, digest, storage)
        if row is not None:
            return Ensured(row, False)
    doc = documents.build_policy(conn, region_code, period.key, writer=writer)
    return Ensured(store(conn, doc, storage), True)


def ensure_personal(conn: Connection, user_id: uuid.UUID, period_key: str, *, force: bool = False,
                    storage: ObjectStorage | None = None) -> Ensured:
    storage = storage or get_storage()
    period = Period.parse(period_key)
    if not force:
        _, digest = documents.personal_inputs(conn, user_id, period)
        row = _unchanged(conn, "personal", str(user_id), period.key, digest, storage)
        if row is not None:
            return Ensured(row, False)
    doc = documents.build_personal(conn, user_id, period.key)
    return Ensured(store(conn, doc, storage), True)
