"""Needs through the API: region scoping, matched needs, invitations, applications and filling."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from ai.evidence.matching import run_matching
from tests.api.conftest import Account, MakeUser, assert_error

UISEONG, ANDONG = "47730", "47170"


def certify(engine: Engine, account: Account, skill: str, tier: int, home: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("update app.users set home_region_code = :h where id = :u"), {"h": home, "u": account.id})
        sid = conn.execute(text("insert into app.certification_submissions (user_id, skill, status) values "
                                "(:u, :s, 'approved') returning id"), {"u": account.id, "s": skill}).scalar_one()
        conn.execute(text("insert into app.user_skill_tiers (user_id, skill, tier, submission_id) values "
                          "(:u, :s, :t, :sid)"), {"u": account.id, "s": skill, "t": tier, "sid": sid})


def post_need(client: TestClient, account: Account, **extra: object):
    body = {"title": "경로당 도시락 반찬 만들기", "description": "어르신 스무 분의 반찬", "skill": "요리",
            "tier_wanted": 1, "headcount": 2, **extra}
    return client.post("/needs", headers=account.headers, json=body)


def test_officers_and_requesters_see_only_their_region(client: TestClient, engine: Engine, make_user: MakeUser,
                                                        regions_loaded: object) -> None:
    uiseong = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=UISEONG)
    andong = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=ANDONG)
    requester = make_user(user_type="requester")
    with engine.begin() as conn:
        conn.execute(text("update app.users set home_region_code = :r where id = :u"), {"r": ANDONG, "u": requester.id})
    need = post_need(client, uiseong)
    assert need.status_code == 201, need.text
    body = need.json()
    assert body["region_code"] == UISEONG and body["region_name"] == "의성군" and body["lat"] is not None
    assert_error(post_need(client, andong, region_code=UISEONG), 403, "other_region")
    assert post_need(client, requester).json()["region_code"] == ANDONG
    listed = client.get("/needs", headers=andong.headers).json()["items"]
    assert {n["region_code"] for n in listed} == {ANDONG}
    assert_error(client.get(f"/needs/{body['id']}", headers=andong.headers), 404, "not_found")
    assert_error(client.get(f"/needs/{body['id']}/candidates", headers=requester.headers), 404, "not_found")
    app_user = make_user()
    assert_error(client.get("/needs", headers=app_user.headers), 403, "forbidden")
    assert_error(post_need(client, uiseong, skill="요가"), 422, "validation_error")


def test_invite_apply_accept_fills_the_need(client: TestClient, engine: Engine, make_user: MakeUser,
                                            regions_loaded: object) -> None:
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=UISEONG)
    cook_a, cook_b, cook_c, uncertified = make_user(), make_user(), make_user(), make_user()
    for cook, home in ((cook_a, UISEONG), (cook_b, ANDONG), (cook_c, UISEONG)):
        certify(engine, cook, "요리", 2, home)
    need_id = post_need(client, officer, starts_on="2026-08-01", ends_on="2026-08-02").json()["id"]
    with engine.begin() as conn:
        run_matching(conn)

    matched = client.get("/needs/matched", headers=cook_a.headers).json()
    mine = next(m for m in matched if m["id"] == need_id)
    assert mine["rank"] >= 1 and mine["reasons"] and mine["engagement_status"] is None

    invited = client.post(f"/needs/{need_id}/invitations", headers=officer.headers,
                          json={"user_id": str(cook_a.id), "message": "도와주실 수 있을까요?"})
    assert invited.status_code == 201, invited.text
    assert_error(client.post(f"/needs/{need_id}/invitations", headers=officer.headers,
                             json={"user_id": str(cook_a.id)}), 409, "already_engaged")
    assert_error(client.post(f"/needs/{need_id}/invitations", headers=officer.headers,
                             json={"user_id": str(uncertified.id)}), 422, "not_certified")
    invitation = invited.json()["id"]
    assert_error(client.post(f"/needs/engagements/{invitation}/accept", headers=officer.headers), 403,
                 "not_yours_to_answer")
    assert client.post(f"/needs/engagements/{invitation}/accept", headers=cook_a.headers).json()["status"] == \
        "accepted"

    applied = client.post(f"/needs/{need_id}/applications", headers=cook_b.headers, json={"message": "안동에서 갑니다"})
    assert applied.status_code == 201, applied.text
    late = client.post(f"/needs/{need_id}/applications", headers=cook_c.headers, json={})
    assert late.status_code == 201
    accepted = client.post(f"/needs/engagements/{applied.json()['id']}/accept", headers=officer.headers)
    assert accepted.status_code == 200 and accepted.json()["need_status"] == "filled"
    assert_error(client.post(f"/needs/engagements/{late.json()['id']}/accept", headers=officer.headers), 409,
                 "need_not_open")
    need = client.get(f"/needs/{need_id}", headers=officer.headers).json()
    assert need["status"] == "filled" and need["accepted_count"] == 2
    with engine.connect() as conn:
        kinds = set(conn.execute(text("select kind from app.notifications where user_id = :u"),
                                 {"u": cook_a.id}).scalars())
    assert "need_invitation" in kinds
    mine_now = client.get("/needs/engagements", headers=cook_b.headers).json()
    assert mine_now[0]["status"] == "accepted" and mine_now[0]["need_status"] == "filled"
    assert_error(client.post(f"/needs/engagements/{uuid.uuid4()}/accept", headers=cook_a.headers), 404, "not_found")
