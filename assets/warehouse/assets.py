"""The dbt models, seeds and tests as Dagster assets and asset checks (group "warehouse").

One `@dbt_assets` for the whole project: every model runs the same way (`dbt build`, no
partitions); the incremental fact picks its own window from what it already holds. dbt data tests
become asset checks on the models they test.
"""

# no `from __future__ import annotations`: Dagster inspects the context annotation at runtime

import shutil
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import dbt_assets

from assets.warehouse.resource import WarehouseDbtResource
from assets.warehouse.translator import WarehouseTranslator
from core.db import database_url
from pipelines.dbt_project import dbt_project, require_manifest
from pipelines.dbt_views import current_views, restore_args


@dbt_assets(
    manifest=require_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    name="warehouse_dbt_assets",
)
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: WarehouseDbtResource) -> Iterator[Any]:
    """`dbt build` of the selected models: seeds, models, unit tests and data tests in DAG order."""
    url = dbt.database_url or database_url()
    views = current_views(url) if context.is_subset else set()
    # A subset (one step of a multi-step run, or a pick in the UI) selects its tests as "buildable": a
    # relationships test on a model this step does not build waits for the step that builds it (dbt's
    # default, eager, ran e.g. fct_* → dim_region tests with dim_region, before fct_* existed on a fresh
    # database). Models depend on what their relationships tests read (`-- depends_on:`), so every test
    # is buildable in the step of the model it tests.
    invocation = dbt.cli(["build"], context=context, indirect_selection="buildable" if context.is_subset else None)
    yield from invocation.stream()  # raises when dbt fails, keeping that run's artifacts to inspect
    # Succeeded: results are in Dagster's event log, so the ~8 MB of artifacts need not pile up.
    shutil.rmtree(invocation.target_path, ignore_errors=True)
    restore = restore_args(views, current_views(url)) if context.is_subset else None
    if restore:  # a subset leaves no view missing (pipelines/dbt_views.py)
        context.log.info(f"recreating the views the subset's CASCADE drops took away: {restore[-1]}")
        rerun = dbt.cli(restore, manifest=invocation.manifest)
        rerun.wait()
        shutil.rmtree(rerun.target_path, ignore_errors=True)
