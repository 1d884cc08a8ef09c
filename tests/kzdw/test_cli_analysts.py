"""`kzdw sql` (read-only shell on the serving copy) and `kzdw docs` (dbt docs site on
127.0.0.1)."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

import duckdb
import pytest

from kzdw.cli import analysts
from kzdw.settings import Settings


@pytest.fixture
def serving(deployment):
    """A small serving copy: two rows in marts.kpi_values."""
    deployment.serving.parent.mkdir(parents=True)
    con = duckdb.connect(str(deployment.serving))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_values as select * from (values "
        "('entities_total', date '2022-01-01', 100425::double, date '2023-06-30'), "
        "('avg_trips_per_case', date '2022-01-01', 0.11::double, date '2023-06-30')) "
        "as t(kpi_code, period_start, value, as_of)"
    )
    con.close()
    return deployment


def test_sql_c_runs_statements_on_the_serving_copy(serving):
    run = serving.kzdw(
        "sql",
        "-c",
        "select kpi_code, value from marts.kpi_values where kpi_code = 'entities_total'; "
        "select count(*) as n from marts.kpi_values",
    )
    assert run.returncode == 0, run.output
    assert "entities_total" in run.output and "100425.0" in run.output
    assert re.search(r"│\s+n\s+│", run.output) and re.search(r"│\s+2\s+│", run.output)


def test_sql_refuses_to_write(serving):
    run = serving.kzdw("sql", "-c", "delete from marts.kpi_values")
    assert run.returncode == 1
    assert "read-only" in run.output
    assert serving.query("select count(*) from marts.kpi_values", database=serving.serving) == [
        (2,)
    ]


def test_sql_csv_prints_every_row(serving, capsys):
    args = SimpleNamespace(
        sql="select kpi_code, value from marts.kpi_values order by kpi_code",
        csv=True,
        max_rows=1,
    )
    settings = Settings.from_env(serving.env())
    assert analysts.cmd_sql(args, settings) == 0
    assert capsys.readouterr().out == (
        "kpi_code,value\navg_trips_per_case,0.11\nentities_total,100425.0\n"
    )


def test_sql_without_a_serving_copy_says_what_to_run(deployment):
    run = deployment.kzdw("sql", "-c", "select 1")
    assert run.returncode == 2
    assert "no serving copy" in run.output and "kzdw run" in run.output


def test_the_shell_reads_statements_over_several_lines(serving, monkeypatch, capsys):
    lines = iter(
        [
            ".tables %kpi%",
            "select value",
            "from marts.kpi_values where kpi_code = 'avg_trips_per_case';",
            "select 'a;b' as text; -- a ';' in a string or a comment ends nothing",
            "drop table marts.kpi_values;",
            ".maxrows 5",
            ".nonsense",
        ]
    )

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr(analysts, "HISTORY_FILE", serving.root / "history")
    con = analysts.open_read_only(serving.serving)
    try:
        assert analysts.Shell(con, serving.serving).loop() == 0
    finally:
        con.close()
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "KPIs as of 2023-06-30" in out
    assert "marts.kpi_values" in out
    assert "0.11" in out and "a;b" in out
    assert "read-only mode" in out
    assert "unknown command .nonsense" in out


@pytest.mark.parametrize(
    "text, complete",
    [
        ("select 1", False),
        ("select 1;", True),
        ("select 1;  \n", True),
        ("select ';'", False),
        ("select 'it''s';", True),
        ("select 1 -- the end;", False),
        ("select 1; -- done", True),
        ("select /* ; */ 1", False),
        ('select 1 as "a;"', False),
        ("select 'open;", False),
    ],
)
def test_statement_complete(text, complete):
    assert analysts.statement_complete(text) is complete


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
