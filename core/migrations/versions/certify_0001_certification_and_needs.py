"""certify: certification submissions, evidence, checks, assessments, reviews, skill tiers, credentials,
perceptual hashes, need engagements and serving.need_matches

Generated with alembic autogenerate against a scratch database (tables of core/tables_certify.py only),
then reviewed. A branch of its own from 0001, applied with the other heads.

Revision ID: certify_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "certify_0001"
down_revision = "0001"
branch_labels = ("certify",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "need_matches",
        sa.Column("need_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("base_score", sa.Float(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("reasons", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("components", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("need_id", "user_id", name=op.f("pk_need_matches")),
        schema="serving",
    )
    op.create_index(
        op.f("ix_need_matches_need_id_rank"), "need_matches", ["need_id", "rank"], unique=False, schema="serving"
    )
    op.create_index(op.f("ix_need_matches_user_id"), "need_matches", ["user_id"], unique=False, schema="serving")
    op.create_table(
        "certification_submissions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("skill", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=True),
        sa.Column("step_no", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("resubmission_of", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('pending', 'checked', 'approved', 'rejected')", name=op.f("ck_certification_submissions_status")
        ),
        sa.CheckConstraint(
            "step_no is null or mission_id is not null", name=op.f("ck_certification_submissions_step_needs_mission")
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["app.missions.id"], name=op.f("fk_certification_submissions_mission_id_missions")
        ),
        sa.ForeignKeyConstraint(
            ["resubmission_of"],
            ["app.certification_submissions.id"],
            name=op.f("fk_certification_submissions_resubmission_of_certification_submissions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_certification_submissions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_submissions")),
        schema="app",
    )
    op.create_index(
        op.f("ix_certification_submissions_status_created_at"),
        "certification_submissions",
        ["status", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_certification_submissions_user_id_created_at"),
        "certification_submissions",
        ["user_id", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "need_engagements",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("need_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("initiated_by", sa.UUID(), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", sa.UUID(), nullable=True),
        sa.CheckConstraint("kind in ('invite', 'apply')", name=op.f("ck_need_engagements_kind")),
        sa.CheckConstraint(
            "status in ('pending', 'accepted', 'declined', 'withdrawn')", name=op.f("ck_need_engagements_status")
        ),
        sa.ForeignKeyConstraint(
            ["initiated_by"], ["app.users.id"], name=op.f("fk_need_engagements_initiated_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["app.regional_needs.id"],
            name=op.f("fk_need_engagements_need_id_regional_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responded_by"], ["app.users.id"], name=op.f("fk_need_engagements_responded_by_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_need_engagements_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_engagements")),
        sa.UniqueConstraint("need_id", "user_id", name=op.f("uq_need_engagements_need_id_user_id")),
        schema="app",
    )
    op.create_index(
        op.f("ix_need_engagements_user_id_status"),
        "need_engagements",
        ["user_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "certification_assessments",
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("recommended_tier", sa.SmallInteger(), nullable=False),
        sa.Column("risk_level", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "risk_level in ('low', 'medium', 'high')", name=op.f("ck_certification_assessments_risk_level")
        ),
        sa.CheckConstraint("recommended_tier between 1 and 3", name=op.f("ck_certification_assessments_tier")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_certification_assessments_submission_id_certification_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_certification_assessments")),
        schema="app",
    )
    op.create_table(
        "certification_evidence",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("sniffed_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("stored_sha256", sa.Text(), nullable=False),
        sa.Column("stored_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("channels", sa.SmallInteger(), nullable=True),
        sa.Column("exif_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exif_lat", sa.Float(), nullable=True),
        sa.Column("exif_lon", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind in ('image', 'audio')", name=op.f("ck_certification_evidence_kind")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_certification_evidence_submission_id_certification_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_evidence")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_certification_evidence_storage_key")),
        sa.UniqueConstraint("submission_id", "position", name=op.f("uq_certification_evidence_submission_id_position")),
        schema="app",
    )
    op.create_table(
        "certification_reviews",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=True),
        sa.Column("feedback", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(decision = 'approved' and tier between 1 and 3) or "
            "(decision = 'rejected' and tier is null and length(btrim(feedback)) > 0)",
            name=op.f("ck_certification_reviews_decision_shape"),
        ),
        sa.CheckConstraint("decision in ('approved', 'rejected')", name=op.f("ck_certification_reviews_decision")),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["app.users.id"], name=op.f("fk_certification_reviews_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_certification_reviews_submission_id_certification_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_reviews")),
        schema="app",
    )
    op.create_index(
        op.f("ix_certification_reviews_submission_id"),
        "certification_reviews",
        ["submission_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("skill", sa.Text(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("issuer_did", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.UUID(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(revoked_at is null) = (revocation_reason is null)", name=op.f("ck_credentials_revocation_has_reason")
        ),
        sa.ForeignKeyConstraint(["revoked_by"], ["app.users.id"], name=op.f("fk_credentials_revoked_by_users")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_credentials_submission_id_certification_submissions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_credentials_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        schema="app",
    )
    op.create_index(
        op.f("ix_credentials_user_id_skill"), "credentials", ["user_id", "skill"], unique=False, schema="app"
    )
    op.create_table(
        "user_skill_tiers",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("skill", sa.Text(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("credential_id", sa.UUID(), nullable=True),
        sa.Column("certified_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("tier between 1 and 3", name=op.f("ck_user_skill_tiers_tier")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_user_skill_tiers_submission_id_certification_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_user_skill_tiers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "skill", name=op.f("pk_user_skill_tiers")),
        schema="app",
    )
    op.create_index(
        op.f("ix_user_skill_tiers_skill_tier"), "user_skill_tiers", ["skill", "tier"], unique=False, schema="app"
    )
    op.create_table(
        "certification_checks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("evidence_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("threshold", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status in ('pass', 'warn', 'fail')", name=op.f("ck_certification_checks_status")),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["app.certification_evidence.id"],
            name=op.f("fk_certification_checks_evidence_id_certification_evidence"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["app.certification_submissions.id"],
            name=op.f("fk_certification_checks_submission_id_certification_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_checks")),
        schema="app",
    )
    op.create_index(
        op.f("ix_certification_checks_submission_id"),
        "certification_checks",
        ["submission_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "certification_phashes",
        sa.Column("evidence_id", sa.UUID(), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("skill", sa.Text(), nullable=False),
        sa.Column("phash", sa.BigInteger(), nullable=False),
        sa.Column("band0", sa.Integer(), sa.Computed("((phash >> 48) & 65535)", persisted=True), nullable=True),
        sa.Column("band1", sa.Integer(), sa.Computed("((phash >> 32) & 65535)", persisted=True), nullable=True),
        sa.Column("band2", sa.Integer(), sa.Computed("((phash >> 16) & 65535)", persisted=True), nullable=True),
        sa.Column("band3", sa.Integer(), sa.Computed("(phash & 65535)", persisted=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["app.certification_evidence.id"],
            name=op.f("fk_certification_phashes_evidence_id_certification_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_certification_phashes")),
        schema="app",
    )
    op.create_index(
        op.f("ix_certification_phashes_band0"), "certification_phashes", ["band0"], unique=False, schema="app"
    )
    op.create_index(
        op.f("ix_certification_phashes_band1"), "certification_phashes", ["band1"], unique=False, schema="app"
    )
    op.create_index(
        op.f("ix_certification_phashes_band2"), "certification_phashes", ["band2"], unique=False, schema="app"
    )
    op.create_index(
        op.f("ix_certification_phashes_band3"), "certification_phashes", ["band3"], unique=False, schema="app"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_certification_phashes_band3"), table_name="certification_phashes", schema="app")
    op.drop_index(op.f("ix_certification_phashes_band2"), table_name="certification_phashes", schema="app")
    op.drop_index(op.f("ix_certification_phashes_band1"), table_name="certification_phashes", schema="app")
    op.drop_index(op.f("ix_certification_phashes_band0"), table_name="certification_phashes", schema="app")
    op.drop_table("certification_phashes", schema="app")
    op.drop_index(op.f("ix_certification_checks_submission_id"), table_name="certification_checks", schema="app")
    op.drop_table("certification_checks", schema="app")
    op.drop_index(op.f("ix_user_skill_tiers_skill_tier"), table_name="user_skill_tiers", schema="app")
    op.drop_table("user_skill_tiers", schema="app")
    op.drop_index(op.f("ix_credentials_user_id_skill"), table_name="credentials", schema="app")
    op.drop_table("credentials", schema="app")
    op.drop_index(op.f("ix_certification_reviews_submission_id"), table_name="certification_reviews", schema="app")
    op.drop_table("certification_reviews", schema="app")
    op.drop_table("certification_evidence", schema="app")
    op.drop_table("certification_assessments", schema="app")
    op.drop_index(op.f("ix_need_engagements_user_id_status"), table_name="need_engagements", schema="app")
    op.drop_table("need_engagements", schema="app")
    op.drop_index(
        op.f("ix_certification_submissions_user_id_created_at"), table_name="certification_submissions", schema="app"
    )
    op.drop_index(
        op.f("ix_certification_submissions_status_created_at"), table_name="certification_submissions", schema="app"
    )
    op.drop_table("certification_submissions", schema="app")
    op.drop_index(op.f("ix_need_matches_user_id"), table_name="need_matches", schema="serving")
    op.drop_index(op.f("ix_need_matches_need_id_rank"), table_name="need_matches", schema="serving")
    op.drop_table("need_matches", schema="serving")
