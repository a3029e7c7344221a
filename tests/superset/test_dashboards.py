"""Superset end to end: install, bootstrap twice, serve on loopback, render every dashboard in Chromium.

Slow (Superset's own virtual environment, its metadata migrations, a browser), still run in CI. Needs
Debian's chromium and chromium-driver (and fonts-noto-cjk for readable Korean screenshots). Screenshots
go to $SUPERSET_SCREENSHOT_DIR (default /tmp/superset-screens), never into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.db import libpq_url
from core.demo.population import DEMO_PASSWORD
from tests.fixtures.warehouse import run_dbt

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "superset" / "run.sh"
BUNDLE = ROOT / "superset" / "bundle"
SCREENS = Path(os.environ.get("SUPERSET_SCREENSHOT_DIR", "/tmp/superset-screens"))
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@dataclass(frozen=True)
class Superset:
    url: str
    admin: tuple[str, str]
    bootstraps: list[dict[str, Any]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo_extras_marts(marts_built: object, engine: Engine, db_url: str,
                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo extras as `make up` makes them (the community with mentoring and moderation, skill
    certifications with reviews, credentials and need engagements, recommendation lists inside the demo's
    history with one evaluation run) and the marts built on them."""
    from core.demo.extras import seed_extras

    seed_extras(engine, seed=20261125, force=True)
    run = run_dbt(db_url, ["run", "--select", "+path:models/marts/community", "+path:models/marts/certify",
                                    "+path:models/marts/recommend", "path:models/marts/bi"],
                  tmp_path_factory.mktemp("superset_dbt"))
    assert run.returncode == 0, run.output[-4000:]


@pytest.fixture(scope="module")
def superset(demo_extras_marts: None, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    url = make_url(db_url)
    env = {**os.environ, "HOMETOWN_WAREHOUSE_URL": db_url, "HOMETOWN_ENV": "test",
           "SUPERSET_METADATA_URL": url.set(drivername="postgresql+psycopg2",
                                            database=f"superset_{url.database}").render_as_string(hide_password=False),
           "SUPERSET_VAR_DIR": str(tmp_path_factory.mktemp("superset_var")),
           "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32), "SUPERSET_ADMIN_USER": "admin",
           "SUPERSET_ADMIN_PASSWORD": secrets.token_urlsafe(12), "SUPERSET_PORT": str(_free_port()),
           "SUPERSET_WORKERS": "2"}
    subprocess.run([str(RUN), "install"], env=env, check=True, timeout=900)
    bootstraps = []
    for _ in range(2):
        done = subprocess.run([str(RUN), "bootstrap"], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-6000:]
        bootstraps.append(json.loads(done.stdout.strip().splitlines()[-1]))
    log = (Path(env["SUPERSET_VAR_DIR"]) / "gunicorn.log").open("w")
    server = subprocess.Popen([str(RUN), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{env['SUPERSET_PORT']}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "Superset did not start (gunicorn.log)"
            time.sleep(2)
        yield Superset(base, (env["SUPERSET_ADMIN_USER"], env["SUPERSET_ADMIN_PASSWORD"]), bootstraps)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
        with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
            conn.execute(f'drop database if exists "superset_{url.database}" with (force)')


def api_token(base: str, username: str, password: str) -> str:
    """Log in through Superset's own API (the path apps and scripts use)."""
    response = httpx.post(f"{base}/api/v1/security/login", timeout=60,
                          json={"username": username, "password": password, "provider": "db", "refresh": False})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def chart_data(base: str, token: str, dataset_id: int, columns: list[str], metrics: list[str]) -> list[dict]:
    payload = {"datasource": {"id": dataset_id, "type": "table"}, "force": True, "result_format": "json",
               "result_type": "full",
               "queries": [{"columns": columns, "metrics": metrics, "row_limit": 10_000, "orderby": []}]}
    response = httpx.post(f"{base}/api/v1/chart/data", json=payload, timeout=120,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return list(response.json()["result"][0]["data"])


def dataset_id(base: str, token: str, table: str) -> int:
    query = json.dumps({"filters": [{"col": "table_name", "opr": "eq", "value": table}]})
    response = httpx.get(f"{base}/api/v1/dataset/", params={"q": query}, timeout=60,
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return int(response.json()["result"][0]["id"])


def test_bootstrap_twice_changes_nothing(superset: Superset) -> None:
    first, second = superset.bootstraps
    assert first["changed"] > 0 and any(i.startswith("bundle") for i in first["items"])
    assert second == {"changed": 0, "items": []}


def test_no_public_access(superset: Superset) -> None:
    assert httpx.get(f"{superset.url}/api/v1/dashboard/", timeout=30).status_code == 401
    page = httpx.get(f"{superset.url}/superset/dashboard/policy-overview/", timeout=30, follow_redirects=False)
    assert page.status_code in {302, 401} and "login" in page.headers.get("location", "/login")


def test_officer_sees_only_their_region(superset: Superset, pg: psycopg.Connection) -> None:
    """A municipality officer logs in with the platform password; row-level security keeps only their 시군구."""
    email, region, expected = pg.execute("""
        select u.email, u.managed_region_code, count(*)
        from app.users as u join marts.fct_mission_attempts as a on a.region_code = u.managed_region_code
        where 'municipality_officer' = any(u.roles)
        group by 1, 2 order by 3 desc limit 1""").fetchone()
    admin = api_token(superset.url, *superset.admin)
    attempts = dataset_id(superset.url, admin, "fct_mission_attempts")
    everyone = chart_data(superset.url, admin, attempts, ["region_code"], ["attempts"])
    assert len({row["region_code"] for row in everyone}) > 10

    officer = api_token(superset.url, email, DEMO_PASSWORD)
    rows = chart_data(superset.url, officer, attempts, ["region_code"], ["attempts"])
    assert rows == [{"region_code": region, "attempts": expected}]
    overview = dataset_id(superset.url, admin, "mart_region_overview")
    assert {r["region_code"] for r in chart_data(superset.url, officer, overview, ["region_code"], [])} == {region}

    with pytest.raises(AssertionError):  # wrong password: the platform's hash decides
        api_token(superset.url, email, DEMO_PASSWORD + "x")
    submissions = dataset_id(superset.url, admin, "fct_certification_submissions")
    response = httpx.post(f"{superset.url}/api/v1/chart/data", timeout=60,
                          headers={"Authorization": f"Bearer {officer}"},
                          json={"datasource": {"id": submissions, "type": "table"},
                                "queries": [{"columns": ["skill"], "metrics": ["submissions"]}]})
    assert response.status_code == 403  # datasets without region_code are not the officer's
    # and so are the dashboards that mix them in: officers are offered only the all-regional ones
    listed = httpx.get(f"{superset.url}/api/v1/dashboard/", timeout=60, headers={"Authorization": f"Bearer {officer}"},
                       params={"q": "(page_size:100)"})
    assert listed.status_code == 200, listed.text
    assert {d["slug"] for d in listed.json()["result"]} == {"policy-overview", "region-detail"}
    policy = api_token(superset.url, "policy@demo.hometown-on.kr", DEMO_PASSWORD)
    everything = httpx.get(f"{superset.url}/api/v1/dashboard/", timeout=60, params={"q": "(page_size:100)"},
                           headers={"Authorization": f"Bearer {policy}"})
    assert len(everything.json()["result"]) == 5


def _browser(tag: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,2400",
                     "--enable-unsafe-swiftshader", f"--user-data-dir=/tmp/superset-chrome-{tag}-{os.getpid()}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER or ""), options=options)


def _chart_responses(driver: Any) -> list[tuple[str, int, Any]]:
    """(url, status, JSON body) of every chart-data response the page received since the last call."""
    found: dict[str, tuple[str, int]] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            if "/api/v1/chart/data" in response["url"] or "/superset/explore_json" in response["url"]:
                found[message["params"]["requestId"]] = (response["url"], response["status"])
    bodies = []
    for request_id, (url, status) in found.items():
        body = driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})["body"]
        bodies.append((url, status, json.loads(body)))
    return bodies


def _rows(body: Any) -> int:
    if "result" in body:  # /api/v1/chart/data
        return min(int(result.get("rowcount") or len(result.get("data") or [])) for result in body["result"])
    data = body.get("data")  # legacy deck.gl endpoint
    return len(data.get("features", [])) if isinstance(data, dict) else len(data or [])


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="apt-get install chromium chromium-driver")
def test_every_dashboard_renders_every_chart_with_data(superset: Superset) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    dashboards = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((BUNDLE / "dashboards").glob("*.yaml"))]
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver = _browser("policy")
    try:
        driver.get(f"{superset.url}/login/")  # the policy officer, with the platform password
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "username"))
        driver.find_element(By.ID, "username").send_keys("policy@demo.hometown-on.kr")
        driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(DEMO_PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)
        _chart_responses(driver)
        for dashboard in dashboards:
            placed = [v["meta"] for v in dashboard["position"].values()
                      if isinstance(v, dict) and v.get("type") == "CHART"]
            driver.get(f"{superset.url}/superset/dashboard/{dashboard['slug']}/")
            responses: list[tuple[str, int, Any]] = []

            def settled(d: Any, expected: int = len(placed), seen: list = responses) -> bool:
                seen.extend(_chart_responses(d))
                spinning = d.find_elements(By.CSS_SELECTOR, "[data-test=loading-indicator], .loading")
                return len(seen) >= expected and not spinning

            WebDriverWait(driver, 120, poll_frequency=2).until(settled)
            time.sleep(3)  # let the last charts paint before the screenshot
            driver.save_screenshot(str(SCREENS / f"{dashboard['slug']}.png"))
            title = dashboard["dashboard_title"]
            containers = driver.find_elements(By.CSS_SELECTOR, "[data-test=chart-container], .chart-container")
            errors = [e.text for e in driver.find_elements(
                By.CSS_SELECTOR, ".alert-danger, [data-test=error-message], .ant-alert-error")]
            assert len(containers) >= len(placed), f"{title}: {len(containers)} of {len(placed)} charts drawn"
            assert not errors, f"{title}: chart errors {errors}"
            failed = [(url, status) for url, status, _ in responses if status != 200]
            assert not failed, f"{title}: chart queries failed {failed}"
            empty = sum(1 for _, _, body in responses if _rows(body) == 0)
            assert empty == 0, f"{title}: {empty} charts returned no rows"
    finally:
        driver.quit()
