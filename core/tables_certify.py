"""Tables of skill certification, credentials and needs matching (migration branch `certify`).

app.certification_* hold submissions, their evidence files, the automatic checks, the assessment,
the reviews and the perceptual hashes; app.user_skill_tiers the current tier per skill;
app.credentials the issued Open Badges with their revocation; app.need_engagements the invitations
and applications on app.regional_needs (the foundation's table, not altered here);
serving.need_matches what the matching asset ranked.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from core.tables import metadata

SUBMISSION_STATUSES = ("pending", "checked", "approved", "rejected")
ENGAGEMENT_KINDS = ("invite", "apply")
ENGAGEMENT_STATUSES = ("pending", "accepted", "declined", "withdrawn")


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _user_fk(name: str, nullable: bool = False) -> Column:
    return Column(name, UUID(as_uuid=True), ForeignKey("app.users.id"), nullable=nullable)


certification_submissions = Table(
    "certification_submissions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    _user_fk("user_id"),
    Column("skill", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id")),
    Column("step_no", SmallInteger),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("risk_score", Float),  # from the checks: the review queue puts risky ones first
    Column("resubmission_of", UUID(as_uuid=True), ForeignKey("app.certification_submissions.id")),
    _created(),
    Column("checked_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint("status in ('pending', 'checked', 'approved', 'rejected')", name="status"),
    CheckConstraint("step_no is null or mission_id is not null", name="step_needs_mission"),
    Index(None, "user_id", "created_at"),
    Index(None, "status", "created_at"),
    schema="app",
)

certification_evidence = Table(
    "certification_evidence", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("submission_id", UUID(as_uuid=True),
           ForeignKey("app.certification_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),  # upload order, 0-based
    Column("kind", Text, nullable=False),  # image | audio
    Column("original_name", Text, nullable=False),
    Column("sniffed_type", Text, nullable=False),  # jpeg, png, webp, wav, flac, ogg, mp3
    Column("sha256", Text, nullable=False),  # of the uploaded bytes (what credentials cite)
    Column("size_bytes", BigInteger, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("stored_sha256", Text, nullable=False),
    Column("stored_size_bytes", BigInteger, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("duration_s", Float),
    Column("sample_rate", Integer),
    Column("channels", SmallInteger),
    Column("exif_taken_at", DateTime(timezone=True)),
    Column("exif_lat", Float),
    Column("exif_lon", Float),
    _created(),
    CheckConstraint("kind in ('image', 'audio')", name="kind"),
    UniqueConstraint("submission_id", "position"),
    UniqueConstraint("storage_key"),
    schema="app",
)

certification_checks = Table(
    "certification_checks", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("submission_id", UUID(as_uuid=True),
           ForeignKey("app.certification_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("evidence_id", UUID(as_uuid=True), ForeignKey("app.certification_evidence.id", ondelete="CASCADE")),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("value", JSONB),
    Column("threshold", Text, nullable=False),
    Column("message", Text, nullable=False),
    _created(),
    CheckConstraint("status in ('pass', 'warn', 'fail')", name="status"),
    Index(None, "submission_id"),
    schema="app",
)

certification_assessments = Table(
    "certification_assessments", metadata,
    Column("submission_id", UUID(as_uuid=True),
           ForeignKey("app.certification_submissions.id", ondelete="CASCADE"), primary_key=True),
    Column("engine", Text, nullable=False),
    Column("recommended_tier", SmallInteger, nullable=False),
    Column("risk_level", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("report", JSONB, nullable=False),
    Column("fallback_reason", Text),
    _created(),
    CheckConstraint("recommended_tier between 1 and 3", name="tier"),
    CheckConstraint("risk_level in ('low', 'medium', 'high')", name="risk_level"),
    schema="app",
)

certification_reviews = Table(
    "certification_reviews", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("submission_id", UUID(as_uuid=True),
           ForeignKey("app.certification_submissions.id", ondelete="CASCADE"), nullable=False),
    _user_fk("reviewer_id"),
    Column("decision", Text, nullable=False),
    Column("tier", SmallInteger),
    Column("feedback", Text, nullable=False, server_default=""),
    _created(),
    CheckConstraint("decision in ('approved', 'rejected')", name="decision"),
    CheckConstraint("(decision = 'approved' and tier between 1 and 3) or "
                    "(decision = 'rejected' and tier is null and length(btrim(feedback)) > 0)", name="decision_shape"),
    Index(None, "submission_id"),
    schema="app",
)

user_skill_tiers = Table(
    "user_skill_tiers", metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="CASCADE"), nullable=False),
    Column("skill", Text, nullable=False),
    Column("tier", SmallInteger, nullable=False),
    Column("submission_id", UUID(as_uuid=True), ForeignKey("app.certification_submissions.id"), nullable=False),
    Column("credential_id", UUID(as_uuid=True)),
    Column("certified_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "skill"),
    CheckConstraint("tier between 1 and 3", name="tier"),
    Index(None, "skill", "tier"),
    schema="app",
)

credentials = Table(
    "credentials", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # the credential's urn:uuid
    _user_fk("user_id"),
    Column("submission_id", UUID(as_uuid=True), ForeignKey("app.certification_submissions.id"), nullable=False),
    Column("skill", Text, nullable=False),
    Column("tier", SmallInteger, nullable=False),
    Column("document", JSONB, nullable=False),  # the signed OpenBadgeCredential, as issued
    Column("issuer_did", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    Column("revocation_reason", Text),
    CheckConstraint("(revoked_at is null) = (revocation_reason is null)", name="revocation_has_reason"),
    Index(None, "user_id", "skill"),
    schema="app",
)

certification_phashes = Table(
    "certification_phashes", metadata,  # every earlier photo's 64-bit pHash, split into 4 indexed bands
    Column("evidence_id", UUID(as_uuid=True), ForeignKey("app.certification_evidence.id", ondelete="CASCADE"),
           primary_key=True),
    Column("submission_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("skill", Text, nullable=False),
    Column("phash", BigInteger, nullable=False),
    Column("band0", Integer, Computed("((phash >> 48) & 65535)", persisted=True)),
    Column("band1", Integer, Computed("((phash >> 32) & 65535)", persisted=True)),
    Column("band2", Integer, Computed("((phash >> 16) & 65535)", persisted=True)),
    Column("band3", Integer, Computed("(phash & 65535)", persisted=True)),
    _created(),
    Index(None, "band0"), Index(None, "band1"), Index(None, "band2"), Index(None, "band3"),
    schema="app",
)

need_engagements = Table(
    "need_engagements", metadata,  # an invitation (requester → user) or application (user → need)
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("need_id", UUID(as_uuid=True), ForeignKey("app.regional_needs.id", ondelete="CASCADE"), nullable=False),
    _user_fk("user_id"),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    _user_fk("initiated_by"),
    Column("message", Text, nullable=False, server_default=""),
    _created(),
    Column("responded_at", DateTime(timezone=True)),
    Column("responded_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    CheckConstraint("kind in ('invite', 'apply')", name="kind"),
    CheckConstraint("status in ('pending', 'accepted', 'declined', 'withdrawn')", name="status"),
    UniqueConstraint("need_id", "user_id"),
    Index(None, "user_id", "status"),
    schema="app",
)

need_matches = Table(
    "need_matches", metadata,  # written by the matching asset, read by the API
    Column("need_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("base_score", Float, nullable=False),  # before the fairness discount
    Column("distance_km", Float),
    Column("tier", SmallInteger, nullable=False),
    Column("reasons", ARRAY(Text), nullable=False),
    Column("components", JSONB, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("need_id", "user_id"),
    Index(None, "user_id"),
    Index(None, "need_id", "rank"),
    schema="serving",
)

CERTIFY_TABLES = [certification_submissions, certification_evidence, certification_checks,
                  certification_assessments, certification_reviews, user_skill_tiers, credentials,
                  certification_phashes, need_engagements, need_matches]
