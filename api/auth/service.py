"""Registration and sign-in. Accounts are created through core.accounts, the same code the demo uses."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from api.auth.schemas import UserCreate
from api.errors import ApiError, FieldError
from api.users.service import UserRecord, get_user, get_user_with_hash
from core.accounts import NewUser, create_users, hash_password, needs_rehash, verify_password
from core.tables import regions, users


def _unknown_region_fields(conn: Connection, data: UserCreate) -> list[dict[str, str]]:
    """Region codes of the request that are well-formed but name no 시군구 in raw.regions."""
    wanted: dict[str, list[str]] = {}
    for field in ("hometown_region_code", "home_region_code"):
        code = getattr(data, field)
        if code:
            wanted.setdefault(code, []).append(f"body.{field}")
    for i, code in enumerate(data.interest_region_codes):
        wanted.setdefault(code, []).append(f"body.interest_region_codes.{i}")
    if not wanted:
        return []
    known: set[str] = set(conn.scalars(select(regions.c.region_code).where(regions.c.region_code.in_(wanted))))
    return [FieldError(field=field, message=f"no 시군구 has the code {code}; list the codes at /regions",
                       type="unknown_region").model_dump()
            for code, fields in wanted.items() if code not in known for field in fields]


def register_user(conn: Connection, data: UserCreate) -> UserRecord:
    """Create an app user (no staff roles) and commit; 409 if the e-mail is taken."""
    unknown = _unknown_region_fields(conn, data)
    if unknown:
        raise ApiError(422, "validation_error", "Some region codes are unknown: "
                       + ", ".join(d["field"] for d in unknown) + ". Use codes listed at /regions.", unknown)
    new = NewUser(email=data.email, display_name=data.display_name, password_hash=hash_password(data.password),
                  user_type=data.user_type.value, birth_year=data.birth_year,
                  hometown_region_code=data.hometown_region_code, home_region_code=data.home_region_code,
                  interest_region_codes=data.interest_region_codes, skills=data.skills,
                  interests=data.interests)
    try:
        (user_id,) = create_users(conn, [new])
        conn.commit()
    except IntegrityError as exc:
        conn.rollback()
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == "uq_users_email":
            raise ApiError(409, "email_taken", f"An account with {data.email} already exists; sign in at "
                           "/auth/token, or register with another e-mail address.") from exc
        raise
    user = get_user(conn, user_id)
    assert user is not None
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def authenticate(conn: Connection, email: str, password: str) -> UserRecord:
    """The user whose e-mail and password match, else 401. Unknown e-mails cost a hash too (no timing oracle)."""
    found = get_user_with_hash(conn, email)
    if found is None:
        verify_password(_dummy_hash(), password)
        raise _bad_credentials()
    user, password_hash = found
    if not verify_password(password_hash, password):
        raise _bad_credentials()
    if not user.is_active:
        raise ApiError(403, "account_disabled", "This account is disabled; contact the Hometown ON team.")
    if needs_rehash(password_hash):  # hashing parameters were raised since this hash was made
        conn.execute(update(users).where(users.c.id == user.id).values(password_hash=hash_password(password)))
        conn.commit()
    return user


def _bad_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The e-mail or password is wrong; check both and try again "
                    "(the e-mail goes in the `username` field).", headers={"WWW-Authenticate": "Bearer"})
