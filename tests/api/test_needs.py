"""Needs through the API: region scoping, matched needs, invitations, applications and filling."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from ai.evidence.matching import run_matching, seoul_today
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
    soon = seoul_today() + timedelta(days=30)
    need_id = post_need(client, officer, starts_on=str(soon), ends_on=str(soon + timedelta(days=1))).json()["id"]
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


def test_a_need_past_its_end_date_is_not_offered_and_takes_no_one(client: TestClient, engine: Engine,
                                                                   make_user: MakeUser, regions_loaded: object) -> None:
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=UISEONG)
    cook = make_user()
    certify(engine, cook, "요리", 2, UISEONG)
    today = seoul_today()
    ended = post_need(client, officer, starts_on=str(today - timedelta(days=10)),
                      ends_on=str(today - timedelta(days=1))).json()["id"]
    current = post_need(client, officer, starts_on=str(today - timedelta(days=1)), ends_on=str(today)).json()["id"]
    with engine.begin() as conn:
        run_matching(conn)
        ranked = set(conn.execute(text("select distinct need_id::text from serving.need_matches")).scalars())
    assert current in ranked and ended not in ranked  # the last day itself still counts

    offered = {m["id"] for m in client.get("/needs/matched", headers=cook.headers, params={"limit": 100}).json()}
    assert current in offered and ended not in offered
    message = assert_error(client.post(f"/needs/{ended}/applications", headers=cook.headers, json={}), 409,
                           "need_ended")["message"]
    assert str(today - timedelta(days=1)) in message
    assert_error(client.post(f"/needs/{ended}/invitations", headers=officer.headers,
                             json={"user_id": str(cook.id)}), 409, "need_ended")
    assert client.post(f"/needs/{current}/applications", headers=cook.headers, json={}).status_code == 201

    listed = {n["id"]: n for n in client.get("/needs", headers=officer.headers, params={"limit": 100}).json()["items"]}
    assert listed[ended]["is_past"] is True and listed[current]["is_past"] is False
    open_only = client.get("/needs", headers=officer.headers, params={"open_only": True, "limit": 100}).json()
    assert {n["id"] for n in open_only["items"]} >= {current} and ended not in {n["id"] for n in open_only["items"]}
    assert open_only["total"] < client.get("/needs", headers=officer.headers).json()["total"]


def test_a_need_posted_after_the_last_matching_run_is_ranked_on_request(
        client: TestClient, engine: Engine, make_user: MakeUser, regions_loaded: object) -> None:
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=UISEONG)
    cook = make_user()
    certify(engine, cook, "요리", 2, UISEONG)
    with engine.begin() as conn:
        run_matching(conn)
        last_run = conn.execute(text("select max(computed_at) from serving.need_matches")).scalar_one()
    need_id = post_need(client, officer).json()["id"]

    fresh = client.get(f"/needs/{need_id}/candidates", headers=officer.headers)
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["X-Matches-Source"] == "on-request"
    assert datetime.fromisoformat(fresh.headers["X-Matches-Computed-At"]) > last_run
    mine = next(c for c in fresh.json() if c["user_id"] == str(cook.id))
    assert mine["reasons"] and mine["engagement_status"] is None
    assert [c["rank"] for c in fresh.json()] == list(range(1, len(fresh.json()) + 1))
    invited = client.post(f"/needs/{need_id}/invitations", headers=officer.headers, json={"user_id": str(cook.id)})
    assert invited.status_code == 201
    again = next(c for c in client.get(f"/needs/{need_id}/candidates", headers=officer.headers).json()
                 if c["user_id"] == str(cook.id))
    assert again["engagement_status"] == "pending" and again["engagement_kind"] == "invite"

    with engine.begin() as conn:
        run_matching(conn)
        computed_at = conn.execute(text("select max(computed_at) from serving.need_matches")).scalar_one()
    batch = client.get(f"/needs/{need_id}/candidates", headers=officer.headers)
    assert batch.headers["X-Matches-Source"] == "batch"
    assert datetime.fromisoformat(batch.headers["X-Matches-Computed-At"]) == computed_at
    assert str(cook.id) in {c["user_id"] for c in batch.json()}
