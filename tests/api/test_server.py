"""The API as a real uvicorn process: /health answers, /docs loads every asset from the local server, and a
burst of more requests than the worker has threads is served without stalling."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from core.db import process_env
from core.settings import ROOT
from tests.api.conftest import MakeUser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(db_url: str, test_var_dir: Path, **env: str) -> Iterator[str]:
    port = _free_port()
    env = process_env(db_url) | {"HOMETOWN_VAR_DIR": str(test_var_dir), "HOMETOWN_ENV": "test",
                                 "SECRET_KEY": os.environ["SECRET_KEY"]} | env
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"uvicorn exited: {proc.stdout.read().decode() if proc.stdout else ''}")
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("uvicorn did not answer within 60 s")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


@pytest.fixture()
def server(db_url: str, test_var_dir: Path) -> Iterator[str]:
    with serving(db_url, test_var_dir) as base:
        yield base


def test_uvicorn_serves_health_and_offline_docs(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        health = http.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["database"]["status"] == "ok"

        docs = http.get("/docs")
        assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
        assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css",
                                                          "favicon-32x32.png"}
        for asset in assets:
            assert asset.startswith("/"), f"{asset} would need the internet"
            response = http.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 500, asset
        bundle = http.get("/static/swagger-ui/swagger-ui-bundle.js")
        assert "SwaggerUIBundle" in bundle.text
        openapi_url = re.search(r"url: '([^']+)'", docs.text)
        assert openapi_url is not None
        spec = http.get(openapi_url.group(1)).json()
        assert "/regions/{code}" in spec["paths"] and "/missions" in spec["paths"]


def test_a_burst_larger_than_the_thread_pool_is_served_without_stalling(db_url: str, test_var_dir: Path,
                                                                          make_user: MakeUser) -> None:
    """With 2 threads (and so 6 pooled connections + 12 overflow), 48 authenticated requests at once.

    Before the admission gate (api.deps.admitted) the requests that held every connection waited for a
    thread, and the threads waited for a connection: nothing moved until the pool's 30 s timeout, then 500s.
    """
    account = make_user()
    with serving(db_url, test_var_dir, API_THREADS="2") as base:
        def me(_: int) -> int:
            return httpx.get(f"{base}/me", headers=account.headers, timeout=25).status_code

        with ThreadPoolExecutor(48) as pool:  # a stalled worker answers 500 after 30 s, or times out at 25 s
            statuses = list(pool.map(me, range(48 * 3)))
    assert statuses == [200] * len(statuses)
