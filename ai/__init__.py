"""AI library code: embeddings, the recommender, retrieval-augmented generation, evidence checks.

Plain library: never imports Dagster or FastAPI.
"""
