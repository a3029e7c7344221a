"""report: serving.reports, the index of generated PDF reports

Written by hand from core/tables_report.py. A branch of its own from 0001, applied with the other heads.

Revision ID: report_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "report_0001"
down_revision = "0001"
branch_labels = ("report",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(5), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("inputs_hash", sa.Text(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind in ('regional', 'policy', 'personal')", name=op.f("ck_reports_kind")),
        sa.CheckConstraint("(kind = 'personal') = (user_id is not null)", name=op.f("ck_reports_subject_shape")),
        sa.CheckConstraint("pages >= 1", name=op.f("ck_reports_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("kind", "subject", "period", name=op.f("uq_reports_kind_subject_period")),
        schema="serving",
    )
    op.create_index(op.f("ix_reports_region_code_period"), "reports", ["region_code", "period"], unique=False,
                    schema="serving")
    op.create_index(op.f("ix_reports_user_id"), "reports", ["user_id"], unique=False, schema="serving")


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_user_id"), table_name="reports", schema="serving")
    op.drop_index(op.f("ix_reports_region_code_period"), table_name="reports", schema="serving")
    op.drop_table("reports", schema="serving")
