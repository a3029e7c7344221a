"""The dbt CLI resource, pointed at the platform database through the libpq environment."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject

from core.db import database_url, libpq_env
from pipelines.dbt_project import dbt_executable as default_dbt_executable

_ENV_LOCK = threading.Lock()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class WarehouseDbtResource(DbtCliResource):
    """`DbtCliResource` whose dbt runs against `database_url` (unset: DATABASE_URL or the embedded
    server). dbt's profile reads PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE; they are set from the
    URL only while the dbt process starts (and its adapter is created), so one Dagster process can
    hold resources for several databases, as the tests do."""

    database_url: str | None = None

    def __init__(self, project_dir: str | Path | DbtProject, database_url: str | None = None,
                 dbt_executable: str | Path | None = None, **kwargs: Any) -> None:
        # dbt_executable: the venv's dbt even when the venv is not on PATH (`hometown` children).
        super().__init__(project_dir=project_dir, database_url=database_url,
                         dbt_executable=dbt_executable or default_dbt_executable(), **kwargs)

    def dbt_env(self) -> dict[str, str]:
        return {**libpq_env(self.database_url or database_url()), "DO_NOT_TRACK": "1"}

    def cli(self, args: Sequence[str], *, indirect_selection: str | None = None, **kwargs: Any) -> DbtCliInvocation:
        """`dbt <args>`; `indirect_selection` sets DBT_INDIRECT_SELECTION unless dagster-dbt sets its own."""
        env = self.dbt_env() | ({"DBT_INDIRECT_SELECTION": indirect_selection} if indirect_selection else {})
        with _environment(env):
            return super().cli(args, **kwargs)
