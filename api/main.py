"""The FastAPI application: one router per domain, the one error shape, offline /docs.

Run with `uvicorn api.main:app` (`hometown serve` does). Nothing here touches the database at import:
the engine is built on the first request from the settings.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import __version__
from api.attempts.router import enrol_router as attempts_enrol_router
from api.attempts.router import router as attempts_router
from api.auth.router import router as auth_router
from api.certifications.router import router as certifications_router
from api.community.router import router as community_router
from api.credentials.router import router as credentials_router
from api.docs import install_docs
from api.errors import install_error_handlers
from api.health.router import router as health_router
from api.host.router import router as host_router
from api.mentoring.router import router as mentoring_router
from api.missions.router import router as missions_router
from api.moderation.router import router as moderation_router
from api.needs.router import router as needs_router
from api.notifications.router import router as notifications_router
from api.notifications.router import ws_router as notifications_ws_router
from api.ranking.router import router as ranking_router
from api.recommendations.router import admin_router as drafts_admin_router
from api.recommendations.router import router as recommendations_router
from api.regions.router import router as regions_router
from api.reports.router import router as reports_router
from api.users.router import me_router
from api.users.router import router as users_router
from api.xapi.router import router as xapi_router
from core.db import async_pool, set_pool_size
from core.settings import get_settings

DESCRIPTION = """
고향으로 ON connects people with Korea's regions through missions.

**Public by design**: `/health`, `/regions` (public statistics), and published `/missions`.
Everything else needs a bearer token from `POST /auth/token` (use *Authorize* above).
Every error has the shape `{"error": {"code", "message", "details"}}`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the worker: API_THREADS requests at once, each with a pooled connection kept open (a request
    that had to open a connection, or wait 30 s for one, was the API's slowest path under load), plus a
    few for the after-commit thread, WebSocket listeners and /health; and an async pool of as many for the
    mission loop's batched routes."""
    threads = get_settings().api_threads
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    set_pool_size(threads + 4)
    # the mission loop's batched units wait for a connection in the event loop, holding nothing
    app.state.unit_pool = pool = async_pool(threads)
    await pool.open(wait=False)
    # What the worker loaded to start (~380,000 objects: modules, classes, the routes' models) lives as long as
    # it does: out of the cyclic collector's way, which walked it all at every full collection (GC time per
    # worker over benchmarks/activity_api.py, about 20 s of CPU each: 4.5 s before, 1.4 s after).
    gc.freeze()
    try:
        yield
    finally:
        await pool.close()


def create_app() -> FastAPI:
    # FastAPI's OpenTelemetry hooks stay off: nothing here exports them, and asking whether a provider is
    # configured took ~3 % of a loop worker's samples in a profile
    app = FastAPI(title="Hometown ON API (고향으로 ON)", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    install_error_handlers(app)
    install_docs(app)
    # routes are matched in order, a regex each: the mission loop's state changes, the busiest routes,
    # come first (none of their paths is also another router's)
    for router in (attempts_enrol_router, attempts_router):
        app.include_router(router)
    for router in (health_router, auth_router, me_router, users_router, regions_router,
                   recommendations_router, missions_router):  # /missions/recommendations before /missions/{id}
        app.include_router(router)
    for router in (certifications_router, credentials_router, needs_router):  # certification and needs (issue 5)
        app.include_router(router)
    for router in (host_router, xapi_router, ranking_router, notifications_router,
                   notifications_ws_router):  # the rest of the mission loop (issue 3)
        app.include_router(router)
    app.include_router(drafts_admin_router)  # AI mission drafts and the ranker's settings (issue 4)
    for router in (community_router, mentoring_router, moderation_router):  # the community (issue 8)
        app.include_router(router)
    app.include_router(reports_router)  # PDF reports (issue 6)
    return app


app = create_app()
