"""The attempt lifecycle through the API: enrol, verified steps in order, complete, fail, abandon, resume;
every change an event with the attempt id; bad input answered 4xx with nothing stored changed."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from core import ranking
from core.korea import LoadSummary
from tests.api.conftest import MakeUser, assert_error
from tests.api.loop_support import (
    UISEONG,
    changed_tables,
    events_of,
    make_mission,
    qr_token,
    snapshot,
)
from tests.fixtures.warehouse import run_dbt

pytestmark = pytest.mark.usefixtures("regions_loaded")


def _enrol(client: TestClient, headers: dict[str, str], mission_id: uuid.UUID) -> dict:
    response = client.post(f"/missions/{mission_id}/attempts", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _checkin(client: TestClient, headers: dict[str, str], attempt: str, step: int, lat: float, lon: float,
             **extra: float) -> object:
    return client.post(f"/me/attempts/{attempt}/steps/{step}/checkins", headers=headers,
                       json={"lat": lat, "lon": lon, **extra})


def test_a_full_mission_checkin_qr_none_completes_with_points_events_and_a_notification(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    host = make_user(roles=("host",), user_type=None)
    user = make_user()
    mission = make_mission(engine, ["checkin", "qr", "none"], created_by=host.id, points=120)
    attempt = _enrol(client, user.headers, mission.id)
    assert attempt["status"] == "in_progress" and attempt["next_step"] == 1 and attempt["steps_total"] == 3
    aid = attempt["id"]

    checkin = _checkin(client, user.headers, aid, 1, UISEONG[0] + 0.0005, UISEONG[1], accuracy_m=12)
    assert checkin.status_code == 201, checkin.text
    assert checkin.json()["accepted"] is True and checkin.json()["distance_m"] < 100
    assert client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).json()["steps_done"] == 1

    scan = client.post(f"/me/attempts/{aid}/steps/2/qr-scans", headers=user.headers,
                       json={"token": qr_token(mission.id, 2, host.id)})
    assert scan.status_code == 201 and scan.json()["accepted"] is True, scan.text
    client.post(f"/me/attempts/{aid}/steps/2/complete", headers=user.headers).raise_for_status()
    client.post(f"/me/attempts/{aid}/steps/3/complete", headers=user.headers).raise_for_status()
    done = client.post(f"/me/attempts/{aid}/complete", headers=user.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed" and body["points_awarded"] == 120 and body["progress"] == 1.0
    assert [s["done"] for s in body["steps"]] == [True, True, True]

    events = events_of(pg, aid)
    assert [(e[0], e[1]) for e in events] == [
        ("mission_enrolled", None), ("checkin", 1), ("step_completed", 1), ("qr_scanned", 2), ("step_completed", 2),
        ("step_completed", 3), ("mission_completed", None)]
    assert events[1][2]["accepted"] is True and events[3][2]["accepted"] is True
    assert events[-1][2]["points"] == 120 and events[-1][2]["mission_points"] == 120
    assert pg.execute("select count(*) from raw.activity_events where payload ->> 'attempt_id' = %s "
                      "and source = 'api' and region_code = '47730'", [aid]).fetchone()[0] == 7
    notes = client.get("/me/notifications", headers=user.headers).json()
    completed = [n for n in notes["items"] if n["kind"] == "mission_completed"]
    assert len(completed) == 1 and completed[0]["data"]["points"] == 120
    assert notes["unread_count"] >= 1

    mine = client.get("/me/attempts", headers=user.headers, params={"status": "completed"}).json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == aid and mine["items"][0]["next_step"] is None


def test_steps_in_order_and_verified_else_409_and_nothing_changes(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    user = make_user()
    mission = make_mission(engine, ["none", "checkin", "none"])
    aid = _enrol(client, user.headers, mission.id)["id"]
    before = snapshot(pg)
    assert_error(client.post(f"/me/attempts/{aid}/steps/2/complete", headers=user.headers), 409, "step_out_of_order")
    assert_error(client.post(f"/me/attempts/{aid}/complete", headers=user.headers), 409, "steps_missing")
    assert_error(_checkin(client, user.headers, aid, 2, *UISEONG), 409, "step_out_of_order")
    assert_error(client.post(f"/me/attempts/{aid}/steps/9/complete", headers=user.headers), 404, "not_found")
    assert changed_tables(before, snapshot(pg)) == {}

    client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
    before = snapshot(pg)
    error = assert_error(client.post(f"/me/attempts/{aid}/steps/2/complete", headers=user.headers), 409,
                         "step_not_verified")
    assert "check-in" in error["message"]
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers), 409, "step_already_done")
    assert_error(client.post(f"/me/attempts/{aid}/steps/2/qr-scans", headers=user.headers,
                             json={"token": "HT1.x.y"}), 409, "wrong_verification")
    assert changed_tables(before, snapshot(pg)) == {}


def test_someone_elses_attempt_unknown_mission_and_bad_payloads_are_4xx_without_changes(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection) -> None:
    owner, other = make_user(), make_user()
    mission = make_mission(engine, ["checkin"])
    aid = _enrol(client, owner.headers, mission.id)["id"]
    before = snapshot(pg)
    for path in (f"/me/attempts/{aid}/complete", f"/me/attempts/{aid}/abandon", f"/me/attempts/{aid}/steps/1/complete"):
        assert_error(client.post(path, headers=other.headers), 404, "not_found")
    assert_error(_checkin(client, other.headers, aid, 1, *UISEONG), 404, "not_found")
    assert_error(client.get(f"/me/attempts/{aid}", headers=other.headers), 404, "not_found")
    assert_error(client.post(f"/missions/{uuid.uuid4()}/attempts", headers=other.headers), 404, "not_found")
    assert_error(client.post("/missions/not-a-uuid/attempts", headers=other.headers), 422, "validation_error")
    # positions out of range, outside Korea, malformed and oversized bodies, unknown fields
    assert_error(_checkin(client, owner.headers, aid, 1, 95.0, 128.0), 422, "validation_error")
    assert_error(_checkin(client, owner.headers, aid, 1, 36.0, 200.0), 422, "validation_error")
    outside = assert_error(_checkin(client, owner.headers, aid, 1, 35.68, 139.76), 422, "validation_error")
    assert "outside Korea" in outside["message"]
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/checkins", headers={**owner.headers,
                             "Content-Type": "application/json"}, content=b'{"lat": 36.3,'), 422, "validation_error")
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/checkins", headers=owner.headers,
                             json={"lat": 36.35, "lon": 128.69, "speed": 3}), 422, "validation_error")
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/checkins", headers={**owner.headers,
                             "Content-Type": "application/json"},
                             content=b'{"lat": 36.35, "lon": 128.69, "pad": "' + b"x" * 40_000 + b'"}'),
                 413, "payload_too_large")
    assert_error(client.post(f"/me/attempts/{aid}/fail", headers=owner.headers,
                             json={"reason": "bored"}), 422, "validation_error")
    assert_error(client.post(f"/me/attempts/{aid}/complete"), 401, "not_authenticated")
    assert changed_tables(before, snapshot(pg)) == {}


def test_one_open_attempt_capacity_and_time_window(client: TestClient, engine: Engine, make_user: MakeUser,
                                                  pg: psycopg.Connection) -> None:
    first, second = make_user(), make_user()
    full = make_mission(engine, ["none"], capacity=1)
    aid = _enrol(client, first.headers, full.id)["id"]
    error = assert_error(client.post(f"/missions/{full.id}/attempts", headers=first.headers), 409, "attempt_open")
    assert error["details"]["attempt_id"] == aid
    assert_error(client.post(f"/missions/{full.id}/attempts", headers=second.headers), 409, "mission_full")
    client.post(f"/me/attempts/{aid}/abandon", headers=first.headers).raise_for_status()
    _enrol(client, second.headers, full.id)  # an abandoned attempt frees its place

    now = datetime.now(UTC)
    over = make_mission(engine, ["none"], starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    assert_error(client.post(f"/missions/{over.id}/attempts", headers=first.headers), 409, "mission_ended")
    later = make_mission(engine, ["checkin"], starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3))
    early = _enrol(client, first.headers, later.id)["id"]  # signing up before the day is fine
    before = snapshot(pg)
    assert_error(_checkin(client, first.headers, early, 1, *UISEONG), 409, "mission_not_started")
    assert changed_tables(before, snapshot(pg)) == {}
    draft = make_mission(engine, ["none"], status="draft")
    assert_error(client.post(f"/missions/{draft.id}/attempts", headers=first.headers), 404, "not_found")


def test_fail_abandon_resume_and_points_once_per_mission(client: TestClient, engine: Engine, make_user: MakeUser,
                                                          pg: psycopg.Connection) -> None:
    user = make_user()
    mission = make_mission(engine, ["none", "none"], points=80)
    first = _enrol(client, user.headers, mission.id)["id"]
    client.post(f"/me/attempts/{first}/steps/1/complete", headers=user.headers).raise_for_status()
    failed = client.post(f"/me/attempts/{first}/fail", headers=user.headers,
                         json={"reason": "weather", "reason_text": "태풍 예보"})
    assert failed.status_code == 200 and failed.json()["failure_reason"] == "weather"
    assert events_of(pg, first)[-1] == ("mission_failed", 2, {"attempt_id": first, "reason": "weather",
                                                             "reason_text": "태풍 예보", "reason_label": "날씨"})
    assert_error(client.post(f"/me/attempts/{first}/resume", headers=user.headers), 409, "attempt_not_resumable")

    second = _enrol(client, user.headers, mission.id)["id"]
    client.post(f"/me/attempts/{second}/abandon", headers=user.headers).raise_for_status()
    assert_error(client.post(f"/me/attempts/{second}/steps/1/complete", headers=user.headers), 409,
                 "attempt_not_open")
    resumed = client.post(f"/me/attempts/{second}/resume", headers=user.headers)
    assert resumed.status_code == 200 and resumed.json()["status"] == "in_progress"
    for n in (1, 2):
        client.post(f"/me/attempts/{second}/steps/{n}/complete", headers=user.headers).raise_for_status()
    assert client.post(f"/me/attempts/{second}/complete", headers=user.headers).json()["points_awarded"] == 80
    assert [e[0] for e in events_of(pg, second)] == ["mission_enrolled", "mission_abandoned", "mission_resumed",
                                                     "step_completed", "step_completed", "mission_completed"]

    third = _enrol(client, user.headers, mission.id)["id"]  # completing it again earns nothing
    for n in (1, 2):
        client.post(f"/me/attempts/{third}/steps/{n}/complete", headers=user.headers).raise_for_status()
    again = client.post(f"/me/attempts/{third}/complete", headers=user.headers).json()
    assert again["status"] == "completed" and again["points_awarded"] == 0
    assert events_of(pg, third)[-1][2]["points"] == 0


def test_daily_points_cap(client: TestClient, engine: Engine, make_user: MakeUser) -> None:
    user = make_user()
    earned = []
    for _ in range(4):  # 4 × 150 = 600 > the cap of 500
        mission = make_mission(engine, ["none"], points=150)
        aid = _enrol(client, user.headers, mission.id)["id"]
        client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
        earned.append(client.post(f"/me/attempts/{aid}/complete", headers=user.headers).json()["points_awarded"])
    assert earned == [150, 150, 150, ranking.DAILY_POINTS_CAP - 450]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def test_photo_step_takes_an_image_into_storage(client: TestClient, engine: Engine, make_user: MakeUser,
                                                test_var_dir: Path, pg: psycopg.Connection) -> None:
    user = make_user()
    mission = make_mission(engine, ["photo"])
    aid = _enrol(client, user.headers, mission.id)["id"]
    before = snapshot(pg)
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/photos", headers=user.headers,
                             files={"file": ("a.png", b"not an image", "image/png")}), 415, "unsupported_media_type")
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers), 409, "step_not_verified")
    assert changed_tables(before, snapshot(pg)) == {}
    photo = client.post(f"/me/attempts/{aid}/steps/1/photos", headers=user.headers,
                        files={"file": ("a.png", _png(), "image/png")})
    assert photo.status_code == 201, photo.text
    info = photo.json()
    assert (info["width"], info["height"], info["content_type"]) == (64, 48, "image/png")
    assert (test_var_dir / "storage" / info["storage_key"]).read_bytes() == _png()
    client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
    assert events_of(pg, aid)[-1][2]["photo_key"] == info["storage_key"]


def test_host_confirms_hours_of_their_own_mission_only(client: TestClient, engine: Engine, make_user: MakeUser,
                                                       pg: psycopg.Connection) -> None:
    host, other_host = make_user(roles=("host",), user_type=None), make_user(roles=("host",), user_type=None)
    user = make_user()
    mission = make_mission(engine, ["host_confirm"], created_by=host.id)
    aid = _enrol(client, user.headers, mission.id)["id"]
    claim = client.post(f"/me/attempts/{aid}/steps/1/hours", headers=user.headers, json={"hours": 3.5, "note": "배식"})
    assert claim.status_code == 201, claim.text
    claim_id = claim.json()["id"]
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/hours", headers=user.headers, json={"hours": 2}), 409,
                 "hours_already_claimed")
    assert_error(client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers), 409, "step_not_verified")
    before = snapshot(pg)
    assert_error(client.post(f"/host/hours/{claim_id}/confirm", headers=other_host.headers), 403, "not_your_mission")
    assert_error(client.post(f"/host/hours/{claim_id}/confirm", headers=user.headers), 403, "forbidden")
    assert changed_tables(before, snapshot(pg)) == {}
    listed = client.get("/host/hours", headers=host.headers).json()
    assert [c["id"] for c in listed["items"]] == [claim_id]
    assert client.get("/host/hours", headers=other_host.headers).json()["total"] == 0

    confirmed = client.post(f"/host/hours/{claim_id}/confirm", headers=host.headers, json={"note": "수고하셨습니다"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    assert_error(client.post(f"/host/hours/{claim_id}/reject", headers=host.headers, json={}), 409, "claim_decided")
    client.post(f"/me/attempts/{aid}/steps/1/complete", headers=user.headers).raise_for_status()
    kinds = [e[0] for e in events_of(pg, aid)]
    assert kinds == ["mission_enrolled", "hours_claimed", "hours_confirmed", "step_completed"]
    confirm_event = events_of(pg, aid)[2]
    assert confirm_event[2]["hours"] == 3.5 and confirm_event[2]["host_id"] == str(host.id)


def test_the_apis_progress_is_what_dbt_computes_from_the_events(
        client: TestClient, engine: Engine, make_user: MakeUser, pg: psycopg.Connection, db_url: str,
        tmp_path: Path, regions_loaded: LoadSummary) -> None:
    user = make_user()
    mission = make_mission(engine, ["none", "none", "none"])
    done = _enrol(client, user.headers, mission.id)["id"]
    for n in (1, 2, 3):
        client.post(f"/me/attempts/{done}/steps/{n}/complete", headers=user.headers).raise_for_status()
    client.post(f"/me/attempts/{done}/complete", headers=user.headers).raise_for_status()
    failed = _enrol(client, user.headers, mission.id)["id"]
    client.post(f"/me/attempts/{failed}/steps/1/complete", headers=user.headers).raise_for_status()
    client.post(f"/me/attempts/{failed}/fail", headers=user.headers, json={"reason": "health"}).raise_for_status()
    left = _enrol(client, user.headers, mission.id)["id"]
    client.post(f"/me/attempts/{left}/abandon", headers=user.headers).raise_for_status()
    open_ = make_mission(engine, ["none", "none"])
    going = _enrol(client, user.headers, open_.id)["id"]
    client.post(f"/me/attempts/{going}/steps/1/complete", headers=user.headers).raise_for_status()

    # build, not run: the models upstream read a seed (the extinction-risk classes) that run would not load
    run = run_dbt(db_url, ["build", "--select", "+int_mission_attempts__aggregated", "--resource-type", "model",
                           "--resource-type", "seed"], tmp_path / "dbt")
    assert run.returncode == 0, run.output[-3000:]
    dbt_rows = {r[0]: (r[1], r[2]) for r in pg.execute(
        "select attempt_id, outcome, last_step_reached from intermediate.int_mission_attempts__aggregated "
        "where user_id = %s", [user.id])}
    api_rows = {str(r[0]): (r[1], r[2]) for r in pg.execute(
        "select id, status, steps_done from app.mission_attempts where user_id = %s", [user.id])}
    assert dbt_rows == api_rows and len(api_rows) == 4
