"""Loader: one transaction per file, audit that accounts for every row and file."""

import errno
import hashlib
import os
import shutil

import duckdb
import pytest

from sources import readers
from sources.contracts import MARKET_ENTITIES, PERMIT_CASES
from sources.landing import scan
from sources.loader import DiskFull, load_pending
from sources.warehouse import ensure_schema
from tests.sources.test_validate import GOOD, RIC

HEADER = [c.header_zh for c in PERMIT_CASES.columns]


def _row(**change) -> list[str]:
    row = {**GOOD["permit_cases"], **change}
    return ["" if row[c.name] is None else row[c.name] for c in PERMIT_CASES.columns]


def _write(folder, name, rows, mtime):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    _write(folder, "b_first.csv", [_row(case_id="C1"), _row(case_id="C2", trips="x")], 1_000)
    _write(folder, "a_second.csv", [_row(case_id="C3")], 2_000)
    shutil.copy(folder / "b_first.csv", folder / "resent.csv")
    os.utime(folder / "resent.csv", (3_000, 3_000))
    (folder / "partial.csv.part").write_text("still being written")
    return tmp_path / "landing"


def test_files_in_order_of_arrival(landing):
    names = [f.name for f in scan(landing, PERMIT_CASES).files]
    assert names == ["b_first.csv", "a_second.csv", "resent.csv"]


def test_load_accounts_for_every_row_and_file(landing, tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    results = load_pending(con, landing, PERMIT_CASES, pii_key="k")
    assert [
        (r.file_name, r.status, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results
    ] == [
        ("b_first.csv", "loaded", 2, 1, 1),
        ("a_second.csv", "loaded", 1, 1, 0),
        ("resent.csv", "duplicate", 0, 0, 0),
    ]
    audit = con.execute(
        "select file_name, status, rows_read, rows_loaded, rows_rejected, duplicate_of "
        "from audit.file_loads order by load_id"
    ).fetchall()
    assert audit[2] == ("resent.csv", "duplicate", 0, 0, 0, audit_load_id(con, "b_first.csv"))
    rejected = con.execute(
        "select file_name, row_number, column_name, rule, value from audit.rejected_rows"
    ).fetchall()
    assert rejected == [("b_first.csv", 2, "trips", "invalid_integer", "x")]
    raw = con.execute(
        "select case_id, _file_name, _row_number, _load_id from raw.permit_cases order by _load_id"
    ).fetchall()
    assert [r[:3] for r in raw] == [("C1", "b_first.csv", 1), ("C3", "a_second.csv", 1)]
    # A second pass finds nothing new.
    assert load_pending(con, landing, PERMIT_CASES, pii_key="k") == []


def audit_load_id(con, name):
    return con.execute(
        "select load_id from audit.file_loads where file_name = ?", [name]
    ).fetchone()[0]


def test_personal_data_is_nowhere_in_clear(landing, tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    load_pending(con, landing, PERMIT_CASES, pii_key="k")
    masked, digest = con.execute(
        "select applicant_id_masked, applicant_id_hash from raw.permit_cases limit 1"
    ).fetchone()
    assert masked == RIC[:6] + "********" + RIC[-4:]
    assert isinstance(digest, int) and str(digest) != RIC
    con.close()
    assert RIC.encode() not in path.read_bytes()


def _digest(key: str, value: str) -> int:
    """The stored form of a keyed digest, worked out apart from the loader: the first 8 bytes
    of SHA-256(key|value), big-endian, as a signed 64-bit integer."""
    return int.from_bytes(
        hashlib.sha256(f"{key}|{value}".encode()).digest()[:8], "big", signed=True
    )


def test_keyed_digest_is_the_first_8_bytes_of_sha256_as_a_signed_bigint(tmp_path):
    folder = tmp_path / "landing" / "market_entities"
    folder.mkdir(parents=True)
    header = [c.header_zh for c in MARKET_ENTITIES.columns]
    rows = []
    # A lower-case x is stored upper-cased, so hashed so; the second representative has no name
    # or ID number, so no digest either.
    for event_id, name, rep_id in (("E1", "张三", RIC.lower()), ("E2", "", "")):
        row = {**GOOD["market_entities"], "event_id": event_id}
        row.update(legal_rep_name=name, legal_rep_id=rep_id)
        rows.append(",".join(row[c.name] or "" for c in MARKET_ENTITIES.columns))
    (folder / "e.csv").write_text("\n".join([",".join(header), *rows]) + "\n", encoding="utf-8")
    key = "k" * 32
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    [result] = load_pending(con, tmp_path / "landing", MARKET_ENTITIES, pii_key=key)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    stored = con.execute(
        "select event_id, legal_rep_name_hash, legal_rep_id_hash from raw.market_entities "
        "order by event_id"
    ).fetchall()
    assert stored == [
        ("E1", _digest(key, "张三"), _digest(key, RIC)),
        ("E2", None, None),
    ]
    # Both signs occur: the top bit of the first byte is the sign. sha256 of "kkk…k|<RIC>"
    # begins 0e 47 7c 00 89 7f 29 8c, which is 1028927381626104204.
    assert _digest(key, "张三") < 0 < _digest(key, RIC) == 1028927381626104204
    types = dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'raw' and table_name = 'market_entities'"
        ).fetchall()
    )
    assert types["legal_rep_name_hash"] == types["legal_rep_id_hash"] == "BIGINT"
    assert types["legal_rep_id_masked"] == "VARCHAR"


def test_a_warehouse_with_text_digests_is_migrated_to_the_same_bigints(tmp_path):
    # raw.permit_cases as an earlier release made it: the digest as 64 hex characters.
    key = "k" * 32
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    cols = ", ".join(
        f'"{n}" {"VARCHAR" if n == "applicant_id_hash" else t}'
        for n, t in PERMIT_CASES.raw_schema()
    )
    con.execute(f"create table raw.permit_cases ({cols})")
    values = [RIC, "91350100M000100Y43", None]
    for i, value in enumerate(values):
        hexdigest = None if value is None else hashlib.sha256(f"{key}|{value}".encode()).hexdigest()
        con.execute(
            "insert into raw.permit_cases (case_id, applicant_id_hash, _row_number) "
            "values (?, ?, ?)",
            [f"OLD{i}", hexdigest, i + 1],
        )
    # A mart dbt built from the old digests, and one without them.
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_permit_cases as "
        "select case_id, applicant_id_hash from raw.permit_cases"
    )
    con.execute("create table marts.kpi_values as select 1 as value")
    ensure_schema(con)
    ensure_schema(con)  # a second time finds nothing to do
    marts = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts'"
    ).fetchall()
    assert marts == [("kpi_values",)]  # the one holding text digests is left for dbt to rebuild
    migrated = con.execute(
        "select applicant_id_hash from raw.permit_cases order by _row_number"
    ).fetchall()
    assert migrated == [(_digest(key, RIC),), (_digest(key, "91350100M000100Y43"),), (None,)]
    assert con.execute(
        "select data_type from duckdb_columns() where table_name = 'permit_cases' "
        "and column_name = 'applicant_id_hash'"
    ).fetchone() == ("BIGINT",)
    # A load after the migration stores the same digest for the same person.
    folder = tmp_path / "landing" / "permit_cases"
    _write(folder, "new.csv", [_row(case_id="NEW1")], 1_000)
    load_pending(con, tmp_path / "landing", PERMIT_CASES, pii_key=key)
    same = con.execute(
        "select count(distinct applicant_id_hash), count(*) from raw.permit_cases "
        "where case_id in ('OLD0', 'NEW1')"
    ).fetchone()
    assert same == (1, 2)


def test_keyed_hash_depends_on_the_key(landing, tmp_path):
    hashes = []
    for key in ("k1", "k2"):
        con = duckdb.connect(str(tmp_path / f"{key}.duckdb"))
        load_pending(con, landing, PERMIT_CASES, pii_key=key)
        hashes.append(
            con.execute("select applicant_id_hash from raw.permit_cases limit 1").fetchone()[0]
        )
    assert hashes == [_digest("k1", RIC), _digest("k2", RIC)]


def test_a_file_that_fails_mid_load_leaves_nothing(landing, tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    # A raw table that cannot take trips = 0 makes the insert fail after the audit row is in.
    con.execute("create schema raw")
    cols = ", ".join(
        f'"{n}" {t}' + (" check (trips > 5)" if n == "trips" else "")
        for n, t in PERMIT_CASES.raw_schema()
    )
    con.execute(f"create table raw.permit_cases ({cols})")
    with pytest.raises(duckdb.ConstraintException):
        load_pending(con, landing, PERMIT_CASES, pii_key="k")
    assert con.execute("select count(*) from audit.file_loads").fetchone()[0] == 0
    assert con.execute("select count(*) from audit.rejected_rows").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.permit_cases").fetchone()[0] == 0


def test_set_aside_file_is_recorded_with_its_reason(tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    (folder / "no_key.csv").write_text("事项编码,办理渠道\nI1,全程网办\n", encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    [result] = load_pending(con, tmp_path / "landing", PERMIT_CASES, pii_key="k")
    assert result.status == "set_aside"
    status, reason = con.execute("select status, reason from audit.file_loads").fetchone()
    assert status == "set_aside" and reason.startswith("缺少必填列：办件编号")
    assert "missing required column(s): case_id" in reason


def test_settle_moves_known_files_and_leaves_new_ones(landing, tmp_path):
    from sources.loader import settle_files

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_pending(con, landing, PERMIT_CASES, pii_key="k")
    folder = landing / "permit_cases"
    (folder / "no_key.csv").write_text("事项编码\nI1\n", encoding="utf-8")
    load_pending(con, landing, PERMIT_CASES, pii_key="k")
    # Arrives after the last load: not known to the audit yet, so it stays for the next run.
    _write(folder, "late.csv", [_row(case_id="C9")], 9_000)

    moved = settle_files(con, landing, tmp_path / "archive", tmp_path / "quarantine", PERMIT_CASES)
    names = {src.name: dst.relative_to(tmp_path).as_posix() for src, dst in moved}
    ids = dict(con.execute("select file_name, load_id from audit.file_loads").fetchall())
    assert names == {
        "b_first.csv": f"archive/permit_cases/{ids['b_first.csv']:08d}__b_first.csv",
        "a_second.csv": f"archive/permit_cases/{ids['a_second.csv']:08d}__a_second.csv",
        "resent.csv": f"archive/permit_cases/{ids['resent.csv']:08d}__resent.csv",
        "no_key.csv": f"quarantine/permit_cases/{ids['no_key.csv']:08d}__no_key.csv",
    }
    reason = tmp_path / (names["no_key.csv"] + ".reason.txt")
    assert "缺少必填列：办件编号" in reason.read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == ["late.csv", "partial.csv.part"]
    settled = con.execute(
        "select settled_path from audit.file_loads where file_name = 'a_second.csv'"
    ).fetchone()[0]
    assert settled.endswith(names["a_second.csv"])


def test_an_unforeseen_reader_failure_sets_only_that_file_aside(landing, tmp_path, monkeypatch):
    import sources.loader as loader

    real = loader.read_file

    def failing(path, source, *, name=None):
        if name == "b_first.csv":
            raise RuntimeError("a reader bug\nwith a second line")
        return real(path, source, name=name)

    monkeypatch.setattr(loader, "read_file", failing)
    con = duckdb.connect()
    results = load_pending(con, landing, PERMIT_CASES, pii_key="k")
    outcome = {r.file_name: (r.status, r.rows_loaded) for r in results}
    # b_first.csv is set aside; resent.csv holds the same bytes but b_first.csv never loaded,
    # so it is read (the failure was b_first.csv's name, not its bytes) and loads.
    assert outcome == {
        "b_first.csv": ("set_aside", 0),
        "a_second.csv": ("loaded", 1),
        "resent.csv": ("loaded", 1),
    }
    reason = next(r.reason for r in results if r.file_name == "b_first.csv")
    assert reason.startswith("读取文件时发生意外错误（RuntimeError）")
    assert "a reader bug" in reason and "second line" not in reason


def test_many_extra_columns_are_named_briefly(tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    extras = [f"备注{i}" for i in range(7)]
    (folder / "wide.csv").write_text(
        ",".join(HEADER + extras) + "\n" + ",".join(_row() + [""] * 7) + "\n", encoding="utf-8"
    )
    [result] = load_pending(duckdb.connect(), tmp_path / "landing", PERMIT_CASES, pii_key="k")
    assert result.status == "loaded"
    assert result.reason == (
        "已忽略合同之外的列：备注0, 备注1, 备注2, 备注3, 备注4 等 7 列。 / extra columns ignored: "
        "备注0, 备注1, 备注2, 备注3, 备注4 and 2 more"
    )


def test_a_full_temporary_disk_while_reading_stops_the_load_and_keeps_the_file(
    tmp_path, monkeypatch
):
    def full(path, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(readers, "_gb18030_to_utf8", full)
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    text = "\n".join(",".join(r) for r in [HEADER, _row()]) + "\n"
    (folder / "gb.csv").write_bytes(text.encode("gb18030"))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(DiskFull, match="temporary folder"):
        load_pending(con, tmp_path / "landing", PERMIT_CASES, pii_key="k")
    # Not set aside: nothing is recorded, and the next run loads it.
    assert con.execute("select count(*) from audit.file_loads").fetchone() == (0,)
    monkeypatch.undo()
    [result] = load_pending(con, tmp_path / "landing", PERMIT_CASES, pii_key="k")
    assert (result.status, result.rows_loaded) == ("loaded", 1)
