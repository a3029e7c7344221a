import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.db import libpq_url, sql_literal
from core.migrate import alembic_config, current_heads
from core.vocab import StepVerification


def test_migrations_create_schemas_and_tables(engine, db_url):
    with engine.connect() as conn:
        schemas = set(conn.execute(text("select nspname from pg_namespace")).scalars())
        tables = set(conn.execute(text(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('app', 'raw')")).scalars())
    assert {"app", "raw", "serving", "dagster"} <= schemas
    assert {"app.users", "app.missions", "app.mission_steps", "raw.activity_events", "raw.quarantine",
            "raw.ingested_files", "raw.regions", "raw.region_population"} <= tables
    script_heads = set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
    assert set(current_heads(db_url)) == script_heads  # every domain branch is applied


def test_server_is_postgres_16_or_the_configured_one(engine):
    with engine.connect() as conn:
        version = int(conn.execute(text("show server_version_num")).scalar())
    assert version >= 150000


def test_migrations_match_the_table_definitions(engine):
    """Every table module's definitions equal what the migrations built: a forgotten migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from core.tables_all import metadata

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, type_, parent: type_ != "schema" or name in ("app", "raw", "serving")})
        assert compare_metadata(context, metadata) == []


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(db_url, engine, monkeypatch):
    """The pool pings a connection that sat idle (the server may have restarted) and replaces a dead one,
    so the request that checks it out never sees the error; a connection used a moment ago is not pinged."""
    import time

    from core import db

    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.3)
    pooled = db._engine_for(db.normalise_url(db_url), 1)
    try:
        with pooled.connect() as conn:
            pid = conn.execute(text("select pg_backend_pid()")).scalar()
        with engine.begin() as other:
            assert other.execute(text("select pg_terminate_backend(:p)"), {"p": pid}).scalar()
        time.sleep(0.5)
        with pooled.connect() as conn:  # idle past the threshold: pinged, found dead, replaced
            fresh = conn.execute(text("select pg_backend_pid()")).scalar()
        assert fresh != pid
        with pooled.connect() as conn:  # used a moment ago: reused as it is
            assert conn.execute(text("select pg_backend_pid()")).scalar() == fresh
    finally:
        pooled.dispose()


# sql_literal: the mission loop's own client-side binding must write what psycopg's ClientCursor writes
_KST = timezone(timedelta(hours=9))
LITERALS = [None, True, False, 0, 5, -5, 2**40, -(2**63), 1.5, -0.25, -0.0, 1e-300, 1e300, float("nan"),
            float("inf"), "", "abc", "it's", "''", "한글 미션", "back\\slash", "50%", "%(a)s", "--", "/* x */",
            uuid.UUID("0195a3f2-1c2b-7d3e-8f4a-5b6c7d8e9f00"), datetime(2026, 12, 6, 3, 4, 5, 123456, tzinfo=UTC),
            datetime(2026, 12, 6, 12, 0, tzinfo=_KST), datetime(2026, 1, 1, 3, 4, 5), date(2026, 1, 2),
            Decimal("1.50"), StepVerification.CHECKIN, [1, 2]]


def test_sql_literal_writes_what_psycopg_writes(db_url):
    with psycopg.connect(libpq_url(db_url)) as conn:
        cursor = psycopg.ClientCursor(conn)
        fell_back: list[object] = []

        def fallback(value: object) -> str:
            fell_back.append(value)
            return cursor.mogrify("%s", [value])

        for value in LITERALS:
            assert sql_literal(value, fallback) == cursor.mogrify("%s", [value]), value
        # the types the loop binds most are written here, not by psycopg
        assert not {type(v) for v in fell_back} & {type(None), bool, int, uuid.UUID, datetime}
        assert "back\\slash" in fell_back and "abc" not in fell_back
        with pytest.raises(psycopg.DataError):  # a NUL is psycopg's to refuse, as before
            sql_literal("a\x00b", fallback)


def test_sql_literals_come_back_as_the_values(db_url):
    with psycopg.connect(libpq_url(db_url)) as conn:
        for value in LITERALS:
            if isinstance(value, float) and value != value:
                continue  # NaN is not equal to itself
            back = conn.execute(f"select {sql_literal(value, lambda v: psycopg.ClientCursor(conn).mogrify('%s', [v]))}"
                                ).fetchone()[0]
            expected = value.value if isinstance(value, StepVerification) else value
            if isinstance(value, float):
                back = float(back)  # a bare literal with an exponent reads as numeric; a parameter casts it
            assert back == expected, (value, back)
