"""The FastAPI application: one router per domain, the one error shape, offline /docs.

Run with `uvicorn api.main:app` (`hometown serve` does). Nothing here touches the database at import:
the engine is built on the first request from the settings.
"""

from __future__ import annotations

from fastapi import FastAPI

from api import __version__
from api.auth.router import router as auth_router
from api.docs import install_docs
from api.errors import install_error_handlers
from api.health.router import router as health_router
from api.missions.router import router as missions_router
from api.regions.router import router as regions_router
from api.users.router import me_router
from api.users.router import router as users_router

DESCRIPTION = """
고향으로 ON connects people with Korea's regions through missions.

**Public by design**: `/health`, `/regions` (public statistics), and published `/missions`.
Everything else needs a bearer token from `POST /auth/token` (use *Authorize* above).
Every error has the shape `{"error": {"code", "message", "details"}}`.
"""


def create_app() -> FastAPI:
    app = FastAPI(title="Hometown ON API (고향으로 ON)", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    install_error_handlers(app)
    install_docs(app)
    for router in (health_router, auth_router, me_router, users_router, regions_router, missions_router):
        app.include_router(router)
    return app


app = create_app()
