"""Health probes. Public by design, so they say what failed but keep hosts and paths for the log."""

from __future__ import annotations

import logging
import time

from sqlalchemy import text

from api.health.schemas import DatabaseHealth, StorageHealth
from core.db import get_engine
from core.storage import get_storage

log = logging.getLogger(__name__)


def check_database() -> DatabaseHealth:
    try:
        started = time.perf_counter()
        with get_engine().connect() as conn:
            conn.execute(text("set local statement_timeout = 2000"))
            version: str = conn.execute(text("show server_version")).scalar_one()
            heads = sorted(conn.scalars(text("select version_num from public.alembic_version")))
        return DatabaseHealth(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2),
                              server_version=str(version), schema_heads=heads)
    except Exception as exc:  # any failure is a health answer, not a 500
        log.warning("database health check failed: %s", exc)
        return DatabaseHealth(status="error", error=type(exc).__name__)


def check_storage() -> StorageHealth:
    try:
        report = get_storage().health()
    except Exception as exc:  # e.g. S3 configured without boto3
        log.warning("storage health check failed: %s", exc)
        return StorageHealth(status="error", error=type(exc).__name__)
    if report.get("status") != "ok":
        log.warning("storage health check failed: %s", report)
        return StorageHealth(status="error", kind=str(report.get("kind")), error="not writable")
    return StorageHealth(status="ok", kind=str(report.get("kind")))
