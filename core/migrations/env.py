from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from core.tables_all import metadata  # every domain's tables, so autogenerate sees them all

SCHEMAS = ("app", "raw", "serving", "dagster")


def run_migrations_online() -> None:
    url = context.config.attributes["database_url"]
    engine = create_engine(url)
    with engine.begin() as conn:
        # one migration at a time, even when the API and Dagster start together
        conn.execute(text("select pg_advisory_xact_lock(7441001)"))
        for schema in SCHEMAS:
            conn.execute(text(f"create schema if not exists {schema}"))
        context.configure(connection=conn, target_metadata=metadata, include_schemas=True,
                          version_table_schema="public", compare_type=True,
                          include_name=lambda name, type_, parent: type_ != "schema" or name in SCHEMAS)
        context.run_migrations()
    engine.dispose()


run_migrations_online()
