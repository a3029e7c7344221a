"""The certify assets materialised in-process against the session database; the sensor; the definitions."""

from __future__ import annotations

import hashlib
import socket
import uuid

from dagster import build_sensor_context, materialize
from sqlalchemy import Engine, text

from assets.certify import AssessmentWriterResource, certification_checks, need_matches, new_submissions_sensor
from assets.resources import PostgresResource, SettingsResource
from core.settings import get_settings
from core.storage import get_storage
from tests.ai.evidence import media


def _pending_submission(engine: Engine, skill: str = "농업") -> uuid.UUID:
    """A stored submission as the API leaves it: one photo and one recording, status pending."""
    storage = get_storage()
    photo = media.jpeg(media.scene(seed=int(uuid.uuid4().int % 1000)))
    voice = media.wav(media.speech_like(8.0))
    with engine.begin() as conn:
        user = conn.execute(text("insert into app.users (email, password_hash, display_name, user_type) "
                                 "values (:e, 'x', '농부', 'returnee') returning id"),
                            {"e": f"{uuid.uuid4().hex}@t.kr"}).scalar_one()
        sid = conn.execute(text("insert into app.certification_submissions (user_id, skill, description) "
                                "values (:u, :s, '고추 농사를 십 년 했습니다') returning id"),
                           {"u": user, "s": skill}).scalar_one()
        for position, (kind, data, ext, sniffed, ctype) in enumerate(
                [("image", photo, "jpg", "jpeg", "image/jpeg"), ("audio", voice, "wav", "wav", "audio/wav")]):
            key = f"certifications/test/{sid}/{position}.{ext}"
            storage.put(key, data, ctype)
            conn.execute(text(
                "insert into app.certification_evidence (submission_id, position, kind, original_name, sniffed_type, "
                "sha256, size_bytes, storage_key, stored_sha256, stored_size_bytes, content_type, width, height) "
                "values (:s, :p, :k, :n, :t, :h, :z, :key, :h, :z, :ct, :w, :hh)"),
                {"s": sid, "p": position, "k": kind, "n": f"f.{ext}", "t": sniffed,
                 "h": hashlib.sha256(data).hexdigest(), "z": len(data), "key": key, "ct": ctype,
                 "w": 1600 if kind == "image" else None, "hh": 1200 if kind == "image" else None})
    return sid


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_sensor_asks_for_a_run_when_submissions_wait(engine: Engine, db_url: str) -> None:
    sid = _pending_submission(engine)
    result = new_submissions_sensor(build_sensor_context(), postgres=PostgresResource(url=db_url))
    assert result.run_key is not None and result.run_key.startswith("pending-")
    with engine.begin() as conn:
        conn.execute(text("update app.certification_submissions set status = 'checked' where id = :s"), {"s": sid})


def test_checks_asset_checks_every_pending_submission_and_falls_back_from_openai(engine: Engine, db_url: str) -> None:
    sid = _pending_submission(engine)
    get_settings().resolved_secret_key()
    broken_openai = AssessmentWriterResource(api_key="sk-test", base_url=f"http://127.0.0.1:{_closed_port()}/v1")
    result = materialize([certification_checks], resources={
        "postgres": PostgresResource(url=db_url), "settings": SettingsResource(),
        "assessment_writer": broken_openai})
    assert result.success
    with engine.connect() as conn:
        status = conn.execute(text("select status from app.certification_submissions where id = :s"),
                              {"s": sid}).scalar_one()
        engine_used, fallback = conn.execute(text(
            "select engine, fallback_reason from app.certification_assessments where submission_id = :s"),
            {"s": sid}).one()
        checks = conn.execute(text("select count(*) from app.certification_checks where submission_id = :s"),
                              {"s": sid}).scalar_one()
        hashed = conn.execute(text("select count(*) from app.certification_phashes where submission_id = :s"),
                              {"s": sid}).scalar_one()
    assert status == "checked" and checks >= 14 and hashed == 1
    assert engine_used == "template-v1" and "OpenAI writer failed" in fallback
    materialized = result.asset_materializations_for_node("app__certification_checks")
    assert materialized[0].metadata["checked"].value >= 1


def test_matching_asset_writes_ranked_matches(engine: Engine, db_url: str, regions_loaded: object) -> None:
    with engine.begin() as conn:
        officer = conn.execute(text("insert into app.users (email, password_hash, display_name, roles, "
                                    "managed_region_code) values (:e, 'x', '담당', array['municipality_officer'], "
                                    "'47730') returning id"), {"e": f"{uuid.uuid4().hex}@t.kr"}).scalar_one()
        need = conn.execute(text("insert into app.regional_needs (region_code, title, skill, tier_wanted, "
                                 "posted_by) values ('47730', '사과 수확 돕기', '농업', 1, :o) returning id"),
                            {"o": officer}).scalar_one()
        people = []
        for i, home in enumerate(("47730", "47170", "11110")):  # 의성군, 안동시, 서울 종로구
            uid = conn.execute(text("insert into app.users (email, password_hash, display_name, user_type, "
                                    "home_region_code) values (:e, 'x', :n, 'youth', :h) returning id"),
                               {"e": f"{uuid.uuid4().hex}@t.kr", "n": f"사람{i}", "h": home}).scalar_one()
            sid = conn.execute(text("insert into app.certification_submissions (user_id, skill, status) values "
                                    "(:u, '농업', 'approved') returning id"), {"u": uid}).scalar_one()
            conn.execute(text("insert into app.user_skill_tiers (user_id, skill, tier, submission_id) values "
                              "(:u, '농업', 2, :s)"), {"u": uid, "s": sid})
            people.append(uid)
    result = materialize([need_matches], resources={"postgres": PostgresResource(url=db_url)})
    assert result.success
    with engine.connect() as conn:
        ranked = conn.execute(text("select user_id, rank, reasons from serving.need_matches where need_id = :n "
                                   "order by rank"), {"n": need}).all()
    order = [r.user_id for r in ranked if r.user_id in people]
    assert order == people  # nearest first: 의성군, then 안동시, then Seoul
    assert any("거주지 의성군" in reason for reason in ranked[[r.user_id for r in ranked].index(people[0])].reasons)
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks.get("need_matches_consistent", True)
