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
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from kzdw.settings import DBT_PROJECT_DIR, Settings, dbt_command
from orchestration.lib import prepared_parse, warm_dbt
from orchestration.lib.prepared_parse import prepare_environment

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = dbt_project.manifest_path
PARTIAL_PARSE = "partial_parse.msgpack"

# dbt and its Python, from dbt's own environment (dbt_env/): this process never imports dbt.
DBT_EXECUTABLE = dbt_command("dbt")
DBT_PYTHON = dbt_command("python")


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
    project is code; this is its build step), not of running a deployment: no deployment's
    settings (KZDW_*) enter it, whoever runs it, so that deployments can start from its parse
    (`prepared_parse`)."""
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = {**prepare_environment(os.environ), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
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
    separate Python start, ≈4 s) before every invocation: the version of the dbt that made the
    prepared manifest, the executable's. It opens no dbt adapter of its own (see below)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        with manifest_path().open("rb") as manifest:
            return version.parse(json.load(manifest)["metadata"]["dbt_version"])

    def _initialize_dbt_core_adapter(self, args):
        # dagster-dbt opens a dbt adapter in this process (1-3 s of imports and profile loading)
        # only to fetch row counts or column metadata, which these assets do not ask for.
        return None


# Through the warm dbt server where the run has one (`warm_dbt`), else dbt itself.
dbt_resource = KzdwDbtCliResource(project_dir=dbt_project, dbt_executable=warm_dbt.dbt_executable())


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


# The profile's outputs: the DuckDB warehouse (the profile's default) and Spark.
DUCKDB_OUTPUT = "dev"
SPARK_OUTPUT = "spark"


def output_of(settings: Settings) -> str:
    """The profile output that builds the models on the deployment's engine."""
    return SPARK_OUTPUT if settings.engine == "spark" else DUCKDB_OUTPUT


def target_args(output: str) -> list[str]:
    return [] if output == DUCKDB_OUTPUT else ["--target", output]


def saved_parse(settings: Settings, output: str) -> Path:
    """The deployment's saved parse for one output of the profile (a parse holds only for the
    output it was made with: with Spark, the builds and the DuckDB staging views each keep
    their own instead of parsing whole in turn)."""
    name = PARTIAL_PARSE if output == DUCKDB_OUTPUT else f"partial_parse.{output}.msgpack"
    return settings.dbt_dir / name


def outputs_of(settings: Settings) -> list[str]:
    """The outputs a run of the deployment invokes dbt with, the build's first: with Spark, the
    DuckDB output makes the staging views over the raw layer after the publish."""
    build = output_of(settings)
    return [build] if build == DUCKDB_OUTPUT else [build, DUCKDB_OUTPUT]


@contextlib.contextmanager
def _parse_lock(settings: Settings, output: str, exclusive: bool) -> Iterator[None]:
    """Held exclusively while the deployment's first parse for an output is made, shared while
    an invocation copies the saved parse: an invocation waits for a parse under way instead of
    parsing too (and only for its own output's)."""
    settings.dbt_dir.mkdir(parents=True, exist_ok=True)
    name = ".parse.lock" if output == DUCKDB_OUTPUT else f".parse.{output}.lock"
    with (settings.dbt_dir / name).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def invocation_folder(settings: Settings, run_id: str, output: str | None = None) -> Path:
    """A fresh artifact folder for one invocation, seeded with the deployment's saved parse so
    that dbt re-parses only what changed (a first invocation parses whole, ≈10-20 s)."""
    base = settings.dbt_dir
    folder = base / f"kzdw_dbt_models-{run_id[:8]}-{uuid.uuid4().hex[:7]}"
    folder.mkdir(parents=True, exist_ok=True)
    output = output or output_of(settings)
    saved = saved_parse(settings, output)
    with _parse_lock(settings, output, exclusive=False):
        if saved.exists():
            shutil.copyfile(saved, folder / PARTIAL_PARSE)
    return folder


def keep_parse(settings: Settings, folder: Path, output: str | None = None) -> None:
    """The invocation's parse becomes the deployment's saved parse (replaced in one step)."""
    made = folder / PARTIAL_PARSE
    if made.exists():
        saved = saved_parse(settings, output or output_of(settings))
        partial = saved.with_name(f".{saved.name}.{os.getpid()}.partial")
        shutil.copyfile(made, partial)
        os.replace(partial, saved)


def _dbt_environment(settings: Settings, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        **settings.dbt_env(),
        "DBT_TARGET_PATH": str(folder),
        "DBT_LOG_PATH": str(folder),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }


def run_dbt(
    settings: Settings, args: list[str], folder: Path, output: str
) -> subprocess.CompletedProcess[bytes]:
    """dbt started as dagster-dbt starts it for the deployment (its environment and folders),
    for what is not a build of assets: the parse ahead, the DuckDB staging views."""
    return subprocess.run(
        [DBT_EXECUTABLE, *args, *target_args(output)],
        cwd=DBT_PROJECT_DIR,
        env=_dbt_environment(settings, folder),
        capture_output=True,
        check=False,
    )


def adopt_prepared_parse(settings: Settings, folder: Path) -> bool:
    """The parse made with the code saved as the deployment's DuckDB parse, when only what no
    parsed node reads tells their connections apart (`prepared_parse`): ≈3 s of CPU instead
    of a whole parse's ≈10. False, with nothing written, when it cannot be."""
    result = subprocess.run(
        # -P: the script's folder is not put on the path, where `dbt.py` would stand for dbt.
        [DBT_PYTHON, "-P", prepared_parse.__file__, str(saved_parse(settings, DUCKDB_OUTPUT))],
        cwd=DBT_PROJECT_DIR,
        env=_dbt_environment(settings, folder),
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def spark_table_folder(settings: Settings, schema: str, name: str) -> Path:
    """Where a Spark build leaves the Parquet files of a table people read, for the publish
    into DuckDB: the lake's _published/<layer>/<table>/ (macros/export_to_lake.sql), which a
    local session and a Thrift Server write alike."""
    return settings.lake / "_published" / schema / name


_parsing_ahead: set[Path] = set()
_parsing_ahead_lock = threading.Lock()


def start_parse_ahead(settings: Settings) -> None:
    """`parse_ahead` in a thread, once per deployment and process (a run's raw steps each call
    this while their files load). Not a daemon thread: a run that ends first waits for the
    parse, which would otherwise be cut off and made again by the next run."""
    if all(saved_parse(settings, output).exists() for output in outputs_of(settings)):
        return
    with _parsing_ahead_lock:
        if settings.dbt_dir in _parsing_ahead:
            return
        _parsing_ahead.add(settings.dbt_dir)
    threading.Thread(target=parse_ahead, args=(settings,), name="dbt-parse-ahead").start()


def parse_ahead(settings: Settings) -> bool:
    """Make the deployment's saved parses now, for each output its runs use (`outputs_of`) that
    has none, so that its first build does not parse the whole project (≈10 s) after the
    loads: a run's raw steps start this in a thread while their files load
    (`start_parse_ahead`). A parse holds only for the profile it was made with, and the
    profile names the deployment's warehouse: the DuckDB output's is the parse made with the
    code (`kzdw prepare`) where that holds for it too (`adopt_prepared_parse`), and otherwise
    one made as the build's own would be (same environment, target and folders). An
    invocation that starts meanwhile waits for its output's. True when a parse was saved."""
    made = False
    for output in outputs_of(settings):
        made = _parse_ahead(settings, output) or made
    return made


def _parse_ahead(settings: Settings, output: str) -> bool:
    saved = saved_parse(settings, output)
    if saved.exists():
        return False
    with _parse_lock(settings, output, exclusive=True):
        if saved.exists():
            return False
        folder = Path(tempfile.mkdtemp(prefix=".parse-", dir=settings.dbt_dir))
        try:
            if output == DUCKDB_OUTPUT and adopt_prepared_parse(settings, folder):
                return True
            if run_dbt(settings, ["parse", "--quiet"], folder, output).returncode != 0:
                return False  # the build parses for itself and reports what is wrong
            keep_parse(settings, folder, output)
            return True
        finally:
            shutil.rmtree(folder, ignore_errors=True)
