"""community: boards, posts (with revisions and Korean search tokens), comments, likes, follows, reports,
moderation cases and actions, appeals, sanctions, mentor and mentee profiles, requests, mentorships,
check-ins, feedback, and the rate-limit window

Generated with alembic autogenerate against a scratch database (tables of core/tables_community.py only),
then reviewed: the search-token function is created before app.posts (its generated column calls it), the
token column and its GIN index added by hand, and the fixed boards seeded (the 시도 and 시군구 boards are
made lazily from raw.regions, which is empty when migrations run on a fresh install).

Revision ID: community_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.tables_community import SEARCH_TOKENS_FUNCTION

revision = "community_0001"
down_revision = "0001"
branch_labels = ("community",)
depends_on = None

FIXED_BOARDS = [  # id, kind, name, description, mission_type, position
    ("general", "general", "자유게시판", "누구나 자유롭게 이야기하는 곳", None, 10),
    ("qna", "qna", "질문과 답변", "귀향·귀촌, 미션, 지역 생활에 대해 묻고 답해요", None, 20),
    ("mentor", "mentor", "멘토 게시판", "먼저 길을 걸어간 멘토들의 이야기와 멘토 찾기", None, 30),
    (
        "type-exploration",
        "mission_type",
        "지역탐색형 미션",
        "지도와 QR 체크인으로 지역 탐색",
        "exploration",
        40,
    ),
    ("type-social", "mission_type", "사회유대형 미션", "봉사와 지역 주민과의 시간", "social", 41),
    ("type-skill", "mission_type", "재능기부형 미션", "인증된 재능으로 지역의 필요에", "skill", 42),
    ("type-learning", "mission_type", "학습형 미션", "지역에 대해 배우기", "learning", 43),
]


def upgrade() -> None:
    op.execute(SEARCH_TOKENS_FUNCTION)
    op.create_table(
        "boards",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("region_code", sa.String(length=5), nullable=True),
        sa.Column("sido_code", sa.String(length=2), nullable=True),
        sa.Column("mission_type", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), server_default="1000", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'mission_type') = (mission_type is not null)", name=op.f("ck_boards_mission_type")
        ),
        sa.CheckConstraint(
            "(kind = 'sigungu') = (region_code is not null)", name=op.f("ck_boards_sigungu_region")
        ),
        sa.CheckConstraint(
            "(kind in ('sido', 'sigungu')) = (sido_code is not null)", name=op.f("ck_boards_sido_code")
        ),
        sa.CheckConstraint(
            "kind in ('general', 'sido', 'sigungu', 'mission_type', 'qna', 'mentor')",
            name=op.f("ck_boards_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boards")),
        schema="app",
    )
    op.create_index(
        op.f("ix_boards_kind_sido_code"), "boards", ["kind", "sido_code"], unique=False, schema="app"
    )
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("hit_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
        schema="app",
    )
    op.create_index(
        op.f("ix_rate_limit_hits_bucket_hit_at"),
        "rate_limit_hits",
        ["bucket", "hit_at"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "mentee_profiles",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column(
            "skills", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column(
            "region_codes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "availability",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_mentee_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mentee_profiles")),
        schema="app",
    )
    op.create_table(
        "mentor_profiles",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "skills", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column(
            "region_codes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "availability",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("capacity", sa.SmallInteger(), server_default="3", nullable=False),
        sa.Column("is_accepting", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("capacity between 0 and 20", name=op.f("ck_mentor_profiles_capacity")),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_mentor_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mentor_profiles")),
        schema="app",
    )
    op.create_table(
        "mentor_requests",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("mentee_id", sa.UUID(), nullable=False),
        sa.Column("mentor_id", sa.UUID(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "goals", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("match_score", sa.Float(), nullable=True),
        sa.Column(
            "match_reasons",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("response_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('pending', 'accepted', 'declined', 'withdrawn')",
            name=op.f("ck_mentor_requests_status"),
        ),
        sa.CheckConstraint("mentee_id <> mentor_id", name=op.f("ck_mentor_requests_not_self")),
        sa.ForeignKeyConstraint(
            ["mentee_id"], ["app.users.id"], name=op.f("fk_mentor_requests_mentee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["app.users.id"], name=op.f("fk_mentor_requests_mentor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_requests")),
        schema="app",
    )
    op.create_index(
        op.f("ix_mentor_requests_mentor_id_status"),
        "mentor_requests",
        ["mentor_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "uq_mentor_requests_pending_pair",
        "mentor_requests",
        ["mentee_id", "mentor_id"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "moderation_cases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("target_type", sa.Text(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("target_user_id", sa.UUID(), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("report_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("screen_score", sa.Float(), nullable=True),
        sa.Column(
            "screen_reasons",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closing_action_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at is not null)", name=op.f("ck_moderation_cases_closed_at")
        ),
        sa.CheckConstraint("opened_by in ('report', 'screen')", name=op.f("ck_moderation_cases_opened_by")),
        sa.CheckConstraint("status in ('open', 'closed')", name=op.f("ck_moderation_cases_status")),
        sa.CheckConstraint(
            "target_type in ('post', 'comment', 'user')", name=op.f("ck_moderation_cases_target_type")
        ),
        sa.CheckConstraint("severity between 1 and 5", name=op.f("ck_moderation_cases_severity")),
        sa.ForeignKeyConstraint(
            ["target_user_id"], ["app.users.id"], name=op.f("fk_moderation_cases_target_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_cases")),
        schema="app",
    )
    op.create_index(
        op.f("ix_moderation_cases_status_severity_report_count"),
        "moderation_cases",
        ["status", "severity", "report_count"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "uq_moderation_cases_open_target",
        "moderation_cases",
        ["target_type", "target_id"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("board_id", sa.Text(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("region_code", sa.String(length=5), nullable=True),
        sa.Column(
            "image_keys", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="published", nullable=False),
        sa.Column("screen_score", sa.Float(), nullable=True),
        sa.Column(
            "screen_reasons",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("screen_engine", sa.Text(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.UUID(), nullable=True),
        sa.Column("revision_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("like_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_tokens",
            postgresql.ARRAY(sa.Text()),
            sa.Computed("app.search_tokens(title, body_text, tags)", persisted=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status in ('published', 'held', 'hidden', 'deleted')", name=op.f("ck_posts_status")
        ),
        sa.CheckConstraint(
            "status not in ('hidden', 'deleted') or status_reason is not null",
            name=op.f("ck_posts_status_reason"),
        ),
        sa.ForeignKeyConstraint(["author_id"], ["app.users.id"], name=op.f("fk_posts_author_id_users")),
        sa.ForeignKeyConstraint(["board_id"], ["app.boards.id"], name=op.f("fk_posts_board_id_boards")),
        sa.ForeignKeyConstraint(
            ["status_changed_by"], ["app.users.id"], name=op.f("fk_posts_status_changed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        schema="app",
    )
    op.create_index(
        op.f("ix_posts_author_id_created_at"),
        "posts",
        ["author_id", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_posts_board_id_created_at_id"),
        "posts",
        ["board_id", "created_at", "id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_posts_region_code_created_at"),
        "posts",
        ["region_code", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "ix_posts_tags_gin", "posts", ["tags"], unique=False, schema="app", postgresql_using="gin"
    )
    op.create_index(
        "ix_posts_search_tokens_gin",
        "posts",
        ["search_tokens"],
        unique=False,
        schema="app",
        postgresql_using="gin",
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="published", nullable=False),
        sa.Column("screen_score", sa.Float(), nullable=True),
        sa.Column(
            "screen_reasons",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("screen_engine", sa.Text(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status in ('published', 'held', 'hidden', 'deleted')", name=op.f("ck_comments_status")
        ),
        sa.CheckConstraint(
            "status not in ('hidden', 'deleted') or status_reason is not null",
            name=op.f("ck_comments_status_reason"),
        ),
        sa.ForeignKeyConstraint(["author_id"], ["app.users.id"], name=op.f("fk_comments_author_id_users")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["app.comments.id"], name=op.f("fk_comments_parent_id_comments")
        ),
        sa.ForeignKeyConstraint(["post_id"], ["app.posts.id"], name=op.f("fk_comments_post_id_posts")),
        sa.ForeignKeyConstraint(
            ["status_changed_by"], ["app.users.id"], name=op.f("fk_comments_status_changed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        schema="app",
    )
    op.create_index(
        op.f("ix_comments_author_id_created_at"),
        "comments",
        ["author_id", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_comments_post_id_created_at_id"),
        "comments",
        ["post_id", "created_at", "id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "follows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("post_id", sa.UUID(), nullable=True),
        sa.Column("board_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(post_id is null) <> (board_id is null)", name=op.f("ck_follows_one_target")),
        sa.ForeignKeyConstraint(["board_id"], ["app.boards.id"], name=op.f("fk_follows_board_id_boards")),
        sa.ForeignKeyConstraint(["post_id"], ["app.posts.id"], name=op.f("fk_follows_post_id_posts")),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_follows_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "board_id", name=op.f("uq_follows_user_id_board_id")),
        sa.UniqueConstraint("user_id", "post_id", name=op.f("uq_follows_user_id_post_id")),
        schema="app",
    )
    op.create_index(op.f("ix_follows_board_id"), "follows", ["board_id"], unique=False, schema="app")
    op.create_index(op.f("ix_follows_post_id"), "follows", ["post_id"], unique=False, schema="app")
    op.create_table(
        "mentorships",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("mentor_id", sa.UUID(), nullable=False),
        sa.Column("mentee_id", sa.UUID(), nullable=False),
        sa.Column(
            "goals", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("region_code", sa.String(length=5), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.UUID(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(status = 'ended') = (ended_at is not null)", name=op.f("ck_mentorships_ended")),
        sa.CheckConstraint("status in ('active', 'ended')", name=op.f("ck_mentorships_status")),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_mentorships_period")),
        sa.ForeignKeyConstraint(["ended_by"], ["app.users.id"], name=op.f("fk_mentorships_ended_by_users")),
        sa.ForeignKeyConstraint(["mentee_id"], ["app.users.id"], name=op.f("fk_mentorships_mentee_id_users")),
        sa.ForeignKeyConstraint(["mentor_id"], ["app.users.id"], name=op.f("fk_mentorships_mentor_id_users")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["app.mentor_requests.id"], name=op.f("fk_mentorships_request_id_mentor_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentorships")),
        sa.UniqueConstraint("request_id", name=op.f("uq_mentorships_request_id")),
        schema="app",
    )
    op.create_index(
        op.f("ix_mentorships_mentee_id_status"),
        "mentorships",
        ["mentee_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_mentorships_mentor_id_status"),
        "mentorships",
        ["mentor_id", "status"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("target_type", sa.Text(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("target_user_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("suspended_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderator_id", sa.UUID(), nullable=False),
        sa.Column("content_text", sa.Text(), nullable=True),
        sa.Column("report_category", sa.Text(), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(action = 'suspend') = (suspended_until is not null)",
            name=op.f("ck_moderation_actions_suspend_until"),
        ),
        sa.CheckConstraint(
            "action in ('dismiss', 'hide', 'warn', 'suspend', 'ban')",
            name=op.f("ck_moderation_actions_action"),
        ),
        sa.CheckConstraint(
            "target_type in ('post', 'comment', 'user')", name=op.f("ck_moderation_actions_target_type")
        ),
        sa.CheckConstraint("length(btrim(reason)) > 0", name=op.f("ck_moderation_actions_reason_required")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["app.moderation_cases.id"],
            name=op.f("fk_moderation_actions_case_id_moderation_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"], ["app.users.id"], name=op.f("fk_moderation_actions_moderator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"], ["app.users.id"], name=op.f("fk_moderation_actions_target_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
        schema="app",
    )
    op.create_index(
        op.f("ix_moderation_actions_target_type_target_id"),
        "moderation_actions",
        ["target_type", "target_id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_moderation_actions_target_user_id_created_at"),
        "moderation_actions",
        ["target_user_id", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "post_likes",
        sa.Column("post_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["app.posts.id"], name=op.f("fk_post_likes_post_id_posts")),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_post_likes_user_id_users")),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_likes")),
        schema="app",
    )
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("post_id", sa.UUID(), nullable=False),
        sa.Column("revision_no", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("edited_by", sa.UUID(), nullable=False),
        sa.Column("edit_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["edited_by"], ["app.users.id"], name=op.f("fk_post_revisions_edited_by_users")
        ),
        sa.ForeignKeyConstraint(["post_id"], ["app.posts.id"], name=op.f("fk_post_revisions_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "revision_no", name=op.f("uq_post_revisions_post_id_revision_no")),
        schema="app",
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("reporter_id", sa.UUID(), nullable=False),
        sa.Column("target_type", sa.Text(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), server_default="", nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "category in ('spam', 'abuse', 'harassment', 'hate', 'sexual', 'violence', 'privacy', "
            "'misinformation', 'other')",
            name=op.f("ck_reports_category"),
        ),
        sa.CheckConstraint("target_type in ('post', 'comment', 'user')", name=op.f("ck_reports_target_type")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["app.moderation_cases.id"], name=op.f("fk_reports_case_id_moderation_cases")
        ),
        sa.ForeignKeyConstraint(["reporter_id"], ["app.users.id"], name=op.f("fk_reports_reporter_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "reporter_id",
            "target_type",
            "target_id",
            name=op.f("uq_reports_reporter_id_target_type_target_id"),
        ),
        schema="app",
    )
    op.create_index(op.f("ix_reports_case_id"), "reports", ["case_id"], unique=False, schema="app")
    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=False),
        sa.Column("appellant_id", sa.UUID(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(status = 'open') = (decided_at is null)", name=op.f("ck_appeals_decided")),
        sa.CheckConstraint("status in ('open', 'upheld', 'overturned')", name=op.f("ck_appeals_status")),
        sa.ForeignKeyConstraint(
            ["action_id"], ["app.moderation_actions.id"], name=op.f("fk_appeals_action_id_moderation_actions")
        ),
        sa.ForeignKeyConstraint(
            ["appellant_id"], ["app.users.id"], name=op.f("fk_appeals_appellant_id_users")
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["app.users.id"], name=op.f("fk_appeals_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("action_id", name=op.f("uq_appeals_action_id")),
        schema="app",
    )
    op.create_table(
        "mentorship_checkins",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("mentorship_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "goals_done", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app.users.id"], name=op.f("fk_mentorship_checkins_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["mentorship_id"],
            ["app.mentorships.id"],
            name=op.f("fk_mentorship_checkins_mentorship_id_mentorships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentorship_checkins")),
        schema="app",
    )
    op.create_index(
        op.f("ix_mentorship_checkins_mentorship_id_created_at"),
        "mentorship_checkins",
        ["mentorship_id", "created_at"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "mentorship_feedback",
        sa.Column("mentorship_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rating between 1 and 5", name=op.f("ck_mentorship_feedback_rating")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app.users.id"], name=op.f("fk_mentorship_feedback_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["mentorship_id"],
            ["app.mentorships.id"],
            name=op.f("fk_mentorship_feedback_mentorship_id_mentorships"),
        ),
        sa.PrimaryKeyConstraint("mentorship_id", "author_id", name=op.f("pk_mentorship_feedback")),
        schema="app",
    )
    op.create_table(
        "user_sanctions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action_id", sa.BigInteger(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'suspend') = (ends_at is not null)", name=op.f("ck_user_sanctions_suspend_ends")
        ),
        sa.CheckConstraint("kind in ('warn', 'suspend', 'ban')", name=op.f("ck_user_sanctions_kind")),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["app.moderation_actions.id"],
            name=op.f("fk_user_sanctions_action_id_moderation_actions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app.users.id"], name=op.f("fk_user_sanctions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sanctions")),
        schema="app",
    )
    op.create_index(
        op.f("ix_user_sanctions_user_id_kind"),
        "user_sanctions",
        ["user_id", "kind"],
        unique=False,
        schema="app",
    )
    boards = sa.table(
        "boards",
        sa.column("id"),
        sa.column("kind"),
        sa.column("name"),
        sa.column("description"),
        sa.column("mission_type"),
        sa.column("position"),
        schema="app",
    )
    op.bulk_insert(
        boards,
        [
            dict(zip(("id", "kind", "name", "description", "mission_type", "position"), row, strict=True))
            for row in FIXED_BOARDS
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_user_sanctions_user_id_kind"), table_name="user_sanctions", schema="app")
    op.drop_table("user_sanctions", schema="app")
    op.drop_table("mentorship_feedback", schema="app")
    op.drop_index(
        op.f("ix_mentorship_checkins_mentorship_id_created_at"),
        table_name="mentorship_checkins",
        schema="app",
    )
    op.drop_table("mentorship_checkins", schema="app")
    op.drop_table("appeals", schema="app")
    op.drop_index(op.f("ix_reports_case_id"), table_name="reports", schema="app")
    op.drop_table("reports", schema="app")
    op.drop_table("post_revisions", schema="app")
    op.drop_table("post_likes", schema="app")
    op.drop_index(
        op.f("ix_moderation_actions_target_user_id_created_at"), table_name="moderation_actions", schema="app"
    )
    op.drop_index(
        op.f("ix_moderation_actions_target_type_target_id"), table_name="moderation_actions", schema="app"
    )
    op.drop_table("moderation_actions", schema="app")
    op.drop_index(op.f("ix_mentorships_mentor_id_status"), table_name="mentorships", schema="app")
    op.drop_index(op.f("ix_mentorships_mentee_id_status"), table_name="mentorships", schema="app")
    op.drop_table("mentorships", schema="app")
    op.drop_index(op.f("ix_follows_post_id"), table_name="follows", schema="app")
    op.drop_index(op.f("ix_follows_board_id"), table_name="follows", schema="app")
    op.drop_table("follows", schema="app")
    op.drop_index(op.f("ix_comments_post_id_created_at_id"), table_name="comments", schema="app")
    op.drop_index(op.f("ix_comments_author_id_created_at"), table_name="comments", schema="app")
    op.drop_table("comments", schema="app")
    op.drop_index("ix_posts_search_tokens_gin", table_name="posts", schema="app", postgresql_using="gin")
    op.drop_index("ix_posts_tags_gin", table_name="posts", schema="app", postgresql_using="gin")
    op.drop_index(op.f("ix_posts_region_code_created_at"), table_name="posts", schema="app")
    op.drop_index(op.f("ix_posts_board_id_created_at_id"), table_name="posts", schema="app")
    op.drop_index(op.f("ix_posts_author_id_created_at"), table_name="posts", schema="app")
    op.drop_table("posts", schema="app")
    op.drop_index(
        "uq_moderation_cases_open_target",
        table_name="moderation_cases",
        schema="app",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        op.f("ix_moderation_cases_status_severity_report_count"), table_name="moderation_cases", schema="app"
    )
    op.drop_table("moderation_cases", schema="app")
    op.drop_index(
        "uq_mentor_requests_pending_pair",
        table_name="mentor_requests",
        schema="app",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_mentor_requests_mentor_id_status"), table_name="mentor_requests", schema="app")
    op.drop_table("mentor_requests", schema="app")
    op.drop_table("mentor_profiles", schema="app")
    op.drop_table("mentee_profiles", schema="app")
    op.drop_index(op.f("ix_rate_limit_hits_bucket_hit_at"), table_name="rate_limit_hits", schema="app")
    op.drop_table("rate_limit_hits", schema="app")
    op.drop_index(op.f("ix_boards_kind_sido_code"), table_name="boards", schema="app")
    op.drop_table("boards", schema="app")
    op.execute("drop function if exists app.search_tokens(text, text, text[])")
