"""The dbt project and the dbt CLI resource."""

from __future__ import annotations

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

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# The dbt installed beside this interpreter, so that a run works without an activated venv.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


# dbt re-parses the whole project (10-20 s) when the profile's connection differs from the one
# the saved parse was made with, and the warehouse path is part of it. The parse is redone
# here when the path changed, so that every run of one deployment reuses it.
PARSED_FOR = DBT_PROJECT_DIR / dbt_project.target_path / ".kzdw-parsed-for-warehouse"


def _warehouse_for_dbt() -> str:
    return str(resolve(os.environ.get("KZDW_WAREHOUSE") or DEFAULTS["KZDW_WAREHOUSE"]))


def _stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    if not PARSED_FOR.exists() or PARSED_FOR.read_text(encoding="utf-8") != _warehouse_for_dbt():
        return True
    built = manifest.stat().st_mtime
    watched = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        watched.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


def prepare_manifest() -> None:
    """`dbt parse` when the manifest is missing or older than the project (`dagster dev` does
    this itself through `prepare_if_dev`; the CLI and the tests come through here)."""
    if _stale(dbt_project.manifest_path):
        warehouse = _warehouse_for_dbt()
        # The same absolute path the runs give dbt (WarehouseResource.setup_for_execution).
        os.environ["KZDW_WAREHOUSE"] = warehouse
        dbt_resource.cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
        PARSED_FOR.write_text(warehouse, encoding="utf-8")


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
