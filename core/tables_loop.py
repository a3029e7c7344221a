"""Tables of the mission loop (migration branch `loop`): attempts, verified presence, hours, xAPI, boards.

app.mission_attempts and app.attempt_steps are the API's view of progress (the events in
raw.activity_events are the history dbt recomputes it from); app.checkins and app.qr_scans store every
verification decision with its reason, accepted or not; app.volunteer_hours the hours a user claims and a
host decides; app.step_photos the photos uploaded for photo steps (handed to certification later);
app.mission_hosts co-hosts beside missions.created_by; app.xapi_* the learning platforms, their
statements (the statement id is the key: idempotency) and activity-id mappings. serving.leaderboard*
and serving.user_positions are the PostgreSQL side of the boards (core/ranking.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from core.tables import metadata

ATTEMPT_STATUSES = ("in_progress", "completed", "failed", "abandoned")
HOURS_STATUSES = ("claimed", "confirmed", "rejected")


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _user_fk() -> Column:
    return Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="CASCADE"), nullable=False)


def _attempt_fk() -> Column:
    return Column("attempt_id", UUID(as_uuid=True), ForeignKey("app.mission_attempts.id", ondelete="CASCADE"),
                  nullable=False)


mission_attempts = Table(
    "mission_attempts", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    _user_fk(),
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False, server_default="in_progress"),
    Column("steps_total", SmallInteger, nullable=False),
    Column("steps_done", SmallInteger, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("failure_reason", Text),
    Column("failure_text", Text),
    Column("points_awarded", Integer, nullable=False, server_default="0"),
    Column("channel", Text, nullable=False, server_default="app"),  # app | xapi:<client>
    CheckConstraint(f"status in {ATTEMPT_STATUSES}", name="status"),
    CheckConstraint("steps_done between 0 and steps_total", name="steps_done"),
    CheckConstraint("(status = 'completed') = (completed_at is not null)", name="completed_at"),
    CheckConstraint("points_awarded >= 0", name="points"),
    # one open attempt per user and mission
    Index("uq_mission_attempts_open", "user_id", "mission_id", unique=True,
          postgresql_where=text("status = 'in_progress'")),
    Index(None, "user_id", "started_at"),
    Index(None, "mission_id", "status"),
    Index("ix_mission_attempts_completed_at", "completed_at", postgresql_where=text("status = 'completed'")),
    schema="app",
)

attempt_steps = Table(
    "attempt_steps", metadata,
    _attempt_fk(),
    Column("step_no", SmallInteger, nullable=False),
    Column("verification", Text, nullable=False),
    Column("evidence", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("attempt_id", "step_no"),
    schema="app",
)

checkins = Table(
    "checkins", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _attempt_fk(),
    _user_fk(),
    Column("mission_id", UUID(as_uuid=True), nullable=False),
    Column("step_no", SmallInteger, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("accuracy_m", Float),
    Column("distance_m", Float, nullable=False),  # to the spot
    Column("allowed_m", Float, nullable=False),  # radius + the accuracy allowance
    Column("speed_kmh", Float),  # from the previous accepted check-in
    Column("accepted", Boolean, nullable=False),
    Column("reason", Text),  # outside_radius | impossible_travel | gps_inaccurate; null when accepted
    Column("event_id", UUID(as_uuid=True), nullable=False),
    _created(),
    CheckConstraint("accepted = (reason is null)", name="reason"),
    Index(None, "user_id", "created_at"),
    Index(None, "attempt_id", "step_no"),
    schema="app",
)

qr_scans = Table(
    "qr_scans", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("token_id", Text),  # from the token; for a forged one the hash of what was sent; null if unreadable
    _attempt_fk(),
    _user_fk(),
    Column("mission_id", UUID(as_uuid=True), nullable=False),
    Column("step_no", SmallInteger, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", Text),  # malformed | forged | expired | not_yet_valid | replayed | other_mission | other_step
    Column("issuer_id", UUID(as_uuid=True)),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    _created(),
    CheckConstraint("accepted = (reason is null)", name="reason"),
    Index("uq_qr_scans_token_user_accepted", "token_id", "user_id", unique=True,
          postgresql_where=text("accepted")),
    Index(None, "attempt_id", "step_no"),
    schema="app",
)

step_photos = Table(
    "step_photos", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _attempt_fk(),
    _user_fk(),
    Column("step_no", SmallInteger, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    _created(),
    Index(None, "attempt_id", "step_no"),
    schema="app",
)

volunteer_hours = Table(
    "volunteer_hours", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _attempt_fk(),
    _user_fk(),
    Column("mission_id", UUID(as_uuid=True), nullable=False),
    Column("step_no", SmallInteger, nullable=False),
    Column("hours", Numeric(4, 1), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="claimed"),
    Column("decided_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    _created(),
    CheckConstraint(f"status in {HOURS_STATUSES}", name="status"),
    CheckConstraint("hours > 0 and hours <= 24", name="hours"),
    CheckConstraint("(status = 'claimed') = (decided_at is null)", name="decided"),
    # one live claim per attempt step: a rejected claim may be claimed again
    Index("uq_volunteer_hours_open", "attempt_id", "step_no", unique=True,
          postgresql_where=text("status <> 'rejected'")),
    Index(None, "mission_id", "status"),
    schema="app",
)

mission_hosts = Table(
    "mission_hosts", metadata,  # co-hosts; the creator of a mission (missions.created_by) hosts it too
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id", ondelete="CASCADE"), nullable=False),
    _user_fk(),
    _created(),
    PrimaryKeyConstraint("mission_id", "user_id"),
    Index(None, "user_id"),
    schema="app",
)

xapi_clients = Table(
    "xapi_clients", metadata,  # learning platforms allowed to POST /xapi/statements (HTTP Basic)
    Column("client_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),  # argon2id
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    _created(),
    CheckConstraint("client_id ~ '^[a-z0-9][a-z0-9_.-]{2,63}$'", name="client_id"),
    schema="app",
)

xapi_activities = Table(
    "xapi_activities", metadata,  # a platform's own activity IRIs → a learning mission (and step)
    Column("activity_id", Text, primary_key=True),
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id", ondelete="CASCADE"), nullable=False),
    Column("step_no", SmallInteger),
    _created(),
    schema="app",
)

xapi_statements = Table(
    "xapi_statements", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # the statement id: a second POST is idempotent
    Column("client_id", Text, ForeignKey("app.xapi_clients.client_id"), nullable=False),
    _user_fk(),
    Column("verb_id", Text, nullable=False),
    Column("object_id", Text, nullable=False),
    Column("statement", JSONB, nullable=False),  # as received (canonical JSON), compared on a repeat
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("mission_id", UUID(as_uuid=True)),  # when the object maps to a learning mission
    Column("attempt_id", UUID(as_uuid=True)),
    Column("outcome", Text, nullable=False),  # what it did: completed_mission, completed_step, recorded, …
    Column("stored_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "user_id", "timestamp"),
    schema="app",
)

# ---------------------------------------------------------------------------------- serving (boards)
leaderboard = Table(
    "leaderboard", metadata,  # snapshot of the points ledger, written by the pipeline (core.ranking)
    Column("board", Text, nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("points", BigInteger, nullable=False),
    PrimaryKeyConstraint("board", "user_id"),
    Index("ix_leaderboard_board_points", "board", "points"),
    schema="serving",
)

leaderboard_state = Table(
    "leaderboard_state", metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("as_of", DateTime(timezone=True), nullable=False),  # completions up to here are in the snapshot
    Column("rows_count", BigInteger, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
    schema="serving",
)

user_positions = Table(
    "user_positions", metadata,  # last verified position per user, for "near me" boards
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Index(None, "lat", "lon"),
    schema="serving",
)

LOOP_TABLES = [mission_attempts, attempt_steps, checkins, qr_scans, step_photos, volunteer_hours, mission_hosts,
               xapi_clients, xapi_activities, xapi_statements, leaderboard, leaderboard_state, user_positions]
