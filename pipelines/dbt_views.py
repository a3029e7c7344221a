"""The views a partial dbt build can take away, and putting them back.

dbt-postgres replaces a view by renaming the old one away and dropping it with CASCADE, which also
drops every view built on it. A build of a subset (picked in the Dagster UI, the loop's frequent
job, a test) therefore leaves the unselected dependants missing. The views (staging and
intermediate models, cheap to create) present before such a build are recreated after it when gone.
"""

from __future__ import annotations

import psycopg

from core.db import libpq_url

VIEW_SCHEMAS = ("staging", "intermediate")


def current_views(database_url: str) -> set[str]:
    """Names of the views in the dbt view schemas (model name = view name: the project sets no aliases)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute("select table_name from information_schema.views where table_schema = any(%s)",
                            [list(VIEW_SCHEMAS)]).fetchall()
    return {name for (name,) in rows}


def restore_args(before: set[str], after: set[str]) -> list[str] | None:
    """`dbt run` arguments that recreate the views gone since `before`, or None when none is."""
    missing = sorted(before - after)
    # one selector string: dagster-dbt keeps only the first value after --select
    return ["run", "--select", " ".join(missing)] if missing else None
