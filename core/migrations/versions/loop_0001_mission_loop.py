"""loop: mission attempts and their steps, check-ins, QR scans, step photos, volunteer hours, mission hosts,
xAPI clients/activities/statements, and the serving side of the leaderboards

Generated with alembic autogenerate against a scratch database (tables of core/tables_loop.py only),
then reviewed. A branch of its own from 0001, applied with the other heads.

Revision ID: loop_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "loop_0001"
down_revision = "0001"
branch_labels = ("loop",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaderboard",
        sa.Column("board", sa.Text(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("board", "user_id", name=op.f("pk_leaderboard")),
        schema="serving",
    )
    op.create_index("ix_leaderboard_board_points", "leaderboard", ["board", "points"], unique=False, schema="serving")
    op.create_table(
        "leaderboard_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_count", sa.BigInteger(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_leaderboard_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_state")),
        schema="serving",
    )
    op.create_table(
        "user_positions",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_positions")),
        schema="serving",
    )
    op.create_index(op.f("ix_user_positions_lat_lon"), "user_positions", ["lat", "lon"], unique=False, schema="serving")
    op.create_table(
        "xapi_clients",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("client_id ~ '^[a-z0-9][a-z0-9_.-]{2,63}$'", name=op.f("ck_xapi_clients_client_id")),
        sa.ForeignKeyConstraint(["created_by"], ["app.users.id"], name=op.f("fk_xapi_clients_created_by_users")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_xapi_clients")),
        schema="app",
    )
    op.create_table(
        "mission_attempts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), server_default="in_progress", nullable=False),
        sa.Column("steps_total", sa.SmallInteger(), nullable=False),
        sa.Column("steps_done", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("failure_text", sa.Text(), nullable=True),
        sa.Column("points_awarded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("channel", sa.Text(), server_default="app", nullable=False),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at is not null)", name=op.f("ck_mission_attempts_completed_at")
        ),
        sa.CheckConstraint(
            "status in ('in_progress', 'completed', 'failed', 'abandoned')", name=op.f("ck_mission_attempts_status")
        ),
        sa.CheckConstraint("points_awarded >= 0", name=op.f("ck_mission_attempts_points")),
        sa.CheckConstraint("steps_done between 0 and steps_total", name=op.f("ck_mission_attempts_steps_done")),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["app.missions.id"],
            name=op.f("fk_mission_attempts_mission_id_missions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_mission_attempts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_attempts")),
        schema="app",
    )
    op.create_index(
        "ix_mission_attempts_completed_at",
        "mission_attempts",
        ["completed_at"],
        unique=False,
        schema="app",
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.create_index(
        op.f("ix_mission_attempts_mission_id_status"),
        "mission_attempts",
        ["mission_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_mission_attempts_user_id_started_at"),
        "mission_attempts",
        ["user_id", "started_at"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "uq_mission_attempts_open",
        "mission_attempts",
        ["user_id", "mission_id"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("status = 'in_progress'"),
    )
    op.create_table(
        "mission_hosts",
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["app.missions.id"], name=op.f("fk_mission_hosts_mission_id_missions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_mission_hosts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mission_id", "user_id", name=op.f("pk_mission_hosts")),
        schema="app",
    )
    op.create_index(op.f("ix_mission_hosts_user_id"), "mission_hosts", ["user_id"], unique=False, schema="app")
    op.create_table(
        "xapi_activities",
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"], ["app.missions.id"], name=op.f("fk_xapi_activities_mission_id_missions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_xapi_activities")),
        schema="app",
    )
    op.create_table(
        "xapi_statements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("verb_id", sa.Text(), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("statement", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=True),
        sa.Column("attempt_id", sa.UUID(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["app.xapi_clients.client_id"], name=op.f("fk_xapi_statements_client_id_xapi_clients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_xapi_statements_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
        schema="app",
    )
    op.create_index(
        op.f("ix_xapi_statements_user_id_timestamp"),
        "xapi_statements",
        ["user_id", "timestamp"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "attempt_steps",
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=False),
        sa.Column(
            "evidence", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["app.mission_attempts.id"],
            name=op.f("fk_attempt_steps_attempt_id_mission_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attempt_id", "step_no", name=op.f("pk_attempt_steps")),
        schema="app",
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("allowed_m", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("accepted = (reason is null)", name=op.f("ck_checkins_reason")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["app.mission_attempts.id"],
            name=op.f("fk_checkins_attempt_id_mission_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        schema="app",
    )
    op.create_index(
        op.f("ix_checkins_attempt_id_step_no"), "checkins", ["attempt_id", "step_no"], unique=False, schema="app"
    )
    op.create_index(
        op.f("ix_checkins_user_id_created_at"), "checkins", ["user_id", "created_at"], unique=False, schema="app"
    )
    op.create_table(
        "qr_scans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("token_id", sa.Text(), nullable=True),
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("issuer_id", sa.UUID(), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("accepted = (reason is null)", name=op.f("ck_qr_scans_reason")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["app.mission_attempts.id"],
            name=op.f("fk_qr_scans_attempt_id_mission_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_qr_scans_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qr_scans")),
        schema="app",
    )
    op.create_index(
        op.f("ix_qr_scans_attempt_id_step_no"), "qr_scans", ["attempt_id", "step_no"], unique=False, schema="app"
    )
    op.create_index(
        "uq_qr_scans_token_user_accepted",
        "qr_scans",
        ["token_id", "user_id"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("accepted"),
    )
    op.create_table(
        "step_photos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["app.mission_attempts.id"],
            name=op.f("fk_step_photos_attempt_id_mission_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_step_photos_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_photos")),
        schema="app",
    )
    op.create_index(
        op.f("ix_step_photos_attempt_id_step_no"), "step_photos", ["attempt_id", "step_no"], unique=False, schema="app"
    )
    op.create_table(
        "volunteer_hours",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("mission_id", sa.UUID(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.Text(), server_default="claimed", nullable=False),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(status = 'claimed') = (decided_at is null)", name=op.f("ck_volunteer_hours_decided")),
        sa.CheckConstraint("status in ('claimed', 'confirmed', 'rejected')", name=op.f("ck_volunteer_hours_status")),
        sa.CheckConstraint("hours > 0 and hours <= 24", name=op.f("ck_volunteer_hours_hours")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["app.mission_attempts.id"],
            name=op.f("fk_volunteer_hours_attempt_id_mission_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["app.users.id"], name=op.f("fk_volunteer_hours_decided_by_users")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app.users.id"], name=op.f("fk_volunteer_hours_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_hours")),
        schema="app",
    )
    op.create_index(
        op.f("ix_volunteer_hours_mission_id_status"),
        "volunteer_hours",
        ["mission_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "uq_volunteer_hours_open",
        "volunteer_hours",
        ["attempt_id", "step_no"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("status <> 'rejected'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_volunteer_hours_open",
        table_name="volunteer_hours",
        schema="app",
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.drop_index(op.f("ix_volunteer_hours_mission_id_status"), table_name="volunteer_hours", schema="app")
    op.drop_table("volunteer_hours", schema="app")
    op.drop_index(op.f("ix_step_photos_attempt_id_step_no"), table_name="step_photos", schema="app")
    op.drop_table("step_photos", schema="app")
    op.drop_index(
        "uq_qr_scans_token_user_accepted", table_name="qr_scans", schema="app", postgresql_where=sa.text("accepted")
    )
    op.drop_index(op.f("ix_qr_scans_attempt_id_step_no"), table_name="qr_scans", schema="app")
    op.drop_table("qr_scans", schema="app")
    op.drop_index(op.f("ix_checkins_user_id_created_at"), table_name="checkins", schema="app")
    op.drop_index(op.f("ix_checkins_attempt_id_step_no"), table_name="checkins", schema="app")
    op.drop_table("checkins", schema="app")
    op.drop_table("attempt_steps", schema="app")
    op.drop_index(op.f("ix_xapi_statements_user_id_timestamp"), table_name="xapi_statements", schema="app")
    op.drop_table("xapi_statements", schema="app")
    op.drop_table("xapi_activities", schema="app")
    op.drop_index(op.f("ix_mission_hosts_user_id"), table_name="mission_hosts", schema="app")
    op.drop_table("mission_hosts", schema="app")
    op.drop_index(
        "uq_mission_attempts_open",
        table_name="mission_attempts",
        schema="app",
        postgresql_where=sa.text("status = 'in_progress'"),
    )
    op.drop_index(op.f("ix_mission_attempts_user_id_started_at"), table_name="mission_attempts", schema="app")
    op.drop_index(op.f("ix_mission_attempts_mission_id_status"), table_name="mission_attempts", schema="app")
    op.drop_index(
        "ix_mission_attempts_completed_at",
        table_name="mission_attempts",
        schema="app",
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.drop_table("mission_attempts", schema="app")
    op.drop_table("xapi_clients", schema="app")
    op.drop_index(op.f("ix_user_positions_lat_lon"), table_name="user_positions", schema="serving")
    op.drop_table("user_positions", schema="serving")
    op.drop_table("leaderboard_state", schema="serving")
    op.drop_index("ix_leaderboard_board_points", table_name="leaderboard", schema="serving")
    op.drop_table("leaderboard", schema="serving")
