"""What the ranker reads: regions, the mission catalog, users and their history, as arrays.

Everything is read with plain SQL in a few statements and turned into numpy arrays once, so that
scoring a user is array arithmetic over the whole catalog. The history comes from
`raw.activity_events` (the real user ids the ranker needs; the marts are pseudonymous), the
success prior from `marts.fct_mission_attempts` when it exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from core.vocab import SKILLS_KO, MissionType, UserType

MISSION_TYPES: tuple[str, ...] = tuple(t.value for t in MissionType)
USER_TYPES: tuple[str, ...] = tuple(t.value for t in UserType)
UNKNOWN_USER_TYPE = len(USER_TYPES)  # staff accounts and anything unexpected share one row
SKILLS: tuple[str, ...] = SKILLS_KO
SKILL_INDEX = {s: i for i, s in enumerate(SKILLS)}
OUTCOMES = ("enrolled", "completed", "failed", "abandoned")
EVENT_OUTCOME = {"mission_enrolled": "enrolled", "mission_completed": "completed", "mission_failed": "failed",
                 "mission_abandoned": "abandoned"}
SIDO_SHORT = {
    "서울특별시": "서울", "부산광역시": "부산", "대구광역시": "대구", "인천광역시": "인천", "광주광역시": "광주",
    "대전광역시": "대전", "울산광역시": "울산", "세종특별자치시": "세종", "경기도": "경기", "강원도": "강원",
    "강원특별자치도": "강원", "충청북도": "충북", "충청남도": "충남", "전라북도": "전북", "전북특별자치도": "전북",
    "전라남도": "전남", "경상북도": "경북", "경상남도": "경남", "제주특별자치도": "제주",
}


def user_type_index(user_type: str | None) -> int:
    try:
        return USER_TYPES.index(user_type) if user_type else UNKNOWN_USER_TYPE
    except ValueError:
        return UNKNOWN_USER_TYPE


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km; numpy-broadcasting."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.minimum(1.0, np.sqrt(h)))


# ---------------------------------------------------------------------------------- regions
@dataclass
class Regions:
    codes: list[str]
    full_names: list[str]
    short_names: list[str]  # '경북 의성군': what reasons print
    sido: np.ndarray  # int (R,), index of the 시도
    lat: np.ndarray
    lon: np.ndarray
    is_decline: np.ndarray  # bool (R,)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {c: i for i, c in enumerate(self.codes)}

    def __len__(self) -> int:
        return len(self.codes)

    def distances(self) -> np.ndarray:
        """(R, R) centroid distances in km."""
        return np.asarray(haversine_km(self.lat[:, None], self.lon[:, None], self.lat[None, :], self.lon[None, :]))


REGIONS_SQL = """
    select r.region_code, r.full_name, r.sido_name, r.sgg_name, r.sido_code, r.centroid_lat, r.centroid_lon,
           coalesce(d.category = 'decline', false)
    from raw.regions r left join raw.decline_areas d using (region_code)
    order by r.region_code
"""


def load_regions(conn: Connection) -> Regions:
    rows = conn.execute(text(REGIONS_SQL)).all()
    sidos = sorted({r[4] for r in rows})
    return Regions(
        codes=[r[0] for r in rows], full_names=[r[1] for r in rows],
        short_names=[f"{SIDO_SHORT.get(r[2], r[2])} {r[3]}".strip() if r[3] != r[2] else r[2] for r in rows],
        sido=np.array([sidos.index(r[4]) for r in rows], dtype=np.int32),
        lat=np.array([r[5] for r in rows], dtype=np.float64), lon=np.array([r[6] for r in rows], dtype=np.float64),
        is_decline=np.array([bool(r[7]) for r in rows], dtype=bool))


# ---------------------------------------------------------------------------------- catalog
@dataclass
class Catalog:
    """Published missions as arrays (one position per mission)."""

    ids: list[str]
    titles: list[str]
    texts: list[str]  # what the content vectors were made from (ai.corpus.mission_text)
    region: np.ndarray  # int32 (M,) index into Regions
    mission_type: np.ndarray  # int8 (M,) index into MISSION_TYPES
    skills: np.ndarray  # bool (M, S)
    capacity: np.ndarray  # float (M,), inf = unlimited
    taken: np.ndarray  # float (M,) places taken now (in progress + completed)
    starts_at: np.ndarray  # epoch seconds, -inf = always
    ends_at: np.ndarray  # epoch seconds, inf = open-ended
    expected_minutes: np.ndarray  # int (M,)
    lat: np.ndarray  # float (M,), the region centroid when the mission has no position
    lon: np.ndarray
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {m: i for i, m in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_skills(self) -> np.ndarray:
        return np.asarray(self.skills.any(axis=1))

    def skills_of(self, i: int) -> list[str]:
        return list(self.skill_names[i])

    @cached_property
    def skill_names(self) -> list[tuple[str, ...]]:
        """Each mission's skills by name, made once: reasons and profiles ask for them millions of
        times when precomputing, and a numpy lookup per call costs more than the whole reason."""
        out: list[list[str]] = [[] for _ in range(len(self.ids))]
        for m, s in zip(*np.nonzero(self.skills), strict=True):
            out[int(m)].append(SKILLS[int(s)])
        return [tuple(names) for names in out]


CATALOG_SQL = """
    select m.id::text, m.title, m.mission_type, m.region_code, m.place_name, m.summary, m.skills, m.tags,
           m.capacity, m.starts_at, m.ends_at, m.expected_minutes, m.lat, m.lon
    from app.missions m
    where m.status = 'published' and m.region_code in (select region_code from raw.regions)
    order by m.id
"""


CATALOG_FINGERPRINT_SQL = """
    select count(*), coalesce(sum(hashtext(id::text)::bigint), 0), max(updated_at), max(created_at)
    from app.missions where status = 'published'
"""


def catalog_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """What changes when the published catalog does: how many, which (a sum of id hashes), and the
    latest edit. One scan of app.missions: cheap enough to ask every second."""
    return tuple(conn.execute(text(CATALOG_FINGERPRINT_SQL)).one())


def _epoch(value: datetime | None, default: float) -> float:
    return value.timestamp() if value is not None else default


def load_catalog(conn: Connection, regions: Regions, taken: dict[str, int] | None = None) -> Catalog:
    """Published missions. `taken`: places taken per mission (for the capacity exclusion)."""
    from ai.corpus import mission_text

    rows = conn.execute(text(CATALOG_SQL)).all()
    m = len(rows)
    skills = np.zeros((m, len(SKILLS)), dtype=bool)
    for i, row in enumerate(rows):
        for s in row[6] or ():
            if s in SKILL_INDEX:
                skills[i, SKILL_INDEX[s]] = True
    region = np.array([regions.index[r[3]] for r in rows], dtype=np.int32)
    lat = np.array([r[12] if r[12] is not None else math.nan for r in rows], dtype=np.float64)
    lon = np.array([r[13] if r[13] is not None else math.nan for r in rows], dtype=np.float64)
    missing = np.isnan(lat) | np.isnan(lon)
    lat[missing], lon[missing] = regions.lat[region[missing]], regions.lon[region[missing]]
    taken = taken or {}
    return Catalog(
        ids=[r[0] for r in rows], titles=[r[1] for r in rows],
        texts=[mission_text(r[1], r[2], regions.full_names[regions.index[r[3]]], r[4], r[5] or "", r[6] or (),
                            r[7] or ()) for r in rows],
        region=region,
        mission_type=np.array([MISSION_TYPES.index(r[2]) for r in rows], dtype=np.int8),
        skills=skills,
        capacity=np.array([r[8] if r[8] is not None else math.inf for r in rows], dtype=np.float64),
        taken=np.array([taken.get(r[0], 0) for r in rows], dtype=np.float64),
        starts_at=np.array([_epoch(r[9], -math.inf) for r in rows], dtype=np.float64),
        ends_at=np.array([_epoch(r[10], math.inf) for r in rows], dtype=np.float64),
        expected_minutes=np.array([r[11] or 0 for r in rows], dtype=np.int32), lat=lat, lon=lon)


# ---------------------------------------------------------------------------------- history
@dataclass(frozen=True)
class Interaction:
    """One attempt of a user at a mission: when it started and how it stands (at the time of reading)."""

    user_id: str
    mission_id: str
    at: float  # epoch seconds of the enrolment
    outcome: str  # enrolled (in progress) | completed | failed | abandoned
    ended_at: float | None = None


HISTORY_SQL = """
    select user_id::text, mission_id::text, event_type, extract(epoch from occurred_at)::float8
    from raw.activity_events
    where mission_id is not null
      and event_type in ('mission_enrolled', 'mission_completed', 'mission_failed', 'mission_abandoned')
      {filter}
    order by user_id, mission_id, occurred_at, event_type
"""
CHECKINS_SQL = """
    select user_id::text, region_code, extract(epoch from occurred_at)::float8
    from raw.activity_events
    where event_type = 'checkin' and region_code is not null and coalesce((payload->>'accepted')::boolean, true)
      {filter}
"""


def attempts_from_events(rows: Iterable[Sequence[Any]], until: float | None = None) -> list[Interaction]:
    """(user, mission, event_type, epoch) sorted by user, mission, time → attempts. An enrolment
    starts an attempt; the next completion/failure/abandonment ends it. With `until`, the world as
    it stood then: later events are ignored, so an attempt ended later is still in progress."""
    out: list[Interaction] = []
    current: list[Any] | None = None  # [user, mission, at, outcome, ended]
    for user, mission, event_type, at in rows:
        if until is not None and at >= until:
            continue
        outcome = EVENT_OUTCOME[event_type]
        same = current is not None and current[0] == user and current[1] == mission
        if outcome == "enrolled" or not same:
            if current is not None:
                out.append(Interaction(*current))
            current = [user, mission, at, "enrolled", None]
            if outcome != "enrolled":  # an end without its enrolment (lost event): the attempt still counts
                current[3], current[4] = outcome, at
        elif current is not None and current[3] == "enrolled":
            current[3], current[4] = outcome, at
    if current is not None:
        out.append(Interaction(*current))
    return out


def load_history(conn: Connection, user_ids: Sequence[str] | None = None,
                 until: float | None = None) -> list[Interaction]:
    """Attempts of every user (or of `user_ids`), optionally as they stood at `until`."""
    params: dict[str, Any] = {}
    clause = ""
    if user_ids is not None:
        clause = "and user_id = any(cast(:users as uuid[]))"
        params["users"] = list(user_ids)
    rows = conn.execute(text(HISTORY_SQL.format(filter=clause)), params)
    return attempts_from_events(rows, until)


def load_checkins(conn: Connection, user_ids: Sequence[str] | None = None,
                  since: float | None = None, until: float | None = None) -> dict[str, list[tuple[str, float]]]:
    """Accepted check-ins per user: (region_code, epoch)."""
    clauses = []
    params: dict[str, Any] = {}
    if user_ids is not None:
        clauses.append("and user_id = any(cast(:users as uuid[]))")
        params["users"] = list(user_ids)
    if since is not None:
        clauses.append("and occurred_at >= to_timestamp(:since)")
        params["since"] = since
    if until is not None:
        clauses.append("and occurred_at < to_timestamp(:until)")
        params["until"] = until
    out: dict[str, list[tuple[str, float]]] = {}
    rows: list[Any] = list(conn.execute(text(CHECKINS_SQL.format(filter=" ".join(clauses))), params))
    for user, region, at in rows:
        out.setdefault(user, []).append((region, at))
    return out


PLACES_TAKEN_SQL = """
    select mission_id::text, count(distinct user_id)
    from app.mission_attempts
    where status in ('in_progress', 'completed')
    group by mission_id
"""


def load_places_taken(conn: Connection) -> dict[str, int]:
    """Per mission: the places taken as the API counts them when someone enrols (people with an attempt
    in progress or completed, in app.mission_attempts), so a mission is hidden as full exactly when
    enrolling would be refused. (Counting enrolment events instead hid every small mission that the
    demo's history had crowded: 206 enrolment events against a capacity of 2, none of them a place
    the API holds.)"""
    return {mission_id: int(count) for mission_id, count in conn.execute(text(PLACES_TAKEN_SQL))}


# ---------------------------------------------------------------------------------- users
@dataclass(frozen=True)
class UserRow:
    """What a user declared (app.users)."""

    user_id: str | None
    user_type: str | None = None
    hometown_region_code: str | None = None
    home_region_code: str | None = None
    interest_region_codes: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    registered_at: float = 0.0


USERS_SQL = """
    select id::text, user_type, hometown_region_code, home_region_code, interest_region_codes, skills, interests,
           extract(epoch from created_at)::float8
    from app.users
    where is_active and cardinality(roles) = 0 {filter}
    order by id
"""


def load_users(conn: Connection, user_ids: Sequence[str] | None = None) -> list[UserRow]:
    """Active app users (staff accounts get no recommendations)."""
    clause, params = "", {}
    if user_ids is not None:
        clause, params = "and id = any(cast(:users as uuid[]))", {"users": list(user_ids)}
    return [UserRow(r[0], r[1], r[2], r[3], tuple(r[4] or ()), tuple(r[5] or ()), tuple(r[6] or ()), r[7])
            for r in conn.execute(text(USERS_SQL.format(filter=clause)), params)]


SUCCESS_SQL = """
    select mission_id::text, user_type, outcome, count(*)
    from marts.fct_mission_attempts
    where outcome in ('completed', 'failed', 'abandoned')
    group by 1, 2, 3
"""


def load_success_counts(conn: Connection) -> list[tuple[str, str | None, str, int]] | None:
    """Ended attempts per mission, user type and outcome from the marts; None if the mart is not built."""
    exists = conn.execute(text("select to_regclass('marts.fct_mission_attempts') is not null")).scalar()
    if not exists:
        return None
    return [(r[0], r[1], r[2], int(r[3])) for r in conn.execute(text(SUCCESS_SQL))]
