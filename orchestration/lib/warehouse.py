"""The deployment's settings (`kzdw.settings`) as the Dagster resource every asset, check and
sensor receives."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from kzdw.settings import Settings, SettingsError
from sources.warehouse import WarehouseUnreadable, open_warehouse

# Every step that opens the warehouse for writing (or reads it while a writer might hold it)
# runs in this pool, limited to one slot in the instance's dagster.yaml: DuckDB allows a
# single writing process, so runs queue for the slot instead of failing on the file lock.
WAREHOUSE_POOL = "duckdb_warehouse"
# The run tag that says which engine built the models (KZDW_ENGINE).
ENGINE_TAG = "kzdw/engine"
# How often a step waiting for the warehouse's slot (warehouse_slot) asks again.
SLOT_POLL_SECONDS = 0.5

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


@contextlib.contextmanager
def warehouse_slot(
    instance: dg.DagsterInstance, run_id: str, claim: str, log=None
) -> Iterator[None]:
    """The slot of the warehouse's pool, held for part of a step: the dbt step, which with
    KZDW_ENGINE=spark writes the DuckDB file only to bring the lake up to date before its build
    and to publish the marts after it, holds it for those parts and not while Spark computes,
    so that loads go on meanwhile. `claim` names the holder in the instance's pool view (the
    step's key and the part). The slot is taken as the executor takes a step's, from the same
    pool and limit, and given back at the end, or, when the process dies, by whatever frees
    the run's slots (the daemon, or the next `kzdw run`)."""
    storage = instance.event_log_storage
    pools = instance.get_concurrency_config().pool_config
    granularity = getattr(pools.pool_granularity, "value", pools.pool_granularity)
    if not storage.supports_global_concurrency_limits or granularity == "run":
        yield  # no op-level pools here (the whole run holds the pool, or nothing limits it)
        return
    limits = {pool.name: pool for pool in storage.get_pool_limits()}
    if WAREHOUSE_POOL not in limits and pools.default_pool_limit is not None:
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        limits = {pool.name: pool for pool in storage.get_pool_limits()}
    if WAREHOUSE_POOL not in limits:
        yield  # the pool has no limit on this instance
        return
    said = False
    try:
        # Freeing also takes a claim that is still waiting out of the pool's queue.
        while not storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, claim).is_claimed:
            _give_way(storage, run_id, claim)
            if log is not None and not said:
                log.info(f"{claim}: waiting for the warehouse's writer slot ({WAREHOUSE_POOL})")
                said = True
            time.sleep(SLOT_POLL_SECONDS)
        yield
    finally:
        storage.free_concurrency_slot_for_step(run_id, claim)


def _give_way(storage, run_id: str, claim: str) -> None:
    """Take this run's other waiting steps out of the pool's queue. The executor queues a claim
    for a step that the pool blocks and goes on with other steps, this one among them; a slot
    freed meanwhile goes to the first claim in the queue, which may be one of those steps. It
    cannot start until this step ends (one step at a time, the in-process executor), and this
    step waits for that slot: two runs would wait for each other for ever (a `kzdw run`
    beside the daemon's runs did). A step that has not started holds nothing: the executor
    claims again, at the back of the queue, when it comes back to it."""
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    started = {(s.run_id, s.step_key) for s in info.claimed_slots}
    for step in info.pending_steps:
        if step.run_id == run_id and step.step_key != claim:
            if (step.run_id, step.step_key) not in started:
                storage.free_concurrency_slot_for_step(run_id, step.step_key)


@contextlib.contextmanager
def spark_turn(settings: Settings, log=None) -> Iterator[None]:
    """One Spark build at a time for a deployment, from bringing the lake up to date to the
    publish: two builds would write the same Spark tables and published files, and two local
    sessions cannot both open the deployment's Derby metastore. A second run's dbt step waits
    here (a file lock in KZDW_SPARK_DIR, given back when the process ends however it ends);
    the warehouse's writer slot is not held meanwhile, so loads go on."""
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    with (settings.spark_dir / ".build.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log is not None:
                log.info("waiting for another run's Spark build of this deployment to end")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def tag_engine(context: dg.AssetExecutionContext, engine: str) -> None:
    """The engine shows on the run, whatever started it (a sensor, automation, a schedule, the
    UI or `kzdw run`): the run's first step that knows it adds the tag."""
    if context.run.tags.get(ENGINE_TAG) != engine:
        context.instance.add_run_tags(context.run_id, {ENGINE_TAG: engine})
