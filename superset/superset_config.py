"""Superset's configuration for Hometown ON: everything from the environment, no secret in this file.

Loaded by Superset (SUPERSET_CONFIG_PATH) inside superset/.venv. Variables:

    HOMETOWN_WAREHOUSE_URL   the platform database (postgresql+psycopg2://…); `superset/run.sh` fills it
                             from `hometown db url`. Officers' passwords are checked against its app.users.
    SUPERSET_METADATA_URL    Superset's own metadata database; default: database `superset` on the
                             warehouse's server.
    SUPERSET_SECRET_KEY      signs sessions and encrypts stored connection secrets; required in
                             production, generated once into $SUPERSET_VAR_DIR/secret_key in development.
    SUPERSET_VAR_DIR         Superset's files (default: var/superset beside the platform's var/).
    HOMETOWN_ENV             development | test | production (as the platform).

Everything that would phone home is off: no telemetry pixel (blocked by the content security policy
below), no map tiles, no external fonts, no thumbnails or alerts workers.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask_appbuilder.security.manager import AUTH_DB
from sqlalchemy.engine import make_url
from superset.security import SupersetSecurityManager

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ENV = os.environ.get("HOMETOWN_ENV", "development")
VAR_DIR = Path(os.environ.get("SUPERSET_VAR_DIR") or ROOT / "var" / "superset")

# Superset users linked to a platform account carry this instead of a password hash: their password is
# the platform's (argon2id in app.users), checked at login, never copied.
PLATFORM_PASSWORD_MARK = "platform-account:argon2id"


def _secret_key() -> str:
    key = os.environ.get("SUPERSET_SECRET_KEY", "").strip()
    if key:
        return key
    if ENV == "production":
        raise RuntimeError("SUPERSET_SECRET_KEY must be set to a long random value when HOMETOWN_ENV=production "
                           "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def warehouse_url() -> str:
    """The platform database as a psycopg2 SQLAlchemy URL (Superset's SQLAlchemy 1.4 has no psycopg 3)."""
    url = os.environ.get("HOMETOWN_WAREHOUSE_URL", "").strip()
    if not url:
        raise RuntimeError("HOMETOWN_WAREHOUSE_URL is not set: start Superset through superset/run.sh "
                           "(it reads the platform's database URL from `hometown db url`)")
    return make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def metadata_url() -> str:
    url = os.environ.get("SUPERSET_METADATA_URL", "").strip()
    if url:
        return url
    return make_url(warehouse_url()).set(database="superset").render_as_string(hide_password=False)


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = metadata_url()
DATA_DIR = str(VAR_DIR)

# --- behaviour ----------------------------------------------------------------------------------
APP_NAME = "고향으로 ON"
BABEL_DEFAULT_LOCALE = "ko"
LANGUAGES = {"ko": {"flag": "kr", "name": "한국어"}, "en": {"flag": "us", "name": "English"}}
AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False
PUBLIC_ROLE_LIKE = None  # no public access: every page needs a login
FEATURE_FLAGS = {
    # dashboards carry the roles that see them (bootstrap: officers get the all-regional ones only);
    # datasets still decide what a chart may read, and row-level security narrows the rows
    "DASHBOARD_RBAC": True,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "EMBEDDED_SUPERSET": False,
}
ROW_LIMIT = 50_000
SQLLAB_CTAS_NO_LIMIT = False
PREVENT_UNSAFE_DB_CONNECTIONS = True  # PostgreSQL over a unix socket passes; sqlite and friends do not
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86_400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86_400}
RATELIMIT_ENABLED = ENV == "production"
WTF_CSRF_ENABLED = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = ENV == "production"

# --- offline: nothing waits on the network ------------------------------------------------------
MAPBOX_API_KEY = os.environ.get("MAPBOX_API_KEY", "")
# deck.gl needs a base map; one transparent pixel for every tile keeps the browser off the network.
# The 시군구 polygons carry the map on their own (see superset/README.md).
BLANK_TILES = ("tile://data:image/png;base64,"
               "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
DECKGL_BASE_MAP = [[BLANK_TILES, "배경 지도 없음 (오프라인)"]]
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'", "data:"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "font-src": ["'self'", "data:"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": ENV == "production",
}
CONTENT_SECURITY_POLICY_WARNING = False


# --- platform accounts --------------------------------------------------------------------------
def _platform_password_hash(email: str) -> str | None:
    """The argon2id hash of an active platform account holding a staff role Superset serves, else None."""
    import psycopg2

    url = make_url(warehouse_url())
    params: dict[str, Any] = {"dbname": url.database, "user": url.username or "postgres"}
    host = url.query.get("host") or url.host
    if host:
        params["host"] = host if isinstance(host, str) else host[0]
    if url.port:
        params["port"] = url.port
    if url.password:
        params["password"] = url.password
    with psycopg2.connect(connect_timeout=5, **params) as conn, conn.cursor() as cur:
        cur.execute("select password_hash from app.users where lower(email) = lower(%s) and is_active "
                    "and roles && array['policy_staff', 'municipality_officer']::text[]", (email,))
        row = cur.fetchone()
    conn.close()
    return row[0] if row else None


class HometownSecurityManager(SupersetSecurityManager):
    """Superset users made by the bootstrap from platform accounts log in with their platform password.

    Their Superset row holds PLATFORM_PASSWORD_MARK, which no password matches; the password is
    checked against the account's argon2id hash in app.users, so it is never copied and a
    deactivated account or a withdrawn role stops working at once. Other users (the admin) use
    Superset's own password check.
    """

    def auth_user_db(self, username: str, password: str) -> Any:
        user = self.find_user(username=username) if username else None
        if user is None or user.password != PLATFORM_PASSWORD_MARK:
            return super().auth_user_db(username, password)
        if not user.is_active or not password:
            return None
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        stored = _platform_password_hash(user.email)
        try:
            ok = stored is not None and PasswordHasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            ok = False
        self.update_user_auth_stat(user, ok)
        if not ok:
            log.info("platform login failed for %s", username)
            return None
        return user


CUSTOM_SECURITY_MANAGER = HometownSecurityManager
