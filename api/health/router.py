"""`/health`: public by design, for load balancers and `hometown serve`; 503 when a dependency fails."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import __version__
from api.health.schemas import HealthPublic
from api.health.service import check_database, check_storage

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthPublic, summary="Database and storage status (503 when degraded)",
            responses={503: {"model": HealthPublic, "description": "A dependency is failing"}})
def health(response: Response) -> HealthPublic:
    database, storage = check_database(), check_storage()
    ok = database.status == "ok" and storage.status == "ok"
    if not ok:
        response.status_code = 503
    return HealthPublic(status="ok" if ok else "degraded", version=__version__, database=database, storage=storage)
