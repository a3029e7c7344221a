"""Typed Dagster resources. Configured in pipelines/resources.py; tests can swap them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from dagster import ConfigurableResource
from sqlalchemy import Engine

from core.db import database_url, get_engine, libpq_url
from core.settings import Settings, get_settings


class PostgresResource(ConfigurableResource):
    """The platform database. `url` unset: DATABASE_URL, or the embedded server in var/pg."""

    url: str | None = None

    def resolved_url(self) -> str:
        return self.url or database_url()

    def engine(self) -> Engine:
        return get_engine(self.resolved_url())

    @contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A psycopg 3 connection (for COPY and bulk work)."""
        with psycopg.connect(libpq_url(self.resolved_url()), autocommit=autocommit) as conn:
            yield conn


class SettingsResource(ConfigurableResource):
    """The platform settings (paths of the public data, landing folder, var/)."""

    def get(self) -> Settings:
        return get_settings()
