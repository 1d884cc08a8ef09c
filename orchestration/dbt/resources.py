"""The dbt project and the dbt CLI resource."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.lib.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

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
    """`dbt parse` when the manifest is missing or older than the project (`dagster dev` does
    this itself through `prepare_if_dev`; the CLI and the tests come through here)."""
    if _stale(dbt_project.manifest_path):
        dbt_resource.cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
prepare_manifest()
