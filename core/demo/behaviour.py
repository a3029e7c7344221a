"""Demo activity: who enrols where, how far they get, and when — following each mission's funnel.

Users pick missions by their hidden profile (region affinity × mission-type taste × skills ×
the mission's pull). An attempt runs through the mission's steps with the events each step's
verification produces (check-ins with positions near the spot, QR scans, claimed and confirmed
hours), and ends completed, failed with a reason, or abandoned after some steps. Timing is in
Korean daytime, spread over the months before the demo's anchor date; attempts still running at
the anchor simply have no ending yet.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import orjson

from core.demo.ids import uuid7_str
from core.demo.missions import DemoMission
from core.demo.population import DemoUser
from core.demo.reference import Reference
from core.geo import haversine_m
from core.vocab import FAILURE_REASON_LABELS_KO, FailureReason, StepVerification

KST = timezone(timedelta(hours=9))
DAY = 86_400.0
HOUR = 3_600.0
REGION_BASELINE = 0.002  # weight of a region a user has no affinity for: the occasional surprise

# how often each failure reason comes up, before adjustments for the mission and the person
FAILURE_BASE = {
    FailureReason.SCHEDULE: 30.0, FailureReason.WEATHER: 14.0, FailureReason.DISTANCE: 10.0,
    FailureReason.DIFFICULTY: 8.0, FailureReason.HOST_UNAVAILABLE: 6.0, FailureReason.SAFETY: 2.0,
    FailureReason.HEALTH: 5.0, FailureReason.VERIFICATION: 8.0, FailureReason.OTHER: 6.0,
}
FAILURE_TEXT = {
    FailureReason.SCHEDULE: "갑자기 일정이 생겨서 못 갔어요", FailureReason.WEATHER: "비가 많이 와서 취소했어요",
    FailureReason.DISTANCE: "생각보다 너무 멀었어요", FailureReason.DIFFICULTY: "혼자 하기에는 어려웠어요",
    FailureReason.HOST_UNAVAILABLE: "호스트와 연락이 닿지 않았어요", FailureReason.SAFETY: "길이 위험해 보였어요",
    FailureReason.HEALTH: "몸이 좋지 않았어요", FailureReason.VERIFICATION: "위치 인증이 계속 실패했어요",
    FailureReason.OTHER: "개인 사정",
}


@dataclass
class Outcomes:
    attempts: int = 0
    events: int = 0
    ended: Counter[str] = field(default_factory=Counter)  # completed | failed | abandoned | open
    reasons: Counter[str] = field(default_factory=Counter)


def kst_text(seconds: int, days: dict[int, str] = {}) -> str:  # noqa: B006 (a deliberate cache)
    """ISO 8601 in Korean time, e.g. 2026-03-04T10:12:33+09:00 (a day cache keeps it cheap)."""
    local = seconds + 9 * 3600
    day, second = divmod(local, 86_400)
    prefix = days.get(day)
    if prefix is None:
        prefix = days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
    hour, rest = divmod(second, 3600)
    return f"{prefix}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}+09:00"


class _Emitter:
    """Renders events as JSONL and hands them to `sink` with their time (ms) for ordering."""

    def __init__(self, rng: random.Random, sink: Callable[[int, bytes], None], anchor: float) -> None:
        self.rng = rng
        self.sink = sink
        self.anchor = anchor
        self.count = 0

    def __call__(self, at: float, user: str, event_type: str, mission: str | None = None,
                 step_no: int | None = None, region: str | None = None, lat: float | None = None,
                 lon: float | None = None, payload: dict | None = None) -> bool:
        """False (and nothing emitted) when the moment is after the anchor: the story stops there."""
        if at > self.anchor:
            return False
        ms = int(at * 1000)
        event: dict[str, object] = {
            "event_id": uuid7_str(ms, self.rng), "user_id": user,
            "occurred_at": kst_text(ms // 1000), "event_type": event_type}
        if mission is not None:
            event["mission_id"] = mission
        if step_no is not None:
            event["step_no"] = step_no
        if region is not None:
            event["region_code"] = region
        if lat is not None:
            event["lat"] = lat
            event["lon"] = lon
        if payload is not None:
            event["payload"] = payload
        self.sink(ms, orjson.dumps(event))
        self.count += 1
        return True


def daytime(rng: random.Random, at: float, not_before: float) -> float:
    """`at`'s Korean day at a plausible hour for an outing (9:00–18:00 KST); the next day if that
    hour has already passed by `not_before`."""
    local = datetime.fromtimestamp(at, KST)
    moment = local.replace(hour=9, minute=0, second=0, microsecond=0).timestamp() + rng.uniform(0, 9 * HOUR)
    while moment < not_before:
        moment += DAY
    return moment


class Simulation:
    """Attempts of users on missions, until the event budget is spent."""

    def __init__(self, rng: random.Random, nprng: np.random.Generator, ref: Reference, users: list[DemoUser],
                 missions: list[DemoMission], window: tuple[float, float],
                 sink: Callable[[int, bytes], None]) -> None:
        self.rng = rng
        self.nprng = nprng
        self.ref = ref
        self.users = users
        self.missions = missions
        self.window = window
        self.emit = _Emitter(rng, sink, window[1])
        self.outcomes = Outcomes()
        self.m_region = np.array([m.region for m in missions])
        self.m_type = np.array([m.type_index for m in missions])
        self.m_pull = np.array([m.popularity for m in missions])
        skills = sorted({s for m in missions for s in m.new.skills})
        self.skill_names = skills
        self.m_needs = np.zeros((len(missions), len(skills)), dtype=bool)  # mission × skill it needs
        for i, m in enumerate(missions):
            for s in m.new.skills:
                self.m_needs[i, skills.index(s)] = True
        self.m_has_needs = self.m_needs.any(axis=1)
        self.user_ids = {u.index: str(u.id) for u in users}
        self.mission_ids = [str(m.new.id) for m in missions]

    # ---- choosing ------------------------------------------------------------------------------
    def mission_weights(self, user: DemoUser) -> np.ndarray:
        """How strongly each mission pulls this user: the ground truth a recommender should find."""
        affinity = np.full(len(self.ref.regions), REGION_BASELINE)
        for region, weight in user.affinity.items():
            affinity[region] += weight
        weights = affinity[self.m_region] * user.taste[self.m_type] * self.m_pull
        has = np.array([s in user.true_skills for s in self.skill_names], dtype=bool)
        matched = (self.m_needs & has).any(axis=1) if has.any() else np.zeros(len(self.missions), dtype=bool)
        weights *= np.where(self.m_has_needs, np.where(matched, 3.0, 0.25), 1.0)
        return weights / weights.sum()

    def run(self, target_events: int) -> Outcomes:
        """Register everyone, then play attempts (users drawn by activity) until `target_events`."""
        for user in self.users:
            self.emit(user.registered_at, str(user.id), "user_registered",
                      region=self.ref.regions[user.home].code,
                      payload={"user_type": user.user_type, "channel": self.rng.choice(("app", "app", "web"))})
        activity = np.array([u.activity for u in self.users])
        if activity.sum() == 0 or not self.missions:
            self.outcomes.events = self.emit.count
            return self.outcomes
        budget = max(0, target_events - self.emit.count)
        draws = max(16, budget // 3)  # more than enough attempts; we stop at the budget
        order = self.nprng.choice(len(self.users), size=draws, p=activity / activity.sum())
        per_user = np.bincount(order, minlength=len(self.users))
        choices: dict[int, list[int]] = {}
        for u in np.nonzero(per_user)[0]:
            picks = self.nprng.choice(len(self.missions), size=int(per_user[u]), p=self.mission_weights(self.users[u]))
            choices[int(u)] = picks.tolist()[::-1]  # popped from the end
        for u in order.tolist():
            if self.emit.count >= target_events:
                break
            m = choices[u].pop()
            self.attempt(self.users[u], self.missions[m], self.mission_ids[m])
        self.outcomes.events = self.emit.count
        return self.outcomes

    # ---- one attempt ----------------------------------------------------------------------------
    def attempt(self, user: DemoUser, mission: DemoMission, mid: str) -> None:
        rng = self.rng
        start = self._start(user, mission)
        if start is None:
            return
        self.outcomes.attempts += 1
        uid = self.user_ids[user.index]
        region = self.ref.regions[mission.region].code
        home = self.ref.regions[user.home]
        distance_km = haversine_m(home.lat, home.lon, mission.new.lat or home.lat, mission.new.lon or home.lon) / 1000
        has_skill = not mission.new.skills or bool(set(mission.new.skills) & set(user.true_skills))
        taste = float(user.taste[mission.type_index]) * 4.0
        p_complete = (0.25 + 0.45 * user.reliability + 0.08 * min(taste, 2.5) - 0.15 * min(distance_km / 400, 1.0)
                      - (0.25 if not has_skill else 0.0) - 0.03 * (len(mission.verifications) - 2))
        p_complete = min(0.95, max(0.05, p_complete))
        roll = rng.random()
        outcome = "completed" if roll < p_complete else "failed" if roll < p_complete + (1 - p_complete) * 0.55 \
            else "abandoned"
        steps = len(mission.verifications)
        reason = self._reason(mission, distance_km, has_skill) if outcome == "failed" else None
        if outcome == "completed":
            reached = steps
        elif outcome == "failed" and reason == FailureReason.VERIFICATION:
            reached = next((i for i, v in enumerate(mission.verifications)
                            if v in (StepVerification.CHECKIN.value, StepVerification.QR.value)), 0)
        else:
            reached = rng.randrange(steps)  # steps completed before it ended

        emit = self.emit
        if not emit(start, uid, "mission_enrolled", mid, region=region,
                    payload={"channel": rng.choice(("app", "app", "app", "web"))}):
            return
        at = daytime(rng, start + rng.expovariate(1 / (3 * DAY)), start)  # the outing, a few days later
        for step_no in range(1, reached + 1):
            after = self._step(user, mission, step_no, at, uid, mid, region)
            if after is None:
                self.outcomes.ended["open"] += 1
                return
            at = after
        if outcome == "completed":
            if mission.type_index == 3:  # learning: the platform records the course result too
                emit(at + 30, uid, "learning_completed", mid, region=region,
                     payload={"score": rng.randint(60, 100)})
            ok = emit(at + rng.uniform(30, 300), uid, "mission_completed", mid, region=region,
                      payload={"points": mission.new.points})
        elif outcome == "failed":
            assert reason is not None
            if reason == FailureReason.VERIFICATION:
                for _ in range(rng.randint(2, 3)):
                    at += rng.uniform(60, 600)
                    if mission.step_points[reached] is not None:
                        self._checkin(mission, reached + 1, at, uid, mid, region, accepted=False)
                    else:
                        emit(at, uid, "qr_scanned", mid, reached + 1, region,
                             payload={"accepted": False, "reason": "expired_token"})
            at += rng.uniform(300, 3 * HOUR) if rng.random() < 0.6 else rng.uniform(DAY, 10 * DAY)
            ok = emit(at, uid, "mission_failed", mid, reached + 1 if reached < steps else None, region=region,
                      payload={"reason": reason.value, "reason_text": FAILURE_TEXT[reason],
                               "reason_label": FAILURE_REASON_LABELS_KO[reason]})
            if ok:
                self.outcomes.reasons[reason.value] += 1
        else:
            ok = emit(at + rng.uniform(7 * DAY, 30 * DAY), uid, "mission_abandoned", mid, region=region,
                      payload={"steps_done": reached})
        self.outcomes.ended[outcome if ok else "open"] += 1

    def _start(self, user: DemoUser, mission: DemoMission) -> float | None:
        lo, hi = max(user.registered_at, self.window[0]), self.window[1]
        if mission.window is not None:  # festivals: sign up in the weeks before, go on the day
            lo, hi = max(lo, mission.window[0] - 21 * DAY), min(hi, mission.window[1])
        if hi <= lo:
            return None
        return self.rng.uniform(lo, hi)

    def _reason(self, mission: DemoMission, distance_km: float, has_skill: bool) -> FailureReason:
        weights = dict(FAILURE_BASE)
        outdoor = mission.type_index in (0, 1)
        weights[FailureReason.WEATHER] *= 1.6 if outdoor else 0.2
        weights[FailureReason.DISTANCE] *= 1 + distance_km / 100
        weights[FailureReason.DIFFICULTY] *= (3.0 if not has_skill else 1.0) * (1.5 if mission.type_index == 3 else 1)
        if mission.host_id is None:
            weights[FailureReason.HOST_UNAVAILABLE] = 0.0
        if not any(p is not None for p in mission.step_points) and StepVerification.QR.value not in \
                mission.verifications:
            weights[FailureReason.VERIFICATION] = 0.0
        if mission.type_index == 3:
            weights[FailureReason.SAFETY] = 0.0
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _step(self, user: DemoUser, mission: DemoMission, step_no: int, at: float, uid: str, mid: str,
              region: str) -> float | None:
        """The events of one step; the time after it, or None if the anchor came first."""
        rng, emit = self.rng, self.emit
        if step_no > 1:
            if rng.random() < 0.08:  # came back another day
                at = daytime(rng, at + rng.uniform(DAY, 14 * DAY), at)
                if not emit(at, uid, "mission_resumed", mid, region=region):
                    return None
            at += rng.uniform(5 * 60, 60 * 60)
        verification = mission.verifications[step_no - 1]
        payload: dict[str, object] | None = None
        if verification == StepVerification.CHECKIN.value and mission.step_points[step_no - 1] is not None:
            if rng.random() < 0.1:  # GPS said no once, then yes
                self._checkin(mission, step_no, at, uid, mid, region, accepted=False)
                at += rng.uniform(60, 300)
            if not self._checkin(mission, step_no, at, uid, mid, region, accepted=True):
                return None
            payload = {"verification": verification}
        elif verification == StepVerification.QR.value:
            if not emit(at, uid, "qr_scanned", mid, step_no, region, payload={"accepted": True}):
                return None
            payload = {"verification": verification}
        elif verification == StepVerification.HOST_CONFIRM.value:
            hours = rng.choice((2, 3, 4, 4, 6, 8))
            if not emit(at, uid, "hours_claimed", mid, step_no, region, payload={"hours": hours}):
                return None
            at += rng.uniform(HOUR, 2 * DAY)
            host = str(mission.host_id) if mission.host_id else None
            if not emit(at, uid, "hours_confirmed", mid, step_no, region, payload={"hours": hours, "host_id": host}):
                return None
            payload = {"verification": verification, "hours": hours}
        elif verification == StepVerification.PHOTO.value:
            payload = {"verification": verification, "evidence": "photo"}
        else:
            payload = {"verification": verification}
        at += rng.uniform(10, 120)
        if not emit(at, uid, "step_completed", mid, step_no, region, payload=payload):
            return None
        return at

    def _checkin(self, mission: DemoMission, step_no: int, at: float, uid: str, mid: str, region: str,
                 accepted: bool) -> bool:
        point = mission.step_points[step_no - 1]
        assert point is not None
        rng = self.rng
        distance = rng.uniform(0, mission.radius_m * 0.8) if accepted else rng.uniform(mission.radius_m * 1.5, 3000)
        bearing = rng.uniform(0, 2 * math.pi)
        lat = point[0] + distance * math.cos(bearing) / 111_320
        lon = point[1] + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(point[0])))
        payload: dict[str, object] = {"accepted": accepted, "distance_m": round(distance, 1)}
        if not accepted:
            payload["reason"] = "outside_radius"
        return self.emit(at, uid, "checkin", mid, step_no, region, round(lat, 6), round(lon, 6), payload)


def anchor_window(anchor_day: datetime, months: int = 18) -> tuple[float, float]:
    """The activity window: `months` before the anchor (end of the anchor day, KST)."""
    end = anchor_day.replace(tzinfo=KST) + timedelta(days=1)
    start = end - timedelta(days=round(months * 30.44))
    return start.astimezone(UTC).timestamp(), end.astimezone(UTC).timestamp() - 1
