"""app and raw schemas

DEVELOPMENT PLACEHOLDER: creates the tables from core.tables; frozen into explicit
operations (alembic autogenerate) before the first landing.

Revision ID: 0001
"""
from __future__ import annotations

from alembic import op

from core.tables import FOUNDATION_TABLES, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=FOUNDATION_TABLES)


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=FOUNDATION_TABLES)
