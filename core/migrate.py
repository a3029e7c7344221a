"""Apply the Alembic migrations of the app and raw schemas (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMAS = ("app", "raw", "serving", "dagster")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.attributes["database_url"] = url or database_url()
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Every domain is a branch from 0001, so "heads" applies them all."""
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str | None = None) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url or database_url())
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table_schema": "public"}).get_current_heads()
    finally:
        engine.dispose()
