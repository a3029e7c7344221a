"""Mission filters, distance and visibility on missions made here (the demo catalog is tested elsewhere)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, insert

from core.tables import mission_steps, missions
from tests.api.conftest import Account, MakeUser, assert_error

UISEONG = (36.3527, 128.6970)  # 의성군청
SEOUL = (37.5665, 126.9780)  # 서울시청


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Catalog:
    token: str  # in every title, so `q` isolates these rows from others in the session database
    owner: Account
    published_uiseong: uuid.UUID
    published_seoul: uuid.UUID
    draft_uiseong: uuid.UUID
    closed_uiseong: uuid.UUID


@pytest.fixture()
def catalog(engine: Engine, make_user: MakeUser) -> Iterator[Catalog]:
    token = uuid.uuid4().hex[:8]
    owner = make_user(user_type="requester")
    ids = [uuid.uuid4() for _ in range(4)]
    base = {"summary": "", "mission_type": "exploration", "radius_m": 200, "place_name": None, "created_by": None}
    rows = [
        {**base, "id": ids[0], "title": f"의성 탐방 {token}", "status": "published", "region_code": "47730",
         "lat": UISEONG[0] + 0.01, "lon": UISEONG[1], "place_name": "의성 조문국사적지"},
        {**base, "id": ids[1], "title": f"서울 산책 {token}", "status": "published", "region_code": "11110",
         "lat": SEOUL[0], "lon": SEOUL[1], "mission_type": "learning"},
        {**base, "id": ids[2], "title": f"의성 초안 {token}", "status": "draft", "region_code": "47730",
         "lat": UISEONG[0], "lon": UISEONG[1], "created_by": owner.id},
        {**base, "id": ids[3], "title": f"의성 종료 {token}", "status": "closed", "region_code": "47730",
         "lat": UISEONG[0], "lon": UISEONG[1]},
    ]
    steps = [{"mission_id": ids[0], "step_no": n, "title": f"step {n}", "verification": v}
             for n, v in ((3, "photo"), (1, "checkin"), (2, "qr"))]
    with engine.begin() as conn:
        conn.execute(insert(missions), rows)
        conn.execute(insert(mission_steps), steps)
    yield Catalog(token, owner, *ids)
    with engine.begin() as conn:
        conn.execute(delete(missions).where(missions.c.id.in_(ids)))


def _titles(client: TestClient, headers: dict[str, str] | None = None, **params: object) -> list[str]:
    response = client.get("/missions", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [m["title"].split()[1] for m in response.json()["items"]]


def test_anonymous_callers_see_published_missions_only(client: TestClient, catalog: Catalog) -> None:
    assert sorted(_titles(client, q=catalog.token)) == ["산책", "탐방"]
    assert _titles(client, q=catalog.token, region_code="47730") == ["탐방"]
    assert _titles(client, q=catalog.token, mission_type="learning") == ["산책"]
    assert _titles(client, q=f"{catalog.token}%") == []  # LIKE wildcards in q are literal


def test_near_orders_by_real_distance_within_the_radius(client: TestClient, catalog: Catalog) -> None:
    body = client.get("/missions", params={"q": catalog.token, "near": f"{SEOUL[0]},{SEOUL[1]}",
                                           "radius_km": 300}).json()
    assert [m["title"].split()[1] for m in body["items"]] == ["산책", "탐방"]
    seoul, uiseong = body["items"]
    assert seoul["distance_km"] == 0
    assert uiseong["distance_km"] == pytest.approx(haversine_km(SEOUL, (UISEONG[0] + 0.01, UISEONG[1])), abs=1e-3)
    assert 150 < uiseong["distance_km"] < 300
    near_uiseong = {"q": catalog.token, "near": f"{UISEONG[0]},{UISEONG[1]}", "radius_km": 5}
    assert _titles(client, **near_uiseong) == ["탐방"]
    assert _titles(client, **{**near_uiseong, "radius_km": 1}) == []  # the spot is 1.1 km away
    assert _titles(client, q=catalog.token, near=f"{UISEONG[0]},{UISEONG[1]}") == ["탐방"]  # default 20 km


def test_detail_has_ordered_steps(client: TestClient, catalog: Catalog) -> None:
    body = client.get(f"/missions/{catalog.published_uiseong}").json()
    assert [s["step_no"] for s in body["steps"]] == [1, 2, 3]
    assert [s["verification"] for s in body["steps"]] == ["checkin", "qr", "photo"]
    assert body["mission_type_label_ko"] == "지역탐색형" and body["place_name"] == "의성 조문국사적지"
    assert "created_by" not in body


def test_drafts_are_visible_to_owner_region_staff_and_admins_only(client: TestClient, catalog: Catalog,
                                                                  make_user: MakeUser) -> None:
    url = f"/missions/{catalog.draft_uiseong}"
    assert_error(client.get(url), 404, "not_found")
    allowed = [catalog.owner, make_user(roles=("municipality_officer",), managed_region_code="47730"),
               make_user(roles=("admin",)), make_user(roles=("policy_staff",))]
    refused = [make_user(), make_user(roles=("municipality_officer",), managed_region_code="47170"),
               make_user(roles=("host",), managed_region_code="11110")]
    for account in allowed:
        assert client.get(url, headers=account.headers).status_code == 200, account
    for account in refused:
        assert_error(client.get(url, headers=account.headers), 404, "not_found")


def test_listing_other_statuses_needs_sign_in_and_is_scoped(client: TestClient, catalog: Catalog,
                                                            make_user: MakeUser) -> None:
    assert_error(client.get("/missions", params={"status": "draft"}), 401, "not_authenticated")
    officer = make_user(roles=("municipality_officer",), managed_region_code="47730")
    other_officer = make_user(roles=("municipality_officer",), managed_region_code="47170")
    assert _titles(client, officer.headers, q=catalog.token, status="draft") == ["초안"]
    assert _titles(client, officer.headers, q=catalog.token, status="closed") == ["종료"]
    assert _titles(client, other_officer.headers, q=catalog.token, status="draft") == []
    assert _titles(client, catalog.owner.headers, q=catalog.token, status="draft") == ["초안"]
    assert _titles(client, catalog.owner.headers, q=catalog.token, status="closed") == []


def test_pagination_is_stable_and_counts_all_matches(client: TestClient, catalog: Catalog) -> None:
    params = {"q": catalog.token, "near": f"{SEOUL[0]},{SEOUL[1]}", "radius_km": 500, "limit": 1}
    first = client.get("/missions", params=params).json()
    second = client.get("/missions", params={**params, "offset": 1}).json()
    assert first["total"] == second["total"] == 2
    assert [first["items"][0]["title"], second["items"][0]["title"]] == [f"서울 산책 {catalog.token}",
                                                                         f"의성 탐방 {catalog.token}"]


@pytest.mark.parametrize(("params", "field", "hint"), [
    ({"near": "abc"}, "query.near", "two numbers"),
    ({"near": "36.3;128.7"}, "query.near", "separated by a comma"),
    ({"near": "91,128"}, "query.near", "latitude 91 is outside"),
    ({"near": "36,-181"}, "query.near", "longitude -181 is outside"),
    ({"near": "nan,128"}, "query.near", "latitude"),
    ({"radius_km": 5}, "query.radius_km", "add near=lat,lon"),
    ({"near": "36,128", "radius_km": 0}, "query.radius_km", "greater than 0"),
    ({"near": "36,128", "radius_km": 501}, "query.radius_km", "less than or equal to 500"),
    ({"region_code": "4773"}, "query.region_code", "5-digit"),
    ({"mission_type": "party"}, "query.mission_type", "exploration"),
    ({"status": "secret"}, "query.status", "published"),
    ({"limit": 101}, "query.limit", "less than or equal to 100"),
])
def test_bad_filters_say_what_to_fix(client: TestClient, params: dict[str, object], field: str,
                                     hint: str) -> None:
    error = assert_error(client.get("/missions", params=params), 422, "validation_error")
    assert error["details"][0]["field"] == field
    assert hint in error["details"][0]["message"], error


def test_mission_ids_are_checked(client: TestClient) -> None:
    error = assert_error(client.get("/missions/123"), 422, "validation_error")
    assert error["details"][0]["field"] == "path.mission_id"
    assert_error(client.get(f"/missions/{uuid.uuid4()}"), 404, "not_found")
