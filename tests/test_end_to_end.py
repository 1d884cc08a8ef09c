"""End to end: landing files → `kzdw run` (the real Dagster job, dbt project and DuckDB file)
→ `marts.kpi_values` and the audit tables, compared with an independent reading of the
contracts (tests/oracle.py) on data built for the purpose."""

import math
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import HANDMADE_KEY
from tests.handmade import make_landing
from tests.oracle import compute_kpis, read_landing

pytestmark = pytest.mark.slow

DUCKDB_CLI = str(Path(sys.executable).with_name("duckdb"))


def _kpis(deployment):
    return {
        (code, ptype, start): value
        for code, ptype, start, value in deployment.query(
            "select kpi_code, period_type, period_start, value from marts.kpi_values"
        )
    }


def _assert_same_kpis(actual, expected):
    assert set(actual) == set(expected), (
        f"missing {sorted(set(expected) - set(actual))[:10]}, "
        f"extra {sorted(set(actual) - set(expected))[:10]}"
    )
    wrong = []
    for key, want in expected.items():
        got = actual[key]
        if want is None or got is None:
            if want is not got:
                wrong.append((key, got, want))
        elif not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            wrong.append((key, got, want))
    assert not wrong, f"{len(wrong)} KPI values differ (got, expected): {wrong[:15]}"


def _build(deployment, seed):
    landing = make_landing(deployment.root / "made", seed)
    shutil.copytree(landing.root, deployment.landing)
    return landing


def test_kpis_and_audit_match_the_contract(handmade_run):
    """The session's shared `kzdw run` of a hand-made landing set (tests/conftest.py)."""
    made, deployment, _ = handmade_run
    _assert_the_contract(deployment, made, as_of="")


def test_kpis_and_audit_match_the_contract_as_of_a_day_within_the_year(deployment):
    made = _build(deployment, 12)
    run = deployment.kzdw("run", as_of="2022-08-15")
    assert run.returncode == 0, run.output
    _assert_the_contract(deployment, made, as_of="2022-08-15")


def _assert_the_contract(deployment, made, as_of: str) -> None:
    # The run moved the files out of the landing folder: the oracle reads the originals.
    oracle = read_landing(made.root)
    expected = compute_kpis(oracle, as_of=date.fromisoformat(as_of) if as_of else None)
    _assert_same_kpis(_kpis(deployment), expected)

    files = deployment.query(
        "select source, file_name, status, rows_read, rows_loaded, rows_rejected "
        "from audit.file_loads order by load_id"
    )
    assert sorted(files) == sorted(
        (f.source, f.file_name, f.status, f.rows_read, f.rows_loaded, f.rows_rejected)
        for f in oracle.files
    )
    for _, _, _, read, loaded, rejected in files:
        assert read == loaded + rejected
    rejected = deployment.query(
        "select source, file_name, row_number, rule from audit.rejected_rows"
    )
    assert sorted(rejected) == sorted(made.rejects)
    assert sorted(rejected) == sorted(
        (r.source, r.file_name, r.row_number, r.rule) for r in oracle.rejected
    )
    raw = dict(
        deployment.query(
            "select 'market_entities', count(*) from raw.market_entities union all "
            "select 'permit_cases', count(*) from raw.permit_cases union all "
            "select 'service_items', count(*) from raw.service_items union all "
            "select 'investment_projects', count(*) from raw.investment_projects"
        )
    )
    assert raw == {source: len(rows) for source, rows in oracle.items()}

    # Files after loading: the landing folder is empty, loaded and duplicate files are in the
    # archive, set-aside ones in quarantine beside the reason.
    assert [p for p in deployment.landing.rglob("*") if p.is_file()] == []
    archived = sorted(p.name.split("__", 1)[1] for p in (deployment.root / "archive").rglob("*.*"))
    assert archived == sorted(f.file_name for f in oracle.files if f.status != "set_aside")
    quarantined = sorted((deployment.root / "quarantine").rglob("*.reason.txt"))
    assert len(quarantined) == sum(f.status == "set_aside" for f in oracle.files) > 0
    assert "missing required column" in quarantined[0].read_text(encoding="utf-8")

    # Analysts' copy: published after the checks passed, the same KPI table.
    serving = deployment.query("select count(*) from marts.kpi_values", database=deployment.serving)
    assert serving == deployment.query("select count(*) from marts.kpi_values")
    # ...which the standard DuckDB CLI, a 1.x reader, opens: tables and staging views alike.
    # The descriptions travel with the copy: every mart table and column has its comment.
    counts = (
        "select (select count(*) from marts.kpi_values) || ',' || "
        "(select count(*) from staging.stg_permit_cases__cases) || ',' || "
        "(select count(*) from duckdb_tables() where schema_name = 'marts' and comment is null)"
        " || ',' || (select count(*) from duckdb_columns() where schema_name = 'marts' "
        "and comment is null)"
    )
    cli = subprocess.run(
        [DUCKDB_CLI, "-readonly", "-noheader", "-list", str(deployment.serving), "-c", counts],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == deployment.query(counts)[0][0]
    assert cli.stdout.strip().endswith(",0,0")


def test_replay_rebuilds_the_same_kpis(handmade_run, tmp_path):
    """`kzdw replay` of the shared hand-made run's archive, with the deployment's key, into a
    new warehouse: the same KPI table, and the live warehouse untouched. The replay's Dagster
    run goes to a Dagster home of the test's own: other tests copy the shared one."""
    _, deployment, _ = handmade_run
    table = "select * from marts.kpi_values order by kpi_code, period_type, period_start"
    before = deployment.query(table)
    replayed = tmp_path / "replay" / "warehouse.duckdb"
    home = tmp_path / "dagster_home"
    home.mkdir()
    run = deployment.kzdw(
        "replay",
        "--into",
        str(replayed),
        extra_env={"KZDW_PII_KEY": HANDMADE_KEY, "DAGSTER_HOME": str(home)},
    )
    assert run.returncode == 0, run.output
    assert deployment.query(table, database=replayed) == before
    assert deployment.query(table) == before
