"""`/me` for the signed-in user and `/users/{id}` for administrators."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import AdminUser, ConnDep, CurrentUser
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError
from api.users.schemas import UserPublic
from api.users.service import UserRecord, get_user

me_router = APIRouter(prefix="/me", tags=["users"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
router = APIRouter(prefix="/users", tags=["users"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


@me_router.get("", response_model=UserPublic, summary="The signed-in user's own account")
def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.from_record(user)


def user_or_404(user_id: uuid.UUID, conn: ConnDep, _admin: AdminUser) -> UserRecord:
    """Loads the account or answers 404. Admin-only, so only admins learn whether an id exists."""
    user = get_user(conn, user_id)
    if user is None:
        raise ApiError.not_found(f"No user with id {user_id}; check the id.")
    return user


@router.get("/{user_id}", response_model=UserPublic, summary="Any account (administrators only)")
def read_user(user: Annotated[UserRecord, Depends(user_or_404)]) -> UserPublic:
    return UserPublic.from_record(user)
