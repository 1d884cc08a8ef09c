"""`dbt build` against a tmp_path warehouse: every model, data test and unit test, then a few
kpi_values worked out by hand from the rows in `raw_rows.py`.

Two dbt invocations in all (a few seconds each): one on hand-made rows, one on an empty
warehouse. The uncovered-calendar check reuses the first build's compiled SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from sources.warehouse import ensure_schema
from tests.dbt.raw_rows import FILES, Row, insert_raw_rows
from tests.dbt.spark_lake import dbt

pytestmark = pytest.mark.slow


def _dbt_build(
    workdir: Path, warehouse: Path, *extra_args: str, command: str = "build"
) -> subprocess.CompletedProcess[str]:
    """`command` on the project against `warehouse`, with no other deployment setting (no
    KZDW_AS_OF: the build's own date). Own target and log folders under `workdir`: other
    builds may be running in the shared project folder."""
    return dbt(workdir, command, *extra_args, env={"KZDW_WAREHOUSE": str(warehouse)}, timeout=600)


def _make_warehouse(path: Path, with_rows: bool) -> None:
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        if with_rows:
            insert_raw_rows(con, FILES)
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(raw_rows_build: tuple[Path, Path]) -> tuple[Path, Path]:
    """The session's one build of the hand-made rows (tests/conftest.py): (its folder, the
    warehouse). Tests that change the warehouse change a copy."""
    return raw_rows_build


@pytest.fixture(scope="module")
def kpis(built: tuple[Path, Path]) -> dict[tuple[str, str, str], float | None]:
    con = duckdb.connect(str(built[1]), read_only=True)
    try:
        rows = con.execute(
            "select kpi_code, period_type, strftime(period_start, '%Y-%m-%d'), value "
            "from marts.kpi_values"
        ).fetchall()
    finally:
        con.close()
    return {(code, ptype, start): value for code, ptype, start, value in rows}


def test_build_passes_every_test_and_warns_on_the_unknown_item_code(
    built: tuple[Path, Path],
) -> None:
    workdir, _ = built
    log = (workdir / "logs" / "dbt.log").read_text(encoding="utf-8")
    # Case C2 names item XX, which the catalogue lacks: reported, not rejected.
    assert "WARN 1 fct_permit_cases_item_code_is_in_the_catalogue" in log


def test_kpi_values_has_every_kpi_for_every_period(built: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(built[1]), read_only=True)
    try:
        (periods, kpis, rows, as_of) = con.execute(
            "select count(distinct (period_type, period_start)), count(distinct kpi_code), "
            "count(*), max(as_of) from marts.kpi_values"
        ).fetchall()[0]
        types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'kpi_values' order by ordinal_position"
        ).fetchall()
    finally:
        con.close()
    # First month with data: 2021-12 (item I1, event E1); as-of: the latest updated_at, I2's
    # 2023-01-10 version. Years 2021-2023, quarters 2021-Q4..2023-Q1, months 2021-12..2023-01.
    assert str(as_of) == "2023-01-10"
    assert (periods, kpis, rows) == (3 + 6 + 14, 33, 33 * 23)
    assert types == [
        ("kpi_code", "VARCHAR"),
        ("kpi_name_zh", "VARCHAR"),
        ("period_type", "VARCHAR"),
        ("period_start", "DATE"),
        ("period_end", "DATE"),
        ("value", "DOUBLE"),
        ("unit", "VARCHAR"),
        ("target", "DOUBLE"),
        ("as_of", "DATE"),
    ]


@pytest.mark.parametrize(
    ("kpi_code", "period_type", "period_start", "expected"),
    [
        # Cases submitted in 2022: C1, C6, C3, C4, C5 and C2 (23:50 on New Year's Eve).
        ("cases_submitted", "year", "2022-01-01", 6),
        # C5's later-loaded version (same updated_at) withdrew it; C2 completed in 2023.
        ("cases_completed", "year", "2022-01-01", 3),
        ("cases_completed", "year", "2023-01-01", 1),
        # Trips 0 + 1 + 2 over 3 completed cases.
        ("avg_trips_per_case", "year", "2022-01-01", 1.0),
        ("online_case_rate", "year", "2022-01-01", 1 / 3),
        ("one_window_cases", "year", "2023-01-01", 1),
        ("cross_region_cases", "year", "2022-01-01", 2),
        # C1 met its 10-08 deadline across National Day, C6 finished on 10-09, C3 on time.
        ("on_time_rate", "year", "2022-01-01", 2 / 3),
        # C2: 0 promised days, accepted 2022-12-31, completed 2023-01-01: late.
        ("on_time_rate", "year", "2023-01-01", 0.0),
        ("satisfaction_rate", "month", "2022-10-01", 0.5),
        ("on_time_rate", "year", "2021-01-01", None),
        # 2022 sees I2's 2022 version (licensing, not online); its 2023 version (retired,
        # 优化审批服务) changes only 2023.
        ("online_licensing_item_rate", "year", "2022-01-01", 0.5),
        ("online_licensing_item_rate", "year", "2023-01-01", 1.0),
        ("one_window_items", "year", "2022-01-01", 3),
        ("one_window_departments", "year", "2022-01-01", 2),
        ("items_notification_commitment", "year", "2022-01-01", 1),
        ("items_approval_optimized", "year", "2022-01-01", 0),
        ("items_approval_optimized", "year", "2023-01-01", 1),
        # End 2021: U1, U2. End 2022: U1 (deregistered, re-established), U3, U5; U2 revoked.
        ("entities_total", "year", "2021-01-01", 2),
        ("entities_total", "year", "2022-01-01", 3),
        ("entities_net_growth_rate", "year", "2021-01-01", None),
        ("entities_net_growth_rate", "year", "2022-01-01", 0.5),
        ("entities_net_growth_rate", "month", "2022-06-01", 2 / 3 - 1),
        ("entities_new", "year", "2022-01-01", 3),
        ("entities_exited", "year", "2022-01-01", 2),
        # E1 took exactly 2 hours (counts), E2 2h00m01s (does not).
        ("enterprise_registration_2h_rate", "year", "2021-01-01", 0.5),
        ("returnee_entities_new", "year", "2022-01-01", 1),
        ("projects_signed", "year", "2022-01-01", 3),
        ("contract_investment_signed", "year", "2022-01-01", 16.0),
        ("industrial_investment_signed", "year", "2022-01-01", 10.0),
        ("investment_per_mu", "year", "2022-01-01", 10 * 10000 / 120),
        # Leads in the weeks of Mondays 01-03, 02-07, 02-28 and 12-26 of 2022's 52 weeks.
        ("lead_week_coverage", "year", "2022-01-01", 4 / 52),
        ("sign_start_quarter_coverage", "year", "2022-01-01", 0.25),
        ("sign_start_quarter_coverage", "month", "2022-06-01", None),
    ],
)
def test_kpi_value_worked_out_by_hand(
    kpis: dict[tuple[str, str, str], float | None],
    kpi_code: str,
    period_type: str,
    period_start: str,
    expected: float | None,
) -> None:
    value = kpis[(kpi_code, period_type, period_start)]
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, abs=1e-12)


def test_targets_are_joined_for_2023(built: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(built[1]), read_only=True)
    try:
        targets = dict(
            con.execute(
                "select kpi_code, target from marts.kpi_values "
                "where period_type = 'year' and period_start = date '2023-01-01' "
                "and target is not null"
            ).fetchall()
        )
    finally:
        con.close()
    assert targets == {
        "projects_signed": 70.0,
        "contract_investment_signed": 400.0,
        "projects_started": 50.0,
        "projects_in_production": 40.0,
        "returnee_entities_new": 10000.0,
        "lead_week_coverage": 1.0,
        "talk_month_coverage": 1.0,
        "sign_start_quarter_coverage": 1.0,
    }


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_project_funnel_follows_the_2022_leads_down_their_stages(built: tuple[Path, Path]) -> None:
    rows = _query(
        built[1],
        "select cohort, strftime(cohort_start, '%Y-%m-%d'), strftime(cohort_end, '%Y-%m-%d'), "
        "stage, cohort_projects, projects_reached, projects_at_stage, share_of_cohort "
        "from marts.project_funnel order by cohort, stage_order",
    )
    # As-of 2023-01-10. 2022's leads: P1 (went into production on 12-01), P2 (signed without a
    # recorded first talk: it has passed 洽谈), P3 (signed, then 终止: it keeps its stages), P4
    # (lead on 12-26, signed on 2023-01-05, before the as-of date). 2023 has no lead yet.
    prior = [("prior_year", "2022-01-01", "2022-12-31")]
    current = [("year_to_date", "2023-01-01", "2023-01-10")]
    assert rows == [
        (*prior[0], "线索", 4, 4, 0, 1.0),
        (*prior[0], "洽谈", 4, 4, 0, 1.0),
        (*prior[0], "签约", 4, 4, 3, 1.0),
        (*prior[0], "开工", 4, 1, 0, 0.25),
        (*prior[0], "投产", 4, 1, 1, 0.25),
        *(
            (*current[0], stage, 0, 0, 0, None)
            for stage in ("线索", "洽谈", "签约", "开工", "投产")
        ),
    ]


def test_breakdowns_split_2022_by_the_current_catalogue_and_the_project_register(
    built: tuple[Path, Path],
) -> None:
    rows = _query(
        built[1],
        "select kpi_code, dimension, dimension_value, value from marts.kpi_breakdowns "
        "where period_type = 'year' and period_start = date '2022-01-01' and value <> 0 "
        "and kpi_code in ('cases_completed', 'projects_signed', 'entities_total')",
    )
    # Cases C1, C6 (item I1) and C3 (I3) were completed in 2022, all of department A; C2 (item
    # XX, not in the catalogue) in 2023. Signings: P1 and P3 (绿色工业), P2 (商贸物流). The
    # entities existing at the end of 2022 (U1, U3, U5) name no township.
    assert sorted(rows) == sorted(
        [
            ("cases_completed", "department", "A", 3.0),
            ("cases_completed", "intake", "网上申报", 1.0),
            ("cases_completed", "intake", "五省通办", 1.0),
            ("cases_completed", "intake", "川渝通办", 1.0),
            ("projects_signed", "team", "绿色工业", 2.0),
            ("projects_signed", "team", "商贸物流", 1.0),
            ("projects_signed", "cluster", "能源建材", 1.0),
            ("projects_signed", "cluster", "食品医药", 1.0),
            ("projects_signed", "cluster", "其他", 1.0),
            ("entities_total", "township", "(未填)", 3.0),
        ]
    )


def test_scorecard_writes_figures_with_the_unit_words_and_decimals_of_the_seed(
    built: tuple[Path, Path],
) -> None:
    reasons = dict(_query(built[1], "select kpi_code, status_reason from marts.kpi_scorecard"))
    # As-of 2023-01-10, day 10 of 365: P4's 2 亿元 project to 2 x 365 / 10 = 73 亿元; 400亿元
    # and 2亿元 drop the all-zero fraction, the shares of the target keep theirs.
    assert reasons["contract_investment_signed"] == (
        "截至2023年1月10日完成2亿元，为年度目标400亿元的0.5%；按时间进度推算全年约73亿元，"
        "为目标的18.2%，明显落后于目标。"
    )
    assert reasons["returnee_entities_new"].startswith(
        "截至2023年1月10日完成1户，为年度目标10000户"
    )
    assert reasons["lead_week_coverage"] == "截至2023年1月10日为0%，年度目标100%，低于目标的九成。"


def _missing_comments(warehouse: Path, schemas: tuple[str, ...]) -> list[tuple]:
    listed = ", ".join(f"'{s}'" for s in schemas)
    return _query(
        warehouse,
        f"""
        select schema_name, table_name, null from duckdb_tables()
        where schema_name in ({listed}) and coalesce(trim(comment), '') = ''
        union all
        select schema_name, view_name, null from duckdb_views()
        where schema_name in ({listed}) and coalesce(trim(comment), '') = ''
        union all
        select schema_name, table_name, column_name from duckdb_columns()
        where schema_name in ({listed}) and coalesce(trim(comment), '') = ''
        order by all
        """,
    )


def test_every_mart_staging_and_seed_relation_and_column_carries_its_description(
    built: tuple[Path, Path],
) -> None:
    # Any client (DBeaver, the DuckDB CLI's .schema) reads these comments from the file.
    assert _missing_comments(built[1], ("marts", "staging", "seeds")) == []
    marts = {
        name
        for (name,) in _query(
            built[1], "select table_name from duckdb_tables() where schema_name = 'marts'"
        )
    }
    # The incremental models are among them.
    assert {"fct_permit_cases", "kpi_builds", "kpi_value_history"} <= marts
    (comment,) = _query(
        built[1],
        "select comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'kpi_values' and column_name = 'as_of'",
    )[0]
    assert comment == "the as-of date the row was computed for (数据截止日期)"


def test_check_names_are_readable_and_unique(built: tuple[Path, Path]) -> None:
    manifest = json.loads((built[0] / "target" / "manifest.json").read_text(encoding="utf-8"))
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    names = [n["name"] for n in tests]
    # Each dbt test is a Dagster asset check named after it.
    assert len(names) == len(set(names))
    # dbt's own names for these spell the arguments, and Chinese values come out as "_____".
    generated = [n for n in names if n.startswith(("accepted_values_", "relationships_"))]
    assert generated == []
    assert [n for n in names if "___" in n or not n.isascii()] == []


def test_a_deadline_past_the_calendar_fails_loudly(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    workdir, built_warehouse = built
    # The compiled SQL names its catalog after the file: the copy keeps the name `w`.
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(built_warehouse, warehouse)
    compiled = (
        workdir
        / "target"
        / "compiled"
        / "kzdw"
        / "models"
        / "marts"
        / "permit_cases"
        / "fct_permit_cases.sql"
    )
    case = (
        "insert into raw.permit_cases by name select '{id}' as case_id, 'I1' as item_code, "
        "'全程网办' as channel, '网上申报' as intake, '法人' as applicant_type, "
        "timestamp '2026-12-30 09:00:00' as submitted_at, "
        "timestamp '2026-12-30 10:00:00' as accepted_at, {completed} as completed_at, "
        "'{status}' as status, 0 as trips, 5 as promised_days, "
        "timestamp '2027-01-08 10:00:00' as updated_at, 99 as _load_id, 'z.csv' as _file_name, "
        "1 as _row_number, timestamp '2027-01-08 12:00:00' as _loaded_at"
    )
    sql = compiled.read_text(encoding="utf-8")
    con = duckdb.connect(str(warehouse))
    try:
        # An open case's deadline is not needed by any KPI: it stays unknown, the build goes on.
        con.execute(case.format(id="Z0", completed="null", status="已受理"))
        rows = con.execute(f"select case_id, deadline_date from ({sql}) where case_id = 'Z0'")
        assert rows.fetchall() == [("Z0", None)]
        # A completed case is judged on its deadline: past the calendar, the build stops.
        completed = "timestamp '2027-01-07 16:00:00'"
        con.execute(case.format(id="Z1", completed=completed, status="已办结"))
        with pytest.raises(duckdb.Error) as failure:
            con.execute(sql).fetchall()
    finally:
        con.close()
    message = str(failure.value)
    assert "working-day calendar does not cover the dates after 2026-12-31" in message
    assert "case Z1" in message and "cn_calendar_days.csv" in message


def test_the_required_columns_check_counts_the_nulls_of_each_column(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """One test per model over its required columns (tests/generic/not_null_columns.sql): it
    passes on the build and, once NULLs are planted, names each column with its NULL rows; a
    column required only under a condition counts only the rows where the condition holds."""
    workdir, built_warehouse = built
    log = (workdir / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "PASS kpi_values_required_columns_are_filled" in log
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(built_warehouse, warehouse)
    compiled = next(
        (workdir / "target" / "compiled").rglob("kpi_values_required_columns_are_filled.sql")
    ).read_text(encoding="utf-8")
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute(compiled).fetchall() == []
        counts = dict(
            con.execute("select unit, count(*) from marts.kpi_values group by unit").fetchall()
        )
        # `value` may be NULL for a ratio, not for a count: every ratio and every count
        # emptied, and two rows without a period end.
        con.execute("update marts.kpi_values set value = null where unit in ('ratio', 'count')")
        con.execute(
            "update marts.kpi_values set period_end = null where rowid in "
            "(select rowid from marts.kpi_values order by all limit 2)"
        )
        found = sorted(con.execute(compiled).fetchall())
    finally:
        con.close()
    assert counts["count"] > 0 and counts["ratio"] > 0
    assert found == [("period_end", 2), ("value", counts["count"])]


def _case(case_id: str, **fields: object) -> Row:
    return dict(
        case_id=case_id,
        item_code="I1",
        channel="全程网办",
        intake="网上申报",
        applicant_type="法人",
        **fields,
    )


LATER_CASES: list[tuple[str, str, list[Row]]] = [
    (
        "permit_cases",
        "cases_2022c.csv",
        [
            # C1 v3: a newer version (trips 0 -> 2): it replaces the stored one.
            _case(
                "C1",
                submitted_at="2022-09-29 10:00:00",
                accepted_at="2022-09-30 09:00:00",
                completed_at="2022-10-08 16:00:00",
                status="已办结",
                trips=2,
                promised_days=1,
                updated_at="2022-10-09 08:00:00",
            ),
            # An older version of C3 than the stored one: C3 is reworked and stays as it was.
            _case(
                "C3",
                submitted_at="2022-10-09 10:00:00",
                accepted_at="2022-10-10 10:00:00",
                status="已受理",
                trips=0,
                promised_days=2,
                updated_at="2022-10-10 11:00:00",
            ),
            # A new case.
            _case(
                "C9",
                submitted_at="2022-12-01 09:00:00",
                status="已申请",
                trips=0,
                promised_days=3,
                updated_at="2022-12-01 09:00:00",
            ),
        ],
    )
]

CASE_COLUMNS = "case_id, status, trips, deadline_date, is_on_time, _load_id, deadline_calendar"


def _cases(warehouse: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(f"select {CASE_COLUMNS} from marts.fct_permit_cases").fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in rows}


def _execute(warehouse: Path, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def test_incremental_cases_match_a_full_rebuild(built: tuple[Path, Path], tmp_path: Path) -> None:
    """fct_permit_cases reworks the cases with a version loaded since its last build, and all
    of them when the calendar changed; either way it ends as a full rebuild would. C5 carries
    planted values that only a rework of C5 would undo: trips 99 (a new version of C5 would),
    then a deadline (reckoning it on a new calendar does)."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(built[1], warehouse)
    before = _cases(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        insert_raw_rows(con, LATER_CASES, first_load_id=len(FILES) + 1)
    finally:
        con.close()
    plant = "update marts.fct_permit_cases set trips = 99 where case_id = 'C5'"
    _execute(warehouse, plant)
    models = ("--select", "dim_dates", "fct_permit_cases")

    # New versions: C1 and C3 reworked, C9 added, C5 untouched.
    result = _dbt_build(tmp_path, warehouse, *models, command="run")
    assert result.returncode == 0, result.stdout[-6000:]
    incremental = _cases(warehouse)
    assert incremental["C1"][1:2] == (2,) and incremental["C1"][4] == len(FILES) + 1
    assert incremental["C3"] == before["C3"]
    assert incremental["C9"][:2] == ("已申请", 0)
    assert incremental["C5"][1] == 99
    # An incremental run keeps the table and writes its descriptions again.
    assert _missing_comments(warehouse, ("marts",)) == []
    result = _dbt_build(tmp_path, warehouse, *models, "--full-refresh", command="run")
    assert result.returncode == 0, result.stdout[-6000:]
    full = _cases(warehouse)
    assert full["C5"] == before["C5"]
    assert {k: v for k, v in incremental.items() if k != "C5"} == {
        k: v for k, v in full.items() if k != "C5"
    }

    # 2022-10-08 is no longer a make-up working day: C6 (accepted 09-30, 1 working day,
    # completed 10-09) had a deadline of 10-08 and was late; now it is due the make-up
    # Sunday 10-09 and on time. Every case is reckoned again on the new calendar, from its
    # stored version: C5's planted deadline is undone.
    _execute(
        warehouse,
        "update marts.fct_permit_cases set deadline_date = date '2000-01-01' where case_id = 'C5'",
        "delete from seeds.cn_calendar_days where calendar_date = date '2022-10-08'",
    )
    assert full["C6"][2:4] == (dt.date(2022, 10, 8), False)
    result = _dbt_build(tmp_path, warehouse, *models, command="run")
    assert result.returncode == 0, result.stdout[-6000:]
    recalendared = _cases(warehouse)
    assert recalendared["C6"][2:4] == (dt.date(2022, 10, 9), True)
    assert recalendared["C5"][2] == full["C5"][2] != dt.date(2000, 1, 1)
    assert {v[-1] for v in recalendared.values()} != {v[-1] for v in full.values()}
    result = _dbt_build(tmp_path, warehouse, *models, "--full-refresh", command="run")
    assert result.returncode == 0, result.stdout[-6000:]
    assert _cases(warehouse) == recalendared


def test_build_passes_on_an_empty_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    _make_warehouse(warehouse, with_rows=False)
    # The unit tests do not read the warehouse's rows: the first build ran them already.
    result = _dbt_build(tmp_path, warehouse, "--exclude", "test_type:unit")
    assert result.returncode == 0, result.stdout[-6000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.kpi_values").fetchall() == [(0,)]
        assert con.execute("select count(*) from marts.dim_dates").fetchall() == [(8401,)]
    finally:
        con.close()
