"""Every command refuses bad input before it does any work, in one line that says what is
allowed, with exit status 2 and no traceback."""

import socket

import duckdb
import pytest

from kzdw.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("KZDW_SERVING", "KZDW_ARCHIVE_DIR", "KZDW_QUARANTINE_DIR", "KZDW_REPORTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KZDW_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("KZDW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("KZDW_AS_OF", "")
    monkeypatch.delenv("KZDW_PII_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _serving(root):
    path = root / "serving" / "warehouse.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_values as select 'entities_total' as kpi_code, "
        "'经营主体总量' as kpi_name_zh, 'year' as period_type, date '2022-01-01' as period_start, "
        "100425.0 as value, 'count' as unit, null::double as target, date '2022-12-31' as as_of"
    )
    con.close()
    return path


CASES = [
    (["demo", "--scale", "-1"], "--scale: -1 is out of range: give a number above 0"),
    (["demo", "--scale", "0"], "out of range"),
    (["demo", "--scale", "abc"], "'abc' is not a number"),
    (["demo", "--seed", "-5"], "--seed must be from 0"),
    (["run", "--as-of", "2022-13-01"], "is not a date: give it as YYYY-MM-DD"),
    (["run", "--as-of", "yesterday"], "is not a date"),
    (["kpis", "--year", "99999"], "--year must be from 1900 to 2999"),
    (["dev", "--port", "70000"], "--port must be from 1 to 65535"),
    (["dev", "--port", "0"], "--port must be from 1 to 65535"),
    (["docs", "--port", "70000"], "--port must be from 1 to 65535"),
    (["sql", "--max-rows", "-1"], "--max-rows must be from 1"),
    (["sql", "--max-rows", "ten"], "'ten' is not a whole number"),
    (["rejects", "--source", "nope"], "invalid choice: 'nope'"),
    (["rejects", "--since", "2022/01/01"], "is not a date"),
    (["nope"], "invalid choice: 'nope'"),
]


@pytest.mark.parametrize(("argv", "said"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_arguments_are_refused_in_one_line(env, capsys, argv, said):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert said in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_report_into_an_unwritable_folder_is_refused_before_the_report(env, capsys):
    _serving(env)
    assert main(["report", "--out", "/proc/nope"]) == 2
    err = capsys.readouterr().err
    assert "--out /proc/nope cannot be written" in err
    assert not (env / "reports").exists()


def test_docs_on_a_busy_port_is_refused_before_generating(env, capsys):
    _serving(env)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["docs", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is not free" in err
    assert not (env / "serving" / "docs" / "manifest.json").exists()


def test_kpis_for_a_year_without_values_says_which_years_there_are(env, capsys):
    path = _serving(env)
    (env / "warehouse.duckdb").write_bytes(path.read_bytes())
    assert main(["kpis", "--year", "1999"]) == 1
    assert "no KPI values for 1999: the warehouse holds years 2022–2022" in capsys.readouterr().err


def test_replay_into_the_live_warehouse_is_refused(env, capsys):
    (env / "warehouse.duckdb").write_bytes(b"")
    assert main(["replay", "--into", str(env / "warehouse.duckdb")]) == 2
    assert "is the live warehouse" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("KZDW_AS_OF", "2022-02-30", "KZDW_AS_OF (or --as-of) is '2022-02-30', not a date"),
        ("KZDW_PII_KEY", "short", "holds a key of 5 characters: use at least 16"),
        ("KZDW_PII_KEY", "kzdw-demo-key-change-me", "the published demo key"),
        ("KZDW_SERVING", "/tmp/x/other.duckdb", "must have the warehouse's file name"),
        ("KZDW_ARCHIVE_DIR", "landing/archive", "is inside the landing folder"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(env, capsys, monkeypatch, name, value, said):
    monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    assert said in capsys.readouterr().err
    assert not (env / "warehouse.duckdb").exists()


def test_a_key_file_others_can_read_is_refused(env, capsys):
    key = env / "warehouse.pii.key"
    key.write_text("x" * 64, encoding="utf-8")
    key.chmod(0o644)
    assert main(["run"]) == 2
    assert f"chmod 600 {key}" in capsys.readouterr().err
