"""serving.reports: the index of generated PDFs (migration branch `report`).

One row per document (kind, subject, period): the regional report and the policy proposal of a
시군구 and period (subject = region code), the personal report of a user (subject = user id). The PDF
itself is in object storage (core.storage) under storage_key; inputs_hash is the hash of the exact
query results and template version it was made from, so a document is made again only when it changes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from core.tables import metadata

REPORT_KINDS = ("regional", "policy", "personal")

reports = Table(
    "reports", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("subject", Text, nullable=False),  # region code, or the user id for personal reports
    Column("region_code", String(5)),
    Column("user_id", UUID(as_uuid=True)),
    Column("period", Text, nullable=False),  # YYYY-MM or YYYY-Qn
    Column("title", Text, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("inputs_hash", Text, nullable=False),
    Column("engine", Text, nullable=False),
    Column("fallback_reason", Text),
    Column("state", Text, nullable=False),  # full | small | none (short report)
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("indexed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind in ('regional', 'policy', 'personal')", name="kind"),
    CheckConstraint("(kind = 'personal') = (user_id is not null)", name="subject_shape"),
    CheckConstraint("pages >= 1", name="pages"),
    UniqueConstraint("kind", "subject", "period"),
    Index(None, "region_code", "period"),
    Index(None, "user_id"),
    schema="serving",
)

REPORT_TABLES = [reports]
