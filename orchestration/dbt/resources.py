"""The dbt project and the dbt CLI resource."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.lib.settings import DEFAULTS, PROJECT_ROOT, resolve

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def _warehouse_for_dbt() -> str:
    return str(resolve(os.environ.get("KZDW_WAREHOUSE") or DEFAULTS["KZDW_WAREHOUSE"]))


def target_path_for(warehouse: str) -> Path:
    """dbt's target folder for one warehouse file, relative to the dbt project.

    dbt's saved parse holds only for the profile it was made with, and the warehouse path is
    part of the profile: a parse for another path is redone whole (10-20 s). Each warehouse
    file keeps its own folder, so every run of one deployment reuses its parse, and two
    deployments of one checkout (the UI, a benchmark, tests side by side) never parse over
    each other."""
    digest = hashlib.sha256(warehouse.encode("utf-8")).hexdigest()[:12]
    return Path("target") / f"{Path(warehouse).stem}-{digest}"


WAREHOUSE_FOR_DBT = _warehouse_for_dbt()
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=target_path_for(WAREHOUSE_FOR_DBT),
)
TARGET_DIR = DBT_PROJECT_DIR / dbt_project.target_path
# dagster-dbt takes the saved parse from, and writes each invocation's artifacts under, the
# folder DBT_TARGET_PATH names.
os.environ["DBT_TARGET_PATH"] = str(TARGET_DIR)

# The dbt installed beside this interpreter, so that a run works without an activated venv.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


def _stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        watched.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


def prepare_manifest() -> None:
    """`dbt parse` when the manifest is missing or older than the project. It runs when the
    definitions are imported, so `kzdw`, every process of `dagster dev` and the tests come
    through here; processes that start together for one warehouse parse once, the others
    wait on the lock."""
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with (TARGET_DIR / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stale(dbt_project.manifest_path):
            # The same absolute path the runs give dbt (WarehouseResource.setup_for_execution).
            os.environ["KZDW_WAREHOUSE"] = WAREHOUSE_FOR_DBT
            dbt_resource.cli(["parse", "--quiet"], target_path=TARGET_DIR).wait()


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
prepare_manifest()
