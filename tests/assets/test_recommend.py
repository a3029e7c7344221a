"""The recommend assets materialized in-process against the session database (demo + marts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, materialize
from sqlalchemy import Engine, text

from ai.vectorstore import MISSIONS, POLICY, REGIONAL
from assets.recommend import EmbeddingsResource, VectorStoreResource
from assets.recommend.assets import (
    COLLECTIONS,
    EVALUATION,
    RECOMMEND_ASSETS,
    RECOMMEND_CHECKS,
    RECOMMENDATION_LOG,
)
from assets.resources import PostgresResource, SettingsResource


def _metadata(result: Any, key: AssetKey) -> dict[str, Any]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    assert events, f"{key.to_user_string()} was not materialized"
    return dict(events[-1].materialization.metadata)


@pytest.fixture(scope="module")
def run(marts_built: object, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    folder = tmp_path_factory.mktemp("recommend")
    resources = {"postgres": PostgresResource(url=db_url), "settings": SettingsResource(),
                 "embeddings": EmbeddingsResource(models_dir=str(folder / "models")),
                 "vector_store": VectorStoreResource(path=str(folder / "chroma"))}
    result = materialize([*RECOMMEND_ASSETS, *RECOMMEND_CHECKS], resources=resources)
    assert result.success
    return result, folder


def test_assets_fill_the_tables_and_collections(run: tuple[object, Path], engine: Engine) -> None:
    result, folder = run
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from raw.policy_documents")).scalar_one() == 5
        users = conn.execute(text("select count(*) from app.users where is_active and cardinality(roles) = 0")
                             ).scalar_one()
        assert conn.execute(text("select count(distinct user_id) from serving.recommendations")).scalar_one() == users
        segments = conn.execute(text("select count(distinct (segment, method)) from serving.recommendation_evaluation"
                                     )).scalar_one()
        assert segments == 12
        # every pair of the lists just written is in the first-recommended log (the log is materialized too)
        unlogged = conn.execute(text("select count(*) from serving.recommendations r where not exists (select from "
                                     "serving.recommendation_log l where l.user_id = r.user_id "
                                     "and l.mission_id = r.mission_id)")).scalar_one()
        logged = conn.execute(text("select count(*) from serving.recommendation_log")).scalar_one()
    assert unlogged == 0
    assert _metadata(result, RECOMMENDATION_LOG)["dagster/row_count"].value == logged
    meta = _metadata(result, EVALUATION)
    table = meta["evaluation"].value
    assert "| history | hybrid |" in table and "| cold_start | popularity |" in table
    collections = _metadata(result, COLLECTIONS)
    assert collections[f"{MISSIONS}_count"].value > 0 and collections[f"{POLICY}_count"].value > 0
    assert collections[f"{REGIONAL}_count"].value > 229
    assert (folder / "models" / "offline_embedding" / "current.json").exists()
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}  # type: ignore[attr-defined]
    assert checks["every_active_user_has_recommendations"] is True
    assert "evaluation_meets_targets" in checks  # WARN severity: the session's small demo is too weak for targets


def test_a_second_run_keeps_the_model_and_collections(run: tuple[object, Path], db_url: str) -> None:
    _, folder = run
    resources = {"postgres": PostgresResource(url=db_url), "settings": SettingsResource(),
                 "embeddings": EmbeddingsResource(models_dir=str(folder / "models")),
                 "vector_store": VectorStoreResource(path=str(folder / "chroma"))}
    before = (folder / "models" / "offline_embedding" / "current.json").read_text()
    again = materialize(RECOMMEND_ASSETS[:3], resources=resources)
    assert again.success
    after = (folder / "models" / "offline_embedding" / "current.json").read_text()
    assert before.split('"fitted_at"')[0] == after.split('"fitted_at"')[0]  # same corpus → same version
    meta = _metadata(again, COLLECTIONS)
    assert meta["rebuilt"].value == []
