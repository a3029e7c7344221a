"""The demo mission catalog: regional needs and missions on real places.

Exploration missions at tourist spots and heritage sites, social missions at festivals and needs
(volunteering, confirmed by a host), skill missions from needs, learning missions from heritage
descriptions. Missions lean toward population-decline areas, as the platform does.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.catalog import NewMission, NewNeed, NewStep
from core.demo.ids import uuid4_from
from core.demo.population import Staff
from core.demo.reference import Place, Reference, Region
from core.vocab import SKILLS_KO, MissionType, StepVerification

TYPE_SHARES = {MissionType.EXPLORATION: 0.40, MissionType.SOCIAL: 0.25, MissionType.SKILL: 0.20,
               MissionType.LEARNING: 0.15}
NEED_TITLES = {
    "목공": "마을회관 목공 수리", "농업": "수확철 일손 돕기", "요리": "경로당 반찬 나눔",
    "사진": "마을 기록 사진 촬영", "영상": "지역 홍보 영상 제작", "교육": "방과후 학습 지도",
    "돌봄": "어르신 말벗과 돌봄", "IT": "어르신 스마트폰·키오스크 교육", "통역": "외국인 주민 통역 지원",
    "디자인": "특산물 포장 디자인", "마케팅": "특산물 온라인 판로 개척", "건축": "빈집 리모델링 자문",
    "의료": "마을 건강 상담의 날", "음악": "작은 마을 음악회", "미술": "골목 벽화 그리기",
    "상담": "귀농귀촌 정착 상담", "법률": "생활 법률 상담", "회계": "마을기업 회계 정리",
}
RURAL_SKILLS = ("농업", "돌봄", "건축", "목공", "요리", "의료")
URBAN_SKILLS = ("IT", "마케팅", "디자인", "영상", "교육", "통역")
VOLUNTEER_SKILLS = ("돌봄", "요리", "교육", "농업")


@dataclass
class DemoMission:
    """A mission as the activity simulation sees it."""

    new: NewMission
    region: int  # index in Reference.regions
    type_index: int  # position in population.MISSION_TYPES
    verifications: list[str]  # of its steps, in order
    step_points: list[tuple[float, float] | None]  # where a check-in step must happen
    radius_m: int
    host_id: uuid.UUID | None
    popularity: float
    window: tuple[float, float] | None  # festival dates (epoch seconds), when it has them


def make_needs(rng: random.Random, ref: Reference, staff: Staff, requesters: dict[str, list[uuid.UUID]],
               count: int, window: tuple[date, date]) -> list[NewNeed]:
    """Needs posted by local requesters or officers, mostly in decline areas."""
    regions = ref.regions
    weights = [4.0 if r.category == "decline" else 2.0 if r.category == "interest" else 0.3 for r in regions]
    needs = []
    for _ in range(count):
        region = rng.choices(regions, weights=weights)[0]
        leaning = RURAL_SKILLS if region.level == "gun" else URBAN_SKILLS
        skill = rng.choice(leaning) if rng.random() < 0.6 else rng.choice(SKILLS_KO)
        starts = window[0] + timedelta(days=rng.randrange(max(1, (window[1] - window[0]).days - 30)))
        poster = _poster(rng, region.code, staff, requesters)
        needs.append(NewNeed(
            id=uuid4_from(rng), region_code=region.code, skill=skill,
            title=f"{region.sgg_name} {NEED_TITLES[skill]}",
            description=(f"{region.full_name}에서 {skill} 재능을 가진 분을 찾습니다. "
                         f"{NEED_TITLES[skill]}에 함께해 주세요."),
            tier_wanted=rng.choices((1, 2, 3), weights=(0.6, 0.3, 0.1))[0],
            place_name=f"{region.sgg_name} 행정복지센터",
            lat=_jitter(rng, region.lat, 0.01), lon=_jitter(rng, region.lon, 0.01),
            starts_on=starts, ends_on=starts + timedelta(days=rng.choice((14, 30, 60, 90))),
            headcount=rng.randint(1, 5), status="open", posted_by=poster))
    return needs


def _poster(rng: random.Random, code: str, staff: Staff, requesters: dict[str, list[uuid.UUID]]) -> uuid.UUID:
    if code in staff.officers and rng.random() < 0.5:
        return staff.officers[code]
    if requesters.get(code):
        return rng.choice(requesters[code])
    return staff.officers.get(code) or staff.admin  # type: ignore[return-value]


def _jitter(rng: random.Random, value: float, spread: float) -> float:
    return round(value + rng.uniform(-spread, spread), 6)


def _epoch(day: date, end: bool = False) -> float:
    return datetime.combine(day, time(23, 59) if end else time(0, 0), tzinfo=UTC).timestamp() - 9 * 3600


def make_missions(rng: random.Random, ref: Reference, staff: Staff, needs: list[NewNeed],
                  requesters: dict[str, list[uuid.UUID]], count: int,
                  window: tuple[date, date]) -> list[DemoMission]:
    """`count` missions of all four types on real places and the needs above."""
    index = ref.region_index()
    by_kind: dict[str, list[Place]] = {"tourist_spot": [], "festival": [], "heritage": []}
    for place in ref.places:
        by_kind[place.kind].append(place)
    festivals = [p for p in by_kind["festival"]
                 if p.starts_on and p.ends_on and window[0] <= p.starts_on and p.ends_on <= window[1]]
    heritage_told = [p for p in by_kind["heritage"] if len(p.description) >= 40]
    counts = _split(count, TYPE_SHARES)
    used: set[str] = set()

    def pick(places: list[Place]) -> Place:
        weights = [_place_weight(ref.regions[index[p.region_code]]) * (0.05 if p.place_id in used else 1.0)
                   for p in places]
        place = rng.choices(places, weights=weights)[0]
        used.add(place.place_id)
        return place

    missions: list[DemoMission] = []
    for _ in range(counts[MissionType.EXPLORATION]):
        place = pick(by_kind["tourist_spot"] + by_kind["heritage"])
        missions.append(_exploration(rng, ref, index, staff, requesters, place))
    volunteer_needs = [n for n in needs if n.skill in VOLUNTEER_SKILLS] or needs
    for number in range(counts[MissionType.SOCIAL]):
        if festivals and number % 2 == 0:
            missions.append(_social_festival(rng, ref, index, staff, requesters, pick(festivals)))
        else:
            missions.append(_social_need(rng, ref, index, staff, rng.choice(volunteer_needs)))
    for _ in range(counts[MissionType.SKILL]):
        missions.append(_skill(rng, ref, index, staff, rng.choice(needs)))
    for _ in range(counts[MissionType.LEARNING]):
        missions.append(_learning(rng, ref, index, staff, requesters, pick(heritage_told or by_kind["heritage"])))
    return missions


def _split(total: int, shares: dict[MissionType, float]) -> dict[MissionType, int]:
    counts = {t: int(total * s) for t, s in shares.items()}
    for t in list(shares)[: total - sum(counts.values())]:
        counts[t] += 1
    return counts


def _place_weight(region: Region) -> float:
    return 3.0 if region.category == "decline" else 2.0 if region.category == "interest" else 1.0


def _creator(rng: random.Random, code: str, staff: Staff, requesters: dict[str, list[uuid.UUID]]) -> uuid.UUID:
    if code in staff.hosts:
        return staff.hosts[code]
    if requesters.get(code):
        return rng.choice(requesters[code])
    return staff.officers.get(code) or staff.admin  # type: ignore[return-value]


def _build(rng: random.Random, new: NewMission, region: int, kind: MissionType, host: uuid.UUID | None,
           window: tuple[float, float] | None = None) -> DemoMission:
    points: list[tuple[float, float] | None] = [
        (s.lat, s.lon) if s.verification == StepVerification.CHECKIN.value and s.lat is not None
        and s.lon is not None else None for s in new.steps]
    return DemoMission(new=new, region=region, type_index=list(TYPE_SHARES).index(kind),
                       verifications=[s.verification for s in new.steps], step_points=points,
                       radius_m=new.radius_m, host_id=host, popularity=rng.lognormvariate(0.0, 0.6),
                       window=window)


def _exploration(rng: random.Random, ref: Reference, index: dict[str, int], staff: Staff,
                 requesters: dict[str, list[uuid.UUID]], place: Place) -> DemoMission:
    region = ref.regions[index[place.region_code]]
    steps = [NewStep(1, f"{place.name} 도착 체크인", StepVerification.CHECKIN.value, "현장에 도착해 위치를 인증하세요.",
                     place.lat, place.lon, 200),
             NewStep(2, "현장 QR 스캔", StepVerification.QR.value, "안내판의 QR 코드를 스캔하세요.")]
    if rng.random() < 0.7:
        steps.append(NewStep(3, "인증 사진 남기기", StepVerification.PHOTO.value,
                             "가장 인상 깊은 장면을 찍어 올리세요."))
    if place.kind == "heritage" and rng.random() < 0.5:
        steps.append(NewStep(len(steps) + 1, "유산 이야기 퀴즈", StepVerification.NONE.value, "세 문제를 풀어 보세요."))
    label = "문화유산 탐방" if place.kind == "heritage" else "명소 탐방"
    new = NewMission(
        id=uuid4_from(rng), title=f"{region.sgg_name} {place.name} {label}", mission_type=MissionType.EXPLORATION.value,
        region_code=region.code, steps=steps, summary=(place.description or f"{region.full_name}의 {place.name}")[:300],
        place_name=place.name, lat=place.lat, lon=place.lon, radius_m=200, source_kind=place.kind,
        source_ref=place.place_id, tags=[label, region.sgg_name], points=rng.choice((50, 80, 100)),
        expected_minutes=rng.choice((60, 90, 120)), created_by=_creator(rng, region.code, staff, requesters))
    return _build(rng, new, index[region.code], MissionType.EXPLORATION, None)


def _social_festival(rng: random.Random, ref: Reference, index: dict[str, int], staff: Staff,
                     requesters: dict[str, list[uuid.UUID]], place: Place) -> DemoMission:
    region = ref.regions[index[place.region_code]]
    host = _creator(rng, region.code, staff, requesters)
    assert place.starts_on and place.ends_on
    steps = [NewStep(1, "축제 봉사 체크인", StepVerification.CHECKIN.value, "봉사자 부스에서 위치를 인증하세요.",
                     place.lat, place.lon, 300),
             NewStep(2, "봉사 시간 확인", StepVerification.HOST_CONFIRM.value, "호스트가 봉사 시간을 확인합니다.")]
    if rng.random() < 0.5:
        steps.append(NewStep(3, "활동 사진 남기기", StepVerification.PHOTO.value))
    new = NewMission(
        id=uuid4_from(rng), title=f"{place.name} 자원봉사", mission_type=MissionType.SOCIAL.value,
        region_code=region.code, steps=steps, summary=(place.description or place.name)[:300],
        place_name=place.name, lat=place.lat, lon=place.lon, radius_m=300, source_kind="festival",
        source_ref=place.place_id, tags=["축제", "봉사"], capacity=rng.choice((10, 20, 30, None)),
        points=150, expected_minutes=240,
        starts_at=datetime.fromtimestamp(_epoch(place.starts_on), UTC),
        ends_at=datetime.fromtimestamp(_epoch(place.ends_on, end=True), UTC), created_by=host)
    return _build(rng, new, index[region.code], MissionType.SOCIAL, host,
                  (_epoch(place.starts_on), _epoch(place.ends_on, end=True)))


def _social_need(rng: random.Random, ref: Reference, index: dict[str, int], staff: Staff,
                 need: NewNeed) -> DemoMission:
    region = ref.regions[index[need.region_code]]
    host = need.posted_by
    steps = [NewStep(1, "봉사 장소 체크인", StepVerification.CHECKIN.value, "", need.lat, need.lon, 200),
             NewStep(2, "봉사 시간 확인", StepVerification.HOST_CONFIRM.value, "호스트가 봉사 시간을 확인합니다.")]
    new = NewMission(
        id=uuid4_from(rng), title=f"{need.title} 봉사", mission_type=MissionType.SOCIAL.value,
        region_code=region.code, steps=steps, summary=need.description, place_name=need.place_name,
        lat=need.lat, lon=need.lon, source_kind="need", source_ref=str(need.id), tags=["봉사", need.skill],
        capacity=need.headcount * 2, points=120, expected_minutes=180, created_by=host)
    return _build(rng, new, index[region.code], MissionType.SOCIAL, host)


def _skill(rng: random.Random, ref: Reference, index: dict[str, int], staff: Staff, need: NewNeed) -> DemoMission:
    region = ref.regions[index[need.region_code]]
    host = need.posted_by
    steps = [NewStep(1, "의뢰 장소 체크인", StepVerification.CHECKIN.value, "", need.lat, need.lon, 200),
             NewStep(2, "작업 결과 사진", StepVerification.PHOTO.value, "작업 전후 사진을 올리세요."),
             NewStep(3, "의뢰자 확인", StepVerification.HOST_CONFIRM.value, "의뢰자가 결과를 확인합니다.")]
    new = NewMission(
        id=uuid4_from(rng), title=f"[재능기부] {need.title}", mission_type=MissionType.SKILL.value,
        region_code=region.code, steps=steps, summary=need.description, place_name=need.place_name,
        lat=need.lat, lon=need.lon, source_kind="need", source_ref=str(need.id), skills=[need.skill],
        tags=["재능기부", need.skill], capacity=need.headcount, points=200, expected_minutes=240,
        created_by=host)
    return _build(rng, new, index[region.code], MissionType.SKILL, host)


def _learning(rng: random.Random, ref: Reference, index: dict[str, int], staff: Staff,
              requesters: dict[str, list[uuid.UUID]], place: Place) -> DemoMission:
    region = ref.regions[index[place.region_code]]
    steps = [NewStep(1, "이야기 읽기", StepVerification.NONE.value, place.description[:500]),
             NewStep(2, "퀴즈 풀기", StepVerification.NONE.value, "다섯 문제 중 세 문제 이상 맞히면 통과합니다."),
             NewStep(3, "소감 남기기", StepVerification.NONE.value)]
    new = NewMission(
        id=uuid4_from(rng), title=f"{region.sgg_name}의 역사: {place.name}", mission_type=MissionType.LEARNING.value,
        region_code=region.code, steps=steps, summary=place.description[:300], place_name=place.name,
        lat=place.lat, lon=place.lon, source_kind="heritage", source_ref=place.place_id,
        tags=["역사", place.category or "문화유산"], points=60, expected_minutes=30,
        created_by=_creator(rng, region.code, staff, requesters))
    return _build(rng, new, index[region.code], MissionType.LEARNING, None)
