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
from pipelines.dbt_project import dbt_project, require_manifest


@dbt_assets(
    manifest=require_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    name="warehouse_dbt_assets",
)
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: WarehouseDbtResource) -> Iterator[Any]:
    """`dbt build` of the selected models: seeds, models, unit tests and data tests in DAG order."""
    invocation = dbt.cli(["build"], context=context)
    yield from invocation.stream()  # raises when dbt fails, keeping that run's artifacts to inspect
    # Succeeded: results are in Dagster's event log, so the ~8 MB of artifacts need not pile up.
    shutil.rmtree(invocation.target_path, ignore_errors=True)
    if context.is_subset:
        # dbt-postgres replaces a view by renaming it away and dropping it with CASCADE, which drops
        # the views built on it that this subset did not select: recreate every view (seconds), so a
        # subset picked in the UI never leaves the warehouse with missing intermediates
        restore = dbt.cli(["run", "--select", "config.materialized:view"], manifest=invocation.manifest)
        restore.wait()
        shutil.rmtree(restore.target_path, ignore_errors=True)
