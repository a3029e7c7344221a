"""Certification through the API, as a new user and an administrator would use it, on the real database
and storage; the checks run through the same library call the Dagster sensor's run makes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from ai.evidence.assessment import TemplateWriter
from ai.evidence.matching import run_matching, seoul_today
from ai.evidence.pipeline import check_submission
from ai.evidence.sniff import JPEG
from api.certifications import service
from api.certifications.upload import FilePart
from api.users.service import get_user
from core.settings import get_settings
from core.storage import get_storage
from tests.ai.evidence import media
from tests.api.conftest import MakeUser, assert_error

UISEONG = "47730"


def run_checks(engine: Engine, submission_id: str) -> None:
    with engine.begin() as conn:
        check_submission(conn, get_storage(), uuid.UUID(submission_id), TemplateWriter(),
                         get_settings().resolved_secret_key())


def submit(client: TestClient, headers: dict[str, str], photos: list[tuple[str, bytes]],
           recordings: list[tuple[str, bytes]] = (), skill: str = "목공", description: str | None = None,
           **fields: str):
    data = {"skill": skill, "description": description if description is not None else
            "원목 식탁과 의자 두 개를 직접 재단하고 짜맞춤으로 조립한 뒤 오일 마감까지 한 작업입니다. 사용한 공구와 "
            "순서를 음성으로 설명했습니다.", **fields}
    files = [("photos", (name, body, "application/octet-stream")) for name, body in photos]
    files += [("recordings", (name, body, "application/octet-stream")) for name, body in recordings]
    return client.post("/certifications", data=data, files=files, headers=headers)


def stored_state(engine: Engine) -> tuple[int, int, int]:
    root = get_settings().storage_dir / "certifications"
    objects = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    with engine.connect() as conn:
        subs = conn.execute(text("select count(*) from app.certification_submissions")).scalar_one()
        files = conn.execute(text("select count(*) from app.certification_evidence")).scalar_one()
    return objects, subs, files


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    return {f"scene{seed}": media.jpeg(media.scene(seed=seed)) for seed in (21, 22, 23, 24)}


def test_done_when(client: TestClient, engine: Engine, make_user: MakeUser, regions_loaded: object,
                   photos: dict[str, bytes]) -> None:
    # someone else submitted a photo first
    other = make_user()
    first = submit(client, other.headers, [("my_table.jpg", photos["scene24"])], skill="목공")
    assert first.status_code == 201, first.text
    run_checks(engine, first.json()["id"])

    # a new user: three photos (one of them the other user's, re-saved smaller) and a recording
    user = make_user(user_type="returnee")
    with engine.begin() as conn:
        conn.execute(text("update app.users set hometown_region_code = :r where id = :u"),
                     {"r": UISEONG, "u": user.id})
    reused = media.jpeg(cv2.resize(media.scene(seed=24), (1200, 900), interpolation=cv2.INTER_AREA), quality=80)
    with_time = media.with_exif(media.scene(seed=22), datetime(2026, 5, 2, 15, 0), 36.3526, 128.6972)
    response = submit(client, user.headers,
                      [("table.jpg", photos["scene21"]), ("chair.jpg", with_time), ("joint.jpg", reused)],
                      [("explain.wav", media.wav(media.speech_like(25.0)))])
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending" and len(created["files"]) == 4
    assert [f["sniffed_type"] for f in created["files"]] == ["jpeg", "jpeg", "jpeg", "wav"]
    assert created["files"][1]["has_capture_time"] and created["files"][1]["has_gps"]
    submission_id = created["id"]
    run_checks(engine, submission_id)

    # the user sees the checks and the assessment; the reused photo is flagged
    detail = client.get(f"/certifications/{submission_id}", headers=user.headers).json()
    assert detail["status"] == "checked"
    duplicate = {c["evidence_position"]: c for c in detail["checks"] if c["name"] == "duplicate"}
    assert duplicate[2]["status"] == "fail" and "another user" in duplicate[2]["message"]
    assert duplicate[0]["status"] == duplicate[1]["status"] == "pass"
    speech = next(c for c in detail["checks"] if c["name"] == "speech")
    assert speech["status"] == "pass" and speech["threshold"]
    assessment = detail["assessment"]
    assert assessment["engine"] == "template-v1" and assessment["risk_level"] == "high"
    assert assessment["recommended_tier"] in (1, 2) and assessment["reasons"]
    assert any("duplicate" in flag for flag in assessment["flagged"])

    # an administrator finds it at the top of the queue and approves it at tier 2
    admin = make_user(roles=("admin",), user_type=None)
    queue = client.get("/certifications/review-queue", headers=admin.headers, params={"limit": 100}).json()
    ids = [item["id"] for item in queue["items"]]
    assert all(item["risk_level"] == "high" for item in queue["items"][:ids.index(submission_id) + 1])
    decided = client.post(f"/certifications/{submission_id}/review", headers=admin.headers,
                          json={"decision": "approve", "tier": 2, "feedback": "짜맞춤이 정확합니다."})
    assert decided.status_code == 200, decided.text
    credential_id = decided.json()["credential_id"]
    tiers = client.get("/certifications/tiers", headers=user.headers).json()
    assert [(t["skill"], t["tier"], t["tier_label"]) for t in tiers] == [("목공", 2, "숙련")]
    with engine.connect() as conn:
        kinds = conn.execute(text("select kind from app.notifications where user_id = :u"), {"u": user.id}).scalars()
        assert "certification_approved" in list(kinds)
        audit = conn.execute(text("select actor_id, reason from app.audit_log where action = 'certification.approve' "
                                  "and object_id = :s"), {"s": submission_id}).one()
        assert audit.actor_id == admin.id

    # the credential verifies, and fails after one byte is changed
    credential = client.get(f"/credentials/{credential_id}").json()["document"]
    assert credential["credentialSubject"]["achievement"]["name"] == "목공 숙련"
    verdict = client.post("/credentials/verify", json=credential).json()
    assert verdict["verified"] is True, verdict
    raw = json.dumps(credential, ensure_ascii=False)
    position = raw.index("숙련")
    tampered = raw[:position] + "전문" + raw[position + 2:]
    verdict = client.post("/credentials/verify", content=tampered.encode(),
                          headers={"Content-Type": "application/json"}).json()
    assert verdict["verified"] is False and verdict["checks"]["signature"] is False
    issuer = client.get("/credentials/issuer").json()
    assert issuer["id"] == credential["issuer"]["id"]
    assert issuer["verificationMethod"][0]["publicKeyMultibase"].startswith("z6Mk")

    # a 의성군 officer posts a need for 목공 and sees the user ranked with reasons
    officer = make_user(roles=("municipality_officer",), user_type=None, managed_region_code=UISEONG)
    soon = seoul_today() + timedelta(days=30)  # a need past its end date is not matched
    need = client.post("/needs", headers=officer.headers, json={
        "title": "마을회관 원목 의자 수리", "description": "부서진 원목 의자 열 개를 고쳐 주실 분", "skill": "목공",
        "tier_wanted": 2, "headcount": 1, "starts_on": str(soon), "ends_on": str(soon + timedelta(days=2))})
    assert need.status_code == 201, need.text
    with engine.begin() as conn:
        run_matching(conn)
    candidates = client.get(f"/needs/{need.json()['id']}/candidates", headers=officer.headers).json()
    ranked = {c["user_id"]: c for c in candidates}
    assert str(user.id) in ranked
    reasons = ranked[str(user.id)]["reasons"]
    assert any("목공 숙련(2단계)" in r for r in reasons) and any("고향 의성군" in r for r in reasons)


@pytest.mark.parametrize(("name", "make", "status", "problem"), [
    ("cut.jpg", lambda p: p[: len(p) // 2], 422, "truncated"),
    ("noise.jpg", lambda p: p[:400] + bytes(range(256)) * 50 + b"\xff\xd9", 422, "corrupt"),
    ("bomb.png", lambda p: media.pixel_bomb(), 413, "too_many_pixels"),
    ("poly.jpg", lambda p: media.zip_polyglot(p), 415, "polyglot"),
    ("empty.jpg", lambda p: b"", 422, "empty_file"),
    ("photo.png", lambda p: p, 415, "extension_mismatch"),
    ("anim.gif", lambda p: b"GIF89a" + p[6:], 415, "unsupported_type"),
])
def test_bad_photos_are_refused_naming_the_file_and_nothing_is_stored(
        client: TestClient, engine: Engine, make_user: MakeUser, photos: dict[str, bytes], name: str, make,
        status: int, problem: str) -> None:
    user = make_user()
    before = stored_state(engine)
    response = submit(client, user.headers, [("good.jpg", photos["scene21"]), (name, make(photos["scene22"]))])
    error = assert_error(response, status, response.json()["error"]["code"])
    assert {"file": name, "problem": problem} == {k: error["details"][0][k] for k in ("file", "problem")}
    assert name in error["message"]
    assert stored_state(engine) == before


@pytest.mark.parametrize(("name", "make", "status", "problem"), [
    ("codec.wav", lambda: media.wav_with_codec(), 415, "unsupported_codec"),
    ("cut.flac", lambda: media.audio_bytes(media.speech_like(10.0), "FLAC")[:20_000], 422, "corrupt"),
    ("long.wav", lambda: media.wav(media.speech_like(1.0))[:40] + (700 * 16_000 * 2).to_bytes(4, "little"), 413,
     "too_long"),
    ("photo.wav", lambda: media.jpeg(media.scene(3)), 415, "extension_mismatch"),
])
def test_bad_recordings_are_refused(client: TestClient, engine: Engine, make_user: MakeUser,
                                    photos: dict[str, bytes], name: str, make, status: int, problem: str) -> None:
    user = make_user()
    before = stored_state(engine)
    response = submit(client, user.headers, [("good.jpg", photos["scene21"])], [(name, make())])
    error = assert_error(response, status, response.json()["error"]["code"])
    assert error["details"][0]["file"] == name and error["details"][0]["problem"] == problem, error
    assert stored_state(engine) == before


def test_limits_hold_while_streaming(client: TestClient, engine: Engine, make_user: MakeUser,
                                     photos: dict[str, bytes]) -> None:
    user = make_user()
    before = stored_state(engine)
    too_many = submit(client, user.headers, [(f"p{i}.jpg", photos["scene21"]) for i in range(11)])
    assert assert_error(too_many, 413, "payload_too_large")["details"][0]["problem"] == "too_many_files"
    huge = photos["scene21"] + b"\x00" * (21 * 1024 * 1024)
    too_big = submit(client, user.headers, [("huge.jpg", huge)])
    error = assert_error(too_big, 413, "payload_too_large")
    assert error["details"][0] == {"file": "huge.jpg", "problem": "too_large",
                                   "message": "the file is larger than 20 MB"}
    audio_as_photo = submit(client, user.headers, [("voice.wav", media.wav(media.speech_like(2.0)))])
    assert assert_error(audio_as_photo, 415, "unsupported_media_type")["details"][0]["problem"] == "wrong_field"
    no_skill = submit(client, user.headers, [("a.jpg", photos["scene21"])], skill="요가")
    assert assert_error(no_skill, 422, "validation_error")["details"][0]["field"] == "body.skill"
    assert stored_state(engine) == before


def test_a_database_failure_removes_the_stored_objects(engine: Engine, make_user: MakeUser,
                                                       photos: dict[str, bytes]) -> None:
    account = make_user()
    part = FilePart("photos", "a.jpg", bytearray(photos["scene21"]), JPEG, True)
    prepared = service.prepare_files([part], 60.0)
    form = service.SubmissionForm("목공", "x", None, None, resubmission_of=uuid.uuid4())  # breaks the foreign key
    before = stored_state(engine)
    with engine.connect() as conn:
        user = get_user(conn, account.id)
        assert user is not None
        with pytest.raises(Exception, match="foreign key"):
            service.store_submission(conn, get_storage(), user, form, prepared)
    assert stored_state(engine) == before


def test_review_rules(client: TestClient, engine: Engine, make_user: MakeUser, photos: dict[str, bytes]) -> None:
    admin = make_user(roles=("admin",))
    own = submit(client, admin.headers, [("a.jpg", photos["scene23"])]).json()["id"]
    user = make_user()
    theirs = submit(client, user.headers, [("b.jpg", photos["scene22"])]).json()["id"]
    early = client.post(f"/certifications/{theirs}/review", headers=admin.headers,
                        json={"decision": "approve", "tier": 1})
    assert_error(early, 409, "not_reviewable")
    run_checks(engine, own)
    run_checks(engine, theirs)
    self_review = client.post(f"/certifications/{own}/review", headers=admin.headers,
                              json={"decision": "approve", "tier": 3})
    assert_error(self_review, 403, "own_submission")
    no_feedback = client.post(f"/certifications/{theirs}/review", headers=admin.headers,
                              json={"decision": "reject", "feedback": "  "})
    assert_error(no_feedback, 422, "validation_error")
    not_admin = client.post(f"/certifications/{theirs}/review", headers=user.headers,
                            json={"decision": "approve", "tier": 1})
    assert_error(not_admin, 403, "forbidden")
    rejected = client.post(f"/certifications/{theirs}/review", headers=admin.headers,
                           json={"decision": "reject", "feedback": "작업 전체가 보이는 사진을 더 올려 주세요."})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    history = client.get("/certifications", headers=user.headers).json()["items"]
    assert history[0]["status"] == "rejected" and history[0]["feedback"].startswith("작업 전체가")
    again = submit(client, user.headers, [("c.jpg", photos["scene22"])], resubmission_of=theirs)
    assert again.status_code == 201, again.text
    with engine.connect() as conn:
        refused = conn.execute(text("select count(*) from app.audit_log where action = "
                                    "'certification.review_refused' and object_id = :s"), {"s": own}).scalar_one()
        note = conn.execute(text("select body from app.notifications where user_id = :u and "
                                 "kind = 'certification_rejected'"), {"u": user.id}).scalar_one()
    assert refused == 1 and "작업 전체가" in note
    stranger = make_user()
    assert_error(client.get(f"/certifications/{theirs}", headers=stranger.headers), 404, "not_found")


def test_revocation_is_audited_and_verification_then_fails(client: TestClient, engine: Engine,
                                                           make_user: MakeUser, photos: dict[str, bytes]) -> None:
    user, admin = make_user(), make_user(roles=("admin",), user_type=None)
    sid = submit(client, user.headers, [("a.jpg", photos["scene23"])], skill="요리").json()["id"]
    run_checks(engine, sid)
    credential_id = client.post(f"/certifications/{sid}/review", headers=admin.headers,
                                json={"decision": "approve", "tier": 1}).json()["credential_id"]
    document = client.get(f"/credentials/{credential_id}").json()["document"]
    assert_error(client.post(f"/credentials/{credential_id}/revoke", headers=user.headers,
                             json={"reason": "not mine to revoke"}), 403, "forbidden")
    revoked = client.post(f"/credentials/{credential_id}/revoke", headers=admin.headers,
                          json={"reason": "사진이 다른 사람의 작품으로 확인됨"})
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    verdict = client.post("/credentials/verify", json=document).json()
    assert verdict["verified"] is False and verdict["checks"]["revocation"] is False
    assert verdict["checks"]["signature"] is True and "다른 사람" in verdict["revocation_reason"]
    assert client.get("/certifications/tiers", headers=user.headers).json() == []
    with engine.connect() as conn:
        assert conn.execute(text("select reason from app.audit_log where action = 'credential.revoke' and "
                                 "object_id = :c"), {"c": credential_id}).scalar_one().startswith("사진이")


def test_the_stored_photo_has_no_exif(client: TestClient, engine: Engine, make_user: MakeUser) -> None:
    user = make_user()
    photo = media.with_exif(media.scene(seed=30), datetime(2026, 5, 1, 9, 0), 36.35, 128.69)
    sid = submit(client, user.headers, [("gps.jpg", photo)]).json()["id"]
    with engine.connect() as conn:
        key = conn.execute(text("select storage_key from app.certification_evidence where submission_id = :s"),
                           {"s": sid}).scalar_one()
    stored = Path(get_settings().storage_dir, key).read_bytes()
    assert b"Exif" not in stored[:200] and b"HometownCam" not in stored


def test_the_review_queue_puts_the_riskiest_first_then_the_oldest(client: TestClient, engine: Engine,
                                                                   make_user: MakeUser) -> None:
    """A month-old low-risk submission must not sort above a fresh high-risk one (issue: risk, then age)."""
    user, admin = make_user(), make_user(roles=("admin",), user_type=None)
    made: dict[str, str] = {}
    with engine.begin() as conn:
        for name, level, score, age_days in (("old_low", "low", 0.5, 30), ("fresh_high", "high", 4.5, 0),
                                             ("old_high", "high", 4.0, 2), ("mid", "medium", 2.0, 10)):
            sid = conn.execute(text(
                "insert into app.certification_submissions (user_id, skill, status, risk_score, created_at, "
                "checked_at) values (:u, '목공', 'checked', :r, now() - make_interval(days => :d), now()) "
                "returning id"), {"u": user.id, "r": score, "d": age_days}).scalar_one()
            conn.execute(text("insert into app.certification_assessments (submission_id, engine, recommended_tier, "
                              "risk_level, summary, report) values (:s, 'test', 1, :l, '', '{}')"),
                         {"s": sid, "l": level})
            made[str(sid)] = name
    items = client.get("/certifications/review-queue", headers=admin.headers, params={"limit": 100}).json()["items"]
    assert [made[i["id"]] for i in items if i["id"] in made] == ["old_high", "fresh_high", "mid", "old_low"]
    levels = {"high": 3, "medium": 2, "low": 1}
    keys = [(-levels.get(i["risk_level"], 0), i["created_at"]) for i in items]
    assert keys == sorted(keys)
