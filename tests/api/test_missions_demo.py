"""/missions over the demo catalog, which is built on the real spots, festivals and heritage sites."""

from __future__ import annotations

import math

import psycopg
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("demo_loaded")

PLACE_KINDS = ("tourist_spot", "festival", "heritage")
RADIUS_KM = 15.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def busiest_place(db_url: str) -> tuple[float, float, str]:
    """A real place in the 시군구 with the most place-based published missions: (lat, lon, region)."""
    from core.db import libpq_url

    with psycopg.connect(libpq_url(db_url)) as conn:
        row = conn.execute("""
            select p.lat, p.lon, m.region_code
            from app.missions m join raw.places p on p.place_id = m.source_ref
            where m.status = 'published' and m.source_kind = any(%s)
            group by p.lat, p.lon, m.region_code
            order by count(*) over (partition by m.region_code) desc, m.region_code, p.lat, p.lon
            limit 1""", (list(PLACE_KINDS),)).fetchone()
    assert row is not None, "the demo catalog has no place-based missions"
    return float(row[0]), float(row[1]), str(row[2])


def test_near_returns_real_places_nearest_first(client: TestClient, pg: psycopg.Connection,
                                                busiest_place: tuple[float, float, str]) -> None:
    lat, lon, _ = busiest_place
    body = client.get("/missions", params={"near": f"{lat},{lon}", "radius_km": RADIUS_KM, "limit": 100}).json()
    items = body["items"]
    assert items and items[0]["distance_km"] < 0.001  # the mission at the place itself comes first
    distances = [m["distance_km"] for m in items]
    assert distances == sorted(distances) and distances[-1] <= RADIUS_KM
    for mission in items:
        assert mission["distance_km"] == pytest.approx(haversine_km(lat, lon, mission["lat"], mission["lon"]),
                                                       abs=0.001)

    # the same answer computed independently: every published mission with a position, in Python
    positions = pg.execute("select lat, lon from app.missions where status = 'published' and lat is not null")
    expected = sum(1 for mlat, mlon in positions if haversine_km(lat, lon, mlat, mlon) <= RADIUS_KM)
    assert body["total"] == expected

    # the missions stand on real places: their names and positions are those of raw.places
    ids = [m["id"] for m in items]
    places = {str(mid): (name, plat, plon) for mid, name, plat, plon in pg.execute("""
        select m.id, p.name, p.lat, p.lon from app.missions m join raw.places p on p.place_id = m.source_ref
        where m.id = any(%s::uuid[]) and m.source_kind = any(%s)""", (ids, list(PLACE_KINDS)))}
    assert places, "no mission near a real place is based on one"
    for mission in items:
        if mission["id"] in places:
            name, plat, plon = places[mission["id"]]
            assert mission["place_name"] == name
            assert haversine_km(plat, plon, mission["lat"], mission["lon"]) < 0.5


def test_region_and_type_filters_match_the_catalog(client: TestClient, pg: psycopg.Connection,
                                                   busiest_place: tuple[float, float, str]) -> None:
    region = busiest_place[2]
    counts = dict(pg.execute("""select mission_type, count(*) from app.missions
                                where status = 'published' and region_code = %s group by 1""", (region,)))
    body = client.get("/missions", params={"region_code": region, "limit": 100}).json()
    assert body["total"] == sum(counts.values())
    assert {m["region_code"] for m in body["items"]} == {region}
    for mission_type, count in counts.items():
        typed = client.get("/missions", params={"region_code": region, "mission_type": mission_type}).json()
        assert typed["total"] == count
        assert {m["mission_type"] for m in typed["items"]} == {mission_type}


def test_every_mission_type_has_ordered_steps(client: TestClient, pg: psycopg.Connection) -> None:
    for mission_type in ("exploration", "social", "skill", "learning"):
        listed = client.get("/missions", params={"mission_type": mission_type, "limit": 1}).json()
        assert listed["total"] > 0, mission_type
        mission = client.get(f"/missions/{listed['items'][0]['id']}").json()
        stored = [row[0] for row in pg.execute(
            "select step_no from app.mission_steps where mission_id = %s order by step_no", (mission["id"],))]
        assert [s["step_no"] for s in mission["steps"]] == stored == list(range(1, len(stored) + 1))
