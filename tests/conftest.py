"""Shared fixtures: a real CLI run of the real Dagster job on a temporary warehouse."""

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CliRun:
    returncode: int
    output: str


@dataclass
class Deployment:
    """A landing folder, a warehouse file and a Dagster home, all under tmp_path."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving" / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    def env(self, as_of: str = "") -> dict[str, str]:
        """Only the settings the landing contract names, as an operator (and every outside
        check) sets them: everything else derives from these."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DAGSTER_", "DBT_"))
        }
        env.update(
            KZDW_LANDING_DIR=str(self.landing),
            KZDW_WAREHOUSE=str(self.warehouse),
            KZDW_AS_OF=as_of,
            DAGSTER_HOME=str(self.dagster_home),
        )
        return env

    def kzdw(
        self,
        *args: str,
        as_of: str = "",
        timeout: int = 900,
        extra_env: dict[str, str] | None = None,
    ) -> CliRun:
        proc = subprocess.run(
            [sys.executable, "-m", "kzdw.cli", *args],
            cwd=self.root,
            env={**self.env(as_of), **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliRun(proc.returncode, proc.stdout + proc.stderr)

    def query(
        self, sql: str, params: list | None = None, database: Path | None = None
    ) -> list[tuple]:
        con = duckdb.connect(str(database or self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture
def deployment(tmp_path) -> Deployment:
    return Deployment(tmp_path)


@pytest.fixture(scope="session")
def demo(tmp_path_factory, worker_id) -> tuple[Deployment, str]:
    """The demo landing set built once (`kzdw demo`, then `kzdw run`, ~2 min) and shared by
    every test that reads it: (deployment, output of `kzdw run`). Tests only read it (the
    warehouse, the serving copy) and write anything of their own under their own tmp paths.
    Under pytest-xdist the workers share one build: the first to need it builds it in the
    session's base folder while the others wait on the lock."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the session's, above each worker's own
    deployment = Deployment(root / "demo")
    built = root / "demo.built"
    with (root / "demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            shutil.rmtree(deployment.root, ignore_errors=True)
            deployment.root.mkdir(parents=True)
            made = deployment.kzdw("demo")
            assert made.returncode == 0, made.output
            run = deployment.kzdw("run")
            assert run.returncode == 0, run.output
            built.write_text(run.output, encoding="utf-8")
    return deployment, built.read_text(encoding="utf-8")


# `make test` runs pytest in two workers, each taking a whole module at a time, in the order
# collected (`-n 2 --dist loadscope --no-loadscope-reorder`). These modules are handed out
# first, longest first (seconds on the 2-core CI machine, two workers at once), the demo's
# first reader at the head so the shared demo is built while the other worker runs the Spark
# build, which reads the demo last; then the rest in collection order.
FIRST = [
    "tests.test_demo_end_to_end",  # builds the shared demo (≈130 s), then ≈40 s
    "tests.dbt.test_spark_build",  # ≈500 s, the demo's build on Spark last
    "tests.test_end_to_end",  # ≈330 s
    "tests.test_spark_engine",  # ≈300 s
    "tests.test_daemon_end_to_end",  # ≈300 s
    "tests.test_faults",  # ≈170 s
    "tests.test_kpi_revisions",  # ≈150 s
    "tests.dbt.test_dbt_build",  # ≈130 s
    "tests.test_crash_safety",  # ≈120 s
    "tests.kzdw.test_cli_run",  # ≈20 s
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(FIRST)))
