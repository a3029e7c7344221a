"""`/auth/register` (JSON) and `/auth/token` (the OAuth2 password form, so /docs can sign in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import service
from api.auth.schemas import Token, UserCreate
from api.deps import ConnDep
from api.errors import ERROR_RESPONSES, ErrorResponse
from api.security import create_access_token
from api.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             summary="Create an app user account",
             responses={409: {"model": ErrorResponse, "description": "The e-mail is taken"}})
def register(data: UserCreate, conn: ConnDep) -> UserPublic:
    return UserPublic.from_record(service.register_user(conn, data))


@router.post("/token", response_model=Token, summary="Sign in: e-mail as `username`, and password",
             responses={401: {"model": ErrorResponse, "description": "Wrong e-mail or password"}})
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: ConnDep) -> Token:
    user = service.authenticate(conn, form.username, form.password)
    issued = create_access_token(user.id)
    return Token(access_token=issued.token, expires_in=issued.expires_in)
