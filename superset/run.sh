#!/usr/bin/env bash
# Superset for policy staff: `make superset` runs this with no argument.
#
#   superset/run.sh            install + bootstrap + serve on 127.0.0.1:${SUPERSET_PORT:-8088} until Ctrl-C
#   superset/run.sh install    superset/.venv from superset/requirements.lock (skipped when current)
#   superset/run.sh bootstrap  metadata DB, admin, bundle, roles, row-level security (idempotent)
#   superset/run.sh serve      gunicorn only
#
# Superset lives in its own virtual environment (it pins SQLAlchemy 1.4; the platform uses 2.x).
# HOMETOWN_WAREHOUSE_URL defaults to the platform's database (`hometown db url`, which starts the
# embedded PostgreSQL when DATABASE_URL is unset), with the psycopg2 driver Superset needs.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3.11}"
UV_VERSION=0.13.9

say() { printf '\033[36m[superset]\033[0m %s\n' "$*" >&2; }

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -x "$VENV/bin/uv" ]; then
    "$VENV/bin/pip" install --quiet "uv==$UV_VERSION"
  fi
  if [ ! -f "$VENV/.installed" ] || [ "$HERE/requirements.lock" -nt "$VENV/.installed" ]; then
    say "installing the locked Superset environment (about a minute the first time)"
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" --quiet -r "$HERE/requirements.lock"
    touch "$VENV/.installed"
  fi
}

environment() {
  if [ -z "${HOMETOWN_WAREHOUSE_URL:-}" ]; then
    # superset_config.py switches the driver to psycopg2
    HOMETOWN_WAREHOUSE_URL="$("$ROOT/.venv/bin/hometown" db url)"
  fi
  export HOMETOWN_WAREHOUSE_URL
  export SUPERSET_CONFIG_PATH="$HERE/superset_config.py"
  export SUPERSET_VAR_DIR="${SUPERSET_VAR_DIR:-${HOMETOWN_VAR_DIR:-$ROOT/var}/superset}"
  export FLASK_APP="superset.app:create_app()"
  export SUPERSET_ENV="${SUPERSET_ENV:-production}"  # Flask's production mode: no debugger, no reloader
  export DO_NOT_TRACK=1 SCARF_ANALYTICS=false
  mkdir -p "$SUPERSET_VAR_DIR"
}

bootstrap() {
  say "bootstrapping (metadata database, admin, dashboards bundle, roles, row-level security)"
  "$VENV/bin/python" "$HERE/bootstrap.py"
}

serve() {
  local port="${SUPERSET_PORT:-8088}" host="${SUPERSET_HOST:-127.0.0.1}"
  say "serving Superset on http://$host:$port (Ctrl-C stops it)"
  exec "$VENV/bin/gunicorn" --bind "$host:$port" --workers "${SUPERSET_WORKERS:-2}" --threads 4 \
    --worker-class gthread --timeout 120 --limit-request-line 0 --limit-request-field_size 0 \
    --chdir "$SUPERSET_VAR_DIR" "superset.app:create_app()"
}

case "${1:-all}" in
  install) install ;;
  bootstrap) install; environment; bootstrap ;;
  serve) environment; serve ;;
  all) install; environment; bootstrap; serve ;;
  *) echo "usage: $0 [install|bootstrap|serve]" >&2; exit 2 ;;
esac
