"""What the community API takes and gives. Moderation details (score, reasons, engine) appear only for
moderators; an author sees that their own content is held and why in plain words, not the raw score."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from api.fields import RegionCode

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_COMMENT = 5_000
MAX_TAGS = 10
T = TypeVar("T")


def _tag(value: str) -> str:
    tag = unicodedata.normalize("NFKC", value).strip().lstrip("#").strip().lower()
    if not re.fullmatch(r"[0-9a-z가-힣_\- ]{1,30}", tag):
        raise ValueError("a tag is 1–30 letters (Hangul or Latin), digits, spaces, '-' or '_', e.g. 목공 or 귀농")
    return tag


def _tags(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))  # de-duplicated, order kept


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Tag = Annotated[str, AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_tags)]
Reason = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]


class CursorPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")
    limit: int


class BoardPublic(BaseModel):
    id: str = Field(examples=["sgg-47730"])
    kind: str = Field(description="general, sido, sigungu, mission_type, qna or mentor")
    name: str
    description: str
    region_code: str | None
    sido_code: str | None
    mission_type: str | None
    post_count: int
    following: bool = False


class AuthorPublic(BaseModel):
    id: uuid.UUID
    display_name: str


class ModerationInfo(BaseModel):
    """What the screen said (moderators only)."""

    score: float | None
    reasons: list[str]
    engine: str | None


class PostCreate(BaseModel):
    board_id: str = Field(min_length=1, max_length=40, examples=["sgg-47730"])
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(_not_blank)]
    body: Annotated[str, Field(min_length=1, max_length=MAX_BODY, description="Markdown; HTML is not rendered"),
                    AfterValidator(_not_blank)]
    tags: Tags = []
    region_code: RegionCode | None = Field(None, description="default: the board's 시군구")


class PostUpdate(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(_not_blank)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=MAX_BODY), AfterValidator(_not_blank)] | None = None
    tags: Tags | None = None
    edit_reason: str | None = Field(None, max_length=500)


class DeleteRequest(BaseModel):
    reason: Reason


class PostSummary(BaseModel):
    id: uuid.UUID
    board_id: str
    author: AuthorPublic
    title: str
    excerpt: str
    tags: list[str]
    region_code: str | None
    status: str = Field(description="published; held (for review) or hidden only for the author and moderators")
    comment_count: int
    like_count: int
    edited: bool
    created_at: datetime
    updated_at: datetime


class PostPublic(PostSummary):
    body_md: str
    body_html: str = Field(description="sanitized HTML: safe to insert into a page")
    revision_count: int
    liked: bool
    following: bool
    status_reason: str | None = Field(None, description="why it is held, hidden or deleted (author, moderators)")
    moderation: ModerationInfo | None = Field(None, description="moderators only")


class RevisionPublic(BaseModel):
    revision_no: int
    title: str
    body_md: str
    tags: list[str]
    edited_by: uuid.UUID
    edit_reason: str | None
    created_at: datetime = Field(description="when this version was replaced")


class CommentCreate(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=MAX_COMMENT), AfterValidator(_not_blank)]
    parent_id: uuid.UUID | None = Field(None, description="reply to this top-level comment")


class CommentUpdate(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=MAX_COMMENT), AfterValidator(_not_blank)]


class CommentPublic(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    parent_id: uuid.UUID | None
    author: AuthorPublic
    body_html: str
    body_md: str
    status: str
    status_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    moderation: ModerationInfo | None = None


class LikeState(BaseModel):
    liked: bool
    like_count: int


class FollowState(BaseModel):
    following: bool
