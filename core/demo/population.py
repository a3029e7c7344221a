"""Demo users with hidden preference profiles, and the staff accounts that run the demo.

Each user is drawn from a hidden profile: which regions they are drawn to (some of it declared as
hometown and interest regions, some of it latent), how much they like each mission type, which
skills they really have (some undeclared), how active and how reliable they are. Behaviour
(core/demo/activity.py) follows the profile; the profiles are saved for evaluating recommenders,
never written to the app schema.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from core.accounts import NewUser
from core.demo.ids import uuid4_from
from core.demo.reference import Reference, Region
from core.vocab import INTERESTS_KO, SKILLS_KO, MissionType, Role, UserType

EMAIL_DOMAIN = "demo.hometown-on.kr"
DEMO_PASSWORD = "hometown-demo"  # every demo account; documented in the README
MISSION_TYPES = [t.value for t in MissionType]  # exploration, social, skill, learning

USER_TYPE_SHARES = {UserType.YOUTH: 0.35, UserType.SUPPORTER: 0.28, UserType.RETURNEE: 0.20,
                    UserType.MENTOR: 0.08, UserType.REQUESTER: 0.09}
# Dirichlet priors of mission-type taste (exploration, social, skill, learning)
TASTE_PRIOR = {
    UserType.YOUTH: (2.0, 1.0, 1.5, 1.0),
    UserType.SUPPORTER: (2.0, 1.5, 0.5, 1.0),
    UserType.RETURNEE: (1.0, 2.0, 1.5, 1.0),
    UserType.MENTOR: (0.7, 2.0, 1.5, 1.5),
    UserType.REQUESTER: (0.5, 2.0, 1.0, 0.5),
}
SKILL_LEANING = {
    UserType.YOUTH: ("IT", "디자인", "영상", "마케팅", "사진"),
    UserType.RETURNEE: ("농업", "목공", "요리", "건축"),
    UserType.MENTOR: ("상담", "교육", "법률", "회계"),
    UserType.REQUESTER: ("농업", "요리", "돌봄"),
    UserType.SUPPORTER: (),
}
BIRTH_YEARS = {UserType.YOUTH: (1990, 2006), UserType.RETURNEE: (1958, 1990), UserType.SUPPORTER: (1955, 2000),
               UserType.MENTOR: (1955, 1985), UserType.REQUESTER: (1950, 1990)}
INTERESTS_BY_TYPE = {
    "exploration": ("자연", "관광", "역사", "생태", "음식"),
    "social": ("봉사", "축제", "전통시장", "문화예술"),
    "skill": ("창업", "귀농", "귀촌", "교육"),
    "learning": ("역사", "교육", "문화예술"),
}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허남심노하곽성차주우구민유진"
GIVEN = "민서지현우준예도하윤수영진호은채유성재연아주원시태희경나동규승혜선미소다건"


@dataclass
class DemoUser:
    index: int
    id: uuid.UUID
    user_type: str
    email: str
    display_name: str
    birth_year: int
    home: int  # region index
    hometown: int | None
    interest_regions: list[int]
    skills: list[str]  # declared
    interests: list[str]
    # ---- hidden ----------------------------------------------------------------------------
    affinity: dict[int, float]  # region index → weight (declared and latent regions)
    taste: np.ndarray  # mission-type shares, in MISSION_TYPES order
    true_skills: list[str]
    activity: float  # relative number of attempts
    reliability: float  # 0..1, how often they see a mission through
    registered_at: float  # epoch seconds


@dataclass
class Staff:
    """Who posts needs and hosts missions in each region."""

    users: list[NewUser] = field(default_factory=list)
    admin: uuid.UUID | None = None
    officers: dict[str, uuid.UUID] = field(default_factory=dict)  # region_code → officer
    hosts: dict[str, uuid.UUID] = field(default_factory=dict)  # region_code → host


def make_staff(rng: random.Random, ref: Reference, password_hash: str, since: float) -> Staff:
    """An admin, a policy officer, municipality officers (의성군 47730 and a few other decline
    areas) and hosts in decline areas, all registered at `since` (epoch seconds: the window's start)."""
    staff = Staff()
    registered = datetime.fromtimestamp(since, UTC)

    def add(email: str, name: str, roles: list[str], region: str | None = None) -> uuid.UUID:
        user = NewUser(email=f"{email}@{EMAIL_DOMAIN}", display_name=name, password_hash=password_hash,
                       roles=roles, managed_region_code=region, is_demo=True, id=uuid4_from(rng),
                       created_at=registered)
        staff.users.append(user)
        return user.id

    staff.admin = add("admin", "데모 관리자", [Role.ADMIN.value, Role.MODERATOR.value])
    add("policy", "데모 정책 담당자", [Role.POLICY_STAFF.value])
    decline = [r for r in ref.regions if r.category == "decline"]
    officer_regions = [r for r in decline if r.code == "47730"]
    officer_regions += rng.sample([r for r in decline if r.code != "47730"], k=min(4, len(decline) - 1))
    for region in officer_regions:
        staff.officers[region.code] = add(f"officer-{region.code}", f"{region.sgg_name} 담당자",
                                          [Role.MUNICIPALITY_OFFICER.value], region.code)
    host_regions = officer_regions + rng.sample([r for r in decline if r not in officer_regions],
                                                k=min(4, max(0, len(decline) - len(officer_regions))))
    for number, region in enumerate(host_regions, start=1):
        staff.hosts[region.code] = add(f"host-{number:02d}", f"{region.sgg_name} 호스트", [Role.HOST.value],
                                       region.code)
    return staff


def _weights(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def make_users(rng: random.Random, nprng: np.random.Generator, ref: Reference, count: int,
               window: tuple[float, float]) -> list[DemoUser]:
    """`count` app users; their registration times spread over `window` (epoch seconds), denser later."""
    regions = ref.regions
    population = _weights([max(r.population, 1000) for r in regions])
    rural = _weights([(4.0 if r.category == "decline" else 2.0 if r.category == "interest" else 0.4)
                      * (1.5 if r.level == "gun" else 1.0) for r in regions])
    by_sido: dict[str, list[int]] = {}
    for i, r in enumerate(regions):
        by_sido.setdefault(r.sido_code, []).append(i)
    types = list(USER_TYPE_SHARES)
    type_draws = nprng.choice(len(types), size=count, p=_weights(list(USER_TYPE_SHARES.values())))
    homes_city = nprng.choice(len(regions), size=count, p=population)
    homes_rural = nprng.choice(len(regions), size=count, p=rural)
    latent = nprng.choice(len(regions), size=count, p=rural)
    activity = nprng.lognormal(0.0, 0.9, size=count)
    reliability = nprng.beta(4.0, 2.0, size=count)
    registered = window[0] + (window[1] - window[0]) * nprng.random(size=count) ** 0.7
    users = []
    for i in range(count):
        user_type = types[type_draws[i]]
        home, hometown = _home_and_hometown(rng, user_type, int(homes_city[i]), int(homes_rural[i]))
        affinity = _affinity(rng, regions, by_sido, home, hometown, int(latent[i]), rural)
        declared = sorted((r for r in affinity if r != home), key=lambda r: -affinity[r])
        interest_regions = declared[:rng.randint(1, 3)]
        taste = nprng.dirichlet(np.asarray(TASTE_PRIOR[user_type]) * 1.5)
        true_skills = _skills(rng, user_type)
        skills = [s for s in true_skills if rng.random() > 0.3]  # some skills stay undeclared
        years = BIRTH_YEARS[user_type]
        users.append(DemoUser(
            index=i + 1, id=uuid4_from(rng), user_type=user_type.value,
            email=f"demo{i + 1:05d}@{EMAIL_DOMAIN}", display_name=_name(rng),
            birth_year=rng.randint(*years), home=home, hometown=hometown,
            interest_regions=interest_regions, skills=skills, interests=_interests(rng, taste, user_type),
            affinity=affinity, taste=taste, true_skills=true_skills,
            activity=0.0 if rng.random() < 0.12 else float(activity[i]),  # some register and never start
            reliability=float(reliability[i]), registered_at=float(registered[i])))
    return users


def _home_and_hometown(rng: random.Random, user_type: UserType, city: int, rural: int) -> tuple[int, int | None]:
    """Returnees and supporters live in cities and come from the countryside; requesters and
    mentors live in the regions; young people mostly live where they grew up or in a city."""
    if user_type == UserType.RETURNEE:
        return (rural if rng.random() < 0.3 else city), rural
    if user_type == UserType.SUPPORTER:
        return city, rural
    if user_type in (UserType.REQUESTER, UserType.MENTOR):
        return rural, (rural if rng.random() < 0.6 else city)
    return city, (city if rng.random() < 0.5 else rural)


def _affinity(rng: random.Random, regions: list[Region], by_sido: dict[str, list[int]], home: int,
              hometown: int | None, latent: int, rural: np.ndarray) -> dict[int, float]:
    affinity: dict[int, float] = {home: 0.4}
    if hometown is not None:
        affinity[hometown] = 1.0
    affinity[latent] = max(affinity.get(latent, 0.0), 0.7)  # drawn there, but never says so
    anchor = hometown if hometown is not None else home
    neighbours = by_sido[regions[anchor].sido_code]
    for region in rng.sample(neighbours, k=min(3, len(neighbours))):
        affinity[region] = max(affinity.get(region, 0.0), 0.25)
    return affinity


def _skills(rng: random.Random, user_type: UserType) -> list[str]:
    count = rng.choices((0, 1, 2, 3), weights=(0.25, 0.4, 0.25, 0.1))[0]
    leaning = SKILL_LEANING[user_type]
    chosen: list[str] = []
    while len(chosen) < count:
        skill = rng.choice(leaning) if leaning and rng.random() < 0.6 else rng.choice(SKILLS_KO)
        if skill not in chosen:
            chosen.append(skill)
    return chosen


def _interests(rng: random.Random, taste: np.ndarray, user_type: UserType) -> list[str]:
    picks: list[str] = []
    for _ in range(rng.randint(1, 4)):
        mission_type = MISSION_TYPES[rng.choices(range(4), weights=list(taste))[0]]
        picks.append(rng.choice(INTERESTS_BY_TYPE[mission_type]))
    if user_type == UserType.RETURNEE:
        picks.append(rng.choice(("귀농", "귀촌")))
    if rng.random() < 0.2:
        picks.append(rng.choice(INTERESTS_KO))
    return sorted(set(picks))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def to_new_user(user: DemoUser, ref: Reference, password_hash: str) -> NewUser:
    codes = ref.regions
    return NewUser(
        id=user.id, email=user.email, display_name=user.display_name, password_hash=password_hash,
        user_type=user.user_type, birth_year=user.birth_year,
        hometown_region_code=codes[user.hometown].code if user.hometown is not None else None,
        home_region_code=codes[user.home].code,
        interest_region_codes=[codes[r].code for r in user.interest_regions],
        skills=list(user.skills), interests=list(user.interests), is_demo=True,
        created_at=datetime.fromtimestamp(user.registered_at, UTC))  # as its user_registered event says


def hidden_profile(user: DemoUser, ref: Reference) -> dict[str, object]:
    """What drives the user's behaviour: for evaluation only, never for the recommender."""
    return {
        "user_id": str(user.id),
        "user_type": user.user_type,
        "region_affinity": {ref.regions[r].code: round(w, 3)
                            for r, w in sorted(user.affinity.items(), key=lambda kv: -kv[1])},
        "mission_type_taste": {t: round(float(v), 4) for t, v in zip(MISSION_TYPES, user.taste, strict=True)},
        "true_skills": user.true_skills,
        "declared_skills": user.skills,
        "activity": round(user.activity, 4),
        "reliability": round(user.reliability, 4),
    }
