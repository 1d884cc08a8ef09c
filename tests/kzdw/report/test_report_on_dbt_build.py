"""The report of a real `dbt build` on the hand-made raw rows of tests/dbt/raw_rows.py: the
funnel its projects make, counted by hand, on the page and in the workbook, and every figure of
the scorecard's sentences as the Python formatter writes it."""

from __future__ import annotations

import re

import duckdb
import fastexcel
import pytest

from kzdw.report.data import load_report_data
from kzdw.report.excel import write_workbook
from kzdw.report.html import render_html
from tests.kzdw.report.browser import visible_text
from tests.kzdw.report.fixture import format_kpi_value_sql
from tests.kzdw.report.scorecard_text import scorecard_figures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(raw_rows_build):
    """The session's one build of the hand-made rows (tests/conftest.py), read for the report."""
    _, warehouse = raw_rows_build
    return warehouse, load_report_data(warehouse)


def test_the_funnel_of_the_hand_made_projects(built, tmp_path):
    _, data = built
    # As-of 2023-01-10. 2022's leads: P1 (in production on 12-01), P2 (signed without a
    # recorded first talk: it has passed 洽谈), P3 (signed, then 终止: it keeps its stages), P4
    # (signed on 2023-01-05). Reached at least: 线索 4, 洽谈 4, 签约 4, 开工 1 (P1), 投产 1 (P1).
    # 2023 has no lead by 10 January.
    page = render_html(data)
    funnel = re.search(r"<section id='funnel'>.*?</section>", page, re.S).group(0)
    figures = re.findall(r"<figure>.*?</figure>", funnel, re.S)
    prior = next(f for f in figures if "2022年线索" in f)
    labels = re.findall(r'class="funnel-label">([^<]*)</text>', prior)
    assert labels == [
        "线索", "4个  100%", "洽谈", "4个  100%", "签约", "4个  100%",
        "开工", "1个  25%", "投产", "1个  25%",
    ]  # fmt: skip
    assert "（共4个项目）" in visible_text(prior)
    current = next(f for f in figures if "2023年1月1日—1月10日线索" in f)
    assert "这一时期没有新的项目线索" in visible_text(current)
    path = tmp_path / "report.xlsx"
    write_workbook(data, path)
    sheet = fastexcel.read_excel(str(path)).load_sheet_by_name("项目漏斗").to_polars()
    prior_rows = sheet.filter(sheet["线索批次"] == "2022年线索")
    assert prior_rows["达到该阶段项目数"].to_list() == [4, 4, 4, 1, 1]
    assert prior_rows["停留在该阶段项目数"].to_list() == [0, 0, 3, 0, 1]


def test_the_scorecard_and_the_report_write_every_figure_alike(built):
    warehouse, data = built
    for row in data.scorecard:
        for column, written in scorecard_figures(row["status_reason"]).items():
            assert written == data.format(row["kpi_code"], row[column]), (row["kpi_code"], column)
    expression = format_kpi_value_sql("v.value", "d.unit", "d.decimals", "d.unit_word")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"select v.kpi_code, v.value, {expression} from marts.kpi_values as v "
            "inner join seeds.kpi_definitions as d using (kpi_code)"
        ).fetchall()
    finally:
        con.close()
    for code, value, written in rows:
        assert written == (None if value is None else data.format(code, value)), (code, value)
