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


def built_once(tmp_path_factory, worker_id, name: str, build) -> tuple[Path, str]:
    """A folder made once per test session by `build(folder) -> str` and shared by every test
    and every pytest-xdist worker that needs it: the first to need it builds it in the
    session's base folder while the others wait on the lock. (folder, what `build` returned.)
    Tests only read it and write anything of their own under their own tmp paths."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the session's, above each worker's own
    folder = root / name
    built = root / f"{name}.built"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            built.write_text(build(folder), encoding="utf-8")
    return folder, built.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def demo(tmp_path_factory, worker_id) -> tuple[Deployment, str]:
    """The demo landing set built once (`kzdw demo`, then `kzdw run`, ~2 min) and shared by
    every test that reads it: (deployment, output of `kzdw run`)."""

    def build(folder: Path) -> str:
        deployment = Deployment(folder)
        made = deployment.kzdw("demo")
        assert made.returncode == 0, made.output
        run = deployment.kzdw("run")
        assert run.returncode == 0, run.output
        return run.output

    folder, output = built_once(tmp_path_factory, worker_id, "demo", build)
    return Deployment(folder), output


# The personal-data key of the shared hand-made run: the Spark engine's run of the same files
# uses it too, so that both hash alike.
HANDMADE_KEY = "hand-made-run-test-key-012345678"
HANDMADE_SEED = 21


@pytest.fixture(scope="session")
def handmade_run(tmp_path_factory, worker_id):
    """`kzdw run` on the hand-made landing set of seed 21 (tests/handmade), once, shared as the
    demo is: (the hand-made set, its deployment, output of `kzdw run`)."""
    from tests.handmade import make_landing

    def build(folder: Path) -> str:
        made = make_landing(folder / "made", HANDMADE_SEED)
        deployment = Deployment(folder / "deployment")
        shutil.copytree(made.root, deployment.landing)
        run = deployment.kzdw("run", extra_env={"KZDW_PII_KEY": HANDMADE_KEY})
        assert run.returncode == 0, run.output
        return run.output

    folder, output = built_once(tmp_path_factory, worker_id, "handmade", build)
    made = make_landing(tmp_path_factory.mktemp("handmade_made"), HANDMADE_SEED)
    return made, Deployment(folder / "deployment"), output


def copy_of_handmade_run(handmade_run, root: Path) -> Deployment:
    """A deployment of one's own under `root` that starts where the shared hand-made run
    ended, for a test about what comes after a first build: its warehouse, serving copy,
    Dagster home (runs, materialisations, check results), archive and report, and the run's
    personal-data key as the deployment's key file, so that later runs hash alike. Not dbt's
    files of the deployment or the logs: the copy's first build starts from the prepared parse
    as any new deployment does. The shared run's audit rows keep the paths it loaded from."""
    import dagster as dg

    from kzdw.settings import Settings

    _, shared, _ = handmade_run
    deployment = Deployment(root)
    shutil.copytree(shared.root, root, ignore=shutil.ignore_patterns("dbt", "logs"))
    # A run copied while going on would hold the copy's warehouse slot for ever.
    with dg.DagsterInstance.from_config(str(deployment.dagster_home)) as instance:
        going_on = [(r.job_name, r.status.value) for r in instance.get_runs() if not r.is_finished]
    assert not going_on, f"a run was going on in the shared Dagster home: {going_on}"
    key = Settings.from_env(deployment.env()).pii_key_file
    key.write_text(HANDMADE_KEY + "\n", encoding="utf-8")
    key.chmod(0o600)
    return deployment


@pytest.fixture
def handmade_copy(handmade_run, tmp_path) -> Deployment:
    """A copy of the shared hand-made run's deployment (copy_of_handmade_run)."""
    return copy_of_handmade_run(handmade_run, tmp_path / "deployment")


@pytest.fixture(scope="session")
def raw_rows_build(tmp_path_factory, worker_id) -> tuple[Path, Path]:
    """`dbt build` (every model, seed, data test and unit test) on the hand-made raw rows of
    tests/dbt/raw_rows.py, once, shared as the demo is: (its folder, holding dbt's target/ and
    logs/, and the warehouse `w.duckdb` in it)."""
    from tests.dbt.test_dbt_build import _dbt_build, _make_warehouse

    def build(folder: Path) -> str:
        warehouse = folder / "w.duckdb"
        _make_warehouse(warehouse, with_rows=True)
        result = _dbt_build(folder, warehouse)
        assert result.returncode == 0, result.stdout[-6000:]
        return ""

    folder, _ = built_once(tmp_path_factory, worker_id, "raw_rows_build", build)
    return folder, folder / "w.duckdb"


# `make test` runs pytest in two workers, each taking a whole module at a time, in the order
# collected (`-n 2 --dist loadscope --no-loadscope-reorder`). These modules are handed out
# first, longest first (seconds on the 2-core CI machine, two workers at once), the demo's
# first reader at the head so the shared demo is built while the other worker runs the Spark
# build, which reads the demo last, and the Spark engine next, which builds the shared
# hand-made run that the end-to-end tests read; then the rest in collection order.
FIRST = [
    "tests.test_demo_end_to_end",  # builds the shared demo (≈145 s), then ≈30 s
    "tests.dbt.test_spark_build",  # ≈465 s, the demo's build on Spark last
    "tests.test_spark_engine",  # ≈465 s, the shared hand-made run (≈65 s) first
    "tests.test_end_to_end",  # ≈135 s
    "tests.test_faults",  # ≈260 s
    "tests.test_daemon_end_to_end",  # ≈355 s, on the shared hand-made run's copy
    "tests.test_kpi_revisions",  # ≈55 s
    "tests.dbt.test_dbt_build",  # ≈115 s, the shared build of the hand-made rows first
    "tests.test_crash_safety",  # ≈140 s
    "tests.kzdw.test_cli_run",  # ≈90 s
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(FIRST)))
