"""Verified presence for the current step: geofenced check-ins, QR scans, photos, volunteer-hour claims.

A check-in or QR scan is a decision that is always stored (app.checkins / app.qr_scans) and emitted
(`checkin` / `qr_scanned` events with payload.accepted and payload.reason), accepted or not. A refused
one is answered with a 4xx that carries the stored decision (`details`), after it has been committed:
the refusal itself is the record of a cheating attempt; nothing about the attempt's progress changes.
Input that is not a decision at all (a position outside Korea, a step out of order, someone else's
attempt) is answered with a 4xx before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import Any

from api.attempts.service import (
    Mission,
    Step,
    _payload,
    lock_attempt,
    own_attempt,
    require_current_step,
    require_open,
    require_window,
)
from api.attempts.writer import FLUSH, Plan, Unit
from api.errors import ApiError
from core import qr, ranking
from core.db import Statement
from core.geo import haversine_m, travel_check, valid_position
from core.settings import get_settings
from core.storage import get_storage
from core.vocab import StepVerification

ACCURACY_ALLOWANCE_CAP_M = 50.0  # the reported GPS accuracy widens the fence by at most this much
MAX_ACCURACY_M = 150.0  # a fix less accurate than this proves nothing: refused as gps_inaccurate
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CheckinDecision:
    id: int
    accepted: bool
    reason: str | None
    distance_m: float
    allowed_m: float
    speed_kmh: float | None
    message: str | None


def _spot(mission: Mission, step: Step) -> tuple[float, float, float]:
    if step.lat is not None and step.lon is not None:
        return step.lat, step.lon, float(step.radius_m or mission.radius_m)
    if mission.lat is not None and mission.lon is not None:
        return mission.lat, mission.lon, float(mission.radius_m)
    raise ApiError(409, "no_spot", f"Step {step.step_no} of mission {mission.id} has no place to check in at; "
                   "ask the host to set its position.")


def _begin_step(plan: Plan, row: Any, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int,
                verification: StepVerification, action: str) -> tuple[Mission, Step]:
    """Checks of a verification on `lock_attempt`'s row: the caller's open attempt, its current step, verified
    this way, while the mission runs."""
    attempt, mission = own_attempt(plan, row, user_id, attempt_id)
    require_open(attempt, action)
    step = require_current_step(attempt, mission, step_no, verification.value, action)
    require_window(mission, plan.now, action)
    return mission, step


def check_in(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int, lat: float, lon: float,
             accuracy_m: float | None) -> Unit[CheckinDecision]:
    problem = valid_position(lat, lon)
    if problem is not None:
        raise ApiError.validation("body.lat", problem)
    row, previous = yield (
        lock_attempt(attempt_id),
        Statement("select lat, lon, created_at from app.checkins where user_id = %(u)s and accepted "
                  "order by created_at desc limit 1", {"u": user_id}, "one"))
    mission, step = _begin_step(plan, row, user_id, attempt_id, step_no, StepVerification.CHECKIN, "check in for")
    spot_lat, spot_lon, radius = _spot(mission, step)
    distance = haversine_m(spot_lat, spot_lon, lat, lon)
    allowed = radius + min(accuracy_m or 0.0, ACCURACY_ALLOWANCE_CAP_M)
    travel = (travel_check(previous["lat"], previous["lon"], previous["created_at"], lat, lon, plan.now)
              if previous else None)
    reason, message = None, None
    if accuracy_m is not None and accuracy_m > MAX_ACCURACY_M:
        reason, message = "gps_inaccurate", (f"the reported GPS accuracy is {accuracy_m:.0f} m; a check-in needs "
                                             f"{MAX_ACCURACY_M:.0f} m or better (wait for a better fix outdoors)")
    elif travel is not None and not travel.plausible:
        reason, message = "impossible_travel", str(travel.reason)
    elif distance > allowed:
        reason, message = "outside_radius", (f"you are {distance:.0f} m from the spot; a check-in must be within "
                                             f"{allowed:.0f} m")
    speed = travel.speed_kmh if travel is not None else None
    event_id = plan.event(user_id, "checkin", mission_id=mission.id, step_no=step_no,
                          region_code=mission.region_code, lat=float(lat), lon=float(lon),
                          payload=_payload(attempt_id, accepted=reason is None, reason=reason,
                                           distance_m=round(distance, 1), allowed_m=round(allowed, 1),
                                           accuracy_m=accuracy_m,
                                           speed_kmh=None if speed is None else round(speed, 1)))
    index = plan.write(Statement(
        "insert into app.checkins (attempt_id, user_id, mission_id, step_no, lat, lon, accuracy_m, distance_m, "
        "allowed_m, speed_kmh, accepted, reason, event_id, created_at) values (%(a)s, %(u)s, %(m)s, %(s)s, "
        "%(lat)s, %(lon)s, %(acc)s, %(d)s, %(allowed)s, %(speed)s, %(ok)s, %(reason)s, %(e)s, %(now)s) returning id",
        {"a": attempt_id, "u": user_id, "m": mission.id, "s": step_no, "lat": lat, "lon": lon, "acc": accuracy_m,
         "d": distance, "allowed": allowed, "speed": speed, "ok": reason is None, "reason": reason, "e": event_id,
         "now": plan.now}, "one"))
    if reason is None:
        plan.write(ranking.position(user_id, lat, lon, plan.now))
    results = yield FLUSH
    decision = CheckinDecision(int(results[index]["id"]), reason is None, reason, round(distance, 1),
                               round(allowed, 1), None if speed is None else round(speed, 1), message)
    if reason is not None:
        plan.refuse(ApiError(422, "checkin_refused", f"Check-in refused ({reason}): {message}. The refusal is "
                             "recorded.", details=_decision_details(decision)))
    return decision


def _decision_details(decision: CheckinDecision) -> dict[str, Any]:
    return {"checkin_id": decision.id, "accepted": False, "reason": decision.reason,
            "distance_m": decision.distance_m, "allowed_m": decision.allowed_m, "speed_kmh": decision.speed_kmh}


@dataclass(frozen=True)
class ScanDecision:
    id: int
    accepted: bool
    reason: str | None
    token_id: str | None
    expires_at: int | None


def scan_qr(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int, token: str) -> Unit[ScanDecision]:
    reason, message, claims = None, None, None
    try:
        claims = qr.verify(get_settings().resolved_secret_key(), token, now=plan.now.timestamp())
    except qr.QrTokenError as exc:
        reason, message = exc.reason, str(exc)
    token_id = claims.token_id if claims else (hashlib.sha256(token.strip().encode()).hexdigest()[:32]
                                                if token.startswith("HT1.") else None)
    row, seen = yield (
        lock_attempt(attempt_id),
        Statement("select exists (select from app.qr_scans where token_id = %(t)s and user_id = %(u)s and accepted) "
                  "as replayed", {"t": token_id, "u": user_id}, "one"))
    mission, _ = _begin_step(plan, row, user_id, attempt_id, step_no, StepVerification.QR, "scan a QR code for")
    if claims is not None and claims.mission_id != str(mission.id):
        reason, message = "other_mission", "this QR code is for another mission"
    elif claims is not None and claims.step_no != step_no:
        reason, message = "other_step", f"this QR code is for step {claims.step_no}, not step {step_no}"
    elif reason is None and seen["replayed"]:  # this user has had this very token accepted before
        reason, message = "replayed", "you have already scanned this QR code; ask the host for the current code"
    event_id = plan.event(user_id, "qr_scanned", mission_id=mission.id, step_no=step_no,
                          region_code=mission.region_code,
                          payload=_payload(attempt_id, accepted=reason is None, reason=reason, token_id=token_id))
    # an accepted scan breaks the unique index (token_id, user_id) when the same user's other request got
    # there first: the driver then runs this unit again, and it sees the replay
    index = plan.write(Statement(
        "insert into app.qr_scans (token_id, attempt_id, user_id, mission_id, step_no, accepted, reason, issuer_id, "
        "event_id, created_at) values (%(t)s, %(a)s, %(u)s, %(m)s, %(s)s, %(ok)s, %(r)s, %(i)s, %(e)s, %(now)s) "
        "returning id",
        {"t": token_id, "a": attempt_id, "u": user_id, "m": mission.id, "s": step_no, "ok": reason is None,
         "r": reason, "i": claims.issuer_id if claims else None, "e": event_id, "now": plan.now}, "one"))
    if reason is None and mission.lat is not None and mission.lon is not None:
        plan.write(ranking.position(user_id, mission.lat, mission.lon, plan.now))
    results = yield FLUSH
    scan_id = int(results[index]["id"])
    if reason is not None:
        status, code = (409, "qr_replayed") if reason == "replayed" else (422, "qr_refused")
        plan.refuse(ApiError(status, code, f"QR code refused ({reason}): {message}. The refusal is recorded.",
                             details={"qr_scan_id": scan_id, "accepted": False, "reason": reason}))
    return ScanDecision(scan_id, reason is None, reason, token_id, claims.expires_at if claims else None)


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    storage_key: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str


def inspect_photo(data: bytes) -> tuple[str, str, int, int]:
    """(content type, extension, width, height) of a JPEG/PNG/WebP image, or a 4xx saying what is wrong."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ApiError.validation("body.file", "the file is empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise ApiError(413, "payload_too_large", f"The photo is {len(data) // 1024} kB; the limit is "
                       f"{PHOTO_MAX_BYTES // (1024 * 1024)} MB. Send a smaller image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(415, "unsupported_media_type", f"The file is not a readable image ({type(exc).__name__}); "
                       "send a JPEG, PNG or WebP photo.") from None
    if kind not in PHOTO_TYPES:
        raise ApiError(415, "unsupported_media_type", f"{kind or 'This'} images are not accepted; send a JPEG, "
                       "PNG or WebP photo.")
    content_type, ext = PHOTO_TYPES[kind]
    return content_type, ext, width, height


def add_photo(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int, data: bytes) -> Unit[PhotoInfo]:
    """Store a photo for a photo step (object storage, then its row); certification reviews it later."""
    content_type, ext, width, height = inspect_photo(data)
    row, = yield (lock_attempt(attempt_id),)
    _begin_step(plan, row, user_id, attempt_id, step_no, StepVerification.PHOTO, "add a photo for")
    digest = hashlib.sha256(data).hexdigest()
    key = f"loop/photos/{attempt_id}/{step_no}/{digest}.{ext}"
    get_storage().put(key, data, content_type)  # content-addressed: a rolled-back request leaves a harmless file
    index = plan.write(Statement(
        "insert into app.step_photos (attempt_id, user_id, step_no, storage_key, sha256, content_type, size_bytes, "
        "width, height, created_at) values (%(a)s, %(u)s, %(s)s, %(k)s, %(h)s, %(ct)s, %(n)s, %(w)s, %(hh)s, "
        "%(now)s) returning id",
        {"a": attempt_id, "u": user_id, "s": step_no, "k": key, "h": digest, "ct": content_type, "n": len(data),
         "w": width, "hh": height, "now": plan.now}, "one"))
    results = yield FLUSH
    return PhotoInfo(int(results[index]["id"]), key, content_type, len(data), width, height, digest)


def claim_hours(plan: Plan, user_id: uuid.UUID, attempt_id: uuid.UUID, step_no: int, hours: float,
                note: str) -> Unit[int]:
    """Claim volunteer hours for a host_confirm step; the mission's host confirms or rejects them."""
    row, claim = yield (
        lock_attempt(attempt_id),
        Statement("select (select id from app.volunteer_hours where attempt_id = %(a)s and step_no = %(s)s "
                  "and status <> 'rejected' limit 1) as open_id, "
                  "nextval(pg_get_serial_sequence('app.volunteer_hours', 'id')) as new_id",
                  {"a": attempt_id, "s": step_no}, "one"))
    mission, _ = _begin_step(plan, row, user_id, attempt_id, step_no, StepVerification.HOST_CONFIRM,
                             "claim hours for")
    if claim["open_id"] is not None:  # the attempt's lock orders claims: this read is exact
        raise ApiError(409, "hours_already_claimed", f"Hours for step {step_no} are already claimed in this attempt "
                       "and wait for the host (or were confirmed); a rejected claim can be made again.")
    claim_id = int(claim["new_id"])
    plan.write(Statement(
        "insert into app.volunteer_hours (id, attempt_id, user_id, mission_id, step_no, hours, note, created_at) "
        "overriding system value values (%(id)s, %(a)s, %(u)s, %(m)s, %(s)s, %(h)s, %(note)s, %(now)s)",
        {"id": claim_id, "a": attempt_id, "u": user_id, "m": mission.id, "s": step_no, "h": hours, "note": note,
         "now": plan.now}))
    plan.event(user_id, "hours_claimed", mission_id=mission.id, step_no=step_no, region_code=mission.region_code,
               payload=_payload(attempt_id, hours=hours, claim_id=claim_id))
    yield FLUSH
    return claim_id
