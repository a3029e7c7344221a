"""The mission catalog: missions with their ordered steps, and the regional needs they answer.

Plain records in, bulk inserts out. The API creates one mission at a time through these
functions, the demo generator a thousand: the rules (steps numbered 1..n, known mission types,
known skills) are the same for both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, insert

from core.tables import mission_steps, missions, regional_needs
from core.vocab import SKILLS_KO, MissionStatus, MissionType, StepVerification

MISSION_TYPES = frozenset(t.value for t in MissionType)
MISSION_STATUSES = frozenset(s.value for s in MissionStatus)
VERIFICATIONS = frozenset(v.value for v in StepVerification)
SKILLS = frozenset(SKILLS_KO)


class CatalogError(ValueError):
    """A record breaks a catalog rule; the message names the record and the rule."""


@dataclass
class NewNeed:
    """A need a municipality (or a local requester) posts: a skill wanted in a region."""

    region_code: str
    title: str
    skill: str
    description: str = ""
    tier_wanted: int = 1
    place_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    headcount: int = 1
    status: str = "open"
    posted_by: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class NewStep:
    step_no: int
    title: str
    verification: str = StepVerification.NONE.value
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_m: int | None = None


@dataclass
class NewMission:
    title: str
    mission_type: str
    region_code: str
    steps: list[NewStep]
    summary: str = ""
    status: str = MissionStatus.PUBLISHED.value
    place_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: int = 200
    source_kind: str | None = None  # tourist_spot | festival | heritage | need | manual | ai_draft
    source_ref: str | None = None  # place_id in raw.places or id in app.regional_needs
    skills: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    capacity: int | None = None
    points: int = 100
    expected_minutes: int = 120
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_by: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def check_need(need: NewNeed) -> None:
    if need.skill not in SKILLS:
        raise CatalogError(f"need {need.title!r}: unknown skill {need.skill!r} (see core/vocab.py SKILLS_KO)")
    if not (len(need.region_code) == 5 and need.region_code.isdigit()):
        raise CatalogError(f"need {need.title!r}: region_code must be 5 digits (got {need.region_code!r})")
    if need.starts_on and need.ends_on and need.ends_on < need.starts_on:
        raise CatalogError(f"need {need.title!r}: ends_on is before starts_on")


def check_mission(mission: NewMission) -> None:
    """Steps are what a user does in order: they must be numbered 1..n with known verifications."""
    name = f"mission {mission.title!r}"
    if mission.mission_type not in MISSION_TYPES:
        raise CatalogError(f"{name}: unknown mission_type {mission.mission_type!r}")
    if mission.status not in MISSION_STATUSES:
        raise CatalogError(f"{name}: unknown status {mission.status!r}")
    if not mission.steps:
        raise CatalogError(f"{name}: a mission needs at least one step")
    numbers = [s.step_no for s in mission.steps]
    if numbers != list(range(1, len(numbers) + 1)):
        raise CatalogError(f"{name}: steps must be numbered 1..{len(numbers)} in order (got {numbers})")
    for step in mission.steps:
        if step.verification not in VERIFICATIONS:
            raise CatalogError(f"{name}: step {step.step_no} has unknown verification {step.verification!r}")
    unknown = sorted(set(mission.skills) - SKILLS)
    if unknown:
        raise CatalogError(f"{name}: unknown skills {unknown} (see core/vocab.py SKILLS_KO)")


def create_needs(conn: Connection, needs: Sequence[NewNeed]) -> list[uuid.UUID]:
    """Insert regional needs in one statement."""
    if not needs:
        return []
    for need in needs:
        check_need(need)
    conn.execute(insert(regional_needs), [dict(n.__dict__) for n in needs])
    return [n.id for n in needs]


def create_missions(conn: Connection, new_missions: Sequence[NewMission]) -> list[uuid.UUID]:
    """Insert missions and their steps (two statements, whatever the count)."""
    if not new_missions:
        return []
    for mission in new_missions:
        check_mission(mission)
    rows = [{k: v for k, v in m.__dict__.items() if k != "steps"} for m in new_missions]
    conn.execute(insert(missions), rows)
    steps = [{"mission_id": m.id, **s.__dict__} for m in new_missions for s in m.steps]
    conn.execute(insert(mission_steps), steps)
    return [m.id for m in new_missions]
