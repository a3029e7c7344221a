"""Mentor matching and the mentorship lifecycle through the real API, database and embedding engine."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.korean import josa
from tests.api.conftest import Account, MakeUser, assert_error

UISEONG, ANDONG, SEOUL_JONGNO = "47730", "47170", "11110"


@pytest.fixture(autouse=True)
def _regions(regions_loaded: object) -> None:
    pass


def set_home(engine: Engine, account: Account, hometown: str | None, home: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(text("update app.users set hometown_region_code = :h, home_region_code = :o where id = :id"),
                     {"h": hometown, "o": home, "id": account.id})


def mentor(client: TestClient, account: Account, **profile: object) -> dict:
    body = {"headline": "멘토", "bio": "", "skills": ["요리"], "region_codes": [SEOUL_JONGNO],
            "availability": ["weekend"], "capacity": 2, **profile}
    response = client.put("/mentoring/mentor-profile", headers=account.headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def mentee(client: TestClient, account: Account, **profile: object) -> None:
    body = {"needs": "의성에서 목공을 배워 빈집을 고치고 싶어요", "skills": ["목공"], "region_codes": [UISEONG],
            "availability": ["weekend"], **profile}
    response = client.put("/mentoring/mentee-profile", headers=account.headers, json=body)
    assert response.status_code == 200, response.text


def suggestions(client: TestClient, account: Account) -> list[dict]:
    response = client.get("/mentoring/suggestions", headers=account.headers, params={"limit": 30})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_suggestions_rank_the_relevant_mentor_first_with_reasons(client: TestClient, make_user: MakeUser,
                                                                  engine: Engine) -> None:
    seeker = make_user()
    set_home(engine, seeker, UISEONG)
    woodworker, cook, nearby = make_user(user_type="mentor"), make_user(user_type="mentor"), make_user()
    set_home(engine, woodworker, UISEONG, UISEONG)
    mentor(client, woodworker, headline="의성 귀향 5년 차, 한옥 목공", bio="빈집을 직접 고쳐 살고 있어요",
           skills=["목공", "건축"], region_codes=[UISEONG])
    mentor(client, cook, headline="서울 요리 강사", skills=["요리"], region_codes=[SEOUL_JONGNO],
           availability=["weekday_evening"])
    mentor(client, nearby, headline="안동 청년 농부", skills=["농업"], region_codes=[ANDONG])
    assert_error(client.get("/mentoring/suggestions", headers=seeker.headers), 409, "no_mentee_profile")
    mentee(client, seeker)

    mine = {str(woodworker.id), str(cook.id), str(nearby.id)}  # other tests' mentors share the database
    everyone = suggestions(client, seeker)
    assert str(seeker.id) not in {item["mentor_id"] for item in everyone}
    ranked = [item for item in everyone if item["mentor_id"] in mine]
    ids = [item["mentor_id"] for item in ranked]
    first = ranked[0]
    assert first["mentor_id"] == str(woodworker.id)
    assert ids.index(str(nearby.id)) < ids.index(str(cook.id))  # same 시도 beats another part of the country
    assert "경상북도 의성군을 잘 알아요" in first["reasons"]  # the particle fits the word, no "을(를)"
    assert "같은 고향: 경상북도 의성군" in first["reasons"]
    assert "목공 경험" in first["reasons"] and "주말 가능" in first["reasons"]
    assert first["components"]["skills"] == 1.0 and first["components"]["region"] == 1.0
    assert first["score"] > ranked[1]["score"]
    near = next(item for item in ranked if item["mentor_id"] == str(nearby.id))
    assert "같은 경상북도를 알아요" in near["reasons"]  # QA: was "같은 경상북도을(를) 알아요"
    assert not [reason for item in ranked for reason in item["reasons"] if "(를)" in reason or "(가)" in reason]


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("경상북도", ("을", "를"), "경상북도를"), ("경상북도 의성군", ("을", "를"), "경상북도 의성군을"),
    ("부산", ("이", "가"), "부산이"), ("대구", ("이", "가"), "대구가"), ("의성군", ("은", "는"), "의성군은"),
    ("안동시", ("은", "는"), "안동시는"), ("목공", ("과", "와"), "목공과"), ("요리", ("과", "와"), "요리와"),
    ("의성군", ("으로", "로"), "의성군으로"), ("안동시", ("으로", "로"), "안동시로"),
    ("서울", ("으로", "로"), "서울로"),
    ("포도(葡萄)", ("을", "를"), "포도(葡萄)를"), ("3", ("이", "가"), "3이"), ("2", ("이", "가"), "2가"),
    ("10", ("을", "를"), "10을"), ("1", ("으로", "로"), "1로"),
    ("AI", ("을", "를"), "AI을(를)"), ("AI", ("으로", "로"), "AI(으)로"),  # unknown reading: the placeholder stays
])
def test_josa_follows_the_final_consonant(word: str, pair: tuple[str, str], expected: str) -> None:
    assert josa(word, *pair) == expected


def test_certified_tier_raises_a_mentor_and_is_named(client: TestClient, make_user: MakeUser, engine: Engine,
                                                     pg: psycopg.Connection) -> None:
    if pg.execute("select to_regclass('app.user_skill_tiers')").fetchone() == (None,):
        pytest.skip("the certification tables (app.user_skill_tiers) are not in this database")
    seeker, plain, certified = make_user(), make_user(), make_user()
    for account in (plain, certified):
        mentor(client, account, headline="목공 멘토", skills=["목공"], region_codes=[ANDONG])
    with engine.begin() as conn:
        submission = conn.execute(text("insert into app.certification_submissions (user_id, skill, status) "
                                       "values (:u, '목공', 'approved') returning id"), {"u": certified.id}).scalar()
        conn.execute(text("insert into app.user_skill_tiers (user_id, skill, tier, submission_id) "
                          "values (:u, '목공', 3, :s)"), {"u": certified.id, "s": submission})
    mentee(client, seeker, region_codes=[ANDONG])
    ranked = {item["mentor_id"]: item for item in suggestions(client, seeker)}
    assert ranked[str(certified.id)]["score"] > ranked[str(plain.id)]["score"]
    assert "목공 인증 3단계" in ranked[str(certified.id)]["reasons"]
    assert ranked[str(certified.id)]["components"]["tier"] == 1.0


def test_request_accept_checkin_and_end_with_feedback(client: TestClient, make_user: MakeUser,
                                                      pg: psycopg.Connection) -> None:
    seeker, guide, stranger = make_user(), make_user(user_type="mentor"), make_user()
    mentor(client, guide, headline="의성 목공 멘토", skills=["목공"], region_codes=[UISEONG], capacity=1)
    mentee(client, seeker)
    sent = client.post("/mentoring/requests", headers=seeker.headers,
                       json={"mentor_id": str(guide.id), "message": "목공을 배우고 싶어요", "goals": ["의자 만들기"]})
    assert sent.status_code == 201, sent.text
    request = sent.json()
    assert request["status"] == "pending" and request["match_score"] > 0 and request["match_reasons"]
    assert_error(client.post("/mentoring/requests", headers=seeker.headers,
                             json={"mentor_id": str(guide.id), "message": "또 보내요"}), 409, "request_pending")
    assert_error(client.post("/mentoring/requests", headers=seeker.headers,
                             json={"mentor_id": str(seeker.id), "message": "나"}), 422, "validation_error")
    kinds = pg.execute("select kind, data->>'request_id' from app.notifications where user_id = %s",
                       (guide.id,)).fetchall()
    assert kinds == [("mentor_request", request["id"])]

    url = f"/mentoring/requests/{request['id']}"
    assert_error(client.post(f"{url}/accept", headers=stranger.headers, json={}), 404, "not_found")
    assert_error(client.post(f"{url}/accept", headers=seeker.headers, json={}), 403, "forbidden")
    accepted = client.post(f"{url}/accept", headers=guide.headers, json={"message": "환영해요", "weeks": 8})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    assert_error(client.post(f"{url}/decline", headers=guide.headers, json={}), 409, "request_closed")
    answer = pg.execute("select kind, data->>'status' from app.notifications where user_id = %s",
                        (seeker.id,)).fetchall()
    assert answer == [("mentor_response", "accepted")]

    mentorship_id = accepted.json()["mentorship_id"]
    relation = client.get(f"/mentoring/mentorships/{mentorship_id}", headers=seeker.headers).json()
    assert relation["status"] == "active" and relation["goals"] == ["의자 만들기"]
    assert relation["region_code"] == UISEONG
    span = pg.execute("select ends_on - starts_on from app.mentorships where id = %s", (mentorship_id,)).fetchone()
    assert span == (56,)
    assert_error(client.get(f"/mentoring/mentorships/{mentorship_id}", headers=stranger.headers), 404, "not_found")

    # the mentor is now full: nobody else can ask, and the mentor drops out of suggestions
    other = make_user()
    mentee(client, other)
    assert_error(client.post("/mentoring/requests", headers=other.headers,
                             json={"mentor_id": str(guide.id), "message": "저도요"}), 409, "mentor_unavailable")
    assert str(guide.id) not in {item["mentor_id"] for item in suggestions(client, other)}

    checked = client.post(f"/mentoring/mentorships/{mentorship_id}/checkins", headers=guide.headers,
                          json={"note": "첫 만남: 공구 소개", "goals_done": []})
    assert checked.status_code == 201 and checked.json()["checkins"][0]["note"] == "첫 만남: 공구 소개"
    ended = client.post(f"/mentoring/mentorships/{mentorship_id}/end", headers=seeker.headers,
                        json={"reason": "목표 달성", "rating": 5, "comment": "감사합니다"})
    assert ended.status_code == 204
    assert_error(client.post(f"/mentoring/mentorships/{mentorship_id}/checkins", headers=guide.headers,
                             json={"note": "늦은 기록"}), 409, "mentorship_ended")
    assert client.post(f"/mentoring/mentorships/{mentorship_id}/end", headers=guide.headers,
                       json={"reason": "종료", "rating": 4}).status_code == 204
    assert_error(client.post(f"/mentoring/mentorships/{mentorship_id}/end", headers=guide.headers,
                             json={"reason": "다시", "rating": 4}), 409, "feedback_given")
    assert pg.execute("select count(*) from app.mentorship_feedback where mentorship_id = %s",
                      (mentorship_id,)).fetchone() == (2,)


def test_profiles_refuse_unknown_skills_and_regions(client: TestClient, make_user: MakeUser,
                                                   pg: psycopg.Connection) -> None:
    account = make_user()
    for bad in ({"skills": ["마법"]}, {"region_codes": ["4773"]}, {"capacity": 99}, {"availability": ["night"]}):
        body = {"headline": "h", "skills": ["목공"], "region_codes": [UISEONG], **bad}
        assert_error(client.put("/mentoring/mentor-profile", headers=account.headers, json=body), 422,
                     "validation_error")
    assert pg.execute("select count(*) from app.mentor_profiles where user_id = %s", (account.id,)).fetchone() == (0,)
