"""POST /xapi/statements: client credentials, validation, mapping completions to learning-mission events,
idempotency on the statement id."""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.attempts.writer import effects_idle
from core.xapi import PLATFORM_HOME, activity_iri
from tests.api.conftest import MakeUser, assert_error
from tests.api.loop_support import changed_tables, events_of, make_mission, snapshot

pytestmark = pytest.mark.usefixtures("regions_loaded")
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture(scope="module")
def platform(client: TestClient, engine: Engine, password_hash: str) -> dict[str, str]:
    """An xAPI client created by an admin through the API; its Basic-auth headers."""
    from api.security import create_access_token
    from core.accounts import NewUser, create_users

    email = f"admin-{uuid.uuid4().hex[:8]}@test.hometown-on.kr"
    with engine.begin() as conn:
        (admin_id,) = create_users(conn, [NewUser(email=email, display_name="관리자", password_hash=password_hash,
                                                  roles=["admin"])])
    admin = {"Authorization": f"Bearer {create_access_token(admin_id).token}"}
    client_id = f"lms-{uuid.uuid4().hex[:6]}"
    created = client.post("/xapi/clients", headers=admin, json={"client_id": client_id, "name": "테스트 LMS"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3", "admin": admin["Authorization"],
            "client_id": client_id}


def _headers(platform: dict[str, str]) -> dict[str, str]:
    return {k: platform[k] for k in ("Authorization", "X-Experience-API-Version")}


def _statement(user_id: uuid.UUID, activity: str, verb: str = COMPLETED, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "actor": {"account": {"homePage": PLATFORM_HOME, "name": str(user_id)}},
            "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
            "object": {"id": activity, "objectType": "Activity"},
            "result": {"score": {"scaled": 0.85}, "success": True, "completion": True},
            "timestamp": "2025-11-21T09:30:00+09:00", **extra}


def test_a_completion_moves_the_learner_through_the_learning_mission(
        client: TestClient, engine: Engine, make_user: MakeUser, platform: dict[str, str],
        pg: psycopg.Connection) -> None:
    learner = make_user()
    mission = make_mission(engine, ["none", "none"], mission_type="learning", points=60)
    st = _statement(learner.id, activity_iri(mission.id))
    posted = client.post("/xapi/statements", headers=_headers(platform), json=st)
    assert posted.status_code == 200, posted.text
    assert posted.json() == [st["id"]] and posted.headers["X-Experience-API-Version"] == "1.0.3"
    attempt = client.get("/me/attempts", headers=learner.headers).json()["items"][0]
    assert attempt["status"] == "completed" and attempt["points_awarded"] == 60
    kinds = [e[0] for e in events_of(pg, attempt["id"])]
    assert kinds == ["mission_enrolled", "learning_completed", "step_completed", "step_completed",
                     "mission_completed"]
    learning = events_of(pg, attempt["id"])[1][2]
    assert learning["statement_id"] == st["id"] and learning["score"] == 0.85
    assert pg.execute("select count(*) from raw.activity_events where payload ->> 'attempt_id' = %s and source = %s",
                      [attempt["id"], f"xapi:{platform['client_id']}"]).fetchone()[0] == 5
    assert pg.execute("select outcome from app.xapi_statements where id = %s", [st["id"]]).fetchone()[0] == \
        "completed_mission"

    # the same statement again: the same answer, nothing changes
    assert effects_idle()  # the completion's top-10 notifications come after its commit
    before = snapshot(pg)
    again = client.post("/xapi/statements", headers=_headers(platform), json=[st])
    assert again.status_code == 200 and again.json() == [st["id"]]
    assert changed_tables(before, snapshot(pg)) == {}
    # the same id with another statement: 409, nothing changes
    other = copy.deepcopy(st)
    other["result"]["score"]["scaled"] = 0.1
    assert_error(client.post("/xapi/statements", headers=_headers(platform), json=other), 409, "xapi_conflict")
    assert changed_tables(before, snapshot(pg)) == {}


def test_mapped_platform_activities_steps_and_other_verbs(client: TestClient, engine: Engine, make_user: MakeUser,
                                                          platform: dict[str, str], pg: psycopg.Connection) -> None:
    learner = make_user()
    mission = make_mission(engine, ["none", "qr"], mission_type="learning")
    iri = f"https://lms.example.kr/courses/{uuid.uuid4().hex[:8]}/unit-1"
    admin = {"Authorization": platform["admin"]}
    assert client.post("/xapi/activities", headers=admin,
                       json={"activity_id": iri, "mission_id": str(mission.id), "step_no": 1}).status_code == 204
    exploration = make_mission(engine, ["none"])
    assert_error(client.post("/xapi/activities", headers=admin,
                             json={"activity_id": iri + "x", "mission_id": str(exploration.id)}), 409,
                 "not_a_learning_mission")
    experienced = _statement(learner.id, iri, verb="http://adlnet.gov/expapi/verbs/experienced")
    done = _statement(learner.id, iri, actor={"mbox": f"mailto:{learner.email.upper()}"})
    unmapped = _statement(learner.id, "https://lms.example.kr/other")
    posted = client.post("/xapi/statements", headers=_headers(platform), json=[experienced, done, unmapped])
    assert posted.status_code == 200, posted.text
    outcomes = dict(pg.execute("select id::text, outcome from app.xapi_statements where id = any(%s::uuid[])",
                               [[experienced["id"], done["id"], unmapped["id"]]]).fetchall())
    assert outcomes == {experienced["id"]: "recorded_not_completion", done["id"]: "steps_done:1",
                        unmapped["id"]: "recorded"}
    attempt = client.get("/me/attempts", headers=learner.headers).json()["items"][0]
    assert attempt["status"] == "in_progress" and attempt["steps_done"] == 1  # step 2 needs the host's QR code


def test_bad_requests_are_4xx_and_store_nothing(client: TestClient, engine: Engine, make_user: MakeUser,
                                                platform: dict[str, str], pg: psycopg.Connection) -> None:
    learner = make_user()
    mission = make_mission(engine, ["none"], mission_type="learning")
    exploration = make_mission(engine, ["none"])
    good = _statement(learner.id, activity_iri(mission.id))
    before = snapshot(pg)
    bad_score = _statement(learner.id, activity_iri(mission.id), result={"score": {"scaled": 7}})
    error = assert_error(client.post("/xapi/statements", headers=_headers(platform), json=[good, bad_score]), 400,
                         "xapi_invalid")
    assert error["details"][0]["field"] == "statement[1].result.score.scaled"
    stranger = _statement(uuid.uuid4(), activity_iri(mission.id))
    error = assert_error(client.post("/xapi/statements", headers=_headers(platform), json=stranger), 400,
                         "xapi_invalid")
    assert error["details"][0]["field"] == "statement[0].actor"
    wrong_kind = _statement(learner.id, activity_iri(exploration.id))
    assert_error(client.post("/xapi/statements", headers=_headers(platform), json=wrong_kind), 400, "xapi_invalid")
    assert_error(client.post("/xapi/statements", headers={**_headers(platform), "Content-Type": "application/json"},
                             content=b"[{"), 400, "xapi_invalid")
    assert_error(client.post("/xapi/statements", headers={"Authorization": platform["Authorization"]}, json=good),
                 400, "xapi_version")
    wrong = base64.b64encode(f"{platform['client_id']}:nope".encode()).decode()
    response = client.post("/xapi/statements", headers={**_headers(platform), "Authorization": f"Basic {wrong}"},
                           json=good)
    assert_error(response, 401, "invalid_credentials")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(client.post("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"}, json=good), 401,
                 "not_authenticated")
    big = b'[' + b",".join([b'{"pad": "' + b"x" * 1000 + b'"}'] * 1100) + b']'
    assert_error(client.post("/xapi/statements", headers={**_headers(platform), "Content-Type": "application/json"},
                             content=big), 413, "payload_too_large")
    assert_error(client.post("/xapi/clients", headers=learner.headers, json={"client_id": "abc", "name": "x"}), 403,
                 "forbidden")
    assert changed_tables(before, snapshot(pg)) == {}
