"""/regions against the real mart built by dbt from the real public data (fixture `marts_built`)."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from core.vocab import extinction_risk_class
from tests.api.conftest import assert_error

pytestmark = pytest.mark.usefixtures("marts_built")

WOMEN_20_39 = ("20-24", "25-29", "30-34", "35-39")
AGE_65_PLUS = ("65-69", "70-74", "75-79", "80-84", "85-89", "90-94", "95-99", "100+")


def _raw_indicators(pg: psycopg.Connection, code: str) -> dict[str, int]:
    """The latest year's figures summed straight from raw.region_population, independent of dbt."""
    row = pg.execute("""
        with latest as (select max(year) as year from raw.region_population where region_code = %(code)s)
        select p.year,
               sum(population) filter (where sex = 'total' and age_band = 'total'),
               sum(population) filter (where sex = 'male' and age_band = 'total'),
               sum(population) filter (where sex = 'female' and age_band = 'total'),
               sum(population) filter (where sex = 'female' and age_band = any(%(women)s)),
               sum(population) filter (where sex = 'total' and age_band = any(%(old)s))
        from raw.region_population p join latest using (year)
        where p.region_code = %(code)s
        group by p.year""", {"code": code, "women": list(WOMEN_20_39), "old": list(AGE_65_PLUS)}).fetchone()
    assert row is not None
    keys = ("year", "total", "male", "female", "women_20_39", "people_65_plus")
    return dict(zip(keys, map(int, row), strict=True))


@pytest.mark.parametrize("code", ["47900", "47730", "11680"])  # 예천군, 의성군, 강남구
def test_region_has_its_real_population_and_risk_index(client: TestClient, pg: psycopg.Connection,
                                                       code: str) -> None:
    response = client.get(f"/regions/{code}")
    assert response.status_code == 200, response.text
    region = response.json()
    raw = _raw_indicators(pg, code)
    population = region["population"]
    assert {k: population[k] for k in raw} == raw
    index = raw["women_20_39"] / raw["people_65_plus"]
    assert region["extinction_risk"]["index"] == pytest.approx(index, abs=0.0005)
    key, label = extinction_risk_class(round(index, 3))
    assert (region["extinction_risk"]["risk_class"], region["extinction_risk"]["label_ko"]) == (key, label)
    name = pg.execute("select full_name from raw.regions where region_code = %s", (code,)).fetchone()
    assert name is not None and region["full_name"] == name[0]
    decline = pg.execute("select category from raw.decline_areas where region_code = %s", (code,)).fetchone()
    assert region["is_decline_area"] == (decline is not None and decline[0] == "decline")


def test_known_regions_read_as_expected(client: TestClient) -> None:
    """예천군 grows with the provincial government's new town; 의성군 is the textbook declining county."""
    yecheon, uiseong = client.get("/regions/47900").json(), client.get("/regions/47730").json()
    assert yecheon["full_name"] == "경상북도 예천군" and yecheon["is_decline_area"] is False
    assert 40_000 < yecheon["population"]["total"] < 70_000
    assert uiseong["is_decline_area"] is True
    assert uiseong["extinction_risk"]["risk_class"] == "high_risk"  # 소멸고위험: index below 0.2
    assert uiseong["extinction_risk"]["rank"] <= 5
    assert uiseong["population"]["change_pct"] < 0


def test_region_codes_are_checked(client: TestClient) -> None:
    error = assert_error(client.get("/regions/4790"), 422, "validation_error")
    assert error["details"][0]["field"] == "path.code" and "5-digit" in error["details"][0]["message"]
    error = assert_error(client.get("/regions/99999"), 404, "not_found")
    assert "99999" in error["message"] and "/regions" in error["message"]


def test_list_counts_every_region_and_the_decline_areas(client: TestClient, pg: psycopg.Connection) -> None:
    regions_count = pg.execute("select count(*) from raw.regions").fetchone()
    decline_count = pg.execute("select count(*) from raw.decline_areas where category = 'decline'").fetchone()
    assert client.get("/regions").json()["total"] == regions_count[0]  # type: ignore[index]
    declining = client.get("/regions", params={"decline_only": True, "limit": 100}).json()
    assert declining["total"] == decline_count[0] == 89  # type: ignore[index]
    assert all(r["is_decline_area"] for r in declining["items"])


def test_sort_by_risk_puts_the_highest_risk_first(client: TestClient) -> None:
    page = client.get("/regions", params={"sort": "risk", "limit": 100}).json()["items"]
    ranks = [r["extinction_risk"]["rank"] for r in page]
    indices = [r["extinction_risk"]["index"] for r in page]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert indices == sorted(indices)


def test_filters_by_sido_code_or_name(client: TestClient) -> None:
    by_code = client.get("/regions", params={"sido": "47", "limit": 100}).json()
    by_name = client.get("/regions", params={"sido": "경상북도", "limit": 100}).json()
    assert by_code == by_name and by_code["total"] > 20
    assert {r["sido_code"] for r in by_code["items"]} == {"47"}
    seoul_declining = client.get("/regions", params={"sido": "11", "decline_only": True})
    assert seoul_declining.status_code == 200 and seoul_declining.json()["total"] == 0
    error = assert_error(client.get("/regions", params={"sido": "99"}), 422, "validation_error")
    assert error["details"][0]["field"] == "query.sido" and "47 경상북도" in error["details"][0]["message"]


def test_risk_class_filter_and_pagination(client: TestClient) -> None:
    high = client.get("/regions", params={"risk_class": "high_risk", "limit": 100}).json()
    assert high["total"] > 0 and {r["extinction_risk"]["risk_class"] for r in high["items"]} == {"high_risk"}
    first = client.get("/regions", params={"limit": 10}).json()
    second = client.get("/regions", params={"limit": 10, "offset": 10}).json()
    codes = [r["code"] for r in first["items"] + second["items"]]
    assert len(set(codes)) == 20 and codes == sorted(codes)
    error = assert_error(client.get("/regions", params={"risk_class": "doomed"}), 422, "validation_error")
    assert "high_risk" in error["details"][0]["message"]
