"""Community queries and writes: boards, posts with their revisions, comments, likes, follows and search.

Visibility is one SQL clause per kind of content: published content for everyone; held and hidden
content also for its author (so they see it is under review, and why) and for moderators; deleted
content for moderators only. Every write screens the text (ai.moderation), runs in one transaction with
its rate-limit hit, its audit row and its notifications, and commits only when all of it succeeded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, literal, or_, select, text, tuple_

from ai.moderation import Screening, get_screen
from api.community.cursor import Position
from api.community.schemas import PostCreate, PostUpdate
from api.errors import ApiError
from api.moderation.cases import active_sanction, open_case, screen_severity
from api.users.service import UserRecord
from core import ratelimit
from core.audit import audit
from core.community_texts import HELD_BY_SCREEN
from core.markdown import render_markdown
from core.notify import notify
from core.tables import users
from core.tables_community import boards, comments, follows, post_likes, post_revisions, posts
from core.vocab import Role

MODERATOR_ROLES = (Role.MODERATOR.value, Role.ADMIN.value)
HELD_MESSAGE = HELD_BY_SCREEN  # the status_reason its author sees
SEARCH_WORD = re.compile(r"[0-9a-z가-힣]+")


def is_moderator(user: UserRecord | None) -> bool:
    return user is not None and user.has_role(*MODERATOR_ROLES)


# ---------------------------------------------------------------------------------- guards
def refuse_if_sanctioned(conn: Connection, user: UserRecord) -> None:
    sanction = active_sanction(conn, user.id)
    if sanction is None:
        return
    if sanction.kind == "ban":
        raise ApiError(403, "banned", f"Your account is banned from the community ({sanction.reason}). You can "
                       "appeal the decision: GET /moderation/me/actions, then POST /moderation/actions/{id}/appeal.")
    until = sanction.ends_at.isoformat(timespec="minutes") if sanction.ends_at else "further notice"
    raise ApiError(403, "suspended", f"Your account is suspended from posting until {until} ({sanction.reason}). "
                   "You can appeal: GET /moderation/me/actions, then POST /moderation/actions/{id}/appeal.")


def rate_limited(conn: Connection, limits: tuple[ratelimit.Limit, ...], user: UserRecord) -> None:
    try:
        ratelimit.hit_all(conn, limits, user.id)
    except ratelimit.RateLimited as exc:
        conn.rollback()
        raise ApiError(429, "rate_limited", f"Too many {exc.limit.action.split('_')[0]}s: the limit is "
                       f"{exc.limit.describe()}. Try again in {exc.retry_after} seconds.",
                       {"limit": exc.limit.count, "window_seconds": int(exc.limit.window.total_seconds()),
                        "retry_after_seconds": exc.retry_after},
                       headers={"Retry-After": str(exc.retry_after)}) from None


def screen(title: str, body: str) -> Screening:
    return get_screen().screen(f"{title}\n{body}".strip())


# ---------------------------------------------------------------------------------- boards
def ensure_region_boards(conn: Connection) -> None:
    """A board per 시도 and per 시군구 of raw.regions, made on first use (cheap and idempotent)."""
    conn.execute(text(
        "insert into app.boards (id, kind, name, description, sido_code, position) "
        "select distinct 'sido-' || sido_code, 'sido', sido_name, sido_name || ' 이야기', sido_code, "
        "100 + sido_code::int from raw.regions on conflict (id) do nothing"))
    conn.execute(text(
        "insert into app.boards (id, kind, name, description, region_code, sido_code, position) "
        "select 'sgg-' || region_code, 'sigungu', full_name, sgg_name || '에 사는, 오고 싶은 사람들의 게시판', "
        "region_code, sido_code, 1000 from raw.regions on conflict (id) do nothing"))


def list_boards(conn: Connection, user: UserRecord | None, kind: str | None,
                sido_code: str | None, region_code: str | None) -> Sequence[RowMapping]:
    ensure_region_boards(conn)
    conn.commit()
    counts = (select(posts.c.board_id, func.count().label("post_count")).where(posts.c.status == "published")
              .group_by(posts.c.board_id).subquery())
    following = (select(follows.c.board_id).where(follows.c.user_id == user.id, follows.c.board_id.is_not(None))
                 if user else None)
    following_col = boards.c.id.in_(following) if following is not None else literal(False)
    query = (select(boards, func.coalesce(counts.c.post_count, 0).label("post_count"),
                    following_col.label("following"))
             .select_from(boards.outerjoin(counts, counts.c.board_id == boards.c.id)))
    if kind:
        query = query.where(boards.c.kind == kind)
    if sido_code:
        query = query.where(boards.c.sido_code == sido_code)
    if region_code:
        query = query.where(boards.c.region_code == region_code)
    return conn.execute(query.order_by(boards.c.position, boards.c.id)).mappings().all()


def get_board(conn: Connection, board_id: str) -> RowMapping | None:
    row = conn.execute(select(boards).where(boards.c.id == board_id)).mappings().first()
    if row is None and board_id.startswith(("sido-", "sgg-")):
        ensure_region_boards(conn)
        conn.commit()
        row = conn.execute(select(boards).where(boards.c.id == board_id)).mappings().first()
    return row


# ---------------------------------------------------------------------------------- visibility
def post_visible(user: UserRecord | None) -> ColumnElement[bool]:
    published = posts.c.status == "published"
    if user is None:
        return published
    if is_moderator(user):
        return literal(True)
    return or_(published, and_(posts.c.author_id == user.id, posts.c.status.in_(("held", "hidden"))))


def comment_visible(user: UserRecord | None) -> ColumnElement[bool]:
    published = comments.c.status == "published"
    if user is None:
        return published
    if is_moderator(user):
        return literal(True)
    return or_(published, and_(comments.c.author_id == user.id, comments.c.status.in_(("held", "hidden"))))


def _with_author(table: Any) -> Any:
    return (select(table, users.c.display_name.label("author_name"))
            .select_from(table.join(users, users.c.id == table.c.author_id)))


# ---------------------------------------------------------------------------------- posts: reading
@dataclass(frozen=True)
class PostQuery:
    board_id: str | None = None
    region_code: str | None = None
    tag: str | None = None
    author_id: uuid.UUID | None = None
    q: str | None = None
    status: str | None = None  # moderators: any status; others: published (plus their own held)
    followed: bool = False
    limit: int = 20
    after: Position | None = None


def search_words(q: str) -> list[str]:
    """The searchable words of a query (what app.search_tokens would index), or a 422."""
    words = SEARCH_WORD.findall(q.lower())
    if not words:
        raise ApiError.validation("query.q", "give at least one word of letters or digits, e.g. q=목공 or q=의성 빈집")
    return words[:8]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_clause(q: str) -> ColumnElement[bool]:
    """GIN-indexed token containment, rechecked word by word as substrings of the title and text."""
    words = search_words(q)
    tokens = func.app.search_tokens(" ".join(words), "", literal([], type_=posts.c.tags.type))
    haystack = func.lower(posts.c.title + " " + posts.c.body_text + " " + func.array_to_string(posts.c.tags, " "))
    return and_(posts.c.search_tokens.contains(tokens),
                *(haystack.like(f"%{_escape_like(word)}%", escape="\\") for word in words))


def list_posts(conn: Connection, user: UserRecord | None, query: PostQuery) -> list[RowMapping]:
    """Newest first, `limit + 1` rows (the extra one says whether there is a next page)."""
    where: list[ColumnElement[bool]] = [post_visible(user)]
    if query.status and is_moderator(user):
        where.append(posts.c.status == query.status)
    elif query.status == "held" and user is not None:
        where.append(and_(posts.c.status == "held", posts.c.author_id == user.id))
    else:
        where.append(or_(posts.c.status == "published", posts.c.author_id == (user.id if user else None)))
        where.append(posts.c.status != "deleted")
    if query.board_id:
        where.append(posts.c.board_id == query.board_id)
    if query.region_code:
        where.append(posts.c.region_code == query.region_code)
    if query.tag:
        where.append(posts.c.tags.contains([query.tag]))
    if query.author_id:
        where.append(posts.c.author_id == query.author_id)
    if query.q:
        where.append(_search_clause(query.q))
    if query.followed and user is not None:
        followed_boards = select(follows.c.board_id).where(follows.c.user_id == user.id,
                                                           follows.c.board_id.is_not(None))
        followed_posts = select(follows.c.post_id).where(follows.c.user_id == user.id, follows.c.post_id.is_not(None))
        where.append(or_(posts.c.board_id.in_(followed_boards), posts.c.id.in_(followed_posts)))
    if query.after:
        where.append(tuple_(posts.c.created_at, posts.c.id) < tuple_(query.after.at, query.after.id))
    statement = (_with_author(posts).where(*where).order_by(posts.c.created_at.desc(), posts.c.id.desc())
                 .limit(query.limit + 1))
    return list(conn.execute(statement).mappings().all())


def get_post(conn: Connection, post_id: uuid.UUID, user: UserRecord | None) -> RowMapping | None:
    return conn.execute(_with_author(posts).where(posts.c.id == post_id, post_visible(user))).mappings().first()


def viewer_state(conn: Connection, post_id: uuid.UUID, user: UserRecord | None) -> tuple[bool, bool]:
    """(liked, following) of the signed-in user."""
    if user is None:
        return False, False
    liked = conn.execute(select(literal(1)).where(post_likes.c.post_id == post_id,
                                                  post_likes.c.user_id == user.id)).first() is not None
    following = conn.execute(select(literal(1)).where(follows.c.post_id == post_id,
                                                      follows.c.user_id == user.id)).first() is not None
    return liked, following


def get_revisions(conn: Connection, post_id: uuid.UUID) -> Sequence[RowMapping]:
    return conn.execute(select(post_revisions).where(post_revisions.c.post_id == post_id)
                        .order_by(post_revisions.c.revision_no)).mappings().all()


# ---------------------------------------------------------------------------------- posts: writing
def _hold(conn: Connection, target_type: str, target_id: uuid.UUID, author_id: uuid.UUID, result: Screening) -> None:
    open_case(conn, target_type, target_id, author_id, "screen", screen_severity(result.label, result.score),
              result.score, result.reasons)


def _screen_columns(result: Screening) -> dict[str, Any]:
    return {"screen_score": result.score, "screen_reasons": result.reasons, "screen_engine": result.engine}


def create_post(conn: Connection, user: UserRecord, data: PostCreate) -> uuid.UUID:
    board = get_board(conn, data.board_id)
    if board is None:
        raise ApiError(422, "unknown_board", f"There is no board {data.board_id!r}; list them at GET /community/boards "
                       "(시군구 boards are sgg-<code>, e.g. sgg-47730 for 의성군).")
    refuse_if_sanctioned(conn, user)
    rate_limited(conn, (ratelimit.POSTS_PER_10_MIN, ratelimit.POSTS_PER_DAY), user)
    rendered = render_markdown(data.body)
    result = screen(data.title, data.body)
    status = "held" if result.held else "published"
    post_id: uuid.UUID = conn.execute(posts.insert().values(
        board_id=board["id"], author_id=user.id, title=data.title, body_md=data.body, body_html=rendered.html,
        body_text=rendered.text, tags=data.tags, region_code=data.region_code or board["region_code"], status=status,
        status_reason=HELD_MESSAGE if result.held else None, published_at=None if result.held else func.now(),
        **_screen_columns(result)).returning(posts.c.id)).scalar_one()
    conn.execute(follows.insert().values(user_id=user.id, post_id=post_id))  # authors hear about replies
    if result.held:
        _hold(conn, "post", post_id, user.id, result)
    audit(conn, user.id, "post.create", "post", str(post_id), None,
          {"board_id": board["id"], "status": status, "screen_score": result.score, "engine": result.engine})
    conn.commit()
    return post_id


def _own_post_for_change(conn: Connection, post_id: uuid.UUID, user: UserRecord, verb: str) -> RowMapping:
    row = conn.execute(select(posts).where(posts.c.id == post_id).with_for_update()).mappings().first()
    if row is None or (row["status"] == "deleted" and row["author_id"] != user.id and not is_moderator(user)):
        raise ApiError.not_found(f"No post has the id {post_id}.")
    if row["author_id"] != user.id:
        raise ApiError(403, "not_author", f"Only the author can {verb} this post; moderators hide posts through "
                       "POST /moderation/actions.")
    if row["status"] in ("deleted", "hidden"):
        raise ApiError(409, f"post_{row['status']}", f"This post is {row['status']} ({row['status_reason']}) and "
                       f"cannot be {verb}ed{'; you can appeal a hiding' if row['status'] == 'hidden' else ''}.")
    return row


def update_post(conn: Connection, user: UserRecord, post_id: uuid.UUID, data: PostUpdate) -> None:
    if data.title is None and data.body is None and data.tags is None:
        raise ApiError.validation("body", "send at least one of title, body or tags")
    row = _own_post_for_change(conn, post_id, user, "edit")
    refuse_if_sanctioned(conn, user)
    title = data.title if data.title is not None else row["title"]
    body = data.body if data.body is not None else row["body_md"]
    tags = data.tags if data.tags is not None else list(row["tags"])
    revision_no = row["revision_count"] + 1
    conn.execute(post_revisions.insert().values(post_id=post_id, revision_no=revision_no, title=row["title"],
                                                body_md=row["body_md"], tags=row["tags"], edited_by=user.id,
                                                edit_reason=data.edit_reason))
    rendered = render_markdown(body)
    result = screen(title, body)
    held = row["status"] == "held" or result.held  # an edit never releases held content: a moderator does
    conn.execute(posts.update().where(posts.c.id == post_id).values(
        title=title, body_md=body, body_html=rendered.html, body_text=rendered.text, tags=tags,
        revision_count=revision_no, updated_at=func.now(), status="held" if held else "published",
        status_reason=HELD_MESSAGE if held else None, **_screen_columns(result)))
    if result.held:
        _hold(conn, "post", post_id, user.id, result)
    audit(conn, user.id, "post.edit", "post", str(post_id), data.edit_reason,
          {"revision_no": revision_no, "screen_score": result.score, "held": held})
    conn.commit()


def delete_post(conn: Connection, user: UserRecord, post_id: uuid.UUID, reason: str) -> None:
    _own_post_for_change(conn, post_id, user, "delete")
    conn.execute(posts.update().where(posts.c.id == post_id).values(
        status="deleted", status_reason=reason, status_changed_at=func.now(), status_changed_by=user.id,
        updated_at=func.now()))
    audit(conn, user.id, "post.delete", "post", str(post_id), reason)
    conn.commit()


def set_like(conn: Connection, user: UserRecord, post_id: uuid.UUID, liked: bool) -> tuple[bool, int]:
    if liked:
        conn.execute(text("insert into app.post_likes (post_id, user_id) values (:p, :u) on conflict do nothing"),
                     {"p": post_id, "u": user.id})
    else:
        conn.execute(post_likes.delete().where(post_likes.c.post_id == post_id, post_likes.c.user_id == user.id))
    count: int = conn.execute(text(
        "update app.posts set like_count = (select count(*) from app.post_likes where post_id = :p) "
        "where id = :p returning like_count"), {"p": post_id}).scalar_one()
    conn.commit()
    return liked, int(count)


def set_follow(conn: Connection, user: UserRecord, following: bool, post_id: uuid.UUID | None = None,
               board_id: str | None = None) -> bool:
    column, value = (follows.c.post_id, post_id) if post_id else (follows.c.board_id, board_id)
    if following:
        conn.execute(text(f"insert into app.follows (user_id, {column.name}) values (:u, :v) on conflict do nothing"),
                     {"u": user.id, "v": value})
    else:
        conn.execute(follows.delete().where(follows.c.user_id == user.id, column == value))
    conn.commit()
    return following


# ---------------------------------------------------------------------------------- comments
def list_comments(conn: Connection, user: UserRecord | None, post_id: uuid.UUID, limit: int,
                  after: Position | None) -> list[RowMapping]:
    """Oldest first (a conversation reads top-down); replies carry their parent_id."""
    where: list[ColumnElement[bool]] = [comments.c.post_id == post_id, comment_visible(user)]
    if not is_moderator(user):
        where.append(comments.c.status != "deleted")
    if after:
        where.append(tuple_(comments.c.created_at, comments.c.id) > tuple_(after.at, after.id))
    statement = (_with_author(comments).where(*where).order_by(comments.c.created_at, comments.c.id)
                 .limit(limit + 1))
    return list(conn.execute(statement).mappings().all())


def get_comment(conn: Connection, comment_id: uuid.UUID, user: UserRecord | None) -> RowMapping | None:
    return conn.execute(_with_author(comments).where(comments.c.id == comment_id, comment_visible(user))
                        ).mappings().first()


def recount_comments(conn: Connection, post_id: uuid.UUID) -> None:
    conn.execute(text("update app.posts set comment_count = (select count(*) from app.comments "
                      "where post_id = :p and status = 'published') where id = :p"), {"p": post_id})


def announce_comment(conn: Connection, comment_id: uuid.UUID) -> int:
    """Notify on a comment that has just become public: the parent comment's author ('reply') and the
    post's followers ('comment_on_followed_post'), never the commenter. Returns how many were notified."""
    row = conn.execute(text(
        "select c.id, c.post_id, c.parent_id, c.author_id, c.body_text, u.display_name, p.title, "
        "pc.author_id as parent_author_id from app.comments c join app.users u on u.id = c.author_id "
        "join app.posts p on p.id = c.post_id left join app.comments pc on pc.id = c.parent_id "
        "where c.id = :id"), {"id": comment_id}).one()
    data = {"post_id": str(row.post_id), "comment_id": str(row.id),
            "parent_id": str(row.parent_id) if row.parent_id else None}
    preview = row.body_text[:140]
    notified: set[uuid.UUID] = {row.author_id}
    sent = 0
    if row.parent_author_id and row.parent_author_id not in notified:
        notified.add(row.parent_author_id)
        sent += notify(conn, row.parent_author_id, "reply", f"{row.display_name}님이 댓글에 답글을 남겼어요",
                       preview, data, f"reply:{row.id}") is not None
    followers: Sequence[uuid.UUID] = conn.execute(
        select(follows.c.user_id).where(follows.c.post_id == row.post_id)).scalars().all()
    for follower in followers:
        if follower in notified:
            continue
        notified.add(follower)
        sent += notify(conn, follower, "comment_on_followed_post",
                       f"'{row.title[:40]}'에 새 댓글이 달렸어요", preview, data,
                       f"comment:{row.id}:{follower}") is not None
    return sent


def create_comment(conn: Connection, user: UserRecord, post: RowMapping, body: str,
                   parent_id: uuid.UUID | None) -> uuid.UUID:
    if post["status"] != "published":
        raise ApiError(409, "post_not_open", f"This post is {post['status']}; comments open when it is published.")
    if parent_id is not None:
        parent = conn.execute(select(comments.c.post_id, comments.c.parent_id, comments.c.status)
                              .where(comments.c.id == parent_id)).first()
        if parent is None or parent.post_id != post["id"] or parent.status != "published":
            raise ApiError.validation("body.parent_id", "no published comment with this id on this post")
        if parent.parent_id is not None:
            raise ApiError.validation("body.parent_id", "replies go one level deep: reply to the top-level comment "
                                      f"{parent.parent_id} instead")
    refuse_if_sanctioned(conn, user)
    rate_limited(conn, (ratelimit.COMMENTS_PER_10_MIN,), user)
    rendered = render_markdown(body)
    result = screen("", body)
    comment_id: uuid.UUID = conn.execute(comments.insert().values(
        post_id=post["id"], parent_id=parent_id, author_id=user.id, body_md=body, body_html=rendered.html,
        body_text=rendered.text, status="held" if result.held else "published",
        status_reason=HELD_MESSAGE if result.held else None, **_screen_columns(result)).returning(comments.c.id)
    ).scalar_one()
    if result.held:
        _hold(conn, "comment", comment_id, user.id, result)
    else:
        recount_comments(conn, post["id"])
        announce_comment(conn, comment_id)
    audit(conn, user.id, "comment.create", "comment", str(comment_id), None,
          {"post_id": str(post["id"]), "held": result.held, "screen_score": result.score})
    conn.commit()
    return comment_id


def _own_comment(conn: Connection, comment_id: uuid.UUID, user: UserRecord, verb: str) -> RowMapping:
    row = conn.execute(select(comments).where(comments.c.id == comment_id).with_for_update()).mappings().first()
    if row is None or row["status"] == "deleted":
        raise ApiError.not_found(f"No comment has the id {comment_id}.")
    if row["author_id"] != user.id:
        raise ApiError(403, "not_author", f"Only the author can {verb} this comment.")
    if row["status"] == "hidden":
        raise ApiError(409, "comment_hidden", f"This comment is hidden ({row['status_reason']}) and cannot be "
                       f"{verb}ed; you can appeal the decision.")
    return row


def update_comment(conn: Connection, user: UserRecord, comment_id: uuid.UUID, body: str) -> None:
    row = _own_comment(conn, comment_id, user, "edit")
    refuse_if_sanctioned(conn, user)
    rendered = render_markdown(body)
    result = screen("", body)
    held = row["status"] == "held" or result.held
    conn.execute(comments.update().where(comments.c.id == comment_id).values(
        body_md=body, body_html=rendered.html, body_text=rendered.text, updated_at=func.now(),
        status="held" if held else "published", status_reason=HELD_MESSAGE if held else None,
        **_screen_columns(result)))
    if result.held:
        _hold(conn, "comment", comment_id, user.id, result)
    recount_comments(conn, row["post_id"])
    audit(conn, user.id, "comment.edit", "comment", str(comment_id), None,
          {"previous_body": row["body_md"], "held": held})
    conn.commit()


def delete_comment(conn: Connection, user: UserRecord, comment_id: uuid.UUID, reason: str) -> None:
    row = _own_comment(conn, comment_id, user, "delete")
    conn.execute(comments.update().where(comments.c.id == comment_id).values(
        status="deleted", status_reason=reason, status_changed_at=func.now(), status_changed_by=user.id))
    recount_comments(conn, row["post_id"])
    audit(conn, user.id, "comment.delete", "comment", str(comment_id), reason)
    conn.commit()
