"""Fan-out of notifications to open WebSockets, across API worker processes, by PostgreSQL LISTEN/NOTIFY.

core.notify writes the row and calls pg_notify in the writer's transaction, so the NOTIFY is delivered
only if that transaction commits, from any process that writes notifications (API workers, the Dagster
sensor). Each API worker runs one listener task (started with its first socket) that forwards each
notification to the sockets of its user in this worker. Redis pub/sub would need every writer to
publish after its commit (a crash between the two loses the message); LISTEN/NOTIFY needs nothing
more than the commit, so it is the fan-out with and without REDIS_URL.

If the listening connection drops, the listener reconnects and re-sends what each connected user's
sockets missed, so nothing is lost in between.

What a socket has not had yet is not simply "a larger id than the last one sent": ids are drawn when a
row is inserted, not when its transaction commits, so one user's notifications can commit out of id
order (a completion's `mission_completed` beside the badge awards of the previous completion, still
being written by the after-commit effect or the Dagster sensor). A cursor on the largest id would skip
the late one for good. So each delivery also looks back over the notifications created in the last
`LOOKBACK` and sends the ones this socket has not had (it remembers their ids): a notification is
missed only if its transaction ran longer than that, where the writers' transactions last
milliseconds (after-commit effects warn at 1 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from starlette.websockets import WebSocket

from api.notifications.schemas import NotificationPublic
from core.db import database_url, libpq_url
from core.notify import CHANNEL

log = logging.getLogger(__name__)
LOOKBACK = timedelta(minutes=10)
FETCH_SQL = ("select id, user_id, kind, title, body, data, created_at, read_at from app.notifications "
             "where user_id = %(user)s and (id > %(since)s or created_at > now() - %(lookback)s) "
             "and id <> all(%(sent)s) order by id limit 200")
KNOWN_SQL = ("select id, created_at from app.notifications where user_id = %(user)s and id <= %(since)s "
             "and created_at > now() - %(lookback)s")


@dataclass
class _Socket:
    """What one socket has had: everything up to `since` when it connected, and each id sent since."""

    since: int
    sent: dict[int, datetime] = field(default_factory=dict)  # id → created_at, within the look-back

    def forget_old(self) -> None:
        cut = datetime.now(UTC) - 2 * LOOKBACK  # twice: a margin for the API's and the database's clocks
        for old in [i for i, at in self.sent.items() if at < cut]:
            del self.sent[old]


class Hub:
    """The sockets of this worker by user, and the one LISTEN task that feeds them."""

    def __init__(self) -> None:
        self.sockets: dict[uuid.UUID, dict[WebSocket, _Socket]] = defaultdict(dict)
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listening = asyncio.Event()
        self._fetch: psycopg.AsyncConnection[Any] | None = None
        self._send_lock: dict[WebSocket, asyncio.Lock] = {}

    async def connect(self, user_id: uuid.UUID, socket: WebSocket, since: int) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop = loop
            self.listening = asyncio.Event()
            self._fetch = None
            self.task = loop.create_task(self._listen(), name="notifications-listen")
        state, lock = _Socket(since), asyncio.Lock()
        async with lock:  # no delivery to it before it knows what it had
            self.sockets[user_id][socket] = state
            self._send_lock[socket] = lock
            await asyncio.wait_for(self.listening.wait(), timeout=10)
            conn = await self._connection()
            async with conn.cursor() as cur:  # had before it connected: not sent again by the look-back
                await cur.execute(KNOWN_SQL, {"user": user_id, "since": since, "lookback": LOOKBACK})
                state.sent.update((row["id"], row["created_at"]) for row in await cur.fetchall())
        await self.deliver(user_id, sockets=[socket])  # what happened while it was offline (since `since`)

    def disconnect(self, user_id: uuid.UUID, socket: WebSocket) -> None:
        self.sockets.get(user_id, {}).pop(socket, None)
        self._send_lock.pop(socket, None)
        if user_id in self.sockets and not self.sockets[user_id]:
            del self.sockets[user_id]

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                url = libpq_url(database_url())
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"listen {CHANNEL}")
                    self.listening.set()
                    delay = 0.5
                    for user_id in list(self.sockets):  # catch up after a reconnect
                        await self.deliver(user_id)
                    async for note in conn.notifies():
                        await self._on_notify(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notification listener lost its connection (%s); reconnecting", exc)
                self._fetch = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _on_notify(self, payload: str) -> None:
        try:
            user_id = uuid.UUID(json.loads(payload)["user_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed notification payload %r", payload[:200])
            return
        if user_id in self.sockets:
            await self.deliver(user_id)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._fetch is None or self._fetch.closed:
            self._fetch = await psycopg.AsyncConnection.connect(libpq_url(database_url()), autocommit=True,
                                                                row_factory=dict_row)
        return self._fetch

    async def deliver(self, user_id: uuid.UUID, sockets: list[WebSocket] | None = None) -> None:
        """Send each of the user's sockets the notifications it has not had (see the module's docstring)."""
        targets = sockets or list(self.sockets.get(user_id, {}))
        for socket in targets:
            lock = self._send_lock.get(socket)
            if lock is None:
                continue
            async with lock:
                state = self.sockets.get(user_id, {}).get(socket)
                if state is None:
                    continue
                conn = await self._connection()
                async with conn.cursor() as cur:
                    await cur.execute(FETCH_SQL, {"user": user_id, "since": state.since, "lookback": LOOKBACK,
                                                  "sent": list(state.sent)})
                    rows = await cur.fetchall()
                for row in rows:
                    if row["id"] in state.sent:
                        continue
                    message = {"type": "notification",
                               "notification": NotificationPublic(**{k: v for k, v in row.items() if k != "user_id"})
                               .model_dump(mode="json")}
                    try:
                        await socket.send_json(message)
                    except Exception:  # the socket closed meanwhile; its handler removes it
                        break
                    state.sent[row["id"]] = row["created_at"]
                    state.since = max(state.since, row["id"])
                state.forget_old()


hub = Hub()
