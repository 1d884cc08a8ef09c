"""`kzdw sql` (the DuckDB CLI, read only, on the serving copy) and `kzdw docs` (dbt docs site on
127.0.0.1)."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

import duckdb
import pytest

from sources.warehouse import publish_copy


@pytest.fixture
def serving(deployment):
    """A small serving copy, written as the publish step writes it (DuckDB's v1.5 storage
    format): two rows in marts.kpi_values."""
    deployment.serving.parent.mkdir(parents=True)
    live = duckdb.connect(str(deployment.warehouse))
    live.execute("create schema marts")
    live.execute(
        "create table marts.kpi_values as select * from (values "
        "('entities_total', date '2022-01-01', 100425::double, date '2023-06-30'), "
        "('avg_trips_per_case', date '2022-01-01', 0.11::double, date '2023-06-30')) "
        "as t(kpi_code, period_start, value, as_of)"
    )
    publish_copy(live, deployment.serving)
    live.close()
    return deployment


def test_sql_is_the_duckdb_cli_1_x_on_the_serving_copy(serving):
    run = serving.kzdw(
        "sql",
        "-c",
        "select kpi_code, value from marts.kpi_values where kpi_code = 'entities_total'; "
        "select count(*) as n from marts.kpi_values; select version() as v",
    )
    assert run.returncode == 0, run.output
    assert "entities_total" in run.output and "100425.0" in run.output
    assert re.search(r"│\s+n\s+│", run.output) and re.search(r"│\s+2\s+│", run.output)
    assert re.search(r"│\s+v1\.5\.\d+\s+│", run.output)  # the standard CLI, a 1.x reader


def test_sql_refuses_to_write(serving):
    run = serving.kzdw("sql", "-c", "delete from marts.kpi_values")
    assert run.returncode == 1
    assert "read-only" in run.output
    assert serving.query("select count(*) from marts.kpi_values", database=serving.serving) == [
        (2,)
    ]


def test_sql_cannot_reach_the_live_warehouse_or_any_other_file(serving):
    for statement in (
        f"attach '{serving.warehouse}' as live (read_only)",
        "select * from read_csv('/etc/passwd')",
        "set enable_external_access = true",
    ):
        run = serving.kzdw("sql", "-c", statement)
        assert run.returncode == 1, (statement, run.output)
        assert "disabled by configuration" in run.output or "locked" in run.output


def test_sql_csv_prints_every_row(serving):
    run = serving.kzdw(
        "sql",
        "--csv",
        "--max-rows",
        "1",
        "-c",
        "select kpi_code, value from marts.kpi_values order by kpi_code",
    )
    assert run.returncode == 0, run.output
    assert run.output == "kpi_code,value\navg_trips_per_case,0.11\nentities_total,100425.0\n"


def test_sql_reads_statements_piped_in(serving):
    proc = subprocess.run(
        [sys.executable, "-m", "kzdw.cli", "sql"],
        cwd=serving.root,
        env=serving.env(),
        input="select value\nfrom marts.kpi_values where kpi_code = 'avg_trips_per_case';\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0.11" in proc.stdout


def test_sql_without_a_serving_copy_says_what_to_run(deployment):
    run = deployment.kzdw("sql", "-c", "select 1")
    assert run.returncode == 2
    assert "no serving copy" in run.output and "kzdw run" in run.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_docs_without_a_serving_copy_says_what_to_run(deployment):
    run = deployment.kzdw("docs", "--port", str(_free_port()))
    assert run.returncode == 2
    assert "kzdw run" in run.output


@pytest.mark.slow
def test_docs_generates_the_catalogue_from_the_serving_copy_and_serves_it(demo, tmp_path):
    deployment, _ = demo
    port = _free_port()
    out = tmp_path / "site"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kzdw.cli", "docs", "--port", str(port), "--out", str(out)],
        cwd=deployment.root,
        env=deployment.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        index = None
        while index is None:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the docs site never answered"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html") as page:
                    index = page.read().decode("utf-8")
            except OSError:
                time.sleep(1)
        assert "dbt" in index
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json") as page:
            catalog = json.load(page)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    nodes = catalog["nodes"]
    marts = {n["metadata"]["name"] for n in nodes.values() if n["metadata"]["schema"] == "marts"}
    assert {"kpi_values", "kpi_scorecard", "kpi_breakdowns", "kpi_revisions"} <= marts
    assert {"fct_permit_cases", "dim_investment_projects", "dim_dates"} <= marts
    # The catalogue comes from the database: the columns of the built table, with their types.
    columns = nodes["model.kzdw.kpi_scorecard"]["columns"]
    assert columns["status"]["type"].upper() == "VARCHAR"
    assert (out / "catalog.json").exists() and (out / "manifest.json").exists()
