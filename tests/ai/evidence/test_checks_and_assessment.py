"""Checks judge measurements against their thresholds; the assessment turns them into a tier with reasons."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ai.evidence import audio, images
from ai.evidence.assessment import (
    TEMPLATE_ENGINE,
    AssessmentFacts,
    OpenAIWriter,
    TemplateWriter,
    rule_tier,
    writer_from_settings,
)
from ai.evidence.checks import (
    CheckResult,
    DuplicateHit,
    ImageEvidence,
    MissionContext,
    Status,
    audio_checks,
    image_checks,
    risk_score,
    submission_checks,
)
from ai.evidence.sniff import sniff
from core import qr
from tests.ai.evidence import media

OWNER = uuid.uuid4()
NOW = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)
SECRET = "q" * 40


def evidence(data: bytes, position: int = 0, duplicates: tuple[DuplicateHit, ...] = ()) -> ImageEvidence:
    prepared = images.prepare_image(data, sniff(data))
    return ImageEvidence(position, prepared.width, prepared.height, prepared.exif, images.measure(data), duplicates)


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def test_a_good_photo_passes_every_check_and_each_check_says_its_threshold(sharp_jpeg: bytes) -> None:
    results = image_checks(evidence(sharp_jpeg), OWNER, "목공", NOW)
    named = by_name(results)
    assert {r.status for n, r in named.items() if n != "exif_time"} == {Status.PASS}
    assert named["exif_time"].status is Status.WARN  # no capture time: the reviewer is told
    assert all(r.threshold and r.message for r in results)
    assert named["blur"].value > 100 and "100" in named["blur"].threshold


def test_a_blurred_photo_fails_blur(scene_image: np.ndarray) -> None:
    named = by_name(image_checks(evidence(media.jpeg(media.blurred(scene_image))), OWNER, "목공", NOW))
    assert named["blur"].status is Status.FAIL
    assert "blurred" in named["blur"].message


def test_someone_elses_photo_fails_and_ones_own_for_the_same_skill_passes(sharp_jpeg: bytes) -> None:
    other = DuplicateHit(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "목공", 2)
    own_same = DuplicateHit(uuid.uuid4(), uuid.uuid4(), OWNER, "목공", 0)
    own_other_skill = DuplicateHit(uuid.uuid4(), uuid.uuid4(), OWNER, "요리", 1)
    assert by_name(image_checks(evidence(sharp_jpeg, duplicates=(other,)), OWNER, "목공", NOW))[
        "duplicate"].status is Status.FAIL
    assert by_name(image_checks(evidence(sharp_jpeg, duplicates=(own_same,)), OWNER, "목공", NOW))[
        "duplicate"].status is Status.PASS
    reused = by_name(image_checks(evidence(sharp_jpeg, duplicates=(own_other_skill,)), OWNER, "목공", NOW))
    assert reused["duplicate"].status is Status.FAIL and "요리" in reused["duplicate"].message


def test_exif_time_and_place_against_the_mission(scene_image: np.ndarray) -> None:
    ctx = MissionContext("m", 1, NOW - timedelta(hours=2), NOW, 36.3526, 128.6972, 200, needs_qr=False)
    inside = media.with_exif(scene_image, datetime(2026, 5, 3, 16, 0), 36.353, 128.698)  # 07:00 UTC
    outside = media.with_exif(scene_image, datetime(2026, 4, 1, 16, 0), 37.5665, 126.9780)  # Seoul, a month early
    good = by_name(image_checks(evidence(inside), OWNER, "목공", NOW, ctx))
    bad = by_name(image_checks(evidence(outside), OWNER, "목공", NOW, ctx))
    assert good["exif_time"].status is Status.PASS and good["exif_place"].status is Status.PASS
    assert bad["exif_time"].status is Status.FAIL
    assert bad["exif_place"].status is Status.FAIL and bad["exif_place"].value > 100_000


def test_the_qr_check_wants_this_steps_genuine_code(scene_image: np.ndarray) -> None:
    mission = str(uuid.uuid4())
    taken = datetime(2026, 5, 3, 16, 0)  # KST
    token, _ = qr.issue(SECRET, mission, 2, "host", now=taken.replace(tzinfo=UTC).timestamp() - 9 * 3600 - 30)
    import cv2

    large = cv2.resize(scene_image, (3200, 2400))
    photo = media.with_exif(media.with_qr(large, token), taken, 36.35, 128.69)
    ctx = MissionContext(mission, 2, None, None, None, None, None, needs_qr=True)
    assert by_name(image_checks(evidence(photo), OWNER, "목공", NOW, ctx, SECRET))["qr"].status is Status.PASS
    forged = by_name(image_checks(evidence(photo), OWNER, "목공", NOW, ctx, "another-key" * 4))["qr"]
    assert forged.status is Status.FAIL and forged.value == "forged"
    other_step = MissionContext(mission, 3, None, None, None, None, None, needs_qr=True)
    assert by_name(image_checks(evidence(photo), OWNER, "목공", NOW, other_step, SECRET))["qr"].status is Status.FAIL


def test_audio_checks_grade_speech_silence_and_clipping(speech_wav: bytes) -> None:
    speech = by_name(audio_checks(audio.measure(speech_wav, sniff(speech_wav)), 3))
    assert {r.status for r in speech.values()} == {Status.PASS}
    assert all(r.evidence_position == 3 for r in speech.values())
    quiet_bytes = media.wav(media.silence())
    quiet = by_name(audio_checks(audio.measure(quiet_bytes, sniff(quiet_bytes)), 0))
    assert quiet["loudness"].status is Status.FAIL and quiet["speech"].status is Status.FAIL
    loud_bytes = media.wav(media.clipped())
    assert by_name(audio_checks(audio.measure(loud_bytes, sniff(loud_bytes)), 0))["clipping"].status is Status.FAIL


def test_risk_puts_reused_photos_first() -> None:
    reused = [CheckResult("duplicate", Status.FAIL, 1, "t", "m", 0)]
    blurry = [CheckResult("blur", Status.FAIL, 10, "t", "m", 0)]
    clean = [CheckResult("blur", Status.PASS, 500, "t", "m", 0)]
    assert risk_score(reused) > risk_score(blurry) > risk_score(clean) == 0


def _facts(photos_ok: int, photos_bad: int = 0, seconds: float = 30, chars: int = 120,
           current: int | None = None, speech: Status = Status.PASS) -> AssessmentFacts:
    checks: list[CheckResult] = []
    for pos in range(photos_ok + photos_bad):
        status = Status.PASS if pos < photos_ok else Status.FAIL
        checks += [CheckResult("blur", Status.PASS, 300, "t", "m", pos),
                   CheckResult("duplicate", status, 2 if status is Status.FAIL else None, "t", "reused", pos)]
    audio_pos = photos_ok + photos_bad
    checks += [CheckResult("speech", speech, 0.5, "t", "m", audio_pos),
               CheckResult("duration", Status.PASS, seconds, "t", "m", audio_pos)]
    checks += submission_checks(photos_ok + photos_bad, 1, "x" * chars)
    return AssessmentFacts("목공", "x" * chars, photos_ok + photos_bad, 1, seconds, current, checks)


def test_rule_tiers() -> None:
    assert rule_tier(_facts(3)).tier == 2
    assert rule_tier(_facts(2, photos_bad=1)).tier == 1  # a reused photo does not count
    assert rule_tier(_facts(3, speech=Status.FAIL)).tier == 1
    assert rule_tier(_facts(6, seconds=90, chars=300, current=2)).tier == 3
    assert rule_tier(_facts(6, seconds=90, chars=300, current=None)).tier == 2  # 전문 needs 숙련 first


def test_the_template_writer_is_deterministic_and_names_itself() -> None:
    facts = _facts(2, photos_bad=1)
    first, second = TemplateWriter().write(facts), TemplateWriter().write(facts)
    assert first == second
    assert first.engine == TEMPLATE_ENGINE and first.fallback_reason is None
    assert first.recommended_tier == 1 and first.tier_label == "기초"
    assert first.risk_level == "high"  # a reused photo
    assert any("reused" in flag for flag in first.flagged)
    assert "목공" in first.summary and first.reasons


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_openai_failure_falls_back_to_the_template_and_says_so() -> None:
    writer = OpenAIWriter("sk-test", "gpt-4o-mini", base_url=f"http://127.0.0.1:{_closed_port()}/v1", timeout_s=5)
    report = writer.write(_facts(3))
    assert report.engine == TEMPLATE_ENGINE
    assert report.fallback_reason is not None and "OpenAI writer failed" in report.fallback_reason
    assert report.model_dump(exclude={"fallback_reason"}) == TemplateWriter().write(_facts(3)).model_dump(
        exclude={"fallback_reason"})


@pytest.mark.parametrize(("key", "engine"), [(None, TEMPLATE_ENGINE), ("sk-x", "openai:gpt-4o-mini")])
def test_the_writer_follows_the_configuration(key: str | None, engine: str) -> None:
    assert writer_from_settings(key, "gpt-4o-mini").engine == engine
