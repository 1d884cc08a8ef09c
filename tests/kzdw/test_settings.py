"""DuckDB's resources come from the deployment's settings: kzdw's connections and dbt's alike."""

from __future__ import annotations

import json
import subprocess

import pytest

from kzdw.settings import DBT_PROJECT_DIR, Settings, SettingsError, dbt_command
from orchestration.lib.warehouse import WarehouseResource


def _settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"KZDW_WAREHOUSE": str(tmp_path / "w.duckdb"), **env}, cwd=tmp_path)


def test_duckdb_settings_default_to_a_share_of_memory_every_cpu_and_a_folder_beside(tmp_path):
    settings = _settings(tmp_path)
    pages = open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]
    assert settings.duckdb_memory_limit == f"{int(pages) * 2 // 5 // 1024}MiB"
    assert settings.duckdb_temp_dir == tmp_path / "w.duckdb.tmp"


@pytest.mark.parametrize(
    ("given", "stored"), [("8GiB", "8GiB"), ("1.5 gb", "1.5GB"), ("700mib", "700MiB")]
)
def test_a_memory_limit_reaches_the_warehouse_connection(tmp_path, given, stored):
    settings = _settings(tmp_path, KZDW_DUCKDB_MEMORY_LIMIT=given, KZDW_DUCKDB_THREADS="1")
    assert settings.duckdb_memory_limit == stored
    con = WarehouseResource.of(settings).connect()
    try:
        limit, threads, temp = con.execute(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')"
        ).fetchone()
    finally:
        con.close()
    number = float(given.split("g")[0].split("G")[0].split("m")[0])
    unit = 2**30 if "gi" in given.lower() else 10**9 if "g" in given.lower() else 2**20
    shown_value, shown_unit = limit.split()
    shown_unit_bytes = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10}[shown_unit]
    # DuckDB prints the limit to a tenth of its unit.
    assert abs(float(shown_value) * shown_unit_bytes - number * unit) <= 0.1 * shown_unit_bytes
    assert threads == 1
    assert temp == str(tmp_path / "w.duckdb.tmp")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KZDW_DUCKDB_MEMORY_LIMIT", "lots"),
        ("KZDW_DUCKDB_MEMORY_LIMIT", "0GB"),
        ("KZDW_DUCKDB_MEMORY_LIMIT", "-1GB"),
        ("KZDW_DUCKDB_THREADS", "0"),
        ("KZDW_DUCKDB_THREADS", "two"),
    ],
)
def test_a_resource_setting_that_cannot_work_is_refused_with_what_to_give(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name) as caught:
        _settings(tmp_path, **{name: value})
    assert "give" in str(caught.value)


def test_the_engine_defaults_to_duckdb_with_a_lake_beside_the_warehouse(tmp_path):
    settings = _settings(tmp_path)
    assert (settings.engine, settings.spark_method) == ("duckdb", "session")
    assert settings.lake == tmp_path / "lake" / "w"
    assert settings.spark_dir == tmp_path / "spark" / "w"
    assert (settings.spark_host, settings.spark_port, settings.spark_schema) == (
        "127.0.0.1",
        10000,
        "kzdw",
    )
    spark = _settings(
        tmp_path,
        KZDW_ENGINE="Spark",
        KZDW_LAKE="elsewhere/lake",
        KZDW_SPARK_METHOD="thrift",
        KZDW_SPARK_HOST="spark.internal",
        KZDW_SPARK_PORT="10001",
        KZDW_SPARK_USER="etl",
        KZDW_SPARK_SCHEMA="kz_dw",
    )
    assert (spark.engine, spark.spark_method, spark.spark_port) == ("spark", "thrift", 10001)
    assert spark.lake == tmp_path / "elsewhere" / "lake"
    # Every process kzdw starts gets the same settings back from its environment.
    assert Settings.from_env(spark.to_env()) == spark


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KZDW_ENGINE", "postgres"),
        ("KZDW_SPARK_METHOD", "http"),
        ("KZDW_SPARK_PORT", "70000"),
        ("KZDW_SPARK_PORT", "ten"),
        ("KZDW_SPARK_SCHEMA", "kz-dw"),
        ("KZDW_SPARK_SCHEMA", "1kz"),
    ],
)
def test_an_engine_setting_that_cannot_work_is_refused_with_what_to_give(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name) as caught:
        _settings(tmp_path, **{name: value})
    assert "give" in str(caught.value)


def test_dbt_connects_with_the_same_duckdb_settings(tmp_path):
    settings = _settings(tmp_path, KZDW_DUCKDB_MEMORY_LIMIT="1GiB", KZDW_DUCKDB_THREADS="1")
    query = (
        "select current_setting('memory_limit') as memory_limit, "
        "current_setting('threads') as threads, current_setting('temp_directory') as temp"
    )
    proc = subprocess.run(
        [
            dbt_command("dbt"),
            "show",
            "--inline",
            query,
            "--output",
            "json",
            "--log-format",
            "json",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**settings.dbt_env(), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shown = None
    for line in proc.stdout.splitlines():
        data = json.loads(line).get("data", {})
        if "preview" in data:
            shown = json.loads(data["preview"])[0]
    assert shown == {
        "memory_limit": "1.0 GiB",
        "threads": 1,
        "temp": str(tmp_path / "w.duckdb.tmp"),
    }


def test_a_build_that_spills_goes_on_with_the_next_models(tmp_path):
    """A model that sorts beyond the memory limit spills to the temporary folder; the models
    after it, each on a new cursor, still run (DuckDB refuses to set the temporary folder again
    once it has been used, so dbt must not set it per cursor)."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: spill\nversion: '1.0.0'\nconfig-version: 2\nprofile: kzdw\n"
        "flags: {send_anonymous_usage_stats: false}\n"
        "models: {spill: {+materialized: table}}\n"
    )
    (project / "models" / "sorted.sql").write_text(
        "select i, md5(i::varchar) as h from range(4000000) t(i) order by h"
    )
    for name in ("after_a", "after_b", "after_c"):
        (project / "models" / f"{name}.sql").write_text(
            "select count(*) as n from {{ ref('sorted') }}"
        )
    settings = _settings(tmp_path, KZDW_DUCKDB_MEMORY_LIMIT="100MiB", KZDW_DUCKDB_THREADS="1")
    proc = subprocess.run(
        [
            dbt_command("dbt"),
            "run",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=project,
        env={**settings.dbt_env(), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # With the folder set per cursor, after_a, after_b and after_c fail ("Cannot switch
    # temporary directory after the current one has been used"): the sort did spill.
    assert "PASS=4" in proc.stdout
