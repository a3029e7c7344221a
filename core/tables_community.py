"""Tables of the community (migration branch `community`): boards, posts, comments, likes, follows,
reports and moderation, mentor matching, and the per-user rate-limit window.

Content is never deleted: posts and comments carry a status (published, held by the screen, hidden by
a moderator, deleted by the author) with the reason, and every edit keeps the previous version in
app.post_revisions. A moderation case is one target under review (opened by reports or by the screen);
actions close it and are the training labels of the local moderation classifier.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from core.tables import metadata

BOARD_KINDS = ("general", "sido", "sigungu", "mission_type", "qna", "mentor")
CONTENT_STATUSES = ("published", "held", "hidden", "deleted")
REPORT_CATEGORIES = ("spam", "abuse", "harassment", "hate", "sexual", "violence", "privacy", "misinformation",
                     "other")
TARGET_TYPES = ("post", "comment", "user")
MODERATION_ACTIONS = ("dismiss", "hide", "warn", "suspend", "ban")
SANCTION_KINDS = ("warn", "suspend", "ban")
REQUEST_STATUSES = ("pending", "accepted", "declined", "withdrawn")

# The search tokens of a post: every word (runs of ASCII letters, digits and Hangul syllables, lower-cased)
# gives its character bigrams, its Hangul syllables one by one, and itself when it is one character. A query
# is tokenised the same way, so `search_tokens @> search_tokens(query)` finds every post holding each query
# word as a substring ('목공' in '목공방', '의성 빈집' in '의성군 빈집 수리') through a GIN index. Created by the
# migration before app.posts, whose generated column calls it; IMMUTABLE so it may.
SEARCH_TOKENS_FUNCTION = """
create or replace function app.search_tokens(title text, body text, tags text[]) returns text[]
language sql immutable parallel safe as $$
  with words as (
    select distinct w from regexp_split_to_table(
      lower(coalesce(title, '') || ' ' || coalesce(body, '') || ' ' || coalesce(array_to_string(tags, ' '), '')),
      '[^0-9a-z가-힣]+') as w
    where w <> ''
  )
  select coalesce(array_agg(distinct tok order by tok), '{}') from (
    select substr(w, i, 2) as tok from words, generate_series(1, char_length(w) - 1) as i
    union all
    select substr(w, i, 1) from words, generate_series(1, char_length(w)) as i where substr(w, i, 1) ~ '[가-힣]'
    union all
    select w from words where char_length(w) = 1
  ) as t
$$
"""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _user_fk(name: str, nullable: bool = False) -> Column:
    return Column(name, UUID(as_uuid=True), ForeignKey("app.users.id"), nullable=nullable)


def _uuid_pk() -> Column:
    return Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _text_array(name: str) -> Column:
    return Column(name, ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))


def _screening() -> list[Column]:
    """What the moderation screen said about a post or comment (shown to moderators)."""
    return [Column("screen_score", Float), _text_array("screen_reasons"), Column("screen_engine", Text)]


boards = Table(
    "boards", metadata,
    Column("id", Text, primary_key=True),  # 'general', 'qna', 'mentor', 'type-skill', 'sido-47', 'sgg-47730'
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("region_code", String(5)),  # sigungu boards
    Column("sido_code", String(2)),  # sido and sigungu boards
    Column("mission_type", Text),  # mission_type boards
    Column("position", Integer, nullable=False, server_default="1000"),
    _created(),
    CheckConstraint(_in("kind", BOARD_KINDS), name="kind"),
    CheckConstraint("(kind = 'sigungu') = (region_code is not null)", name="sigungu_region"),
    CheckConstraint("(kind in ('sido', 'sigungu')) = (sido_code is not null)", name="sido_code"),
    CheckConstraint("(kind = 'mission_type') = (mission_type is not null)", name="mission_type"),
    Index(None, "kind", "sido_code"),
    schema="app",
)

posts = Table(
    "posts", metadata,
    _uuid_pk(),
    Column("board_id", Text, ForeignKey("app.boards.id"), nullable=False),
    _user_fk("author_id"),
    Column("title", Text, nullable=False),
    Column("body_md", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("body_text", Text, nullable=False),  # visible text: search and previews
    _text_array("tags"),
    Column("region_code", String(5)),
    _text_array("image_keys"),
    Column("status", Text, nullable=False, server_default="published"),
    *_screening(),
    Column("status_reason", Text),  # why hidden or deleted
    Column("status_changed_at", DateTime(timezone=True)),
    Column("status_changed_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    Column("revision_count", Integer, nullable=False, server_default="0"),
    Column("comment_count", Integer, nullable=False, server_default="0"),
    Column("like_count", Integer, nullable=False, server_default="0"),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    # Korean-aware search without pg_trgm (pgserver lacks contrib): syllable unigrams and bigrams of every
    # word (see SEARCH_TOKENS_FUNCTION), matched with a GIN `@>`; the API rechecks each word by ILIKE
    Column("search_tokens", ARRAY(Text), Computed("app.search_tokens(title, body_text, tags)", persisted=True)),
    CheckConstraint(_in("status", CONTENT_STATUSES), name="status"),
    CheckConstraint("status not in ('hidden', 'deleted') or status_reason is not null", name="status_reason"),
    Index("ix_posts_search_tokens_gin", "search_tokens", postgresql_using="gin"),
    Index(None, "board_id", "created_at", "id"),
    Index(None, "author_id", "created_at"),
    Index(None, "region_code", "created_at"),
    Index("ix_posts_tags_gin", "tags", postgresql_using="gin"),
    schema="app",
)

post_revisions = Table(
    "post_revisions", metadata,  # the version before each edit
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("post_id", UUID(as_uuid=True), ForeignKey("app.posts.id"), nullable=False),
    Column("revision_no", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body_md", Text, nullable=False),
    _text_array("tags"),
    _user_fk("edited_by"),
    Column("edit_reason", Text),
    _created(),
    UniqueConstraint("post_id", "revision_no"),
    schema="app",
)

comments = Table(
    "comments", metadata,
    _uuid_pk(),
    Column("post_id", UUID(as_uuid=True), ForeignKey("app.posts.id"), nullable=False),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("app.comments.id")),  # one level of replies
    _user_fk("author_id"),
    Column("body_md", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="published"),
    *_screening(),
    Column("status_reason", Text),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("status_changed_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_in("status", CONTENT_STATUSES), name="status"),
    CheckConstraint("status not in ('hidden', 'deleted') or status_reason is not null", name="status_reason"),
    Index(None, "post_id", "created_at", "id"),
    Index(None, "author_id", "created_at"),
    schema="app",
)

post_likes = Table(
    "post_likes", metadata,
    Column("post_id", UUID(as_uuid=True), ForeignKey("app.posts.id"), nullable=False),
    _user_fk("user_id"),
    _created(),
    PrimaryKeyConstraint("post_id", "user_id"),
    schema="app",
)

follows = Table(
    "follows", metadata,  # a user follows a post or a board
    Column("id", BigInteger, Identity(), primary_key=True),
    _user_fk("user_id"),
    Column("post_id", UUID(as_uuid=True), ForeignKey("app.posts.id")),
    Column("board_id", Text, ForeignKey("app.boards.id")),
    _created(),
    CheckConstraint("(post_id is null) <> (board_id is null)", name="one_target"),
    UniqueConstraint("user_id", "post_id"),
    UniqueConstraint("user_id", "board_id"),
    Index(None, "post_id"),
    Index(None, "board_id"),
    schema="app",
)

moderation_cases = Table(
    "moderation_cases", metadata,  # one target under review; reopened as a new case after closing
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("target_user_id", UUID(as_uuid=True), ForeignKey("app.users.id"), nullable=False),  # author / user
    Column("opened_by", Text, nullable=False),  # report | screen
    Column("status", Text, nullable=False, server_default="open"),
    Column("severity", SmallInteger, nullable=False),  # 1 (low) … 5 (urgent): the worst reason so far
    Column("report_count", Integer, nullable=False, server_default="0"),
    Column("screen_score", Float),
    _text_array("screen_reasons"),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Column("closing_action_id", BigInteger),
    CheckConstraint(_in("target_type", TARGET_TYPES), name="target_type"),
    CheckConstraint("opened_by in ('report', 'screen')", name="opened_by"),
    CheckConstraint("status in ('open', 'closed')", name="status"),
    CheckConstraint("severity between 1 and 5", name="severity"),
    CheckConstraint("(status = 'closed') = (closed_at is not null)", name="closed_at"),
    Index("uq_moderation_cases_open_target", "target_type", "target_id", unique=True,
          postgresql_where=text("status = 'open'")),
    Index(None, "status", "severity", "report_count"),
    schema="app",
)

reports = Table(
    "reports", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _user_fk("reporter_id"),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("category", Text, nullable=False),
    Column("details", Text, nullable=False, server_default=""),
    Column("case_id", BigInteger, ForeignKey("app.moderation_cases.id"), nullable=False),
    _created(),
    CheckConstraint(_in("target_type", TARGET_TYPES), name="target_type"),
    CheckConstraint(_in("category", REPORT_CATEGORIES), name="category"),
    UniqueConstraint("reporter_id", "target_type", "target_id"),  # reporting the same thing twice: 409
    Index(None, "case_id"),
    schema="app",
)

moderation_actions = Table(
    "moderation_actions", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("case_id", BigInteger, ForeignKey("app.moderation_cases.id")),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("target_user_id", UUID(as_uuid=True), ForeignKey("app.users.id"), nullable=False),
    Column("action", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("suspended_until", DateTime(timezone=True)),
    _user_fk("moderator_id"),
    Column("content_text", Text),  # the text judged (the classifier's training example)
    Column("report_category", Text),  # the most frequent report category at the time (label hint)
    Column("reverted_at", DateTime(timezone=True)),  # an appeal overturned it
    _created(),
    CheckConstraint(_in("action", MODERATION_ACTIONS), name="action"),
    CheckConstraint(_in("target_type", TARGET_TYPES), name="target_type"),
    CheckConstraint("length(btrim(reason)) > 0", name="reason_required"),
    CheckConstraint("(action = 'suspend') = (suspended_until is not null)", name="suspend_until"),
    Index(None, "target_user_id", "created_at"),
    Index(None, "target_type", "target_id"),
    schema="app",
)

appeals = Table(
    "appeals", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("action_id", BigInteger, ForeignKey("app.moderation_actions.id"), nullable=False),
    _user_fk("appellant_id"),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("decided_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    Column("decision_reason", Text),
    _created(),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint("status in ('open', 'upheld', 'overturned')", name="status"),
    CheckConstraint("(status = 'open') = (decided_at is null)", name="decided"),
    UniqueConstraint("action_id"),  # one appeal per action
    schema="app",
)

user_sanctions = Table(
    "user_sanctions", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _user_fk("user_id"),
    Column("kind", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ends_at", DateTime(timezone=True)),  # suspensions; null: a warning or a ban
    Column("action_id", BigInteger, ForeignKey("app.moderation_actions.id"), nullable=False),
    Column("lifted_at", DateTime(timezone=True)),
    CheckConstraint(_in("kind", SANCTION_KINDS), name="kind"),
    CheckConstraint("(kind = 'suspend') = (ends_at is not null)", name="suspend_ends"),
    Index(None, "user_id", "kind"),
    schema="app",
)

mentor_profiles = Table(
    "mentor_profiles", metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id"), primary_key=True),
    Column("headline", Text, nullable=False),
    Column("bio", Text, nullable=False, server_default=""),
    _text_array("skills"),
    _text_array("region_codes"),  # regions they know
    _text_array("availability"),  # weekday_daytime, weekday_evening, weekend, online
    Column("capacity", SmallInteger, nullable=False, server_default="3"),
    Column("is_accepting", Boolean, nullable=False, server_default=text("true")),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("capacity between 0 and 20", name="capacity"),
    schema="app",
)

mentee_profiles = Table(
    "mentee_profiles", metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("app.users.id"), primary_key=True),
    Column("needs", Text, nullable=False),  # what they need, in their own words
    _text_array("skills"),
    _text_array("region_codes"),  # where they want to go
    _text_array("availability"),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="app",
)

mentor_requests = Table(
    "mentor_requests", metadata,
    _uuid_pk(),
    _user_fk("mentee_id"),
    _user_fk("mentor_id"),
    Column("message", Text, nullable=False),
    _text_array("goals"),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("match_score", Float),  # what the suggestion said when the request was sent
    _text_array("match_reasons"),
    Column("response_message", Text),
    _created(),
    Column("responded_at", DateTime(timezone=True)),
    CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
    CheckConstraint("mentee_id <> mentor_id", name="not_self"),
    Index("uq_mentor_requests_pending_pair", "mentee_id", "mentor_id", unique=True,
          postgresql_where=text("status = 'pending'")),
    Index(None, "mentor_id", "status"),
    schema="app",
)

mentorships = Table(
    "mentorships", metadata,
    _uuid_pk(),
    Column("request_id", UUID(as_uuid=True), ForeignKey("app.mentor_requests.id"), nullable=False),
    _user_fk("mentor_id"),
    _user_fk("mentee_id"),
    _text_array("goals"),
    Column("region_code", String(5)),  # the region the mentorship is about, when one is
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),  # the fixed period
    Column("status", Text, nullable=False, server_default="active"),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", UUID(as_uuid=True), ForeignKey("app.users.id")),
    Column("end_reason", Text),
    _created(),
    CheckConstraint("status in ('active', 'ended')", name="status"),
    CheckConstraint("ends_on > starts_on", name="period"),
    CheckConstraint("(status = 'ended') = (ended_at is not null)", name="ended"),
    UniqueConstraint("request_id"),
    Index(None, "mentor_id", "status"),
    Index(None, "mentee_id", "status"),
    schema="app",
)

mentorship_checkins = Table(
    "mentorship_checkins", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("mentorship_id", UUID(as_uuid=True), ForeignKey("app.mentorships.id"), nullable=False),
    _user_fk("author_id"),
    Column("note", Text, nullable=False),
    _text_array("goals_done"),
    _created(),
    Index(None, "mentorship_id", "created_at"),
    schema="app",
)

mentorship_feedback = Table(
    "mentorship_feedback", metadata,
    Column("mentorship_id", UUID(as_uuid=True), ForeignKey("app.mentorships.id"), nullable=False),
    _user_fk("author_id"),
    Column("rating", SmallInteger, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    _created(),
    PrimaryKeyConstraint("mentorship_id", "author_id"),
    CheckConstraint("rating between 1 and 5", name="rating"),
    schema="app",
)

rate_limit_hits = Table(
    "rate_limit_hits", metadata,  # the sliding windows of core.ratelimit (shared by every API worker)
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("bucket", Text, nullable=False),  # '<action>:<user id>'
    Column("hit_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "bucket", "hit_at"),
    schema="app",
)

COMMUNITY_TABLES = [boards, posts, post_revisions, comments, post_likes, follows, moderation_cases, reports,
                    moderation_actions, appeals, user_sanctions, mentor_profiles, mentee_profiles,
                    mentor_requests, mentorships, mentorship_checkins, mentorship_feedback, rate_limit_hits]
