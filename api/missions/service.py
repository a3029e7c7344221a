"""Mission queries: filters, distance from a point (haversine in SQL), and who may see what.

Visibility is one SQL clause used by the list and the detail alike: published missions for everyone;
other statuses for admins and policy staff, for municipality officers and hosts in their own 시군구,
and for the user who created the mission (ownership, not only role).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, literal, or_, select

from api.users.service import UserRecord
from core.tables import mission_steps, missions
from core.vocab import MissionStatus, Role

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class MissionQuery:
    region_code: str | None = None
    mission_type: str | None = None
    status: str = MissionStatus.PUBLISHED.value
    near: Near | None = None
    q: str | None = None
    limit: int = 20
    offset: int = 0


def visible_to(user: UserRecord | None) -> ColumnElement[bool]:
    published = missions.c.status == MissionStatus.PUBLISHED.value
    if user is None:
        return published
    if user.has_role(Role.ADMIN, Role.POLICY_STAFF):
        return literal(True)
    own: list[ColumnElement[bool]] = [published, missions.c.created_by == user.id]
    if user.managed_region_code and user.has_role(Role.MUNICIPALITY_OFFICER, Role.HOST):
        own.append(missions.c.region_code == user.managed_region_code)
    return or_(*own)


def distance_km(lat: float, lon: float) -> ColumnElement[float]:
    """Great-circle distance from (lat, lon) to each mission's position, in SQL (haversine)."""
    dlat = func.radians(missions.c.lat - lat) / 2
    dlon = func.radians(missions.c.lon - lon) / 2
    a = func.power(func.sin(dlat), 2) + (math.cos(math.radians(lat)) * func.cos(func.radians(missions.c.lat))
                                         * func.power(func.sin(dlon), 2))
    return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))


def _bounding_box(near: Near) -> ColumnElement[bool]:
    """A cheap pre-filter (degrees around the point) so the haversine runs on nearby rows only."""
    dlat = near.radius_km / KM_PER_DEGREE_LAT
    clauses = [missions.c.lat.between(near.lat - dlat, near.lat + dlat)]
    cos_lat = math.cos(math.radians(near.lat))
    if cos_lat > 0.01:  # near the poles every longitude is close: no longitude bound
        dlon = dlat / cos_lat
        if dlon < 180:
            clauses.append(missions.c.lon.between(near.lon - dlon, near.lon + dlon))
    return and_(*clauses)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_missions(conn: Connection, query: MissionQuery,
                  user: UserRecord | None) -> tuple[Sequence[RowMapping], int]:
    where: list[ColumnElement[bool]] = [visible_to(user), missions.c.status == query.status]
    if query.region_code:
        where.append(missions.c.region_code == query.region_code)
    if query.mission_type:
        where.append(missions.c.mission_type == query.mission_type)
    if query.q:
        where.append(missions.c.title.ilike(f"%{_escape_like(query.q)}%", escape="\\"))
    distance: ColumnElement[Any] = literal(None).label("distance_km")
    order: list[Any] = [missions.c.created_at.desc(), missions.c.id]
    if query.near:
        dist = distance_km(query.near.lat, query.near.lon)
        where += [missions.c.lat.is_not(None), _bounding_box(query.near), dist <= query.near.radius_km]
        distance, order = dist.label("distance_km"), [dist, missions.c.id]
    total = conn.execute(select(func.count()).select_from(missions).where(*where)).scalar_one()
    rows = conn.execute(select(missions, distance).where(*where).order_by(*order)
                        .limit(query.limit).offset(query.offset)).mappings().all()
    return rows, total


def get_mission(conn: Connection, mission_id: uuid.UUID, user: UserRecord | None) -> RowMapping | None:
    return conn.execute(select(missions).where(missions.c.id == mission_id, visible_to(user))).mappings().first()


def get_steps(conn: Connection, mission_id: uuid.UUID) -> Sequence[RowMapping]:
    return conn.execute(select(mission_steps).where(mission_steps.c.mission_id == mission_id)
                        .order_by(mission_steps.c.step_no)).mappings().all()

