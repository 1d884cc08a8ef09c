"""KZDW_ENGINE=spark end to end: the same landing files through `kzdw run` on both engines
leave the same warehouse for analysts, the report and outside checks.

The loader is the same on both; with Spark, dbt builds the models on Spark from the lake and
the marts and seeds are published into the DuckDB warehouse. Spark's
`marts.kpi_values` is compared with the oracle (an independent reading of KPIS.md) and every
published table, the audit and the serving copy with the DuckDB engine's. Spark here is the
default, a local session in dbt's process (KZDW_SPARK_METHOD=session). Then the production
target: a Spark Thrift Server, started by `kzdw spark-server` as an operator would on one
machine over the same metastore and lake, rebuilds the KPI table and runs its tests through
dbt's `thrift` method (a whole build there costs minutes more for no other finding: the same
models and tests, the same SQL)."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest

from kzdw.settings import Settings
from orchestration.lib.dbt import manifest_path, spark_table_folder
from tests.conftest import HANDMADE_KEY, Deployment
from tests.dbt.spark_lake import dbt, same_value
from tests.oracle import compute_kpis, read_landing
from tests.test_end_to_end import _assert_same_kpis, _kpis

pytestmark = [pytest.mark.slow, pytest.mark.spark]

# The shared hand-made run's key: both engines hash personal data alike.
KEY = HANDMADE_KEY
# What the two engines compute: the published schemas, every table in them.
PUBLISHED = ("marts", "seeds")
# Columns that say when or by which run a row was written, not what it holds.
STAMPS = {"_built_at", "built_at", "build_id", "loaded_at", "_loaded_at", "run_id", "settled_path"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def thrift_server(deployment: Deployment, extra_env: dict[str, str]):
    """`kzdw spark-server` for the deployment, until its port answers; stopped after."""
    port = _free_port()
    log = deployment.root / "spark-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kzdw.cli", "spark-server", "--port", str(port)],
            cwd=deployment.root,
            env={**deployment.env(), **extra_env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def engines(handmade_run, tmp_path_factory):
    """The same landing files through `kzdw run` on DuckDB (the session's shared hand-made
    run, tests/conftest.py) and on Spark (a local session, the default method)."""
    made, duck, duck_output = handmade_run
    runs = {"duckdb": (duck, duck_output)}
    spark = Deployment(tmp_path_factory.mktemp("engines") / "spark")
    shutil.copytree(made.root, spark.landing)
    run = spark.kzdw("run", extra_env={"KZDW_ENGINE": "spark", "KZDW_PII_KEY": KEY})
    assert run.returncode == 0, run.output
    runs["spark"] = (spark, run.output)
    return made, runs


def _tables(deployment: Deployment, schemas=PUBLISHED) -> dict[str, list[tuple[str, str]]]:
    listed = ", ".join(f"'{s}'" for s in schemas)
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in deployment.query(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        f"where schema_name in ({listed}) and database_name = current_database() "
        "order by schema_name, table_name, column_index"
    ):
        columns.setdefault(f"{schema}.{table}", []).append((column, kind))
    return columns


def _rows(deployment: Deployment, table: str, columns: list[str]) -> list[tuple]:
    names = ", ".join(f'"{c}"' for c in columns)
    return deployment.query(f"select {names} from {table} order by all")


def _same_rows(a: list[tuple], b: list[tuple]) -> bool:
    """The same rows in the same order, floats within same_value's tolerance."""
    return len(a) == len(b) and all(
        all(same_value(x, y) for x, y in zip(ra, rb, strict=True))
        for ra, rb in zip(a, b, strict=True)
    )


def test_spark_kpis_match_the_oracle(engines):
    made, runs = engines
    spark, output = runs["spark"]
    assert "dbt build on spark" in output
    _assert_same_kpis(_kpis(spark), compute_kpis(read_landing(made.root)))


def test_every_check_on_spark_ends_as_on_duckdb(engines):
    """The build's data tests ran on Spark, and every check (theirs and the loads') ended as
    with DuckDB: the same counts, one warning (case C2 names an item the catalogue lacks)."""
    _, runs = engines
    counts = {}
    for engine, (_, output) in runs.items():
        found = re.search(r"checks: (\d+) passed, (\d+) warned, (\d+) failed", output)
        assert found, output[-3000:]
        counts[engine] = tuple(int(n) for n in found.groups())
    assert counts["spark"] == counts["duckdb"]
    passed, warned, failed = counts["spark"]
    # Every data test of the project ran: all but the warning passed, besides the loads' own.
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    data_tests = sum(n["resource_type"] == "test" for n in manifest["nodes"].values())
    assert (warned, failed) == (1, 0) and passed > data_tests - 1 > 100


def test_every_published_table_equals_the_duckdb_engines(engines):
    _, runs = engines
    duck, spark = runs["duckdb"][0], runs["spark"][0]
    tables = _tables(duck)
    assert {"marts.kpi_values", "marts.fct_permit_cases", "seeds.kpi_definitions"} <= set(tables)
    # The same tables, columns in the same order and of the same DuckDB types.
    assert _tables(spark) == tables
    differ = []
    for table, columns in tables.items():
        names = [c for c, _ in columns if c not in STAMPS]
        a, b = _rows(duck, table, names), _rows(spark, table, names)
        if not _same_rows(a, b):
            differ.append((table, len(a), len(b)))
    assert not differ, f"tables that differ (table, DuckDB rows, Spark rows): {differ}"
    # The comments analysts see in their tools travel too.
    comments = (
        "select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = 'marts' order by all"
    )
    assert spark.query(comments) == duck.query(comments)


def test_the_audit_is_the_same_whichever_engine(engines):
    _, runs = engines
    duck, spark = runs["duckdb"][0], runs["spark"][0]
    for table, order in (("audit.file_loads", "load_id"), ("audit.rejected_rows", "all")):
        columns = [
            c
            for (c,) in duck.query(
                "select column_name from duckdb_columns() where schema_name = 'audit' "
                f"and table_name = '{table.split('.')[1]}' order by column_index"
            )
            if c not in STAMPS and c not in ("file_path", "file_modified_at")
        ]
        names = ", ".join(columns)
        sql = f"select {names} from {table} order by {order}"
        assert spark.query(sql) == duck.query(sql), table


def test_analysts_see_the_same_serving_copy(engines):
    _, runs = engines
    duck, spark = runs["duckdb"][0], runs["spark"][0]
    # Staging views too, over the same raw layer.
    views = "select schema_name, view_name from duckdb_views() where not internal order by all"
    assert spark.query(views, database=spark.serving) == duck.query(views, database=duck.serving)
    sql = "select kpi_code, period_type, period_start, value from marts.kpi_values order by all"
    copies = spark.query(sql, database=spark.serving), duck.query(sql, database=duck.serving)
    assert len(copies[0]) == len(copies[1]) > 0
    for a, b in zip(*copies, strict=True):
        assert a[:3] == b[:3] and (a[3] is b[3] is None or same_value(a[3], b[3])), (a, b)


def test_the_lake_holds_every_accepted_batch(engines):
    _, runs = engines
    spark = runs["spark"][0]
    lake = spark.root / "lake" / "warehouse"
    loads = spark.query(
        "select source, load_id from audit.file_loads where rows_loaded > 0 order by all"
    )
    folders = sorted(
        (p.parent.parent.name, int(p.parent.name.removeprefix("load=")))
        for p in lake.glob("*/load=*/*.parquet")
    )
    assert folders == loads
    # Nothing of Spark's in the checkout or the working folder: all beside the warehouse.
    assert (spark.root / "spark" / "warehouse").is_dir()
    assert not (spark.root / "metastore_db").exists() and not (spark.root / "derby.log").exists()


def test_the_engine_shows_on_the_run_and_the_assets(engines):
    _, runs = engines
    spark = runs["spark"][0]
    with dg.DagsterInstance.from_config(str(spark.dagster_home)) as instance:
        (run,) = instance.get_runs(limit=1)
        assert run.tags["kzdw/engine"] == "spark"
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "kpi_values"]))
        metadata = event.asset_materialization.metadata
        assert metadata["engine"].value == "spark"


@pytest.fixture(scope="module")
def through_thrift(engines):
    """The production target: `kzdw spark-server` started for the Spark deployment, over the
    metastore and lake its `kzdw run` left, and dbt's `thrift` method rebuilding the KPI table
    and running its tests there: (dbt's result and run results, the published files before,
    when the build started)."""
    _, runs = engines
    spark = runs["spark"][0]
    env = {"KZDW_ENGINE": "spark", "KZDW_PII_KEY": KEY}
    settings = Settings.from_env({**spark.env(), **env})
    published = spark_table_folder(settings, "marts", "kpi_values")
    before = sorted(p.name for p in published.glob("*.parquet"))
    workdir = spark.root / "thrift"
    with thrift_server(spark, env) as port:
        started = time.time()
        thrift = {
            **settings.dbt_env(),
            "KZDW_SPARK_METHOD": "thrift",
            "KZDW_SPARK_PORT": str(port),
        }
        result = dbt(workdir, "build", "--target", "spark", "--select", "kpi_values", env=thrift)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    results = json.loads((workdir / "target" / "run_results.json").read_text("utf-8"))
    return result, results["results"], before, started, published


def test_a_thrift_server_rebuilds_the_kpis_and_runs_their_tests(through_thrift, engines):
    result, results, before, started, published = through_thrift
    assert "target='spark'" in result.stdout
    models = [r["unique_id"] for r in results if r["unique_id"].startswith("model.")]
    assert models == ["model.kzdw.kpi_values"]
    ended = {
        (r["unique_id"].split(".")[0], r["status"])
        for r in results
        if r["unique_id"].startswith(("model.", "test."))
    }
    assert ended == {("model", "success"), ("test", "pass")}
    assert sum(r["unique_id"].startswith("test.") for r in results) >= 3
    # Written anew by the server, and the same rows as the DuckDB engine's.
    files = sorted(published.glob("*.parquet"))
    assert files and before and all(p.stat().st_mtime >= started for p in files)
    duck = engines[1]["duckdb"][0]
    names = [c for c, _ in _tables(duck)["marts.kpi_values"] if c not in STAMPS]
    select = ", ".join(f'"{c}"' for c in names)
    con = duckdb.connect()
    try:
        rebuilt = con.execute(
            f"select {select} from read_parquet(?) order by all", [str(published / "*.parquet")]
        ).fetchall()
    finally:
        con.close()
    expected = _rows(duck, "marts.kpi_values", names)
    assert len(expected) > 0 and _same_rows(rebuilt, expected)
