"""loopdata: app.badge_awards (issued badges, once per user and badge) and the per-user index on
raw.activity_events (one user's badge rules evaluated on the raw events by the API)

Written by hand from core/tables_loopdata.py. A branch of its own from 0001, applied with the other
heads. The index uses IF NOT EXISTS because the development placeholder 0001 creates every index
attached to raw.activity_events in the metadata, this one included, when core.tables_loopdata is
imported first.

Revision ID: loopdata_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "loopdata_0001"
down_revision = "0001"
branch_labels = ("loopdata",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "badge_awards",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("badge_id", sa.Text(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_count", sa.Numeric(14, 2), nullable=False),
        sa.Column("issued_via", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("issued_via in ('api', 'sensor')", name=op.f("ck_badge_awards_issued_via")),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_badge_awards_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "badge_id", name=op.f("pk_badge_awards")),
        schema="app",
    )
    op.create_index(op.f("ix_badge_awards_badge_id"), "badge_awards", ["badge_id"], unique=False, schema="app")


def downgrade() -> None:
    op.drop_index(op.f("ix_badge_awards_badge_id"), table_name="badge_awards", schema="app")
    op.drop_table("badge_awards", schema="app")
