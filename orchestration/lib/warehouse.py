"""The deployment's settings (`kzdw.settings`) as the Dagster resource every asset, check and
sensor receives."""

from __future__ import annotations

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from kzdw.settings import Settings, SettingsError
from sources.warehouse import WarehouseUnreadable, open_warehouse

# Every step that opens the warehouse for writing (or reads it while a writer might hold it)
# runs in this pool, limited to one slot in the instance's dagster.yaml: DuckDB allows a
# single writing process, so runs queue for the slot instead of failing on the file lock.
WAREHOUSE_POOL = "duckdb_warehouse"

# Resource field -> the variable it stands for. The personal-data key is not among them: it
# never travels in run configuration (KZDW_PII_KEY or the key file beside the warehouse).
FIELDS = {
    "landing_dir": "KZDW_LANDING_DIR",
    "warehouse": "KZDW_WAREHOUSE",
    "as_of": "KZDW_AS_OF",
    "serving": "KZDW_SERVING",
    "archive_dir": "KZDW_ARCHIVE_DIR",
    "quarantine_dir": "KZDW_QUARANTINE_DIR",
    "reports_dir": "KZDW_REPORTS_DIR",
    "duckdb_memory_limit": "KZDW_DUCKDB_MEMORY_LIMIT",
    "duckdb_threads": "KZDW_DUCKDB_THREADS",
    "duckdb_temp_dir": "KZDW_DUCKDB_TEMP_DIR",
    "engine": "KZDW_ENGINE",
    "lake": "KZDW_LAKE",
    "spark_method": "KZDW_SPARK_METHOD",
    "spark_host": "KZDW_SPARK_HOST",
    "spark_port": "KZDW_SPARK_PORT",
    "spark_user": "KZDW_SPARK_USER",
    "spark_schema": "KZDW_SPARK_SCHEMA",
}


class WarehouseResource(dg.ConfigurableResource):
    """The deployment: landing folder, warehouse file and everything derived from them.

    In the code location the fields are empty and the settings are read from the process's
    `KZDW_*` variables when a run, check or sensor tick starts (never at import). `kzdw run`
    fills every field with the settings it resolved, so a run of the CLI and its progress
    lines agree on every path."""

    landing_dir: str | None = None
    warehouse: str | None = None
    as_of: str | None = None
    serving: str | None = None
    archive_dir: str | None = None
    quarantine_dir: str | None = None
    reports_dir: str | None = None
    duckdb_memory_limit: str | None = None
    duckdb_threads: str | None = None
    duckdb_temp_dir: str | None = None
    engine: str | None = None
    lake: str | None = None
    spark_method: str | None = None
    spark_host: str | None = None
    spark_port: str | None = None
    spark_user: str | None = None
    spark_schema: str | None = None

    _settings: Settings | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, settings: Settings) -> WarehouseResource:
        env = settings.to_env()
        return cls(**{name: env[var] for name, var in FIELDS.items()})

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides = {var: getattr(self, name) for name, var in FIELDS.items()}
            try:
                self._settings = Settings.from_env(**overrides)
            except SettingsError as exc:
                raise dg.Failure(str(exc)) from exc
        return self._settings

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        try:
            settings = self.settings
            return open_warehouse(
                settings.warehouse, read_only=read_only, config=settings.duckdb_config()
            )
        except WarehouseUnreadable as exc:
            raise dg.Failure(str(exc)) from exc
