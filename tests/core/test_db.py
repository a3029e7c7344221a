from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.migrate import alembic_config, current_heads


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
