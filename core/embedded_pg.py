"""The embedded PostgreSQL default: pgserver (PostgreSQL 16 + pgvector) with its data in var/pg.

Used only when DATABASE_URL is unset. The server keeps running after the process that started
it exits (so the API, Dagster and dbt share one server); `stop()` shuts it down.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Settings applied once, at first initialisation: sized for a two-core laptop doing bulk loads.
TUNING = {
    "shared_buffers": "512MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_compression": "on",
    "max_connections": "200",
    "jit": "off",  # dbt's analytical queries are short; JIT compilation costs more than it saves here
}


@dataclass(frozen=True)
class EmbeddedStatus:
    running: bool
    pid: int | None
    socket_dir: Path | None
    pgdata: Path

    def url(self, database: str) -> str:
        if not self.running or self.socket_dir is None:
            raise RuntimeError(f"the embedded PostgreSQL in {self.pgdata} is not running")
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"


def _quiet_runtime_dir(pgdata: Path) -> None:
    """pgserver keeps its inter-process lock in $XDG_RUNTIME_DIR; give it one beside the data."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        run = pgdata.resolve().parent / "run"
        run.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(run)


def status(pgdata: Path) -> EmbeddedStatus:
    _quiet_runtime_dir(pgdata)
    from pgserver.utils import PostmasterInfo

    pgdata = pgdata.resolve()
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):  # a half-written postmaster.pid while the server starts
        info = None
    if info is None or not info.is_running() or info.status != "ready":
        return EmbeddedStatus(False, None, None, pgdata)
    return EmbeddedStatus(True, info.pid, info.socket_dir, pgdata)


def start(pgdata: Path, database: str) -> EmbeddedStatus:
    """Start (or find running) the embedded server and make sure `database` exists."""
    current = status(pgdata)
    if not current.running:
        import pgserver

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (pgdata / "PG_VERSION").exists()
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        if fresh:
            settings = "".join(f"alter system set {k} = '{v}';\n" for k, v in TUNING.items())
            server.psql(settings)
            _pg_ctl(pgdata, ["-w", "-m", "fast", "restart", "-l", str(pgdata.resolve() / "log")],
                    socket_args=True)
        current = status(pgdata)
        if not current.running:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {pgdata / 'log'}")
    _ensure_database(current, database)
    return current


def stop(pgdata: Path) -> bool:
    """Stop the embedded server. Returns False if it was not running."""
    if not status(pgdata).running:
        return False
    _pg_ctl(pgdata, ["-w", "-m", "fast", "stop"])
    return True


def _pg_ctl(pgdata: Path, args: list[str], socket_args: bool = False) -> None:
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    if socket_args:
        info = status(pgdata)
        socket_dir = info.socket_dir or pgdata.resolve()
        args = ["-o", '-h ""', "-o", f"-k {socket_dir}", *args]
    pg_ctl(args, pgdata=pgdata.resolve(), user=user)


def _ensure_database(current: EmbeddedStatus, database: str) -> None:
    import psycopg

    with psycopg.connect(f"host={current.socket_dir} user=postgres dbname=postgres", autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'create database "{database}"')
            log.info("created database %s", database)


def run_psql(current: EmbeddedStatus, database: str, sql: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    out = subprocess.run([str(POSTGRES_BIN_PATH / "psql"), "-h", str(current.socket_dir), "-U", "postgres",
                          "-d", database], input=sql, capture_output=True, text=True, check=True)
    return out.stdout
