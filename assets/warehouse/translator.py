"""How dbt nodes become Dagster assets: keys that join the lineage, one group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

WAREHOUSE_GROUP = "warehouse"


class WarehouseTranslator(DagsterDbtTranslator):
    """Sources map to the keys of the assets that fill them, models to `<schema>/<name>`.

    A dbt source `raw.<table>` is the ingest asset `raw/<table>`, and `app.<table>` the external
    asset `app/<table>` (written by the API; nothing in the pipeline produces it), so the lineage runs
    from landing files through raw tables to the marts without a hand-kept list of keys.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return WAREHOUSE_GROUP
