"""recommend: serving.recommendation_log, the first time each mission was recommended to each user

Written by hand from core/tables_recommend.py. The precompute inserts each batch of its lists here
`on conflict (user_id, mission_id) do nothing`, so a pair is logged only the first time it is
recommended and the table grows with new pairs, not with each run.

Revision ID: recommend_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "recommend_0002"
down_revision = "recommend_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation_log",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("first_recommended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "mission_id", name=op.f("pk_recommendation_log")),
        schema="serving",
    )


def downgrade() -> None:
    op.drop_table("recommendation_log", schema="serving")
