"""Verified presence: geofence, impossible travel, GPS accuracy; QR tokens issued by hosts and refused when
forged, expired, replayed or for another mission/step. Every decision is stored with its reason and emitted."""

from __future__ import annotations

import io
import time
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from tests.api.conftest import MakeUser, assert_error
from tests.api.loop_support import (
    JEJU,
    UISEONG,
    changed_tables,
    events_of,
    make_mission,
    qr_token,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("regions_loaded")


def _enrol(client: TestClient, headers: dict[str, str], mission_id: uuid.UUID) -> str:
    response = client.post(f"/missions/{mission_id}/attempts", headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _checkin(client: TestClient, headers: dict[str, str], attempt: str, step: int, point: tuple[float, float],
             **extra: float) -> object:
    return client.post(f"/me/attempts/{attempt}/steps/{step}/checkins", headers=headers,
                       json={"lat": point[0], "lon": point[1], **extra})


def _stored_checkins(pg: psycopg.Connection, attempt: str) -> list[tuple[bool, str | None]]:
    return [(r[0], r[1]) for r in pg.execute(
        "select accepted, reason from app.checkins where attempt_id = %s order by id", [attempt])]


def test_outside_the_radius_is_refused_recorded_and_the_step_stays_unverified(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    user = make_user()
    mission = make_mission(engine, ["checkin"], radius_m=200)
    aid = _enrol(client, user.headers, mission.id)
    far = (UISEONG[0] + 0.0045, UISEONG[1])  # ≈ 500 m north
    error = assert_error(_checkin(client, user.headers, aid, 1, far, accuracy_m=10), 422, "checkin_refused")
    assert error["details"]["reason"] == "outside_radius" and 480 < error["details"]["distance_m"] < 520
    assert error["details"]["allowed_m"] == 210.0
    assert _stored_checkins(pg, aid) == [(False, "outside_radius")]
    event = events_of(pg, aid)[-1]
    assert event[0] == "checkin" and event[2]["accepted"] is False and event[2]["reason"] == "outside_radius"
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers), 409, "step_not_verified")

    # the accuracy widens the fence by at most 50 m: 235 m away with ±40 m is in, a ±400 m fix proves nothing
    edge = (UISEONG[0] + 235 / 111_195, UISEONG[1])
    assert_error(_checkin(client, user.headers, aid, 1, UISEONG, accuracy_m=400), 422, "checkin_refused")
    accepted = _checkin(client, user.headers, aid, 1, edge, accuracy_m=40)
    assert accepted.status_code == 201 and accepted.json()["accepted"] is True, accepted.text
    assert _stored_checkins(pg, aid) == [(False, "outside_radius"), (False, "gps_inaccurate"), (True, None)]
    client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
    position = pg.execute("select lat, lon from serving.user_positions where user_id = %s", [user.id]).fetchone()
    assert position == pytest.approx(edge)


def test_a_teleport_between_spots_is_refused_as_impossible_travel(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    user = make_user()
    uiseong = make_mission(engine, ["checkin"])
    jeju = make_mission(engine, ["checkin"], region_code="50110", spot=JEJU)
    first = _enrol(client, user.headers, uiseong.id)
    assert _checkin(client, user.headers, first, 1, UISEONG).status_code == 201
    second = _enrol(client, user.headers, jeju.id)
    error = assert_error(_checkin(client, user.headers, second, 1, JEJU), 422, "checkin_refused")
    assert error["details"]["reason"] == "impossible_travel" and error["details"]["speed_kmh"] > 300
    assert "impossible travel" in error["message"]
    assert _stored_checkins(pg, second) == [(False, "impossible_travel")]
    row = pg.execute("select speed_kmh, distance_m from app.checkins where attempt_id = %s", [second]).fetchone()
    assert row[0] > 10_000 and row[1] < 50  # at the Jeju spot, but 400 km from Uiseong seconds ago
    assert events_of(pg, second)[-1][2]["reason"] == "impossible_travel"


def test_host_issues_qr_tokens_for_their_missions_with_a_png(client: TestClient, engine: Engine,
                                                            make_user: MakeUser) -> None:
    host, stranger = make_user(roles=("host",), user_type=None), make_user(roles=("host",), user_type=None)
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code="47730")
    app_user = make_user()
    mission = make_mission(engine, ["qr", "checkin"], created_by=host.id)
    issued = client.post("/host/qr-tokens", headers=host.headers, json={"mission_id": str(mission.id), "step_no": 1})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["token"].startswith("HT1.") and body["expires_at"] > body["issued_at"]
    png = client.get(body["png_url"], headers=host.headers)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] > 100
    assert client.post("/host/qr-tokens", headers=officer.headers,
                       json={"mission_id": str(mission.id), "step_no": 1}).status_code == 201
    assert_error(client.post("/host/qr-tokens", headers=stranger.headers,
                             json={"mission_id": str(mission.id), "step_no": 1}), 403, "not_your_mission")
    assert_error(client.get(body["png_url"], headers=stranger.headers), 403, "not_your_mission")
    assert_error(client.post("/host/qr-tokens", headers=app_user.headers,
                             json={"mission_id": str(mission.id), "step_no": 1}), 403, "forbidden")
    assert_error(client.post("/host/qr-tokens", headers=host.headers,
                             json={"mission_id": str(mission.id), "step_no": 2}), 409, "wrong_verification")
    assert_error(client.post("/host/qr-tokens", headers=host.headers,
                             json={"mission_id": str(mission.id), "step_no": 7}), 404, "not_found")

    # a co-host added by the creator may issue too
    cohost = make_user(roles=("host",), user_type=None)
    added = client.post(f"/host/missions/{mission.id}/hosts", headers=host.headers, json={"user_id": str(cohost.id)})
    assert added.status_code == 204, added.text
    assert client.post("/host/qr-tokens", headers=cohost.headers,
                       json={"mission_id": str(mission.id), "step_no": 1}).status_code == 201


def test_forged_expired_other_mission_other_step_and_replayed_tokens_are_refused_and_recorded(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    host = make_user(roles=("host",), user_type=None)
    user, friend = make_user(), make_user()
    mission = make_mission(engine, ["qr", "qr"], created_by=host.id)
    other = make_mission(engine, ["qr"], created_by=host.id)
    aid = _enrol(client, user.headers, mission.id)

    def scan(token: str, headers: dict[str, str] = user.headers, attempt: str = aid, step: int = 1) -> object:
        return client.post(f"/me/attempts/{attempt}/steps/{step}/qr-scans", headers=headers, json={"token": token})

    good = qr_token(mission.id, 1, host.id)
    head, payload, signature = good.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    refusals = {
        "forged": forged,
        "expired": qr_token(mission.id, 1, host.id, ttl=30, now=time.time() - 600),
        "other_mission": qr_token(other.id, 1, host.id),
        "other_step": qr_token(mission.id, 2, host.id),
        "malformed": "not-a-token",
    }
    for reason, token in refusals.items():
        error = assert_error(scan(token), 422, "qr_refused")
        assert error["details"]["reason"] == reason, (reason, error)
    stored = [r[0] for r in pg.execute("select reason from app.qr_scans where attempt_id = %s order by id", [aid])]
    assert stored == list(refusals)
    assert [e[2]["reason"] for e in events_of(pg, aid)[1:]] == list(refusals)

    assert scan(good).status_code == 201
    before = snapshot(pg, ("app.mission_attempts", "app.attempt_steps"))
    replay = assert_error(scan(good), 409, "qr_replayed")
    assert replay["details"]["reason"] == "replayed"
    assert changed_tables(before, snapshot(pg, ("app.mission_attempts", "app.attempt_steps"))) == {}
    assert pg.execute("select accepted, reason from app.qr_scans where attempt_id = %s order by id desc limit 1",
                      [aid]).fetchone() == (False, "replayed")
    assert events_of(pg, aid)[-1][2] == {"attempt_id": aid, "accepted": False, "reason": "replayed",
                                         "token_id": pg.execute("select token_id from app.qr_scans where attempt_id "
                                                                "= %s and accepted", [aid]).fetchone()[0]}
    # once per user, not once overall: a friend at the same screen scans the same code
    friend_attempt = _enrol(client, friend.headers, mission.id)
    assert scan(good, friend.headers, friend_attempt).status_code == 201

    # and a new attempt of the same user cannot reuse it either
    client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
    client.post(f"/me/attempts/{aid}/abandon", headers=user.headers).raise_for_status()
    again = _enrol(client, user.headers, mission.id)
    assert_error(scan(good, attempt=again), 409, "qr_replayed")
