"""The serving copy brought up to date from the previous one holds exactly what a whole copy
would: every row of every table, every view, comment and sequence; and the DuckDB 1.5 CLI reads
it. Only what changed is written."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import duckdb
import pytest

from kzdw.settings import installed_command
from sources.serving import FINGERPRINTED_ROWS, MIN_FREE_BLOCKS, NotRefreshable, refresh_copy
from sources.warehouse import publish_copy

BIG = 300_000


def _live(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("set enable_progress_bar = false")
    for schema in ("raw", "audit", "marts", "staging"):
        con.execute(f"create schema {schema}")
    con.execute("create sequence audit.load_id_seq start 1")
    con.execute(
        "create table raw.cases as select (i % 3 + 1)::bigint as _load_id, 'c' || i as case_id, "
        "i % 7 as trips from range(?) t(i)",
        [BIG],
    )
    con.execute(
        "create table audit.rejected_rows (load_id bigint not null, row_number integer, "
        "message varchar not null)"
    )
    con.execute("insert into audit.rejected_rows values (1, 5, '必填 / required')")
    con.execute(
        "create table audit.file_loads (load_id bigint primary key, file_name varchar not null)"
    )
    con.execute("insert into audit.file_loads values (1, 'a.csv'), (2, 'b.csv'), (3, 'c.csv')")
    con.execute(
        "create table marts.fct_cases as select case_id, max(trips) as trips, "
        "timestamp '2023-01-01 08:00:00' as _built_at from raw.cases group by case_id"
    )
    con.execute(
        "create table marts.kpi_values as select 'trips' as kpi_code, avg(trips) as value "
        "from raw.cases"
    )
    con.execute("create table marts.gone as select 1 as x")
    con.execute("create view staging.cases as select * from raw.cases where trips < 5")
    con.execute("comment on table marts.kpi_values is '指标值'")
    con.execute("comment on column marts.kpi_values.value is '数值'")
    con.execute("comment on view staging.cases is '当前版本'")
    con.execute("select nextval('audit.load_id_seq') from range(3)")
    return con


def assert_same_database(con: duckdb.DuckDBPyConnection, copy: Path) -> None:
    """Every table, view, comment and sequence of the copy as the warehouse has them."""
    database = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach '{copy}' as other (read_only)")
    try:

        def catalog(db: str) -> dict:
            return {
                "tables": con.execute(
                    "select schema_name, table_name, comment, sql from duckdb_tables() "
                    "where database_name = ? order by all",
                    [db],
                ).fetchall(),
                "columns": con.execute(
                    "select schema_name, table_name, column_name, data_type, comment "
                    "from duckdb_columns() where database_name = ? order by all",
                    [db],
                ).fetchall(),
                "views": con.execute(
                    "select schema_name, view_name, sql, comment from duckdb_views() "
                    "where database_name = ? and not internal order by all",
                    [db],
                ).fetchall(),
                "sequences": con.execute(
                    "select schema_name, sequence_name, coalesce(last_value + 1, start_value) "
                    "from duckdb_sequences() where database_name = ? order by all",
                    [db],
                ).fetchall(),
            }

        assert catalog("other") == catalog(database)
        for schema, table, *_ in catalog(database)["tables"]:
            ref = f'"{schema}"."{table}"'
            for a, b in ((database, "other"), ("other", database)):
                extra = con.execute(
                    f"select count(*) from (select * from {a}.{ref} except all "
                    f"select * from {b}.{ref})"
                ).fetchone()[0]
                assert extra == 0, f"{ref}: {extra} rows in {a} not in {b}"
    finally:
        con.execute("detach other")


def _free_blocks(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("pragma database_size").fetchone()[5]
    finally:
        con.close()


@pytest.fixture
def published(tmp_path):
    con = _live(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "warehouse.duckdb"
    serving.parent.mkdir()
    publish_copy(con, serving)
    yield con, serving
    con.close()


def _a_load(con: duckdb.DuckDBPyConnection) -> None:
    """What a load and the build after it do to the warehouse."""
    con.execute(
        "insert into raw.cases select 4, 'c' || i, 9 from range(?, ?) t(i)", [BIG, BIG + 50]
    )
    con.execute("insert into audit.rejected_rows values (4, 2, '格式 / format')")
    con.execute("insert into audit.file_loads values (4, 'd.csv')")
    con.execute("select nextval('audit.load_id_seq')")
    # The incremental model reworks the cases of the load, and one old case.
    con.execute(
        "delete from marts.fct_cases where case_id in ('c7', 'c8') or case_id in "
        "(select case_id from raw.cases where _load_id = 4)"
    )
    con.execute(
        "insert into marts.fct_cases select case_id, max(trips) + 100, "
        "timestamp '2023-01-02 08:00:00' from raw.cases where _load_id = 4 "
        "or case_id in ('c7', 'c8') group by case_id"
    )
    con.execute(
        "create or replace table marts.kpi_values as "
        "select 'trips' as kpi_code, avg(trips) as value from raw.cases"
    )
    con.execute("comment on table marts.kpi_values is '指标值（新）'")
    con.execute("comment on column marts.kpi_values.value is '数值'")
    con.execute("drop table marts.gone")
    con.execute("create table marts.new_mart as select 42 as answer")
    con.execute("create or replace view staging.cases as select * from raw.cases where trips < 6")
    con.execute("comment on view staging.cases is '当前版本'")


def test_a_refreshed_copy_equals_the_warehouse_and_writes_only_what_changed(published, tmp_path):
    con, serving = published
    _a_load(con)
    partial = tmp_path / "serving" / "next.duckdb"
    done = refresh_copy(con, serving, partial, {("marts", "fct_cases"): "case_id"})
    assert_same_database(con, partial)
    assert done.appended == {"raw.cases": 50, "audit.rejected_rows": 1}
    assert done.reworked == {"marts.fct_cases": 52}
    assert set(done.rewritten) == {"marts.kpi_values", "marts.new_mart", "audit.file_loads"}
    assert done.dropped == ["marts.gone"]
    # What was freed is taken by what was written: what stays free is the catalog of the
    # checkpoint before the last (a block or two, whatever the size).
    assert done.free_blocks == _free_blocks(partial) <= 2
    # The previous copy is untouched: an analyst reading it reads what it held.
    con.execute(f"attach '{serving}' as before (read_only)")
    assert con.execute("select count(*) from before.raw.cases").fetchone()[0] == BIG
    con.execute("detach before")


def test_a_copy_that_holds_everything_is_left_as_it_is(published, tmp_path):
    """A second run that finds nothing new since the copy was published copies nothing."""
    con, serving = published
    before = hashlib.sha256(serving.read_bytes()).hexdigest()
    partial = tmp_path / "serving" / "next.duckdb"
    done = refresh_copy(con, serving, partial, {("marts", "fct_cases"): "case_id"})
    assert done.unchanged and done.rows_written == 0
    assert not partial.exists()
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == before
    assert_same_database(con, serving)


@pytest.mark.parametrize(
    "change",
    [
        "comment on column marts.kpi_values.value is '数值（新）'",
        "create or replace view staging.cases as select * from raw.cases where trips < 7",
        "select nextval('audit.load_id_seq')",
        "update marts.kpi_values set value = value + 1",
        "update marts.fct_cases set _built_at = timestamp '2030-01-01' where case_id = 'c1'",
    ],
)
def test_any_difference_is_refreshed(published, tmp_path, change):
    con, serving = published
    con.execute(change)
    partial = tmp_path / "serving" / "next.duckdb"
    done = refresh_copy(con, serving, partial, {("marts", "fct_cases"): "case_id"})
    assert not done.unchanged
    assert_same_database(con, partial)


def test_a_table_rebuilt_from_nothing_is_rewritten_whole(published, tmp_path):
    con, serving = published
    # A full refresh of the incremental model: every row stamped by the new build.
    con.execute("update marts.fct_cases set _built_at = timestamp '2023-03-01', trips = trips + 1")
    # A raw table that lost rows is no longer the copy's plus new loads: rewritten.
    con.execute("delete from raw.cases where case_id = 'c1'")
    done = refresh_copy(
        con, serving, tmp_path / "serving" / "next.duckdb", {("marts", "fct_cases"): "case_id"}
    )  # noqa: E501
    assert done.reworked == {"marts.fct_cases": BIG}
    assert done.rewritten["raw.cases"] == BIG - 1
    assert_same_database(con, tmp_path / "serving" / "next.duckdb")


def test_a_large_table_without_stamps_is_rewritten_and_a_small_one_compared(published, tmp_path):
    con, serving = published
    assert BIG <= FINGERPRINTED_ROWS
    # Without the key of the incremental model, its change is found by its fingerprint.
    con.execute("update marts.fct_cases set trips = trips + 1 where case_id = 'c3'")
    done = refresh_copy(con, serving, tmp_path / "serving" / "next.duckdb", {})
    assert set(done.rewritten) == {"marts.fct_cases"}
    assert_same_database(con, tmp_path / "serving" / "next.duckdb")


def test_the_duckdb_1_5_cli_reads_a_refreshed_copy(published, tmp_path):
    con, serving = published
    _a_load(con)
    partial = tmp_path / "serving" / "next.duckdb"
    refresh_copy(con, serving, partial, {("marts", "fct_cases"): "case_id"})
    con.close()
    cli = installed_command("duckdb")
    version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1.5"), version
    shown = subprocess.run(
        [cli, "-readonly", "-csv", "-noheader", str(partial)],
        input="select count(*) from staging.cases; select answer from marts.new_mart;",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    expected = sum(1 for i in range(BIG) if i % 7 < 6) + 0  # the load's trips are 9
    assert shown.stdout.split() == [str(expected), "42"]


def test_a_copy_that_cannot_be_opened_is_not_refreshed(published, tmp_path):
    con, serving = published
    serving.write_bytes(b"not a database" * 1000)
    with pytest.raises(NotRefreshable, match="cannot be opened"):
        refresh_copy(con, serving, tmp_path / "serving" / "next.duckdb", {})


def test_a_refresh_that_would_leave_much_free_space_is_refused(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw")
    con.execute(
        "create table raw.big as select i % 9 as _load_id, random() as x from range(4000000) t(i)"
    )
    publish_copy(con, tmp_path / "serving.duckdb")
    # A table written after it in the copy: what the big one frees is not at the file's end
    # (DuckDB gives free blocks at the end back to the file system).
    con.execute("create table raw.later as select 1 as _load_id, random() as x from range(2000000)")
    refresh_copy(con, tmp_path / "serving.duckdb", tmp_path / "next.duckdb", {})
    (tmp_path / "next.duckdb").rename(tmp_path / "serving.duckdb")
    assert _free_blocks(tmp_path / "serving.duckdb") <= MIN_FREE_BLOCKS
    con.execute("delete from raw.big where _load_id > 2")  # two thirds of it
    with pytest.raises(NotRefreshable, match="free blocks"):
        refresh_copy(con, tmp_path / "serving.duckdb", tmp_path / "next.duckdb", {})
    con.close()
