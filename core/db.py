"""The database engine: DATABASE_URL, or the embedded PostgreSQL in var/pg."""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from core import embedded_pg
from core.settings import Settings, get_settings


def database_url(settings: Settings | None = None, *, start_embedded: bool = True) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of the platform database."""
    settings = settings or get_settings()
    if settings.database_url:
        return normalise_url(settings.database_url)
    if start_embedded:
        current = embedded_pg.start(settings.pg_dir, settings.database_name)
    else:
        current = embedded_pg.status(settings.pg_dir)
    return current.url(settings.database_name)


@lru_cache(maxsize=16)
def normalise_url(url: str) -> str:
    """Any postgres URL → the psycopg 3 dialect SQLAlchemy uses here (cached: every request asks)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL without the SQLAlchemy driver suffix, for psycopg/libpq and Dagster."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def libpq_env(url: str) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for dbt and psql (socket directories included)."""
    parts = make_url(url)
    query_host = parts.query.get("host")
    host = query_host if isinstance(query_host, str) else (query_host[0] if query_host else None)
    env = {
        "PGHOST": host or parts.host or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGPASSWORD": parts.password or "",
        "PGDATABASE": parts.database or "postgres",
    }
    return env


PING_AFTER_IDLE_S = 5.0


@lru_cache(maxsize=4)
def _engine_for(url: str, pool_size: int) -> Engine:
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, future=True)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle: `pool_pre_ping`, but only for a
    connection back in the pool for PING_AFTER_IDLE_S or more.

    SQLAlchemy's pre-ping costs a round trip on every checkout, one statement in four of the mission loop's
    requests. A connection returned a moment ago is known to have worked a moment ago; one that sat idle
    (the database may have restarted since) is pinged, and a dead one is replaced before the request uses
    it (DisconnectionError: the pool retries with a new connection). A restart during busy traffic still
    fails the requests in flight, as it would with pre-ping, and the pool is then renewed.
    """

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_S:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            raise exc.DisconnectionError(f"a pooled connection idle for {time.monotonic() - returned:.0f} s "
                                         f"no longer answers ({err}); replacing it") from err


_pool_size = 5


def set_pool_size(size: int) -> None:
    """The connections this process keeps (before its first `get_engine`): the API sizes it to its threads,
    so that no request waits for a connection or opens one of its own."""
    global _pool_size
    _pool_size = size


def get_engine(url: str | None = None, pool_size: int | None = None) -> Engine:
    """One pooled engine per URL and process."""
    return _engine_for(url or database_url(), pool_size or _pool_size)


def process_env(url: str) -> dict[str, str]:
    """Environment that child processes (API, Dagster, dbt) need to reach the same database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env.update(libpq_env(url))
    return env


@dataclass(frozen=True)
class Statement:
    """One SQL statement with psycopg-style (`%(name)s`) parameters, run by whichever driver holds the
    transaction: `conn.exec_driver_sql` on SQLAlchemy, or bound and sent with others in one query
    (api/attempts/writer.py). A unit of work can then describe its reads and writes once and have them
    sent in as few round trips as they allow."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fetch: Literal["one", "all", "none"] = "none"  # what the driver hands back for it

    def run(self, conn: Connection) -> Any:
        """Run on a SQLAlchemy connection (in its transaction); the row, the rows (as mappings) or None."""
        result = conn.exec_driver_sql(self.sql, dict(self.params))
        if self.fetch == "one":
            return result.mappings().fetchone()
        if self.fetch == "all":
            return result.mappings().fetchall()
        return None


def sql_literal(value: Any, fallback: Callable[[Any], str]) -> str:
    """`value` as the SQL literal psycopg's client-side binding writes (ClientCursor.mogrify), for the
    types the mission loop binds by the dozen per request; anything else (and a string with a backslash
    or a NUL) is `fallback(value)`, i.e. psycopg itself. Exact types only: an enum is psycopg's to dump.
    tests/core/test_db.py holds it to mogrify's output. Several times cheaper than mogrify, which parses
    its query template and looks up a dumper per value on every call."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is str:
        return fallback(value) if "\\" in value or "\x00" in value else "'" + value.replace("'", "''") + "'"
    if kind is uuid.UUID:
        return f"'{value.hex}'::uuid"
    if kind is bool:
        return "true" if value else "false"
    if kind is int or (kind is float and math.isfinite(value)):
        text = str(value)
        return " " + text if text[0] == "-" else text  # psycopg's space: "- -1" must not become a comment
    if kind is datetime:
        return f"'{value}'::timestamptz" if value.tzinfo is not None else f"'{value}'::timestamp"
    return fallback(value)


# ---------------------------------------------------------------------------------- the async pool
_returned_at: dict[int, float] = {}  # id(connection) → when it came back to the async pool


async def _note_return(conn: Any) -> None:
    _returned_at[id(conn)] = time.monotonic()


async def _check_if_idle(conn: Any) -> None:
    """The async pool's counterpart of `_ping_idle_connections`: a connection that sat idle for
    PING_AFTER_IDLE_S or more is pinged (raising replaces it); one returned a moment ago is not."""
    returned = _returned_at.pop(id(conn), None)
    if returned is not None and time.monotonic() - returned >= PING_AFTER_IDLE_S:
        await conn.execute("select 1")


def async_pool(size: int, url: str | None = None) -> Any:
    """An async psycopg pool of `size` connections for the API's batched units (api/attempts/writer.py).

    Autocommit: the units send BEGIN with their first query and COMMIT with their last, no round trip of
    their own. Rows as tuples: the writer names the columns of the few results it fetches, while a row
    factory is made for every result of a query (a dict factory decoded every column name each time).
    psycopg's own statement preparation is off (`prepare_threshold=None`): the writer prepares each
    statement itself, and psycopg would count every query, each one a new text, in its cache.
    The caller opens it (`await pool.open()`) in its event loop and closes it."""
    from psycopg.rows import tuple_row
    from psycopg_pool import AsyncConnectionPool

    return AsyncConnectionPool(libpq_url(url or database_url()), min_size=min(2, size), max_size=size,
                               kwargs={"row_factory": tuple_row, "autocommit": True, "prepare_threshold": None},
                               check=_check_if_idle, reset=_note_return, open=False, name="api-units")
