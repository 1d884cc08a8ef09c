"""The lake (KZDW_ENGINE=spark): every accepted batch as Parquet, in place only once its load
has committed, and made to hold exactly the raw layer's loads."""

import duckdb
import pytest

from sources import lake
from sources.contracts import PERMIT_CASES
from sources.loader import ingest, load_pending
from tests.sources.test_loader import _row, _write


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    _write(folder, "first.csv", [_row(case_id="C1"), _row(case_id="C2", trips="x")], 1_000)
    _write(folder, "second.csv", [_row(case_id="C3"), _row(case_id="C4")], 2_000)
    # Every row rejected: a load with no accepted batch, which the lake does not hold.
    _write(folder, "third.csv", [_row(case_id="C5", trips="x")], 3_000)
    return tmp_path / "landing"


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _same_rows(con, parquet, load_id) -> None:
    raw = con.execute(
        f"select * from raw.permit_cases where _load_id = {load_id} order by _row_number"
    ).fetchall()
    part = con.execute(
        f"select * from read_parquet('{parquet}', hive_partitioning = false) order by _row_number"
    ).fetchall()
    assert raw and part == raw


def test_each_accepted_batch_is_a_parquet_file_of_the_raw_rows(landing, tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    root = tmp_path / "lake"
    results = load_pending(con, landing, PERMIT_CASES, pii_key="k" * 16, lake=root)
    assert [(r.status, r.rows_loaded) for r in results] == [
        ("loaded", 1),
        ("loaded", 2),
        ("loaded", 0),
    ]
    first, second, third = (r.load_id for r in results)
    files = _files(root)
    assert [f.split("/")[:2] for f in files] == [
        ["permit_cases", f"load={first}"],
        ["permit_cases", f"load={second}"],
    ]
    for load_id, name in zip((first, second), files, strict=True):
        _same_rows(con, root / name, load_id)
    # The same columns and types as the raw table: Spark's raw relations are declared from it.
    raw_types = con.execute("describe raw.permit_cases").fetchall()
    part_types = con.execute(
        f"describe select * from read_parquet('{root / files[0]}', hive_partitioning = false)"
    ).fetchall()
    assert [row[:2] for row in part_types] == [row[:2] for row in raw_types]
    assert third not in (first, second)


class _FailingCommit:
    """A connection whose commit fails, as a full disk or a killed process would make it."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def commit(self):
        raise duckdb.IOException("could not write the WAL")


def test_a_load_that_does_not_commit_leaves_nothing_in_the_lake(landing, tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    root = tmp_path / "lake"
    with pytest.raises(duckdb.IOException):
        load_pending(_FailingCommit(con), landing, PERMIT_CASES, pii_key="k" * 16, lake=root)
    assert con.execute("select count(*) from raw.permit_cases").fetchone()[0] == 0
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_ingest_makes_the_lake_hold_exactly_the_loads_and_the_audit(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    root = tmp_path / "lake"
    # A load the lake lost (a process stopped between its commit and the rename) and a folder
    # of another warehouse's load.
    con = duckdb.connect(str(warehouse))
    load_pending(con, landing, PERMIT_CASES, pii_key="k" * 16, files=[], lake=root)
    con.close()
    stray = root / "permit_cases" / "load=999"
    stray.mkdir(parents=True)
    (stray / "part-0123456789abcdef.parquet").write_bytes(b"not ours")

    def connect():
        return duckdb.connect(str(warehouse))

    kw = dict(
        landing_dir=landing,
        archive_dir=tmp_path / "archive",
        quarantine_dir=tmp_path / "quarantine",
        pii_key="k" * 16,
    )
    done = ingest(connect, PERMIT_CASES, lake=root, **kw)
    loaded = [r.load_id for r in done.results if r.rows_loaded]
    assert len(loaded) == 2
    assert not stray.exists()
    lost = next((root / "permit_cases" / f"load={loaded[0]}").iterdir())
    lost.unlink()
    lines = []
    ingest(connect, PERMIT_CASES, lake=root, say=lambda line, warn: lines.append(line), **kw)
    assert lost.exists()
    assert any("a load the lake lacked" in line for line in lines)
    con = connect()
    _same_rows(con, lost, loaded[0])
    audit = con.execute("select * from audit.file_loads order by load_id").fetchall()
    assert audit and (
        con.execute(f"select * from read_parquet('{lake.audit_file(root)}')").fetchall() == audit
    )
