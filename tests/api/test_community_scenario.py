"""Issue 8's "done when", tried as new users would: register, meet on the 의성군 board, ask for a mentor in
목공, get a ranked suggestion with reasons, request, the mentor accepts; a spam post is held with its score,
a moderator hides it with a reason and its author is notified; a comment arrives live over the WebSocket."""

from __future__ import annotations

import queue
import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from tests.api.conftest import MakeUser

PASSWORD = "uiseong-garlic-2026"
LIVE_TIMEOUT_S = 15.0


@pytest.fixture(autouse=True)
def _regions(regions_loaded: object) -> None:
    pass


def register(client: TestClient, name: str, user_type: str, **profile: Any) -> dict[str, str]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.kr"
    created = client.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": name,
                                                  "user_type": user_type, **profile})
    assert created.status_code == 201, created.text
    token = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def receive_within(socket: WebSocketTestSession, seconds: float) -> dict[str, Any]:
    """The next message, or a failure after `seconds` (the test client's receive has no timeout)."""
    box: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=lambda: box.put(socket.receive_json()), daemon=True).start()
    try:
        return box.get(timeout=seconds)  # type: ignore[no-any-return]
    except queue.Empty:
        pytest.fail(f"nothing arrived on the WebSocket within {seconds} s")


def test_two_new_users_meet_find_a_mentor_and_moderation_works(client: TestClient, make_user: MakeUser) -> None:
    minji = register(client, "민지", "youth", hometown_region_code="47730", interest_region_codes=["47730"])
    junho = register(client, "준호", "mentor", hometown_region_code="47730", home_region_code="47730",
                     skills=["목공"])

    # they meet on the 의성군 board
    boards = client.get("/community/boards", params={"kind": "sigungu", "region_code": "47730"}).json()
    assert [b["name"] for b in boards] == ["경상북도 의성군"]
    question = client.post("/community/posts", headers=minji, json={
        "board_id": "sgg-47730", "title": "의성에서 목공 배울 수 있을까요?",
        "body": "내년에 **의성**으로 귀향하려고 해요. 빈집을 직접 고치고 싶어서 목공을 배우고 싶습니다.",
        "tags": ["목공", "귀향"]})
    assert question.status_code == 201 and question.json()["status"] == "published", question.text
    post_id = question.json()["id"]
    found = client.get("/community/posts", params={"board_id": "sgg-47730", "q": "의성 목공"}).json()["items"]
    assert post_id in [p["id"] for p in found]

    # a comment arrives live over the WebSocket (authors follow their own posts)
    token = minji["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/notifications/ws?token={token}") as socket:
        assert receive_within(socket, LIVE_TIMEOUT_S)["type"] == "ready"
        answer = client.post(f"/community/posts/{post_id}/comments", headers=junho,
                             json={"body": "의성에서 한옥 목공을 하고 있어요. 멘토 신청 주세요!"})
        assert answer.status_code == 201, answer.text
        live = receive_within(socket, LIVE_TIMEOUT_S)
    assert live["type"] == "notification", live
    assert live["notification"]["kind"] == "comment_on_followed_post"
    assert live["notification"]["data"]["comment_id"] == answer.json()["id"]

    # 준호 declares himself a mentor; 민지 asks for one in 목공 and gets him first, with reasons
    mentor_profile = client.put("/mentoring/mentor-profile", headers=junho, json={
        "headline": "의성 귀향 5년 차, 한옥 목공", "bio": "빈집 두 채를 직접 고쳤어요", "skills": ["목공", "건축"],
        "region_codes": ["47730"], "availability": ["weekend"], "capacity": 2})
    assert mentor_profile.status_code == 200, mentor_profile.text
    junho_id = mentor_profile.json()["user_id"]
    assert client.put("/mentoring/mentee-profile", headers=minji, json={
        "needs": "빈집 수리를 위한 목공 기초", "skills": ["목공"], "region_codes": ["47730"],
        "availability": ["weekend"]}).status_code == 200
    ranked = client.get("/mentoring/suggestions", headers=minji, params={"limit": 30}).json()["items"]
    position = [item["mentor_id"] for item in ranked].index(junho_id)
    suggestion = ranked[position]
    assert "목공 경험" in suggestion["reasons"] and "같은 고향: 경상북도 의성군" in suggestion["reasons"]
    # only mentors as relevant as he is (other tests' 의성 목공 mentors) may rank above him
    assert all(item["components"]["skills"] == 1.0 and item["components"]["region"] == 1.0
               for item in ranked[:position + 1])
    request = client.post("/mentoring/requests", headers=minji, json={
        "mentor_id": junho_id, "message": "목공 기초를 배우고 싶어요", "goals": ["공구 익히기", "의자 만들기"]})
    assert request.status_code == 201, request.text
    received = client.get("/mentoring/requests", headers=junho, params={"box": "received"}).json()
    assert [r["id"] for r in received] == [request.json()["id"]]
    accepted = client.post(f"/mentoring/requests/{request.json()['id']}/accept", headers=junho,
                           json={"message": "주말에 공방에서 봐요"})
    assert accepted.json()["status"] == "accepted" and accepted.json()["mentorship_id"]
    kinds = {n["kind"] for n in client.get("/me/notifications", headers=minji).json()["items"]}
    assert {"comment_on_followed_post", "mentor_response"} <= kinds

    # a spam post is held with its score; a moderator hides it with a reason; the author is notified
    spammer = register(client, "광고봇", "youth")
    spam = client.post("/community/posts", headers=spammer, json={
        "board_id": "sgg-47730", "title": "★무직자 당일 대출★",
        "body": "신용불량 OK 대출 즉시 승인!! 텔레그램 @loan_king_kr http://quick-loan.xyz http://quick-loan.xyz/go "
                "http://quick-loan.xyz/now"})
    assert spam.status_code == 201 and spam.json()["status"] == "held", spam.text
    spam_id = spam.json()["id"]
    moderator = make_user(roles=("moderator",), user_type=None)
    queue_items = client.get("/moderation/queue", headers=moderator.headers, params={"limit": 100}).json()["items"]
    case = next(item for item in queue_items if item["target_id"] == spam_id)
    assert case["opened_by"] == "screen" and case["screen_score"] >= 0.7 and case["screen_reasons"]
    hidden = client.post("/moderation/actions", headers=moderator.headers, json={
        "target_type": "post", "target_id": spam_id, "action": "hide", "reason": "불법 대출 광고"})
    assert hidden.status_code == 201, hidden.text
    outcome = client.get("/me/notifications", headers=spammer).json()["items"]
    assert outcome[0]["kind"] == "moderation_outcome" and "불법 대출 광고" in outcome[0]["body"]
    assert client.get(f"/community/posts/{spam_id}", headers=spammer).json()["status"] == "hidden"
    assert client.get(f"/community/posts/{spam_id}", headers=minji).status_code == 404
