"""`hometown`: the command line for running the platform's parts.

    hometown db start|stop|status|url   the embedded PostgreSQL (var/pg) unless DATABASE_URL is set
    hometown migrate                     apply the app/raw migrations
    hometown demo                        generate the synthetic demo population
    hometown materialize                 materialize every Dagster asset (skips when nothing changed)
    hometown serve                       the API on :8000 and the Dagster UI on :3000
    hometown up                          all of the above, then serve until Ctrl-C

The API and Dagster run as child processes (`uvicorn`, `dagster-webserver`, `dagster-daemon`):
this module only starts them, so `core` stays free of FastAPI and Dagster imports.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from core import embedded_pg
from core.settings import ROOT, Settings, get_settings

app = typer.Typer(help="고향으로 ON (Hometown ON) command line", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="the platform database", no_args_is_help=True)
app.add_typer(db_app, name="db")

BIN = Path(sys.executable).parent


def _say(message: str) -> None:
    typer.secho(f"[hometown] {message}", fg=typer.colors.CYAN, err=True)


def _settings() -> Settings:
    return get_settings()


def _url(start: bool = True) -> str:
    from core.db import database_url

    return database_url(_settings(), start_embedded=start)


# ------------------------------------------------------------------------------------ database
@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (no-op with DATABASE_URL)."""
    settings = _settings()
    if not settings.uses_embedded_postgres:
        _say("DATABASE_URL is set: using that server, nothing to start")
        return
    t0 = time.monotonic()
    current = embedded_pg.start(settings.pg_dir, settings.database_name)
    _say(f"embedded PostgreSQL ready in {time.monotonic() - t0:.1f}s (pid {current.pid}, socket {current.socket_dir})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    settings = _settings()
    if not settings.uses_embedded_postgres:
        _say("DATABASE_URL is set: the server is not ours to stop")
        return
    _say("stopped" if embedded_pg.stop(settings.pg_dir) else "was not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database is reachable, and where."""
    settings = _settings()
    if settings.uses_embedded_postgres:
        current = embedded_pg.status(settings.pg_dir)
        if not current.running:
            _say(f"embedded PostgreSQL in {settings.pg_dir}: stopped")
            raise typer.Exit(1)
        _say(f"embedded PostgreSQL in {settings.pg_dir}: running (pid {current.pid})")
    from sqlalchemy import text

    from core.db import get_engine

    with get_engine(_url(start=False)).connect() as conn:
        version = conn.execute(text("show server_version")).scalar()
    _say(f"connected: PostgreSQL {version}")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (for psql, tools and scripts)."""
    typer.echo(_url())


@app.command()
def migrate() -> None:
    """Apply the migrations of the app and raw schemas."""
    from core.migrate import upgrade

    upgrade(_url())
    _say("migrations applied")


# ------------------------------------------------------------------------------------ demo data
@app.command()
def demo(
    users: int = typer.Option(10_000, help="number of app users"),
    missions: int = typer.Option(1_000, help="number of missions in the catalog"),
    events: int = typer.Option(1_000_000, help="approximate number of activity events"),
    seed: int = typer.Option(20261125, help="random seed; the same seed gives the same data"),
    force: bool = typer.Option(False, help="generate again even if this demo already exists"),
) -> None:
    """Generate the synthetic demo population (users, missions, activity files)."""
    from core.demo.generator import DemoSpec, generate

    url = _url()
    from core.migrate import upgrade

    upgrade(url)
    spec = DemoSpec(users=users, missions=missions, events=events, seed=seed)
    generate(spec, url=url, settings=_settings(), force=force, progress=_say)


@app.command("demo-extras")
def demo_extras(
    seed: int = typer.Option(20261125, help="random seed; the same seed gives the same data"),
    force: bool = typer.Option(False, help="make them again even if the demo already has them"),
) -> None:
    """The demo users' community, skill certifications and recommendations (after their activity is loaded)."""
    from core.db import get_engine
    from core.demo.extras import seed_extras

    result = seed_extras(get_engine(_url()), seed=seed, settings=_settings(), force=force)
    if result.skipped:
        _say("demo extras: the demo community and certifications exist; skipping (use --force to remake them)")
        return
    # the marts stand on these rows too: the next materialize_all must run even if no file changed
    (_settings().var_dir / "state" / "materialize_all.json").unlink(missing_ok=True)
    c, k, r = result.community, result.certifications, result.recommendations
    _say(f"demo extras: {c['posts']:,} posts, {c['comments']:,} comments, {c['mentorships']:,} mentorships, "
         f"{c['reports']:,} reports; {k['submissions']:,} certification submissions by {k['users']:,} users; "
         f"{r.get('rows', 0):,} recommendations for {r.get('users', 0):,} users as of {r.get('as_of')} "
         f"({result.seconds:.0f}s)")


@app.command()
def badges(action: str = typer.Argument("check", help="compile: write the dbt SQL from dbt/badges.yml; "
                                                      "check: fail when it is not current")) -> None:
    """Compile the badge rules (dbt/badges.yml) into the awards model, or check it is current."""
    from core.badges import main as badges_main

    if action not in ("compile", "check"):
        raise typer.BadParameter("use compile or check")
    code = badges_main([action])
    if code:
        raise typer.Exit(code)


# ------------------------------------------------------------------------------------ dagster
@app.command("dbt-prepare")
def dbt_prepare() -> None:
    """Write dbt's manifest (dbt parse) when it is missing or older than the dbt project."""
    result = subprocess.run([sys.executable, "-m", "pipelines.dbt_project"], cwd=ROOT,
                            env=_dagster_env(_url()))
    if result.returncode != 0:
        _say("dbt parse failed; see above")
        raise typer.Exit(result.returncode)


def _dagster_env(url: str) -> dict[str, str]:
    from core.db import libpq_url, process_env

    settings = _settings()
    env = process_env(url)
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((ROOT / "pipelines" / "dagster.yaml").read_text())
    env["DAGSTER_HOME"] = str(home)
    pg = libpq_url(url).replace("postgresql://", "postgresql+psycopg2://", 1)  # dagster-postgres needs psycopg2
    env["DAGSTER_PG_URL"] = pg + ("&" if "?" in pg else "?") + "options=-csearch_path%3Ddagster"
    env["DO_NOT_TRACK"] = "1"
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    env.setdefault("HOMETOWN_VAR_DIR", str(settings.var_dir))
    return env


def _fingerprint(url: str, job: str) -> str:
    """What a job's materialization depends on: the code, the public data and (except for the
    regional ingest) the landed activity files."""
    settings = _settings()
    digest = hashlib.sha256(f"{url}|{job}".encode())
    for folder in ("core", "ai", "assets", "pipelines", "dbt"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and not {"target", "logs", "__pycache__", "dbt_packages"} & set(path.parts):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    inputs = [settings.data_dir] if job == "ingest_regions" else [settings.data_dir, settings.landing_dir]
    for base in inputs:
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


@app.command()
def materialize(
    force: bool = typer.Option(False, help="run even if nothing changed since the last successful run"),
    job: str = typer.Option("materialize_all", help="the Dagster job to run"),
) -> None:
    """Materialize every asset through Dagster (recorded in Dagster's PostgreSQL storage)."""
    url = _url()
    from core.migrate import upgrade

    upgrade(url)
    dbt_prepare()
    state = _settings().var_dir / "state" / f"{job}.json"
    fingerprint = _fingerprint(url, job)
    if not force and state.exists() and json.loads(state.read_text()).get("fingerprint") == fingerprint:
        _say(f"{job}: nothing changed since the last successful run ({json.loads(state.read_text())['at']}); "
             "skipping (use --force to run anyway)")
        return
    _say(f"{job}: materializing through Dagster (progress below)")
    t0 = time.monotonic()
    # in one process: a step per subprocess would import the whole code location once per step
    run_config = {"execution": {"config": {"in_process": {}}},
                  "loggers": {"console": {"config": {"log_level": "INFO"}}}}
    config_file = state.parent / "run_config.json"  # JSON is YAML: `dagster job execute -c` reads it
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(json.dumps(run_config))
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j", job,
           "-c", str(config_file), "--tags", json.dumps({"hometown/launched_by": "cli"})]
    result = subprocess.run(cmd, env=_dagster_env(url), cwd=ROOT)
    if result.returncode != 0:
        _say(f"{job} failed (exit {result.returncode}); see the log above and the Dagster UI")
        raise typer.Exit(result.returncode)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"fingerprint": fingerprint, "at": time.strftime("%Y-%m-%d %H:%M:%S")}))
    _say(f"{job}: done in {time.monotonic() - t0:.0f}s")


# ------------------------------------------------------------------------------------ serving
def _wait_http(url: str, seconds: float) -> bool:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@app.command()
def serve(
    api: bool = typer.Option(True, help="serve the API"),
    dagster: bool = typer.Option(True, help="serve the Dagster UI and run its daemon (schedules, sensors)"),
    workers: int = typer.Option(2, help="API worker processes"),
) -> None:
    """Serve the API (127.0.0.1:8000) and the Dagster UI (127.0.0.1:3000) until Ctrl-C."""
    settings = _settings()
    url = _url()
    env = _dagster_env(url)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(name: str, cmd: list[str]) -> None:
        children.append((name, subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)))

    if api:
        spawn("api", [str(BIN / "uvicorn"), "api.main:app", "--host", settings.api_host,
                      "--port", str(settings.api_port), "--workers", str(workers), "--log-level", "warning"])
    if dagster:
        # runs a previous server launched died with it but still hold the queue's slots
        if subprocess.run([sys.executable, "-m", "pipelines.orphans"], env=env, cwd=ROOT).returncode != 0:
            _say("could not check for runs a previous server orphaned (see above); serving anyway")
        spawn("dagster-webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p",
                                    str(settings.dagster_port), "-w", str(ROOT / "workspace.yaml")])
        spawn("dagster-daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")])

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if api and _wait_http(f"http://{settings.api_host}:{settings.api_port}/health", 60):
        _say(f"API:       http://{settings.api_host}:{settings.api_port}  (docs at /docs)")
    if dagster and _wait_http(f"http://127.0.0.1:{settings.dagster_port}/server_info", 120):
        _say(f"Dagster:   http://127.0.0.1:{settings.dagster_port}")
    _say("serving; press Ctrl-C to stop")
    try:
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    _say(f"{name} exited with {proc.returncode}; stopping the rest")
                    stopping = True
            time.sleep(0.5)
    finally:
        for _name, proc in children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, proc in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        # what outlives its leader (Dagster's gRPC code servers, run workers, uvicorn's workers) is in
        # the leader's process group: it gets until the deadline, then is killed, so nothing is left
        for _name, proc in children:
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        _say("stopped the API and Dagster")


@app.command()
def up(
    users: int = typer.Option(10_000, help="demo users"),
    missions: int = typer.Option(1_000, help="demo missions"),
    events: int = typer.Option(1_000_000, help="demo activity events"),
    seed: int = typer.Option(20261125, help="demo seed"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve until Ctrl-C afterwards"),
) -> None:
    """Everything: database, migrations, real regional data, demo population, assets, then serve."""
    settings = _settings()
    started_here = settings.uses_embedded_postgres and not embedded_pg.status(settings.pg_dir).running
    t0 = time.monotonic()
    try:
        db_start()
        migrate()
        # the regional data first: the demo population is built on its places and regions
        materialize(force=False, job="ingest_regions")
        demo(users=users, missions=missions, events=events, seed=seed, force=False)
        # the community and certifications are dated inside the demo's history: its events first
        materialize(force=False, job="ingest_activity")
        demo_extras(seed=seed, force=False)
        materialize(force=False, job="materialize_all")
        _say(f"ready in {time.monotonic() - t0:.0f}s")
        if ctypes.util.find_library("harfbuzz-subset") is None:
            _say("note: HarfBuzz's subsetter is not installed, so PDF reports take about 2.5x the CPU "
                 "(same PDFs); sudo apt-get install libharfbuzz-subset0")
        if serve_after:
            serve(api=True, dagster=True, workers=2)
    finally:
        if started_here and serve_after:
            embedded_pg.stop(settings.pg_dir)
            _say("stopped the embedded PostgreSQL this run started")


if __name__ == "__main__":
    app()
