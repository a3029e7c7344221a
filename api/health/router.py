"""`/health`: public by design, for load balancers and `hometown serve`; 503 when a dependency fails."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import __version__
from api.health.schemas import HealthPublic, RankingHealth
from api.health.service import check_database, check_storage
from api.ranking.service import ranking_health

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthPublic, summary="Database and storage status (503 when degraded)",
            responses={503: {"model": HealthPublic, "description": "A dependency is failing"}})
def health(response: Response) -> HealthPublic:
    database, storage = check_database(), check_storage()
    ok = database.status == "ok" and storage.status == "ok"
    if not ok:
        response.status_code = 503
    # ranks from PostgreSQL instead of Redis: degraded, but the service answers (200)
    rank = RankingHealth(**ranking_health())
    status = "ok" if ok and rank.status == "ok" else "degraded"
    return HealthPublic(status=status, version=__version__, database=database, storage=storage, ranking=rank)
