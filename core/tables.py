"""Table definitions of the `app` and `raw` schemas (SQLAlchemy Core).

`app` is the system of record written by the API; `raw` holds data as it landed, plus
`raw.quarantine` and `raw.ingested_files`. Migrations in core/migrations create them;
dbt reads both as sources.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from core.vocab import MissionStatus, MissionType, StepVerification, UserType

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: type) -> str:
    return f"{column} in ({', '.join(repr(v.value) for v in values)})"  # type: ignore[attr-defined]


def _now() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


REGION_CODE = String(5)

# ---------------------------------------------------------------------------------- app schema
users = Table(
    "users", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("email", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("user_type", Text),  # null for staff accounts
    Column("roles", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("birth_year", SmallInteger),
    Column("hometown_region_code", REGION_CODE),  # 고향
    Column("home_region_code", REGION_CODE),  # where they live now
    Column("interest_region_codes", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("skills", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("interests", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("managed_region_code", REGION_CODE),  # municipality officers and hosts: their 시군구
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_demo", Boolean, nullable=False, server_default=text("false")),
    _now(),
    CheckConstraint(f"user_type is null or {_in('user_type', UserType)}", name="user_type"),
    CheckConstraint("email = lower(email) and position('@' in email) > 1", name="email_lower"),
    UniqueConstraint("email"),
    schema="app",
)

missions = Table(
    "missions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("mission_type", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=MissionStatus.PUBLISHED.value),
    Column("region_code", REGION_CODE, nullable=False),
    Column("place_name", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("radius_m", Integer, nullable=False, server_default="200"),
    Column("source_kind", Text),  # tourist_spot | festival | heritage | need | manual | ai_draft
    Column("source_ref", Text),  # id in raw.places or app.regional_needs
    Column("skills", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("capacity", Integer),  # null: unlimited
    Column("points", Integer, nullable=False, server_default="100"),
    Column("expected_minutes", Integer, nullable=False, server_default="120"),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("created_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_in("mission_type", MissionType), name="mission_type"),
    CheckConstraint(_in("status", MissionStatus), name="status"),
    CheckConstraint("lat is null or (lat between -90 and 90 and lon between -180 and 180)", name="position"),
    CheckConstraint("radius_m > 0", name="radius"),
    CheckConstraint("capacity is null or capacity > 0", name="capacity"),
    Index(None, "region_code", "status"),
    schema="app",
)

mission_steps = Table(
    "mission_steps", metadata,
    Column("mission_id", UUID(as_uuid=True), ForeignKey("app.missions.id", ondelete="CASCADE"), nullable=False),
    Column("step_no", SmallInteger, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("verification", Text, nullable=False, server_default=StepVerification.NONE.value),
    Column("lat", Float),
    Column("lon", Float),
    Column("radius_m", Integer),
    PrimaryKeyConstraint("mission_id", "step_no"),
    CheckConstraint(_in("verification", StepVerification), name="verification"),
    CheckConstraint("step_no >= 1", name="step_no"),
    schema="app",
)

regional_needs = Table(
    "regional_needs", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("region_code", REGION_CODE, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("skill", Text, nullable=False),
    Column("tier_wanted", SmallInteger, nullable=False, server_default="1"),
    Column("place_name", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("headcount", SmallInteger, nullable=False, server_default="1"),
    Column("status", Text, nullable=False, server_default="open"),
    Column("posted_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    _now(),
    CheckConstraint("status in ('open', 'filled', 'closed')", name="status"),
    CheckConstraint("tier_wanted between 1 and 3", name="tier"),
    CheckConstraint("headcount >= 1", name="headcount"),
    Index(None, "region_code", "status"),
    schema="app",
)

demo_runs = Table(
    "demo_runs", metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("users_count", Integer, nullable=False),
    Column("missions_count", Integer, nullable=False),
    Column("events_count", Integer, nullable=False),
    Column("landing_files", ARRAY(Text), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    _now(),
    schema="app",
)

notifications = Table(
    "notifications", metadata,  # what the WebSocket pushes and the REST list shows to offline clients
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),  # mission_completed | badge_awarded | rank_changed | certification_* | …
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False, server_default=""),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("dedupe_key", Text),  # the same fact never notifies twice (e.g. 'badge:<user>:<badge>')
    _now(),
    Column("read_at", DateTime(timezone=True)),
    Index(None, "user_id", "created_at"),
    UniqueConstraint("dedupe_key"),
    schema="app",
)

audit_log = Table(
    "audit_log", metadata,  # who did what to which object, when and why (staff decisions, refusals)
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("actor_id", UUID(as_uuid=True)),  # null: the platform itself (a sensor, a rule)
    Column("action", Text, nullable=False),  # e.g. 'certification.approve', 'report.download_refused'
    Column("object_type", Text, nullable=False),
    Column("object_id", Text),
    Column("reason", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _now(),
    Index(None, "object_type", "object_id"),
    Index(None, "actor_id", "created_at"),
    schema="app",
)

# ---------------------------------------------------------------------------------- raw schema
regions = Table(
    "regions", metadata,
    Column("region_code", REGION_CODE, primary_key=True),  # 5-digit MOIS code of the 시·군·자치구
    Column("sido_code", String(2), nullable=False),
    Column("sido_name", Text, nullable=False),
    Column("sgg_name", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("level", Text, nullable=False),  # si | gun | gu | special (세종, 제주 행정시)
    Column("centroid_lat", Float, nullable=False),
    Column("centroid_lon", Float, nullable=False),
    Column("centroid_method", Text, nullable=False),  # area_centroid | largest_part_centroid | interior_point
    Column("area_km2", Float, nullable=False),
    Column("boundary_geojson", JSONB, nullable=False),  # MultiPolygon, EPSG:4326
    Column("kostat_code", Text),  # KOSTAT census code (2018 maps), where one exists
    Column("source_codes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="raw",
)

region_units = Table(
    "region_units", metadata,  # boundary units as published, incl. 일반구, mapped to their 시군구
    Column("unit_code", REGION_CODE, primary_key=True),
    Column("region_code", REGION_CODE, nullable=False),
    Column("unit_name", Text, nullable=False),
    Column("is_general_gu", Boolean, nullable=False),
    schema="raw",
)

region_population = Table(
    "region_population", metadata,
    Column("region_code", REGION_CODE, nullable=False),
    Column("year", SmallInteger, nullable=False),  # year-end resident population (주민등록 거주자)
    Column("sex", Text, nullable=False),  # total | male | female
    Column("age_band", Text, nullable=False),  # '0-4' … '95-99', '100+', and 'total'
    Column("population", Integer, nullable=False),
    PrimaryKeyConstraint("region_code", "year", "sex", "age_band"),
    CheckConstraint("sex in ('total', 'male', 'female')", name="sex"),
    CheckConstraint("population >= 0", name="population"),
    schema="raw",
)

decline_areas = Table(
    "decline_areas", metadata,  # 인구감소지역 (89) and 관심지역 (18)
    Column("region_code", REGION_CODE, primary_key=True),
    Column("category", Text, nullable=False),  # decline | interest
    Column("sido_name", Text, nullable=False),
    Column("sgg_name", Text, nullable=False),
    Column("notice", Text, nullable=False),
    Column("source_code", Text),  # the code as the source gave it
    Column("correction", Text),  # why the code was corrected, when it was
    CheckConstraint("category in ('decline', 'interest')", name="category"),
    schema="raw",
)

places = Table(
    "places", metadata,  # tourist spots, festivals and heritage sites with coordinates
    Column("place_id", Text, primary_key=True),  # '<kind>:<stable source key>'
    Column("kind", Text, nullable=False),  # tourist_spot | festival | heritage
    Column("name", Text, nullable=False),
    Column("region_code", REGION_CODE),  # by point-in-polygon; null when outside every boundary
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", Text),
    Column("description", Text),
    Column("category", Text),  # 관광지구분, 국보/보물/사적, …
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("source_file", Text, nullable=False),
    Column("source_line", Integer, nullable=False),
    CheckConstraint("kind in ('tourist_spot', 'festival', 'heritage')", name="kind"),
    Index(None, "region_code", "kind"),
    schema="raw",
)

empty_houses = Table(
    "empty_houses", metadata,  # 빈집 by 시군구 (KOSIS DT_1JU1512), 주택_계 rows
    Column("region_code", REGION_CODE, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("housing_type", Text, nullable=False),  # 계, 단독주택, 아파트, …
    Column("empty_count", Integer, nullable=False),
    PrimaryKeyConstraint("region_code", "year", "housing_type"),
    schema="raw",
)

activity_events = Table(
    "activity_events", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("mission_id", UUID(as_uuid=True)),
    Column("step_no", SmallInteger),
    Column("region_code", REGION_CODE),
    Column("lat", Float),
    Column("lon", Float),
    Column("payload", JSONB),
    Column("source", Text, nullable=False),  # 'file:<name>', 'api', 'xapi:<client>'
    Column("ingested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_activity_events_ingested_at_brin", "ingested_at", postgresql_using="brin"),
    # one user's events: the API's badge check and the ranker's online history read them (user_id = …,
    # then sort a user's rows); the only secondary index, because every index costs the bulk loader time
    # per row, and a hash index (migration 0002) costs it less than a btree on (user_id, occurred_at)
    Index("ix_activity_events_user_id_hash", "user_id", postgresql_using="hash"),
    schema="raw",
)

ingested_files = Table(
    "ingested_files", metadata,
    Column("checksum", Text, primary_key=True),  # sha256 of the file's bytes
    Column("file_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("loaded_count", Integer, nullable=False),
    Column("duplicate_count", Integer, nullable=False),
    Column("quarantined_count", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="raw",
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("source", Text, nullable=False),  # file name, table or endpoint
    Column("position", Text, nullable=False),  # line number, row number or request id
    Column("reason", Text, nullable=False),
    Column("content", Text),  # the offending line or row as it came (truncated to 4 kB)
    Column("quarantined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "source"),
    schema="raw",
)

