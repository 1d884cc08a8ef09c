"""A deployment is its landing folder and its warehouse: with only the contract's settings,
from a working directory outside the code, `kzdw run` builds everything beside the warehouse
and writes nothing where the code is. Where this machine allows a mount, the code is run from
a read-only view of the checkout, as from an installed package in a read-only place."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.handmade import make_landing

pytestmark = pytest.mark.slow

SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the checkout but the VCS, the environment and Python's caches."""
    files = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            path = Path(folder, name)
            info = path.lstat()
            files[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return files


@pytest.fixture
def code(tmp_path):
    """The checkout seen through a read-only bind mount, or the checkout itself."""
    view = tmp_path / "code"
    view.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "--bind", str(PROJECT_ROOT), str(view)], capture_output=True
        ).returncode
        == 0
    )
    if (
        mounted
        and subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(view)], capture_output=True
        ).returncode
    ):
        subprocess.run(["umount", "-l", str(view)], check=False)
        mounted = False
    try:
        yield view if mounted else PROJECT_ROOT
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(view)], check=False)


def test_only_the_contracts_settings_make_a_whole_deployment_beside_the_warehouse(deployment, code):
    made = make_landing(deployment.root / "made", 31)
    shutil.copytree(made.root, deployment.landing)
    before = snapshot(PROJECT_ROOT)
    env = deployment.env(as_of="2022-12-31")
    # The code from `code`: a read-only mount is first on the path, ahead of the checkout.
    env["PYTHONPATH"] = str(code)
    proc = subprocess.run(
        [sys.executable, "-m", "kzdw.cli", "run"],
        cwd=deployment.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output

    root = deployment.root
    assert (root / "serving" / "warehouse.duckdb").is_file()
    assert {p.name for p in (root / "reports" / "2022-12-31").iterdir()} == {
        "report.html",
        "report.xlsx",
        "report.pdf",
    }
    assert list((root / "archive" / "permit_cases").iterdir())
    assert list((root / "quarantine").rglob("*.reason.txt"))
    assert list((root / "dbt" / "warehouse").glob("kzdw_dbt_models-*/run_results.json"))
    assert (root / "dbt" / "warehouse" / "partial_parse.msgpack").is_file()
    assert list((root / "logs").glob("run-*.log"))
    key = root / "warehouse.pii.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert deployment.query(
        "select count(*) from audit.deployment where setting = 'pii_key_fingerprint'"
    ) == [(1,)]
    assert snapshot(PROJECT_ROOT) == before


def test_kzdw_settings_shows_every_location_beside_the_warehouse(deployment):
    run = deployment.kzdw("settings")
    assert run.returncode == 0, run.output
    parts = [line.split(None, 1) for line in run.output.splitlines()]
    shown = {p[0]: p[1] if len(p) > 1 else "" for p in parts}
    root = deployment.root
    meminfo = Path("/proc/meminfo").read_text()
    memory_kib = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1))
    assert shown == {
        "KZDW_LANDING_DIR": str(root / "landing"),
        "KZDW_WAREHOUSE": str(root / "warehouse.duckdb"),
        "KZDW_AS_OF": "",
        "KZDW_SERVING": str(root / "serving" / "warehouse.duckdb"),
        "KZDW_ARCHIVE_DIR": str(root / "archive"),
        "KZDW_QUARANTINE_DIR": str(root / "quarantine"),
        "KZDW_REPORTS_DIR": str(root / "reports"),
        "KZDW_PII_KEY": f"(key file {root / 'warehouse.pii.key'})",
        "KZDW_DUCKDB_MEMORY_LIMIT": f"{memory_kib * 2 // 5 // 1024}MiB",
        "KZDW_DUCKDB_THREADS": str(os.cpu_count()),
        "KZDW_DUCKDB_TEMP_DIR": str(root / "warehouse.duckdb.tmp"),
        "KZDW_ENGINE": "duckdb",
        "KZDW_LAKE": str(root / "lake" / "warehouse"),
        "KZDW_SPARK_METHOD": "session",
        "KZDW_SPARK_HOST": "127.0.0.1",
        "KZDW_SPARK_PORT": "10000",
        "KZDW_SPARK_USER": "",
        "KZDW_SPARK_SCHEMA": "kzdw",
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
