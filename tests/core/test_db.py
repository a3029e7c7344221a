from sqlalchemy import text

from core.migrate import current_revision


def test_migrations_create_schemas_and_tables(engine, db_url):
    with engine.connect() as conn:
        schemas = set(conn.execute(text("select nspname from pg_namespace")).scalars())
        tables = set(conn.execute(text(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('app', 'raw')")).scalars())
    assert {"app", "raw", "serving", "dagster"} <= schemas
    assert {"app.users", "app.missions", "app.mission_steps", "raw.activity_events", "raw.quarantine",
            "raw.ingested_files", "raw.regions", "raw.region_population"} <= tables
    assert current_revision(db_url) is not None


def test_server_is_postgres_16_or_the_configured_one(engine):
    with engine.connect() as conn:
        version = int(conn.execute(text("show server_version_num")).scalar())
    assert version >= 150000
