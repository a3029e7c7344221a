"""Warehouse assets: the dbt project (staging → intermediate → marts) under Dagster.

Importing this package reads the prepared dbt manifest; without one it raises
`ManifestNotPrepared` telling to run `hometown dbt-prepare`.
"""

from __future__ import annotations

from dagster import Definitions

from assets.warehouse.assets import warehouse_dbt_assets
from assets.warehouse.resource import WarehouseDbtResource
from assets.warehouse.translator import WAREHOUSE_GROUP, WarehouseTranslator
from pipelines.dbt_project import dbt_project

defs = Definitions(
    assets=[warehouse_dbt_assets],
    resources={"dbt": WarehouseDbtResource(project_dir=str(dbt_project.project_dir))},
)

__all__ = ["WAREHOUSE_GROUP", "WarehouseDbtResource", "WarehouseTranslator", "defs", "warehouse_dbt_assets"]
