"""`/moderation`: anyone reports; moderators (and admins) work the queue and act; authors appeal.

Every action needs a reason, is written to the audit log, and notifies the author and the reporters.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import ConnDep, CurrentUser, require_roles
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorResponse
from api.moderation import service
from api.moderation.schemas import (
    ActionCreate,
    ActionPublic,
    AppealCreate,
    AppealDecision,
    AppealPublic,
    QueueItem,
    ReportCreate,
    ReportPublic,
)
from api.pagination import Limit, Offset, Page
from api.users.service import UserRecord
from core.vocab import Role

router = APIRouter(prefix="/moderation", tags=["moderation"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
ModeratorUser = Annotated[UserRecord, Depends(require_roles(Role.MODERATOR))]


def _action(row: object) -> ActionPublic:
    data = dict(row)  # type: ignore[call-overload]
    return ActionPublic(**{name: data.get(name) for name in ActionPublic.model_fields})


@router.post("/reports", response_model=ReportPublic, status_code=status.HTTP_201_CREATED,
             summary="Report a post, a comment or a user",
             responses={409: {"model": ErrorResponse, "description": "You already reported it"},
                        429: {"model": ErrorResponse, "description": "Too many reports; see Retry-After"}})
def create_report(data: ReportCreate, conn: ConnDep, user: CurrentUser) -> ReportPublic:
    row = service.create_report(conn, user, data.target_type, data.target_id, data.category, data.details)
    return ReportPublic(**row)


@router.get("/queue", response_model=Page[QueueItem], summary="Open cases, worst first (moderators)")
def read_queue(conn: ConnDep, _: ModeratorUser, limit: Limit = 20, offset: Offset = 0) -> Page[QueueItem]:
    rows, total = service.queue(conn, limit, offset)
    return Page[QueueItem](items=[QueueItem(**r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/actions", response_model=ActionPublic, status_code=status.HTTP_201_CREATED,
             summary="Act on a post, comment or user: dismiss, hide, warn, suspend or ban (moderators)")
def create_action(data: ActionCreate, conn: ConnDep, moderator: ModeratorUser) -> ActionPublic:
    return _action(service.act(conn, moderator, data))


@router.get("/me/actions", response_model=list[ActionPublic], summary="Decisions about my content and account")
def my_actions(conn: ConnDep, user: CurrentUser) -> list[ActionPublic]:
    return [_action(r) for r in service.actions_on_user(conn, user.id)]


@router.post("/actions/{action_id}/appeal", response_model=AppealPublic, status_code=status.HTTP_201_CREATED,
             summary="Appeal a decision about your content or account (once per decision)")
def create_appeal(action_id: int, data: AppealCreate, conn: ConnDep, user: CurrentUser) -> AppealPublic:
    return AppealPublic(**service.create_appeal(conn, user, action_id, data.body))


@router.get("/appeals", response_model=list[AppealPublic], summary="Appeals to decide (moderators)")
def list_appeals(conn: ConnDep, _: ModeratorUser,
                 appeal_status: Annotated[str, Query(alias="status", pattern="^(open|upheld|overturned)$")] = "open",
                 ) -> list[AppealPublic]:
    return [AppealPublic(**r) for r in service.list_appeals(conn, appeal_status)]


@router.post("/appeals/{appeal_id}/decision", response_model=AppealPublic,
             summary="Uphold or overturn a decision (another moderator than the one who acted)")
def decide_appeal(appeal_id: int, data: AppealDecision, conn: ConnDep, moderator: ModeratorUser) -> AppealPublic:
    return AppealPublic(**service.decide_appeal(conn, moderator, appeal_id, data.decision, data.reason))
