"""Shared foundation of Hometown ON: settings, database, storage, tables, vocabulary.

Plain library code: never imports Dagster or FastAPI.
"""
