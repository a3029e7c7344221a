"""Tables of the mission loop's data half (migration branch `loopdata`).

app.badge_awards is the issued side of the badges: one row per user and badge, whichever path issued
it first (the API right after a completion, or the awards sensor from marts.fct_badge_awards); its
primary key is what makes an award once-only (core/badges.py). The hash index on
raw.activity_events (user_id) lets the API evaluate one user's badge rules on the raw events in
milliseconds instead of scanning the table.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from core.tables import metadata

ISSUED_VIA = ("api", "sensor")

badge_awards = Table(
    "badge_awards", metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="CASCADE"), nullable=False),
    Column("badge_id", Text, nullable=False),  # an id of dbt/badges.yml
    Column("tier", Text, nullable=False),
    Column("awarded_at", DateTime(timezone=True), nullable=False),  # the time of the fact that earned it
    Column("evidence_count", Numeric(14, 2), nullable=False),
    Column("issued_via", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "badge_id"),
    CheckConstraint(f"issued_via in {ISSUED_VIA}", name="issued_via"),
    Index(None, "badge_id"),
    schema="app",
)

LOOPDATA_TABLES = [badge_awards]
