"""`/community`: boards, posts (Markdown, sanitized), comments with one level of replies, likes, follows,
Korean search, cursor pagination.

Reading published content is public by design (the app shows boards before sign-in); writing needs a
token. New and edited content is screened; above the threshold it is held for review (status `held`),
visible to its author and to moderators only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy import RowMapping

from api.community import service
from api.community.cursor import CursorParam, Position, decode_cursor, encode_cursor
from api.community.schemas import (
    AuthorPublic,
    BoardPublic,
    CommentCreate,
    CommentPublic,
    CommentUpdate,
    CursorPage,
    DeleteRequest,
    FollowState,
    LikeState,
    ModerationInfo,
    PostCreate,
    PostPublic,
    PostSummary,
    PostUpdate,
    RevisionPublic,
    Tag,
)
from api.deps import ConnDep, CurrentUser, OptionalUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse
from api.fields import RegionCode
from api.users.service import UserRecord

router = APIRouter(prefix="/community", tags=["community"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
PageLimit = Annotated[int, Query(ge=1, le=50, description="page size, 1–50")]
WRITE_RESPONSES: dict[int | str, dict] = {
    403: {"model": ErrorResponse, "description": "Suspended, banned, or not the author"},
    429: {"model": ErrorResponse, "description": "Rate limited; see Retry-After"},
}


def _moderation(row: RowMapping, user: UserRecord | None) -> ModerationInfo | None:
    if not service.is_moderator(user):
        return None
    return ModerationInfo(score=row["screen_score"], reasons=list(row["screen_reasons"] or []),
                          engine=row["screen_engine"])


def _summary(row: RowMapping) -> PostSummary:
    return PostSummary(id=row["id"], board_id=row["board_id"],
                       author=AuthorPublic(id=row["author_id"], display_name=row["author_name"]),
                       title=row["title"], excerpt=row["body_text"][:200], tags=list(row["tags"]),
                       region_code=row["region_code"], status=row["status"], comment_count=row["comment_count"],
                       like_count=row["like_count"], edited=row["revision_count"] > 0, created_at=row["created_at"],
                       updated_at=row["updated_at"])


def _comment(row: RowMapping, user: UserRecord | None) -> CommentPublic:
    return CommentPublic(id=row["id"], post_id=row["post_id"], parent_id=row["parent_id"],
                         author=AuthorPublic(id=row["author_id"], display_name=row["author_name"]),
                         body_html=row["body_html"], body_md=row["body_md"], status=row["status"],
                         status_reason=row["status_reason"] if row["status"] != "published" else None,
                         created_at=row["created_at"], updated_at=row["updated_at"],
                         moderation=_moderation(row, user))


def _page(rows: Sequence[RowMapping], limit: int, kind: str) -> tuple[Sequence[RowMapping], str | None]:
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(kind, Position(at=last["created_at"], id=last["id"]))


# ---------------------------------------------------------------------------------- boards
@router.get("/boards", response_model=list[BoardPublic], summary="Boards: general, Q&A, mentor, per mission "
            "type, per 시도 and per 시군구")
def list_boards(conn: ConnDep, user: OptionalUser,
                kind: Annotated[str | None, Query(pattern="^(general|sido|sigungu|mission_type|qna|mentor)$")] = None,
                sido_code: Annotated[str | None, Query(pattern=r"^\d{2}$", examples=["47"])] = None,
                region_code: Annotated[RegionCode | None, Query(examples=["47730"])] = None) -> list[BoardPublic]:
    rows = service.list_boards(conn, user, kind, sido_code, region_code)
    return [BoardPublic(**{name: row[name] for name in BoardPublic.model_fields}) for row in rows]


def board_or_404(board_id: Annotated[str, Path(max_length=40, examples=["sgg-47730"])], conn: ConnDep) -> RowMapping:
    row = service.get_board(conn, board_id)
    if row is None:
        raise ApiError.not_found(f"There is no board {board_id!r}; list them at GET /community/boards.")
    return row


@router.put("/boards/{board_id}/follow", response_model=FollowState, summary="Follow a board")
def follow_board(user: CurrentUser, board: Annotated[RowMapping, Depends(board_or_404)],
                 conn: ConnDep) -> FollowState:
    return FollowState(following=service.set_follow(conn, user, True, board_id=board["id"]))


@router.delete("/boards/{board_id}/follow", response_model=FollowState, summary="Stop following a board")
def unfollow_board(user: CurrentUser, board: Annotated[RowMapping, Depends(board_or_404)],
                   conn: ConnDep) -> FollowState:
    return FollowState(following=service.set_follow(conn, user, False, board_id=board["id"]))


# ---------------------------------------------------------------------------------- posts
@router.get("/posts", response_model=CursorPage[PostSummary], summary="Posts, newest first, with filters and "
            "Korean search",
            responses={400: {"model": ErrorResponse, "description": "Malformed or tampered cursor"}})
def list_posts(
    conn: ConnDep, user: OptionalUser,
    board_id: Annotated[str | None, Query(max_length=40, examples=["sgg-47730"])] = None,
    region_code: Annotated[RegionCode | None, Query(examples=["47730"])] = None,
    tag: Annotated[Tag | None, Query(examples=["목공"])] = None,
    author_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, examples=["의성 빈집"],
                                   description="words that must all appear in the title, text or tags "
                                   "(substrings: 목공 finds 목공방)")] = None,
    status_filter: Annotated[str | None, Query(alias="status", pattern="^(published|held|hidden|deleted)$",
                                               description="moderators: any; others: held (their own)")] = None,
    followed: Annotated[bool, Query(description="only boards and posts I follow")] = False,
    limit: PageLimit = 20,
    cursor: CursorParam = None,
) -> CursorPage[PostSummary]:
    query = service.PostQuery(board_id=board_id, region_code=region_code, tag=tag, author_id=author_id,
                              q=q, status=status_filter, followed=followed, limit=limit,
                              after=decode_cursor("posts", cursor))
    rows, next_cursor = _page(service.list_posts(conn, user, query), limit, "posts")
    return CursorPage[PostSummary](items=[_summary(r) for r in rows], next_cursor=next_cursor, limit=limit)


@router.post("/posts", response_model=PostPublic, status_code=status.HTTP_201_CREATED, summary="Write a post",
             responses=WRITE_RESPONSES)
def create_post(data: PostCreate, conn: ConnDep, user: CurrentUser, response: Response) -> PostPublic:
    post_id = service.create_post(conn, user, data)
    response.headers["Location"] = f"/community/posts/{post_id}"
    return read_post(post_or_404(post_id, conn, user), conn, user)


def post_or_404(post_id: Annotated[uuid.UUID, Path()], conn: ConnDep, user: OptionalUser) -> RowMapping:
    row = service.get_post(conn, post_id, user)
    if row is None:
        raise ApiError.not_found(f"No post has the id {post_id} (or it is not visible to you).")
    return row


PostDep = Annotated[RowMapping, Depends(post_or_404)]


@router.get("/posts/{post_id}", response_model=PostPublic, summary="One post",
            responses={404: {"model": ErrorResponse, "description": "Unknown or not visible to you"}})
def read_post(row: PostDep, conn: ConnDep, user: OptionalUser) -> PostPublic:
    liked, following = service.viewer_state(conn, row["id"], user)
    own_or_staff = user is not None and (user.id == row["author_id"] or service.is_moderator(user))
    return PostPublic(**_summary(row).model_dump(), body_md=row["body_md"], body_html=row["body_html"],
                      revision_count=row["revision_count"], liked=liked, following=following,
                      status_reason=row["status_reason"] if own_or_staff else None,
                      moderation=_moderation(row, user))


@router.patch("/posts/{post_id}", response_model=PostPublic, summary="Edit your post (the old version is kept)",
              responses=WRITE_RESPONSES)
def update_post(post_id: uuid.UUID, data: PostUpdate, conn: ConnDep, user: CurrentUser) -> PostPublic:
    service.update_post(conn, user, post_id, data)
    return read_post(post_or_404(post_id, conn, user), conn, user)


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete your post (soft, with "
               "a reason)", responses=WRITE_RESPONSES)
def delete_post(post_id: uuid.UUID, data: DeleteRequest, conn: ConnDep, user: CurrentUser) -> Response:
    service.delete_post(conn, user, post_id, data.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/posts/{post_id}/revisions", response_model=list[RevisionPublic],
            summary="Earlier versions of a post (its author and moderators)")
def list_revisions(user: CurrentUser, row: PostDep, conn: ConnDep) -> list[RevisionPublic]:
    if user.id != row["author_id"] and not service.is_moderator(user):
        raise ApiError(403, "forbidden", "Only the author and moderators can read a post's edit history.")
    return [RevisionPublic(**{name: r[name] for name in RevisionPublic.model_fields})
            for r in service.get_revisions(conn, row["id"])]


def _published(row: RowMapping, verb: str) -> None:
    if row["status"] != "published":
        raise ApiError(409, "post_not_open", f"This post is {row['status']}; you can {verb} it once it is published.")


@router.put("/posts/{post_id}/like", response_model=LikeState, summary="Like a post")
def like_post(user: CurrentUser, row: PostDep, conn: ConnDep) -> LikeState:
    _published(row, "like")
    liked, count = service.set_like(conn, user, row["id"], True)
    return LikeState(liked=liked, like_count=count)


@router.delete("/posts/{post_id}/like", response_model=LikeState, summary="Take back a like")
def unlike_post(user: CurrentUser, row: PostDep, conn: ConnDep) -> LikeState:
    liked, count = service.set_like(conn, user, row["id"], False)
    return LikeState(liked=liked, like_count=count)


@router.put("/posts/{post_id}/follow", response_model=FollowState,
            summary="Follow a post: new comments arrive as notifications")
def follow_post(user: CurrentUser, row: PostDep, conn: ConnDep) -> FollowState:
    return FollowState(following=service.set_follow(conn, user, True, post_id=row["id"]))


@router.delete("/posts/{post_id}/follow", response_model=FollowState, summary="Stop following a post")
def unfollow_post(user: CurrentUser, row: PostDep, conn: ConnDep) -> FollowState:
    return FollowState(following=service.set_follow(conn, user, False, post_id=row["id"]))


# ---------------------------------------------------------------------------------- comments
@router.get("/posts/{post_id}/comments", response_model=CursorPage[CommentPublic],
            summary="Comments, oldest first; replies carry parent_id")
def list_comments(row: PostDep, conn: ConnDep, user: OptionalUser, limit: PageLimit = 50,
                  cursor: CursorParam = None) -> CursorPage[CommentPublic]:
    kind = f"comments:{row['id']}"
    rows, next_cursor = _page(service.list_comments(conn, user, row["id"], limit, decode_cursor(kind, cursor)),
                              limit, kind)
    return CursorPage[CommentPublic](items=[_comment(r, user) for r in rows], next_cursor=next_cursor, limit=limit)


@router.post("/posts/{post_id}/comments", response_model=CommentPublic, status_code=status.HTTP_201_CREATED,
             summary="Comment on a post, or reply to a comment", responses=WRITE_RESPONSES)
def create_comment(user: CurrentUser, row: PostDep, data: CommentCreate, conn: ConnDep) -> CommentPublic:
    comment_id = service.create_comment(conn, user, row, data.body, data.parent_id)
    return _comment(comment_or_404(comment_id, conn, user), user)


def comment_or_404(comment_id: uuid.UUID, conn: ConnDep, user: OptionalUser) -> RowMapping:
    row = service.get_comment(conn, comment_id, user)
    if row is None:
        raise ApiError.not_found(f"No comment has the id {comment_id} (or it is not visible to you).")
    return row


@router.get("/comments/{comment_id}", response_model=CommentPublic, summary="One comment")
def read_comment(row: Annotated[RowMapping, Depends(comment_or_404)], user: OptionalUser) -> CommentPublic:
    return _comment(row, user)


@router.patch("/comments/{comment_id}", response_model=CommentPublic, summary="Edit your comment",
              responses=WRITE_RESPONSES)
def update_comment(comment_id: uuid.UUID, data: CommentUpdate, conn: ConnDep, user: CurrentUser) -> CommentPublic:
    service.update_comment(conn, user, comment_id, data.body)
    return _comment(comment_or_404(comment_id, conn, user), user)


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete your comment (soft, with a reason)", responses=WRITE_RESPONSES)
def delete_comment(comment_id: uuid.UUID, data: DeleteRequest, conn: ConnDep, user: CurrentUser) -> Response:
    service.delete_comment(conn, user, comment_id, data.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
