"""Tables of recommendations and AI mission drafts (migration branch `recommend`).

serving.recommendations holds the precomputed top 20 per active user with each item's score parts
and reasons (only the latest list: each precompute replaces a user's rows); serving.recommendation_log
the first time each mission was recommended to each user (what the follow-up marts measure from);
serving.recommendation_evaluation every evaluation run's figures per segment and
method. app.mission_drafts holds generated drafts until an admin approves (a real app.missions row
is made then) or rejects them; app.recommendation_settings the weights staff set (the
population-decline policy weight). raw.policy_documents keeps the policy corpus as it was ingested.
The ranker reads one user's history online through raw.activity_events' index on user_id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from core.tables import metadata

DRAFT_STATUSES = ("draft", "approved", "rejected")

recommendations = Table(
    "recommendations", metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("rank", SmallInteger, nullable=False),
    Column("mission_id", UUID(as_uuid=True), nullable=False),
    Column("score", Float, nullable=False),
    Column("parts", JSONB, nullable=False),  # part name → contribution to the score
    Column("reasons_ko", ARRAY(Text), nullable=False),
    Column("reasons_en", ARRAY(Text), nullable=False),
    Column("engine", Text, nullable=False),  # ranker version + embedding engine@version
    Column("generated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "rank"),
    CheckConstraint("rank >= 1", name="rank"),
    schema="serving",
)

recommendation_log = Table(
    "recommendation_log", metadata,
    # First-recommended log: one row per user × mission, written by the precompute with
    # `on conflict do nothing`, so a pair is logged only the first time it is recommended (the rank,
    # score and engine are those of that first list). It stays small: it grows only with new pairs,
    # not with each run.
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("mission_id", UUID(as_uuid=True), nullable=False),
    Column("first_recommended_at", DateTime(timezone=True), nullable=False),
    Column("rank", SmallInteger, nullable=False),
    Column("score", Float, nullable=False),
    Column("engine", Text, nullable=False),
    PrimaryKeyConstraint("user_id", "mission_id"),
    schema="serving",
)

recommendation_evaluation = Table(
    "recommendation_evaluation", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("run_at", DateTime(timezone=True), nullable=False),
    Column("segment", Text, nullable=False),  # history | cold_start | all
    Column("method", Text, nullable=False),  # hybrid | item_knn | popularity | random
    Column("ndcg_at_10", Float, nullable=False),
    Column("recall_at_10", Float, nullable=False),
    Column("coverage", Float, nullable=False),
    Column("users_count", Integer, nullable=False),
    Column("heldout_count", Integer, nullable=False),
    Column("cutoff_at", DateTime(timezone=True), nullable=False),
    Column("candidates_count", Integer, nullable=False),
    Column("engine", Text, nullable=False),
    Index(None, "run_at"),
    schema="serving",
)

mission_drafts = Table(
    "mission_drafts", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("region_code", String(5), nullable=False),
    Column("for_user_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="SET NULL")),
    Column("payload", JSONB, nullable=False),  # the validated MissionDraft (ai/generate/schema.py)
    Column("citations", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("engine", Text, nullable=False),  # openai:<model> | template:<version>
    Column("fallback_reason", Text),  # why the template writer stood in for the model, when it did
    Column("status", Text, nullable=False, server_default="draft"),
    Column("created_by", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("reviewer_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="SET NULL")),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id", ondelete="SET NULL")),
    CheckConstraint(f"status in ({', '.join(repr(s) for s in DRAFT_STATUSES)})", name="status"),
    CheckConstraint("(status = 'approved') = (mission_id is not null)", name="approved_has_mission"),
    Index(None, "status", "created_at"),
    schema="app",
)

recommendation_settings = Table(
    "recommendation_settings", metadata,
    Column("key", Text, primary_key=True),  # e.g. 'policy_weight'
    Column("value", Float, nullable=False),
    Column("updated_by", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="SET NULL")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="app",
)

policy_documents = Table(
    "policy_documents", metadata,
    Column("slug", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("sources", ARRAY(Text), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("body", Text, nullable=False),
    Column("checksum", Text, nullable=False),
    Column("chunks_count", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="raw",
)

RECOMMEND_TABLES = [recommendations, recommendation_log, recommendation_evaluation, mission_drafts,
                    recommendation_settings, policy_documents]
