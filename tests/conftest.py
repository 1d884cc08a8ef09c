"""Shared fixtures: a real CLI run of the real Dagster job on a temporary warehouse."""

import os
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
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
        env.update(
            KZDW_LANDING_DIR=str(self.landing),
            KZDW_WAREHOUSE=str(self.warehouse),
            KZDW_SERVING=str(self.serving),
            KZDW_ARCHIVE_DIR=str(self.root / "archive"),
            KZDW_QUARANTINE_DIR=str(self.root / "quarantine"),
            KZDW_AS_OF=as_of,
            KZDW_PII_KEY="test-key",
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
            [sys.executable, "-m", "orchestration.cli", *args],
            cwd=PROJECT_ROOT,
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
def demo(tmp_path_factory) -> tuple[Deployment, str]:
    """The demo landing set built once (`kzdw demo`, then `kzdw run`, ~90 s) and shared by
    every test that reads it: (deployment, output of `kzdw run`). Tests only read it (the
    warehouse, the serving copy) and write anything of their own under their own tmp paths."""
    deployment = Deployment(tmp_path_factory.mktemp("demo"))
    made = deployment.kzdw("demo")
    assert made.returncode == 0, made.output
    run = deployment.kzdw("run")
    assert run.returncode == 0, run.output
    return deployment, run.output
