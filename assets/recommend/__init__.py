"""Recommendations and AI mission generation in Dagster (group "recommend")."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from assets.recommend.assets import GROUP, RECOMMEND_ASSETS, RECOMMEND_CHECKS
from assets.recommend.resources import EmbeddingsResource, LLMResource, VectorStoreResource

recommend_job = define_asset_job("recommend", AssetSelection.groups(GROUP),
                                 description="Policy corpus, embeddings, collections, precomputed recommendations, "
                                             "evaluation")

defs = Definitions(
    assets=RECOMMEND_ASSETS,
    asset_checks=RECOMMEND_CHECKS,
    jobs=[recommend_job],
    resources={"embeddings": EmbeddingsResource(), "vector_store": VectorStoreResource(), "llm": LLMResource()},
)

__all__ = ["GROUP", "EmbeddingsResource", "LLMResource", "VectorStoreResource", "defs", "recommend_job"]
