"""Every incremental model, built load after load, ends as a full rebuild of the same raw layer.

The hand-made raw layer built whole (the session's shared build, tests/conftest.py) takes later
loads one at a time, each followed by an incremental `dbt build` (its tests included, narrowed
to what the build wrote). After each step a copy of the warehouse is rebuilt with
--full-refresh, and every table of intermediate and marts must hold the same rows in both. The steps
are the ones the incremental models have to get right: a case moved to another day, leaving the
day it was on with no case; a case completed on another day; new cases; the catalogue moving an
item to another department (every day summed again); a table from before the stamp columns
existed.

Left out of the comparison: the build stamps (_built_at, _cases_built_at) and the three history
tables (kpi_builds, kpi_value_history, kpi_revisions), which record builds by design.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.dbt.raw_rows import FILES, Row, insert_raw_rows
from tests.dbt.test_dbt_build import _dbt_build

pytestmark = pytest.mark.slow

STAMPS = {"_built_at", "_cases_built_at"}
HISTORY = {"kpi_builds", "kpi_value_history", "kpi_revisions"}


def _case(case_id: str, **fields: object) -> Row:
    defaults = dict(
        item_code="I1",
        channel="窗口办理",
        intake="一窗综办",
        applicant_type="自然人",
        trips=1,
        promised_days=3,
    )
    return dict(case_id=case_id, **{**defaults, **fields})


# Each step: the files loaded before the incremental build.
STEPS: list[tuple[str, list[tuple[str, str, list[Row]]]]] = [
    (
        "new cases, one alone on its day",
        [
            (
                "permit_cases",
                "cases_2023a.csv",
                [
                    _case(
                        "N1",
                        submitted_at="2023-01-17 09:00:00",
                        status="已申请",
                        updated_at="2023-01-17 09:00:00",
                    ),
                    _case(
                        "N2",
                        submitted_at="2023-01-18 09:00:00",
                        accepted_at="2023-01-18 10:00:00",
                        status="已受理",
                        updated_at="2023-01-18 10:00:00",
                    ),
                ],
            )
        ],
    ),
    (
        "a case moved to another day, another completed",
        [
            (
                "permit_cases",
                "cases_2023b.csv",
                [
                    # N1's submission date corrected: 17 January is left with no case.
                    _case(
                        "N1",
                        submitted_at="2023-01-19 09:00:00",
                        status="已申请",
                        updated_at="2023-01-20 09:00:00",
                    ),
                    _case(
                        "N2",
                        submitted_at="2023-01-18 09:00:00",
                        accepted_at="2023-01-18 10:00:00",
                        completed_at="2023-01-20 15:00:00",
                        status="已办结",
                        trips=2,
                        updated_at="2023-01-20 15:00:00",
                    ),
                    _case(
                        "N3",
                        item_code="I2",
                        channel="全程网办",
                        intake="网上申报",
                        applicant_type="法人",
                        trips=0,
                        submitted_at="2023-01-20 09:00:00",
                        accepted_at="2023-01-20 09:30:00",
                        completed_at="2023-01-20 11:00:00",
                        status="已办结",
                        updated_at="2023-01-20 11:00:00",
                    ),
                ],
            )
        ],
    ),
    (
        "the catalogue moves an item to another department",
        [
            (
                "service_items",
                "items_2023.csv",
                [
                    dict(
                        item_code="I1",
                        item_name="企业登记",
                        item_type="行政许可",
                        department="C",
                        online_enabled=True,
                        high_frequency=True,
                        one_window=True,
                        reform="直接取消审批",
                        item_status="在用",
                        updated_at="2023-01-21 09:00:00",
                    ),
                ],
            )
        ],
    ),
]


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    """{schema.table: sorted rows without the build stamps} of intermediate and marts."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('intermediate', 'marts') order by all"
        ).fetchall()
        out = {}
        for schema, table in names:
            if table in HISTORY:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? "
                    "and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall()
                if c not in STAMPS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f"select {select} from {schema}.{table}").fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _rebuilt_in_full(warehouse: Path, workdir: Path) -> dict[str, list[tuple]]:
    copy = workdir / "full.duckdb"
    shutil.copyfile(warehouse, copy)
    # A target folder of its own: dbt keeps a parse only for the warehouse it was made with,
    # so the incremental builds' folder keeps theirs instead of parsing whole every time.
    result = _dbt_build(workdir / "full", copy, "--full-refresh", command="run")
    assert result.returncode == 0, result.stdout[-6000:]
    return _tables(copy)


def _assert_same(incremental: dict, full: dict, step: str) -> None:
    assert incremental.keys() == full.keys(), step
    for name in full:
        assert incremental[name] == full[name], f"{step}: {name} differs from a full rebuild"


def test_every_incremental_model_ends_as_a_full_rebuild(
    raw_rows_build: tuple[Path, Path], tmp_path: Path
) -> None:
    # The hand-made raw layer built whole: a copy of the session's build of it.
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(raw_rows_build[1], warehouse)
    load_id = len(FILES)
    days_before: set = set()
    for step, files in STEPS:
        con = duckdb.connect(str(warehouse))
        try:
            insert_raw_rows(con, files, first_load_id=load_id + 1)
        finally:
            con.close()
        load_id += len(files)
        result = _dbt_build(tmp_path, warehouse, "--exclude", "test_type:unit")
        assert result.returncode == 0, f"{step}\n{result.stdout[-6000:]}"
        incremental = _tables(warehouse)
        _assert_same(incremental, _rebuilt_in_full(warehouse, tmp_path), step)
        days = {row[0] for row in incremental["intermediate.int_permit_cases_summed_by_day"]}
        if step.startswith("a case moved"):
            # The step did what it says: 17 January was summed before and is gone now.
            assert dt.date(2023, 1, 17) in days_before and dt.date(2023, 1, 17) not in days
        days_before = days

    # A table summed before the stamp columns existed is summed again whole, once.
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("update intermediate.int_permit_cases_summed_by_day set cases_submitted = 99")
        con.execute(
            "alter table intermediate.int_permit_cases_summed_by_day drop column _cases_built_at"
        )
    finally:
        con.close()
    result = _dbt_build(tmp_path, warehouse, "--exclude", "test_type:unit")
    assert result.returncode == 0, result.stdout[-6000:]
    resummed = _tables(warehouse)
    assert all(row[3] != 99 for row in resummed["intermediate.int_permit_cases_summed_by_day"])
    _assert_same(resummed, _rebuilt_in_full(warehouse, tmp_path), "unstamped table")
