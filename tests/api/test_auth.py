"""Registration, sign-in with the OAuth2 password form, /me, and the role and user-type checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.deps import require_roles, require_user_types
from api.errors import install_error_handlers
from api.security import create_access_token
from api.users.service import UserRecord
from core.vocab import Role, UserType
from tests.api.conftest import PASSWORD, MakeUser, assert_error


def _new_user(**extra: object) -> dict[str, object]:
    return {"email": f"Reg-{uuid.uuid4().hex[:10]}@Example.kr", "password": "long enough pw",
            "display_name": " 민지 ", "user_type": "returnee", "birth_year": 1996,
            "skills": ["목공", "사진"], "interests": ["귀농"], **extra}


def _sign_in(client: TestClient, email: str, password: str) -> object:
    return client.post("/auth/token", data={"username": email, "password": password})


def test_register_sign_in_and_me(client: TestClient, pg: psycopg.Connection) -> None:
    data = _new_user()
    response = client.post("/auth/register", json=data)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == str(data["email"]).lower() and created["display_name"] == "민지"
    assert created["roles"] == [] and created["user_type"] == "returnee"
    assert "password" not in response.text and "password_hash" not in created

    stored = pg.execute("select password_hash, is_demo from app.users where id = %s",
                        (created["id"],)).fetchone()
    assert stored is not None and stored[0].startswith("$argon2id$") and stored[1] is False

    token = _sign_in(client, str(data["email"]).upper(), str(data["password"]))
    assert token.status_code == 200, token.text  # type: ignore[attr-defined]
    body = token.json()  # type: ignore[attr-defined]
    assert body["token_type"] == "bearer" and body["expires_in"] == 24 * 3600
    me = client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json() == created


def test_register_twice_is_409(client: TestClient) -> None:
    data = _new_user()
    assert client.post("/auth/register", json=data).status_code == 201
    again = client.post("/auth/register", json={**data, "email": str(data["email"]).upper()})
    error = assert_error(again, 409, "email_taken")
    assert "/auth/token" in error["message"]


def test_register_rejects_bad_fields_with_their_paths(client: TestClient) -> None:
    response = client.post("/auth/register", json=_new_user(
        email="not-an-email", birth_year=datetime.now(UTC).year - 5, skills=["저글링"],
        hometown_region_code="4773", roles=["admin"]))
    error = assert_error(response, 422, "validation_error")
    fields = {d["field"]: d["message"] for d in error["details"]}
    assert set(fields) == {"body.email", "body.birth_year", "body.skills", "body.hometown_region_code",
                           "body.roles"}
    assert "14 or older" in fields["body.birth_year"]
    assert "목공" in fields["body.skills"]  # says what to choose from
    assert "5-digit" in fields["body.hometown_region_code"]
    assert fields["body.roles"] == "Extra inputs are not permitted"  # roles are never self-assigned


def test_password_equal_to_email_is_rejected(client: TestClient) -> None:
    data = _new_user(email="same-as-pw@example.kr", password="same-as-pw@example.kr")
    error = assert_error(client.post("/auth/register", json=data), 422, "validation_error")
    assert error["details"][0]["field"] == "body.password"


def test_wrong_password_and_unknown_email_are_the_same_401(client: TestClient, make_user: MakeUser) -> None:
    account = make_user()
    wrong = _sign_in(client, account.email, "not the password")
    unknown = _sign_in(client, "nobody-" + account.email, PASSWORD)
    for response in (wrong, unknown):
        error = assert_error(response, 401, "invalid_credentials")
        assert response.headers["www-authenticate"] == "Bearer"  # type: ignore[attr-defined]
    assert wrong.json() == unknown.json()  # type: ignore[attr-defined]
    assert _sign_in(client, account.email, PASSWORD).status_code == 200  # type: ignore[attr-defined]
    assert "username" in error["message"]


def test_me_needs_a_valid_token(client: TestClient, make_user: MakeUser, engine: object) -> None:
    assert_error(client.get("/me"), 401, "not_authenticated")
    assert_error(client.get("/me", headers={"Authorization": "Bearer abc.def.ghi"}), 401, "invalid_token")
    account = make_user()
    expired = create_access_token(account.id, now=datetime.now(UTC) - timedelta(days=2)).token
    assert_error(client.get("/me", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired")
    ghost = create_access_token(uuid.uuid4()).token
    assert_error(client.get("/me", headers={"Authorization": f"Bearer {ghost}"}), 401, "invalid_token")
    forged = account.headers["Authorization"][:-4] + "AAAA"
    assert_error(client.get("/me", headers={"Authorization": forged}), 401, "invalid_token")
    assert client.get("/me", headers=account.headers).json()["id"] == str(account.id)


def test_disabled_account_is_refused(client: TestClient, make_user: MakeUser) -> None:
    account = make_user(is_active=False)
    assert_error(client.get("/me", headers=account.headers), 403, "account_disabled")
    assert_error(_sign_in(client, account.email, PASSWORD), 403, "account_disabled")


def test_admin_can_read_any_user_others_cannot(client: TestClient, make_user: MakeUser) -> None:
    admin, staff, someone = make_user(roles=("admin",)), make_user(roles=("policy_staff",)), make_user()
    assert client.get(f"/users/{someone.id}", headers=admin.headers).json()["email"] == someone.email
    error = assert_error(client.get(f"/users/{someone.id}", headers=staff.headers), 403, "forbidden")
    assert "admin" in error["message"] and "policy_staff" in error["message"]
    assert_error(client.get(f"/users/{someone.id}"), 401, "not_authenticated")
    assert_error(client.get(f"/users/{uuid.uuid4()}", headers=admin.headers), 404, "not_found")
    error = assert_error(client.get("/users/not-a-uuid", headers=admin.headers), 422, "validation_error")
    assert error["details"][0]["field"] == "path.user_id"


def test_role_and_user_type_dependencies(client: TestClient, make_user: MakeUser) -> None:
    """The reusable checks, mounted on a route of their own, against real accounts."""
    probe = APIRouter()

    @probe.get("/probe/policy")
    def policy(user: UserRecord = Depends(require_roles(Role.POLICY_STAFF))) -> dict[str, str]:
        return {"id": str(user.id)}

    @probe.get("/probe/mentor")
    def mentor(user: UserRecord = Depends(require_user_types(UserType.MENTOR, UserType.RETURNEE))) -> dict:
        return {"id": str(user.id)}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(probe)
    with TestClient(app) as probe_client:
        policy_staff, admin = make_user(roles=("policy_staff",), user_type=None), make_user(roles=("admin",))
        youth, mentor_user = make_user(user_type="youth"), make_user(user_type="mentor")
        assert probe_client.get("/probe/policy", headers=policy_staff.headers).status_code == 200
        assert probe_client.get("/probe/policy", headers=admin.headers).status_code == 200  # admins pass
        assert_error(probe_client.get("/probe/policy", headers=youth.headers), 403, "forbidden")
        assert probe_client.get("/probe/mentor", headers=mentor_user.headers).status_code == 200
        error = assert_error(probe_client.get("/probe/mentor", headers=youth.headers), 403, "forbidden")
        assert "mentor or returnee" in error["message"] and "youth" in error["message"]
        assert_error(probe_client.get("/probe/mentor", headers=policy_staff.headers), 403, "forbidden")


def test_region_codes_must_name_a_real_sigungu(client: TestClient, regions_loaded: object,
                                               pg: psycopg.Connection) -> None:
    data = _new_user(hometown_region_code="47730", home_region_code="11110",
                     interest_region_codes=["47900", "99999", "47730"])
    error = assert_error(client.post("/auth/register", json=data), 422, "validation_error")
    assert error["details"] == [{"field": "body.interest_region_codes.1", "type": "unknown_region",
                                 "message": "no 시군구 has the code 99999; list the codes at /regions"}]
    assert pg.execute("select count(*) from app.users where email = %s",
                      (str(data["email"]).lower(),)).fetchone() == (0,)
    data["interest_region_codes"] = ["47900", "47730"]
    created = client.post("/auth/register", json=data)
    assert created.status_code == 201, created.text
    assert created.json()["interest_region_codes"] == ["47900", "47730"]
    assert created.json()["hometown_region_code"] == "47730"
