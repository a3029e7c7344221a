"""/health reports the real database and storage, and says 503 when either fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.migrate import current_heads
from core.settings import get_settings
from core.storage import get_storage


@pytest.fixture()
def fresh_settings() -> Iterator[None]:
    """Settings and storage re-read from the environment that the test changes (monkeypatch restores it)."""
    get_settings.cache_clear()
    get_storage.cache_clear()
    yield
    get_settings.cache_clear()
    get_storage.cache_clear()


def test_health_ok_on_the_session_database(client: TestClient, db_url: str, test_var_dir: Path) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    # without REDIS_URL ranks come from PostgreSQL: degraded (with the reason), still 200
    assert body["status"] == ("ok" if body["ranking"]["status"] == "ok" else "degraded")
    assert body["database"]["status"] == "ok"
    assert body["database"]["server_version"].startswith("16")
    assert body["database"]["schema_heads"] == sorted(current_heads(db_url)) != []
    assert body["storage"] == {"status": "ok", "kind": "local", "error": None}
    assert (test_var_dir / "storage").is_dir()  # the probe wrote into the configured storage folder


def test_health_degraded_when_storage_is_not_writable(client: TestClient, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       fresh_settings: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("storage cannot be a folder under a file")
    monkeypatch.setenv("STORAGE_URL", str(blocker / "storage"))
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["storage"]["status"] == "error" and body["database"]["status"] == "ok"
    assert str(tmp_path) not in response.text  # paths stay in the log


def test_health_degraded_when_the_database_is_unreachable(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                           fresh_settings: None) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/nothing")
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["status"] == "error" and body["database"]["error"] == "OperationalError"
    assert "secret" not in response.text and "127.0.0.1" not in response.text
