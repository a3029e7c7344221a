"""The one dbt project of the code location, and the preparation of its manifest.

The manifest (dbt/target/manifest.json) is what `@dbt_assets` reads to know the models, their
lineage and their tests. It is built by `dbt parse`, never committed, and never built at import
time: `hometown dbt-prepare` (and the test session) call `prepare_manifest()`, which parses only
when the manifest is missing or older than a file of the project. Loading the definitions without
a manifest fails with `ManifestNotPrepared`, whose message says what to run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dagster_dbt import DbtProject

from core.settings import ROOT

DBT_PROJECT_DIR = ROOT / "dbt"
PREPARE_COMMAND = "hometown dbt-prepare"

# Folders of the dbt project that hold outputs, not sources of the manifest.
_GENERATED_DIRS = frozenset({"target", "logs", "dbt_packages"})

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class ManifestNotPrepared(RuntimeError):
    """The dbt manifest is missing: the dbt assets cannot be defined without it."""


def dbt_executable() -> str:
    """The `dbt` beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    return shutil.which("dbt") or "dbt"


def _project_files(project_dir: Path) -> Iterator[Path]:
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in _GENERATED_DIRS or not path.is_file():
            continue
        yield path


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when the manifest is missing or a project file (model, YAML, macro, seed…) is newer."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _project_files(Path(project.project_dir)))


def prepare_manifest(force: bool = False, project: DbtProject = dbt_project) -> Path:
    """Run `dbt parse` when the manifest is missing or stale (or when forced); return its path.

    No database is needed: the profile falls back to defaults when the PG* variables are unset.
    Concurrent callers (webserver, daemon, test workers) are serialised by a file lock, and the
    manifest is parsed into a scratch folder and moved into place, so no reader sees half a file.
    """
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if force or manifest_is_stale(project):
            _parse_into(project, target)
    return project.manifest_path


def _parse_into(project: DbtProject, target: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        command = [dbt_executable(), "parse", "--quiet", "--project-dir", str(project.project_dir),
                   "--profiles-dir", str(project.profiles_dir), "--target-path", str(scratch)]
        env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not (scratch / "manifest.json").exists():
            raise ManifestNotPrepared(
                f"`dbt parse` failed (exit {done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
            )
        os.replace(scratch / "manifest.json", project.manifest_path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def require_manifest(project: DbtProject = dbt_project) -> Path:
    """The manifest path, or a clear error telling how to create it (used when defining assets)."""
    if not project.manifest_path.exists():
        raise ManifestNotPrepared(
            f"The dbt manifest {project.manifest_path} does not exist, so the warehouse assets cannot "
            f"be defined. Run `{PREPARE_COMMAND}` (it runs `dbt parse`; no database needed), then load "
            "the definitions again."
        )
    return project.manifest_path


if __name__ == "__main__":  # `hometown dbt-prepare` runs this in a child process
    print(f"dbt manifest ready: {prepare_manifest(force='--force' in sys.argv)}")
