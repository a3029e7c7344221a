"""The automatic checks: each one a value, the threshold it was judged against, pass/warn/fail, and a
sentence a reviewer (and the user) can act on.

Thresholds live in one `Thresholds` object so that the reviewer sees the numbers that were used, and
so that they can be tuned from data without touching the logic.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ai.evidence.audio import AudioMeasures
from ai.evidence.images import ExifFacts, ImageMeasures
from core import qr
from core.geo import haversine_m, in_korea


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    value: float | str | None
    threshold: str
    message: str
    evidence_position: int | None = None  # which file (0-based, in upload order); None: the whole submission

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass(frozen=True)
class Thresholds:
    min_short_side: int = 720  # pixels; warn from 480
    warn_short_side: int = 480
    min_blur: float = 100.0  # variance of the Laplacian at 1024 px; warn from 40
    warn_blur: float = 40.0
    brightness: tuple[float, float] = (40.0, 215.0)  # mean grey level; outside: warn, far outside: fail
    brightness_fail: tuple[float, float] = (15.0, 240.0)
    max_clipped_fraction: float = 0.25  # share of pixels crushed black or blown white
    min_contrast: float = 30.0  # grey-level standard deviation; warn from 15
    warn_contrast: float = 15.0
    duplicate_distance: int = 6  # Hamming distance of the 64-bit pHash at or below which photos match
    exif_slack: timedelta = timedelta(hours=12)  # around the mission's time window
    place_pass_m: float = 2_000.0  # beyond the step's radius; warn up to place_warn_m
    place_warn_m: float = 20_000.0
    min_seconds: float = 5.0  # recording length; warn from 2 s
    warn_seconds: float = 2.0
    loudness_dbfs: tuple[float, float] = (-40.0, -6.0)  # RMS; quieter than -50 fails
    loudness_fail_dbfs: float = -50.0
    max_silence: float = 0.6  # share of silent frames; warn up to 0.85
    warn_silence: float = 0.85
    max_clipping: float = 0.001  # share of full-scale samples; warn up to 1 %
    warn_clipping: float = 0.01
    min_speech: float = 0.3  # share of frames with speech; warn from 0.1
    warn_speech: float = 0.1
    min_photos: int = 3
    min_description_chars: int = 30


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class MissionContext:
    """Where and when the evidence should come from, when the submission names a mission step."""

    mission_id: str
    step_no: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    lat: float | None
    lon: float | None
    radius_m: float | None
    needs_qr: bool


@dataclass(frozen=True)
class DuplicateHit:
    """An earlier photo whose perceptual hash is within the duplicate distance of this one."""

    evidence_id: uuid.UUID
    submission_id: uuid.UUID
    user_id: uuid.UUID
    skill: str
    distance: int


@dataclass(frozen=True)
class ImageEvidence:
    position: int
    width: int  # as uploaded, before the stored copy was scaled
    height: int
    exif: ExifFacts
    measures: ImageMeasures
    duplicates: Sequence[DuplicateHit] = field(default_factory=tuple)


def _graded(value: float, good: float, warn: float, higher_is_better: bool = True) -> Status:
    if higher_is_better:
        return Status.PASS if value >= good else Status.WARN if value >= warn else Status.FAIL
    return Status.PASS if value <= good else Status.WARN if value <= warn else Status.FAIL


# ---------------------------------------------------------------------------------- images
def resolution_check(ev: ImageEvidence, t: Thresholds) -> CheckResult:
    short = min(ev.width, ev.height)
    status = _graded(short, t.min_short_side, t.warn_short_side)
    message = {Status.PASS: f"{ev.width}×{ev.height} is detailed enough to judge the work",
               Status.WARN: f"{ev.width}×{ev.height} is small; details of the work may be hard to see",
               Status.FAIL: f"{ev.width}×{ev.height} is too small to judge; send the original photo"}[status]
    return CheckResult("resolution", status, short, f"short side ≥ {t.min_short_side} px "
                       f"(warn ≥ {t.warn_short_side})", message, ev.position)


def blur_check(ev: ImageEvidence, t: Thresholds) -> CheckResult:
    value = round(ev.measures.blur_variance, 1)
    status = _graded(value, t.min_blur, t.warn_blur)
    message = {Status.PASS: "sharp", Status.WARN: "somewhat blurred; a sharper photo would help the review",
               Status.FAIL: "too blurred to see the work; hold the camera still and focus on the work"}[status]
    return CheckResult("blur", status, value, f"Laplacian variance ≥ {t.min_blur:g} (warn ≥ {t.warn_blur:g})",
                       message, ev.position)


def exposure_check(ev: ImageEvidence, t: Thresholds) -> CheckResult:
    m = ev.measures
    mean = round(m.brightness_mean, 1)
    clipped = m.dark_fraction + m.bright_fraction
    low, high = t.brightness
    fail_low, fail_high = t.brightness_fail
    if not fail_low <= mean <= fail_high or clipped > 2 * t.max_clipped_fraction:
        status, message = Status.FAIL, "far too dark or too bright to see the work; retake it in even light"
    elif not low <= mean <= high or clipped > t.max_clipped_fraction:
        status, message = Status.WARN, f"under- or over-exposed ({clipped:.0%} of pixels crushed or blown)"
    else:
        status, message = Status.PASS, "well exposed"
    return CheckResult("exposure", status, mean, f"mean grey {low:g}–{high:g}, ≤ {t.max_clipped_fraction:.0%} "
                       "clipped", message, ev.position)


def contrast_check(ev: ImageEvidence, t: Thresholds) -> CheckResult:
    value = round(ev.measures.contrast_std, 1)
    status = _graded(value, t.min_contrast, t.warn_contrast)
    message = {Status.PASS: "enough contrast", Status.WARN: "flat, low-contrast photo",
               Status.FAIL: "almost uniform: the photo shows next to nothing"}[status]
    return CheckResult("contrast", status, value, f"grey-level std ≥ {t.min_contrast:g} "
                       f"(warn ≥ {t.warn_contrast:g})", message, ev.position)


def duplicate_check(ev: ImageEvidence, owner_id: uuid.UUID, skill: str, t: Thresholds) -> CheckResult:
    """Reuse of someone else's photo, or of one's own for a different claim, fails; one's own photo
    for the same skill (a resubmission) passes with a note."""
    others = [d for d in ev.duplicates if d.user_id != owner_id]
    own_other_claim = [d for d in ev.duplicates if d.user_id == owner_id and d.skill != skill]
    own_same = [d for d in ev.duplicates if d.user_id == owner_id and d.skill == skill]
    threshold = f"pHash Hamming distance > {t.duplicate_distance} from every earlier photo"
    if others:
        best = min(others, key=lambda d: d.distance)
        return CheckResult("duplicate", Status.FAIL, best.distance, threshold,
                           f"matches a photo another user submitted (submission {best.submission_id}, distance "
                           f"{best.distance}): reused evidence", ev.position)
    if own_other_claim:
        best = min(own_other_claim, key=lambda d: d.distance)
        return CheckResult("duplicate", Status.FAIL, best.distance, threshold,
                           f"the same photo was submitted for another skill ({best.skill}); evidence counts for "
                           "one claim only", ev.position)
    if own_same:
        best = min(own_same, key=lambda d: d.distance)
        return CheckResult("duplicate", Status.PASS, best.distance, threshold,
                           "resubmitted from your earlier submission for the same skill", ev.position)
    return CheckResult("duplicate", Status.PASS, None, threshold, "no earlier photo matches", ev.position)


def exif_time_check(ev: ImageEvidence, ctx: MissionContext | None, submitted_at: datetime,
                    t: Thresholds) -> CheckResult:
    taken = ev.exif.taken_at
    if ctx is not None and (ctx.starts_at or ctx.ends_at):
        start = (ctx.starts_at or datetime.min.replace(tzinfo=submitted_at.tzinfo)) - t.exif_slack
        end = (ctx.ends_at or submitted_at) + t.exif_slack
        threshold = f"taken between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
        if taken is None:
            return CheckResult("exif_time", Status.WARN, None, threshold,
                               "the photo carries no capture time, so it cannot be tied to the mission", ev.position)
        if not start <= taken <= end:
            return CheckResult("exif_time", Status.FAIL, taken.isoformat(), threshold,
                               f"taken {taken:%Y-%m-%d %H:%M} UTC, outside the mission's time window", ev.position)
        return CheckResult("exif_time", Status.PASS, taken.isoformat(), threshold,
                           "taken during the mission", ev.position)
    threshold = "capture time present and not after the upload"
    if taken is None:
        return CheckResult("exif_time", Status.WARN, None, threshold,
                           "the photo carries no capture time (the app or messenger may have removed it)",
                           ev.position)
    if taken > submitted_at + timedelta(minutes=10):
        return CheckResult("exif_time", Status.FAIL, taken.isoformat(), threshold,
                           "the capture time is after the upload: the camera clock or the file was altered",
                           ev.position)
    return CheckResult("exif_time", Status.PASS, taken.isoformat(), threshold,
                       f"taken {taken:%Y-%m-%d %H:%M} UTC", ev.position)


def exif_place_check(ev: ImageEvidence, ctx: MissionContext | None, t: Thresholds) -> CheckResult:
    lat, lon = ev.exif.lat, ev.exif.lon
    if ctx is not None and ctx.lat is not None and ctx.lon is not None:
        allowed = (ctx.radius_m or 0) + t.place_pass_m
        threshold = f"within {allowed / 1000:.1f} km of the mission place (warn within {t.place_warn_m / 1000:g} km)"
        if lat is None or lon is None:
            return CheckResult("exif_place", Status.WARN, None, threshold,
                               "the photo carries no GPS position, so the place cannot be confirmed", ev.position)
        distance = haversine_m(lat, lon, ctx.lat, ctx.lon)
        status = _graded(distance, allowed, t.place_warn_m, higher_is_better=False)
        message = {Status.PASS: "taken at the mission place",
                   Status.WARN: f"taken {distance / 1000:.1f} km from the mission place",
                   Status.FAIL: f"taken {distance / 1000:.0f} km away from the mission place"}[status]
        return CheckResult("exif_place", status, round(distance), threshold, message, ev.position)
    threshold = "GPS position, when present, inside Korea"
    if lat is None or lon is None:
        return CheckResult("exif_place", Status.PASS, None, threshold,
                           "no GPS position (not required without a mission)", ev.position)
    if not in_korea(lat, lon):
        return CheckResult("exif_place", Status.WARN, f"{lat:.4f},{lon:.4f}", threshold,
                           "taken outside Korea", ev.position)
    return CheckResult("exif_place", Status.PASS, f"{lat:.4f},{lon:.4f}", threshold, "taken in Korea", ev.position)


def qr_check(ev: ImageEvidence, ctx: MissionContext, secret_key: str) -> CheckResult:
    """The QR code a step asks for: this server's signature, this mission step, shown when the photo was taken."""
    threshold = f"a valid Hometown ON QR code of mission {ctx.mission_id} step {ctx.step_no}"
    text = ev.measures.qr_text
    if not text:
        return CheckResult("qr", Status.FAIL, None, threshold,
                           "no readable QR code in the photo; photograph the host's code so it fills a third of "
                           "the picture", ev.position)
    reference = ev.exif.taken_at.timestamp() if ev.exif.taken_at else None
    try:
        claims = qr.verify(secret_key, text, now=reference) if reference else _signature_only(secret_key, text)
    except qr.QrTokenError as exc:
        return CheckResult("qr", Status.FAIL, exc.reason, threshold, f"QR code refused: {exc}", ev.position)
    if claims.mission_id != ctx.mission_id or (ctx.step_no is not None and claims.step_no != ctx.step_no):
        return CheckResult("qr", Status.FAIL, f"{claims.mission_id}/{claims.step_no}", threshold,
                           "the QR code belongs to another mission step", ev.position)
    if reference is None:
        return CheckResult("qr", Status.WARN, claims.token_id, threshold,
                           "genuine code of this step, but the photo has no capture time to match it", ev.position)
    return CheckResult("qr", Status.PASS, claims.token_id, threshold, "genuine code of this step", ev.position)


def _signature_only(secret_key: str, text: str) -> qr.QrClaims:
    """Verify the signature, judging the validity window at the token's own issue time (the photo gives none)."""
    parts = text.strip().split(".")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        issued: float | None = float(json.loads(payload)["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        issued = None  # malformed: verify() says so
    return qr.verify(secret_key, text, now=issued)


def image_checks(ev: ImageEvidence, owner_id: uuid.UUID, skill: str, submitted_at: datetime,
                 ctx: MissionContext | None = None, secret_key: str | None = None,
                 t: Thresholds = DEFAULT_THRESHOLDS) -> list[CheckResult]:
    results = [
        CheckResult("decode", Status.PASS, "ok", "decodes completely", "decoded cleanly", ev.position),
        resolution_check(ev, t), blur_check(ev, t), exposure_check(ev, t), contrast_check(ev, t),
        duplicate_check(ev, owner_id, skill, t), exif_time_check(ev, ctx, submitted_at, t),
        exif_place_check(ev, ctx, t),
    ]
    if ctx is not None and ctx.needs_qr and secret_key:
        results.append(qr_check(ev, ctx, secret_key))
    return results


# ---------------------------------------------------------------------------------- audio
def audio_checks(m: AudioMeasures, position: int, t: Thresholds = DEFAULT_THRESHOLDS) -> list[CheckResult]:
    duration = _graded(m.duration_s, t.min_seconds, t.warn_seconds)
    low, high = t.loudness_dbfs
    if m.rms_dbfs < t.loudness_fail_dbfs:
        loud = Status.FAIL
    elif not low <= m.rms_dbfs <= high:
        loud = Status.WARN
    else:
        loud = Status.PASS
    silence = _graded(m.silence_ratio, t.max_silence, t.warn_silence, higher_is_better=False)
    clipping = _graded(m.clipping_ratio, t.max_clipping, t.warn_clipping, higher_is_better=False)
    speech = _graded(m.speech_ratio, t.min_speech, t.warn_speech)
    return [
        CheckResult("duration", duration, round(m.duration_s, 2), f"≥ {t.min_seconds:g} s (warn ≥ {t.warn_seconds:g})",
                    {Status.PASS: f"{m.duration_s:.0f} s", Status.WARN: "very short; explain the work in a few "
                     "sentences", Status.FAIL: "too short to explain anything"}[duration], position),
        CheckResult("loudness", loud, round(m.rms_dbfs, 1), f"RMS {low:g} to {high:g} dBFS "
                    f"(fail below {t.loudness_fail_dbfs:g})", {Status.PASS: "clear level", Status.WARN:
                    "too quiet or too loud; hold the phone about 30 cm away", Status.FAIL:
                    "nearly inaudible"}[loud], position),
        CheckResult("silence", silence, round(m.silence_ratio, 3), f"≤ {t.max_silence:.0%} silent "
                    f"(warn ≤ {t.warn_silence:.0%})", {Status.PASS: "mostly sound", Status.WARN: "long silences",
                    Status.FAIL: "almost nothing but silence"}[silence], position),
        CheckResult("clipping", clipping, round(m.clipping_ratio, 5), f"≤ {t.max_clipping:.1%} of samples at full "
                    f"scale (warn ≤ {t.warn_clipping:.0%})", {Status.PASS: "no distortion", Status.WARN:
                    "some distortion", Status.FAIL: "heavily distorted; record further from the "
                    "microphone"}[clipping], position),
        CheckResult("speech", speech, round(m.speech_ratio, 3), f"≥ {t.min_speech:.0%} of frames with speech "
                    f"(warn ≥ {t.warn_speech:.0%})", {Status.PASS: "speech throughout", Status.WARN: "little "
                    "speech", Status.FAIL: "no speech detected: explain the work in your own words"}[speech],
                    position),
    ]


# ---------------------------------------------------------------------------------- submission
def submission_checks(photo_count: int, audio_count: int, description: str,
                      t: Thresholds = DEFAULT_THRESHOLDS) -> list[CheckResult]:
    photos = Status.PASS if photo_count >= t.min_photos else Status.WARN if photo_count >= 1 else Status.FAIL
    voice = Status.PASS if audio_count >= 1 else Status.WARN
    words = len(description.strip())
    text = Status.PASS if words >= t.min_description_chars else Status.WARN
    return [
        CheckResult("photo_count", photos, photo_count, f"≥ {t.min_photos} photos",
                    {Status.PASS: "enough photos", Status.WARN: "few photos; show the work from several sides",
                     Status.FAIL: "no photo of the work"}[photos]),
        CheckResult("voice_count", voice, audio_count, "≥ 1 recording",
                    "a spoken explanation is included" if voice is Status.PASS
                    else "no recording: a short spoken explanation helps the reviewer"),
        CheckResult("description", text, words, f"≥ {t.min_description_chars} characters",
                    "described" if text is Status.PASS else "a longer description of the work helps the reviewer"),
    ]


RISK_WEIGHTS = {"duplicate": 5.0, "qr": 3.0, "exif_time": 2.0, "exif_place": 2.0}


def risk_score(results: Sequence[CheckResult]) -> float:
    """Higher = look at it first: fails weigh 1 (reuse 5, forged QR 3, time/place 2), warns a third of that."""
    score = 0.0
    for result in results:
        weight = RISK_WEIGHTS.get(result.name, 1.0)
        if result.status is Status.FAIL:
            score += weight
        elif result.status is Status.WARN:
            score += weight / 3
    return round(score, 2)
