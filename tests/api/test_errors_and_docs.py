"""The one error shape for every 4xx, and /docs served from local assets."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.errors import install_error_handlers
from core.settings import get_settings
from tests.api.conftest import assert_error


def test_unknown_route_is_404_in_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.get("/no-such-thing"), 404, "not_found")
    assert "/no-such-thing" in error["message"] and "/docs" in error["message"]


def test_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.delete("/health"), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_validation_errors_name_each_field(client: TestClient) -> None:
    error = assert_error(client.get("/missions", params={"limit": 0, "offset": -1}), 422, "validation_error")
    fields = {d["field"]: d for d in error["details"]}
    assert set(fields) == {"query.limit", "query.offset"}
    assert "greater than or equal to 1" in fields["query.limit"]["message"]
    assert "query.limit" in error["message"] and "Fix the listed fields" in error["message"]


def test_invalid_json_body_is_a_validation_error(client: TestClient) -> None:
    response = client.post("/auth/register", content=b"{not json", headers={"content-type": "application/json"})
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["type"] == "json_invalid"
    assert "not valid JSON" in error["details"][0]["message"]


def test_validation_errors_never_echo_the_password(client: TestClient) -> None:
    secret = "short-pw"
    response = client.post("/auth/register", json={"email": "x@example.kr", "password": secret,
                                                   "display_name": "x", "user_type": "youth"})
    error = assert_error(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["body.password"]
    assert secret not in response.text


def test_openapi_documents_the_error_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    response_422 = spec["paths"]["/missions"]["get"]["responses"]["422"]
    ref = response_422["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ErrorResponse")
    assert "security" not in spec["paths"]["/regions/{code}"]["get"]  # public by design
    assert spec["paths"]["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert spec["paths"]["/me"]["get"]["responses"]["401"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/ErrorResponse")
    assert spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] \
        == "/auth/token"


def test_docs_use_only_local_assets(client: TestClient) -> None:
    html = client.get("/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: '([^']+)'", html)
    assert urls, html
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    assert "validatorUrl" in html  # no online validator badge
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").headers["content-type"].startswith(
        ("application/javascript", "text/javascript"))
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()


def test_unexpected_errors_are_500_in_the_error_shape_without_internals() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as probe:
        response = probe.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in response.text


def test_regions_before_the_warehouse_is_built_is_503(client: TestClient, db_url: str,
                                                      pg: psycopg.Connection,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """On a database where dbt has not run yet, /regions says so instead of failing with a 500."""
    name = f"hometown_nomarts_{uuid.uuid4().hex[:8]}"
    pg.execute(f'create database "{name}"')
    try:
        monkeypatch.setenv("DATABASE_URL", make_url(db_url).set(database=name).render_as_string(False))
        get_settings.cache_clear()
        for path in ("/regions", "/regions/47730"):
            error = assert_error(client.get(path), 503, "indicators_not_built")
            assert "hometown materialize" in error["message"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        pg.execute(f'drop database "{name}" with (force)')
