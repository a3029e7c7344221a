"""Notifications: the REST list with read/unread, the WebSocket (JWT in the query or the first message, clear
close codes), push of a completion as it commits, and fan-out across two uvicorn worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from api.security import create_access_token
from core.db import process_env
from core.notify import notify
from core.settings import ROOT
from tests.api.conftest import MakeUser, assert_error
from tests.api.loop_support import _free_port, make_mission

pytestmark = pytest.mark.usefixtures("regions_loaded")


def test_rest_list_read_and_unread(client: TestClient, engine: Engine, make_user: MakeUser) -> None:
    user, other = make_user(), make_user()
    with engine.begin() as conn:
        ids = [notify(conn, user.id, "badge_awarded", f"배지 {i}", "", {"badge": f"b{i}"}) for i in range(3)]
        foreign = notify(conn, other.id, "badge_awarded", "남의 배지")
    page = client.get("/me/notifications", headers=user.headers).json()
    assert [n["id"] for n in page["items"]] == ids[::-1] and page["unread_count"] == 3
    read = client.post(f"/me/notifications/{ids[0]}/read", headers=user.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = client.get("/me/notifications", headers=user.headers, params={"unread_only": True}).json()
    assert [n["id"] for n in unread["items"]] == ids[:0:-1] and unread["unread_count"] == 2
    assert_error(client.post(f"/me/notifications/{foreign}/read", headers=user.headers), 404, "not_found")
    assert client.post("/me/notifications/read-all", headers=user.headers).json() == {"marked": 2}
    assert client.get("/me/notifications", headers=user.headers).json()["unread_count"] == 0
    assert client.get("/me/notifications", headers=other.headers).json()["unread_count"] == 1


def test_websocket_pushes_a_completion_and_replays_since(client: TestClient, engine: Engine,
                                                         make_user: MakeUser) -> None:
    user = make_user()
    token = user.headers["Authorization"].split()[1]
    mission = make_mission(engine, ["none"])
    with client.websocket_connect(f"/notifications/ws?token={token}") as socket:
        ready = socket.receive_json()
        assert ready["type"] == "ready" and ready["unread_count"] == 0
        attempt = client.post(f"/missions/{mission.id}/attempts", headers=user.headers).json()["id"]
        client.post(f"/me/attempts/{attempt}/steps/1/complete", headers=user.headers).raise_for_status()
        client.post(f"/me/attempts/{attempt}/complete", headers=user.headers).raise_for_status()
        pushed = socket.receive_json()
        assert pushed["type"] == "notification"
        assert pushed["notification"]["kind"] == "mission_completed"
        assert pushed["notification"]["data"]["attempt_id"] == attempt
        socket.send_json({"type": "ping"})
        while (message := socket.receive_json())["type"] != "pong":  # rank notifications may come first
            assert message["type"] == "notification"
    # offline since `since`: the same notification again, first-message authentication
    with client.websocket_connect(f"/notifications/ws?since={pushed['notification']['id'] - 1}") as socket:
        socket.send_json({"type": "auth", "token": token})
        assert socket.receive_json()["type"] == "ready"
        assert socket.receive_json()["notification"]["id"] == pushed["notification"]["id"]


def _drain(socket: object, seconds: float, want: int) -> list[int]:
    """Notification ids pushed to `socket` until `want` arrives or `seconds` pass (a ping closes each look)."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while True:
        socket.send_json({"type": "ping"})  # type: ignore[attr-defined]
        while (message := socket.receive_json())["type"] != "pong":  # type: ignore[attr-defined]
            seen.append(message["notification"]["id"])
        if want in seen or time.monotonic() >= deadline:
            return seen
        time.sleep(0.05)


def test_a_notification_that_commits_after_a_newer_one_still_arrives(client: TestClient, engine: Engine,
                                                                     make_user: MakeUser) -> None:
    """Ids are drawn at insert, not at commit: a badge award still being written when the next completion
    commits has the smaller id, and a socket that only asked for ids above the last one sent lost it."""
    user = make_user()
    token = user.headers["Authorization"].split()[1]
    with client.websocket_connect(f"/notifications/ws?token={token}") as socket:
        assert socket.receive_json()["type"] == "ready"
        assert _drain(socket, 0, -1) == []  # connected to the hub
        with engine.connect() as slow:
            older = notify(slow, user.id, "badge_awarded", "배지 획득: 늦게 커밋됨")
            with engine.begin() as fast:
                newer = notify(fast, user.id, "mission_completed", "미션 완료: 먼저 커밋됨")
            assert older is not None and newer is not None and older < newer
            assert _drain(socket, 10, newer) == [newer]
            slow.commit()
        assert _drain(socket, 10, older) == [older]
        assert _drain(socket, 0.3, -1) == []  # each once


def test_websocket_refuses_bad_tokens_with_a_clear_close_code(client: TestClient, make_user: MakeUser) -> None:
    disabled = make_user(is_active=False)
    for url, code, words in (
        ("/notifications/ws?token=garbage", 4401, "invalid_token"),
        (f"/notifications/ws?token={create_access_token(uuid.uuid4()).token}", 4401, "no longer exists"),
        (f"/notifications/ws?token={disabled.headers['Authorization'].split()[1]}", 4403, "disabled"),
    ):
        with client.websocket_connect(url) as socket, pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == code and words in closed.value.reason
    with client.websocket_connect("/notifications/ws") as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.send_json({"type": "hello"})
        socket.receive_json()
    assert closed.value.code == 4401 and "not_authenticated" in closed.value.reason


@pytest.fixture()
def two_workers(db_url: str, test_var_dir: Path) -> Iterator[str]:
    """The API as `uvicorn --workers 2` on a free port."""
    port = _free_port()
    env = process_env(db_url) | {"HOMETOWN_VAR_DIR": str(test_var_dir), "HOMETOWN_ENV": "test",
                                 "SECRET_KEY": os.environ["SECRET_KEY"]}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # importing the whole API takes long on a busy two-core machine
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("uvicorn did not answer within 300 s")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_fan_out_reaches_sockets_on_both_workers(two_workers: str, engine: Engine, make_user: MakeUser) -> None:
    user = make_user()
    token = user.headers["Authorization"].split()[1]
    sockets, workers = [], set()
    try:
        # connect until both workers hold a socket of the user: /health answered from the first worker that
        # was up, and the second may still be importing the API (seconds, on a busy two-core machine)
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline:
            socket = connect(f"ws://{two_workers}/notifications/ws?token={token}", open_timeout=10)
            ready = json.loads(socket.recv(timeout=10))
            assert ready["type"] == "ready"
            if ready["worker"] in workers:
                socket.close()
                time.sleep(0.2)
                continue
            sockets.append(socket)
            workers.add(ready["worker"])
        assert len(workers) == 2, "every connection within 120 s went to one worker"
        with engine.begin() as conn:  # written by another process (here: the test), as the Dagster sensor does
            note_id = notify(conn, user.id, "badge_awarded", "첫 체크인 배지", "", {"badge": "first_checkin"})
        for socket in sockets:
            message = json.loads(socket.recv(timeout=10))
            assert message["notification"]["id"] == note_id
    finally:
        for socket in sockets:
            socket.close()
