"""recommend: serving.recommendations, serving.recommendation_evaluation, app.mission_drafts,
app.recommendation_settings, raw.policy_documents

Written by hand from core/tables_recommend.py. A branch of its own from 0001, applied with the other heads.

Revision ID: recommend_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "recommend_0001"
down_revision = "0001"
branch_labels = ("recommend",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("parts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reasons_ko", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("reasons_en", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_recommendations_rank")),
        sa.PrimaryKeyConstraint("user_id", "rank", name=op.f("pk_recommendations")),
        schema="serving",
    )
    op.create_table(
        "recommendation_evaluation",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("ndcg_at_10", sa.Float(), nullable=False),
        sa.Column("recall_at_10", sa.Float(), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("users_count", sa.Integer(), nullable=False),
        sa.Column("heldout_count", sa.Integer(), nullable=False),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("candidates_count", sa.Integer(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_evaluation")),
        schema="serving",
    )
    op.create_index(op.f("ix_recommendation_evaluation_run_at"), "recommendation_evaluation", ["run_at"],
                    unique=False, schema="serving")
    op.create_table(
        "mission_drafts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("region_code", sa.String(length=5), nullable=False),
        sa.Column("for_user_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("citations", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("mission_id", sa.UUID(), nullable=True),
        sa.CheckConstraint("status in ('draft', 'approved', 'rejected')", name=op.f("ck_mission_drafts_status")),
        sa.CheckConstraint("(status = 'approved') = (mission_id is not null)",
                           name=op.f("ck_mission_drafts_approved_has_mission")),
        sa.ForeignKeyConstraint(["for_user_id"], ["app.users.id"], name=op.f("fk_mission_drafts_for_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["app.users.id"], name=op.f("fk_mission_drafts_created_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["app.users.id"], name=op.f("fk_mission_drafts_reviewer_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["mission_id"], ["app.missions.id"],
                                name=op.f("fk_mission_drafts_mission_id_missions"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_drafts")),
        schema="app",
    )
    op.create_index(op.f("ix_mission_drafts_status_created_at"), "mission_drafts", ["status", "created_at"],
                    unique=False, schema="app")
    op.create_table(
        "recommendation_settings",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["app.users.id"],
                                name=op.f("fk_recommendation_settings_updated_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_recommendation_settings")),
        schema="app",
    )
    op.create_table(
        "policy_documents",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sources", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("chunks_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_policy_documents")),
        schema="raw",
    )


def downgrade() -> None:
    op.drop_table("policy_documents", schema="raw")
    op.drop_table("recommendation_settings", schema="app")
    op.drop_index(op.f("ix_mission_drafts_status_created_at"), table_name="mission_drafts", schema="app")
    op.drop_table("mission_drafts", schema="app")
    op.drop_index(op.f("ix_recommendation_evaluation_run_at"), table_name="recommendation_evaluation",
                  schema="serving")
    op.drop_table("recommendation_evaluation", schema="serving")
    op.drop_table("recommendations", schema="serving")
