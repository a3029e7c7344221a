"""GET /missions/recommendations, the admin review of AI mission drafts, and the policy weight."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from ai.corpus import policy_chunks, regional_documents
from ai.recommend.service import clear_cached_state, load_state, precompute
from ai.vectorstore import POLICY, REGIONAL
from api.recommendations import service
from api.security import create_access_token
from tests.api.conftest import MakeUser, assert_error

pytestmark = pytest.mark.usefixtures("demo_loaded")
UISEONG = "47730"


def _declare(engine: Engine, user_id: object, **values: object) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    with engine.begin() as conn:
        conn.execute(text(f"update app.users set {sets} where id = :id"), {**values, "id": user_id})


def test_a_new_user_gets_cold_start_recommendations_with_reasons(client: TestClient, make_user: MakeUser,
                                                                 engine: Engine) -> None:
    clear_cached_state()
    user = make_user(user_type="returnee")
    _declare(engine, user.id, hometown_region_code=UISEONG, skills=["목공"])
    body = client.get("/missions/recommendations", headers=user.headers).json()
    assert body["source"] == "online" and body["engine"].startswith("hybrid-1+")
    items = body["items"]
    assert 1 <= len(items) <= 20 and [i["rank"] for i in items] == list(range(1, len(items) + 1))
    for item in items:
        assert item["reasons_ko"] and item["reasons_en"]
        assert sum(item["parts"].values()) == pytest.approx(item["score"], abs=1e-3)
    assert any("의성군" in r for i in items for r in i["reasons_ko"])
    assert_error(client.get("/missions/recommendations"), 401, "not_authenticated")


def test_constraints_are_applied(client: TestClient, make_user: MakeUser) -> None:
    user = make_user()
    body = client.get("/missions/recommendations", params={"mission_type": "learning", "limit": 5},
                      headers=user.headers).json()
    assert body["source"] == "online" and 0 < len(body["items"]) <= 5
    assert {i["mission"]["mission_type"] for i in body["items"]} == {"learning"}
    assert_error(client.get("/missions/recommendations", params={"limit": 50}, headers=user.headers), 422,
                 "validation_error")
    assert_error(client.get("/missions/recommendations", params={"mission_type": "party"}, headers=user.headers),
                 422, "validation_error")


def test_precomputed_recommendations_are_served(client: TestClient, engine: Engine) -> None:
    with engine.connect() as conn:
        user_id = conn.execute(text("select id from app.users where is_demo and user_type is not null "
                                    "and cardinality(roles) = 0 order by id limit 1")).scalar_one()
        state = load_state(conn, service.vector_store().engine)
    with engine.begin() as conn:
        precompute(conn, state, user_ids=[str(user_id)])
    headers = {"Authorization": f"Bearer {create_access_token(user_id).token}"}
    body = client.get("/missions/recommendations", headers=headers).json()
    assert body["source"] == "precomputed" and len(body["items"]) == 20
    with engine.connect() as conn:
        stored = [str(m) for (m,) in conn.execute(text(
            "select mission_id from serving.recommendations where user_id = :u order by rank"), {"u": user_id})]
    assert [i["mission"]["id"] for i in body["items"]] == stored


@pytest.fixture(scope="module")
def collections(marts_built: object, engine: Engine, client: TestClient) -> None:
    store = service.vector_store()
    with engine.connect() as conn:
        store.sync(REGIONAL, regional_documents(conn))
    store.sync(POLICY, policy_chunks())


def test_admin_generates_edits_and_approves_a_draft_users_can_take(
        client: TestClient, make_user: MakeUser, engine: Engine, collections: None) -> None:
    admin = make_user(roles=("admin",), user_type=None)
    youth = make_user()
    with engine.connect() as conn:
        region = conn.execute(text("select region_code from app.regional_needs where status = 'open' "
                                   "group by 1 order by count(*) desc, 1 limit 1")).scalar_one()
    assert_error(client.post("/admin/mission-drafts", json={"region_code": region}, headers=youth.headers),
                 403, "forbidden")
    assert_error(client.post("/admin/mission-drafts", json={"region_code": "4773"}, headers=admin.headers),
                 422, "validation_error")
    created = client.post("/admin/mission-drafts", json={"region_code": region, "count": 2}, headers=admin.headers)
    assert created.status_code == 201, created.text
    drafts = created.json()
    assert len(drafts) == 2 and {d["status"] for d in drafts} == {"draft"}
    assert all(d["engine"] == "template:1" and d["draft"]["citations"] for d in drafts)
    listed = client.get("/admin/mission-drafts", params={"region_code": region}, headers=admin.headers).json()
    assert {d["id"] for d in drafts} <= {d["id"] for d in listed["items"]}

    first, second = drafts
    bad = client.patch(f"/admin/mission-drafts/{first['id']}", json={"steps": []}, headers=admin.headers)
    assert_error(bad, 422, "validation_error")
    edited = client.patch(f"/admin/mission-drafts/{first['id']}", json={"title": "승인 테스트용 재능기부 미션"},
                          headers=admin.headers)
    assert edited.status_code == 200 and edited.json()["draft"]["title"] == "승인 테스트용 재능기부 미션"
    # not approved yet: users cannot see it
    approved = client.post(f"/admin/mission-drafts/{first['id']}/approve", json={"note": "좋아요"},
                           headers=admin.headers)
    assert approved.status_code == 200, approved.text
    mission_id = approved.json()["mission_id"]
    public = client.get(f"/missions/{mission_id}")
    assert public.status_code == 200 and public.json()["title"] == "승인 테스트용 재능기부 미션"
    assert public.json()["steps"]

    rejected = client.post(f"/admin/mission-drafts/{second['id']}/reject", json={"note": "중복"},
                           headers=admin.headers)
    assert rejected.json()["status"] == "rejected" and rejected.json()["mission_id"] is None
    assert_error(client.post(f"/admin/mission-drafts/{second['id']}/approve", headers=admin.headers), 409, "conflict")
    assert_error(client.get("/admin/mission-drafts/00000000-0000-0000-0000-000000000000", headers=admin.headers),
                 404, "not_found")
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from app.missions where source_ref = :d"),
                            {"d": second["id"]}).scalar_one() == 0
        assert conn.execute(text("select count(*) from app.audit_log where object_id = :d "
                                 "and action = 'mission_draft.approve'"), {"d": first["id"]}).scalar_one() == 1


def test_policy_staff_set_the_policy_weight(client: TestClient, make_user: MakeUser) -> None:
    staff = make_user(roles=("policy_staff",), user_type=None)
    youth = make_user()
    assert_error(client.put("/admin/recommendation-settings/policy-weight", json={"value": 1.0},
                            headers=youth.headers), 403, "forbidden")
    assert_error(client.put("/admin/recommendation-settings/policy-weight", json={"value": 5},
                            headers=staff.headers), 422, "validation_error")
    put = client.put("/admin/recommendation-settings/policy-weight", json={"value": 0.8}, headers=staff.headers)
    assert put.status_code == 200 and put.json() == {"value": 0.8, "is_default": False}
    assert client.get("/admin/recommendation-settings/policy-weight", headers=staff.headers).json()["value"] == 0.8
