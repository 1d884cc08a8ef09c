"""The dbt project, the dbt CLI resource, and how a run invokes dbt for one deployment.

Importing this module reads the project's prepared manifest and nothing else: it runs no dbt
command and writes nothing. The manifest is prepared with the code (`kzdw prepare`, run by
`make setup`), as dagster-dbt's `prepare-and-package` does for a deployed project. Each
invocation then gets the deployment's settings in its environment and writes its artifacts
and logs beside the warehouse (`Settings.dbt_dir`), never into the project folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from kzdw.settings import DBT_PROJECT_DIR, Settings, installed_command

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = dbt_project.manifest_path
PARTIAL_PARSE = "partial_parse.msgpack"

DBT_EXECUTABLE = installed_command("dbt")


class ManifestMissing(RuntimeError):
    pass


def manifest_path() -> Path:
    """The prepared manifest, or ManifestMissing saying how to make it."""
    if not MANIFEST.exists():
        raise ManifestMissing(
            f"the dbt manifest {MANIFEST} is missing: run `make setup` (or `kzdw prepare`) "
            "once after installing or changing the dbt project"
        )
    return MANIFEST


def manifest_is_stale() -> bool:
    """True when a model, macro, seed, test or the project file is newer than the manifest."""
    if not MANIFEST.exists():
        return True
    built = MANIFEST.stat().st_mtime
    watched = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        watched.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


def prepare_manifest() -> subprocess.CompletedProcess[str]:
    """`dbt parse` into the project's own target folder: part of installing the code (the
    project is code; this is its build step), not of running a deployment."""
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        return subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target),
                "--log-path",
                str(target),
            ],
            cwd=DBT_PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


class KzdwDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, told the dbt version instead of asking `dbt --version` (a
    separate Python start, ≈4 s) before every invocation: the executable is the dbt-core
    installed beside this interpreter. It opens no dbt adapter of its own (see below)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        # dagster-dbt opens a dbt adapter in this process (1-3 s of imports and profile loading)
        # only to fetch row counts or column metadata, which these assets do not ask for.
        return None


dbt_resource = KzdwDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """dagster-dbt starts dbt with a copy of this process's environment and takes no
    environment of its own: the deployment's values are set for the moment dbt is started and
    put back after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invocation_folder(settings: Settings, run_id: str) -> Path:
    """A fresh artifact folder for one invocation, seeded with the deployment's saved parse so
    that dbt re-parses only what changed (a first invocation parses whole, ≈10-20 s)."""
    base = settings.dbt_dir
    folder = base / f"kzdw_dbt_models-{run_id[:8]}-{uuid.uuid4().hex[:7]}"
    folder.mkdir(parents=True, exist_ok=True)
    saved = base / PARTIAL_PARSE
    if saved.exists():
        shutil.copyfile(saved, folder / PARTIAL_PARSE)
    return folder


def keep_parse(settings: Settings, folder: Path) -> None:
    """The invocation's parse becomes the deployment's saved parse (replaced in one step)."""
    made = folder / PARTIAL_PARSE
    if made.exists():
        partial = settings.dbt_dir / f".{PARTIAL_PARSE}.{os.getpid()}.partial"
        shutil.copyfile(made, partial)
        os.replace(partial, settings.dbt_dir / PARTIAL_PARSE)
