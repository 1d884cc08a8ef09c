"""Settings of a deployment, from `KZDW_*` environment variables (see `.env.example`)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Every step that opens the warehouse for writing (or reads it while a writer might hold it)
# runs in this pool, limited to one slot in the instance's dagster.yaml: DuckDB allows a
# single writing process, so runs queue for the slot instead of failing on the file lock.
WAREHOUSE_POOL = "duckdb_warehouse"

DEFAULTS = {
    "KZDW_LANDING_DIR": "data/landing",
    "KZDW_WAREHOUSE": "data/warehouse.duckdb",
    "KZDW_SERVING": "data/serving/warehouse.duckdb",
    "KZDW_ARCHIVE_DIR": "data/archive",
    "KZDW_QUARANTINE_DIR": "data/quarantine",
    "KZDW_AS_OF": "",
    "KZDW_PII_KEY": "kzdw-demo-key-change-me",
}


def resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (PROJECT_ROOT / p)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file, the landing folder and the as-of date.

    dbt reads the same settings through `env_var()` in `dbt_project/profiles.yml`, so on set-up
    the resolved absolute values are exported to the environment the dbt subprocess inherits.
    """

    landing_dir: str = DEFAULTS["KZDW_LANDING_DIR"]
    warehouse: str = DEFAULTS["KZDW_WAREHOUSE"]
    serving: str = DEFAULTS["KZDW_SERVING"]
    archive_dir: str = DEFAULTS["KZDW_ARCHIVE_DIR"]
    quarantine_dir: str = DEFAULTS["KZDW_QUARANTINE_DIR"]
    as_of: str = ""
    pii_key: str = DEFAULTS["KZDW_PII_KEY"]

    @property
    def landing_path(self) -> Path:
        return resolve(self.landing_dir)

    @property
    def warehouse_path(self) -> Path:
        return resolve(self.warehouse)

    @property
    def archive_path(self) -> Path:
        return resolve(self.archive_dir)

    @property
    def quarantine_path(self) -> Path:
        return resolve(self.quarantine_dir)

    @property
    def serving_path(self) -> Path:
        return resolve(self.serving)

    def as_of_date(self) -> date | None:
        return date.fromisoformat(self.as_of) if self.as_of else None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.as_of:
            try:
                date.fromisoformat(self.as_of)
            except ValueError as exc:
                raise dg.Failure(
                    f"KZDW_AS_OF={self.as_of!r} is not a date; set it as YYYY-MM-DD or unset it "
                    "to use the latest updated_at among loaded rows"
                ) from exc
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["KZDW_WAREHOUSE"] = str(self.warehouse_path)
        os.environ["KZDW_AS_OF"] = self.as_of

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse_path), read_only=read_only)


def warehouse_resource() -> WarehouseResource:
    """Bound to the environment at run time: `.env` under `dagster dev`, the CLI's defaults
    under `kzdw run` (see `apply_defaults`)."""
    return WarehouseResource(
        landing_dir=dg.EnvVar("KZDW_LANDING_DIR"),
        warehouse=dg.EnvVar("KZDW_WAREHOUSE"),
        serving=dg.EnvVar("KZDW_SERVING"),
        archive_dir=dg.EnvVar("KZDW_ARCHIVE_DIR"),
        quarantine_dir=dg.EnvVar("KZDW_QUARANTINE_DIR"),
        as_of=dg.EnvVar("KZDW_AS_OF"),
        pii_key=dg.EnvVar("KZDW_PII_KEY"),
    )


def apply_defaults() -> None:
    """Fill unset `KZDW_*` variables with their documented defaults (CLI and tests)."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
