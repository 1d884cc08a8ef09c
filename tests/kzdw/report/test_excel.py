"""The workbook: one sheet per domain plus 目标进度, 分项统计, 修订说明; Chinese headers,
number formats, frozen header, filters, column widths."""

import re
import zipfile
from datetime import date

import fastexcel
import pytest

from kzdw.report.excel import write_workbook


@pytest.fixture(scope="module")
def workbook(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    sheets = write_workbook(data, path)
    return path, sheets


def _sheet(path, name):
    return fastexcel.read_excel(str(path)).load_sheet_by_name(name).to_polars()


def _sheet_xml(path, index: int) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def test_sheets_in_order(workbook):
    path, sheets = workbook
    assert sheets == [
        "说明",
        "政务服务",
        "事项目录",
        "经营主体",
        "招商项目",
        "目标进度",
        "分项统计",
        "修订说明",
    ]
    assert fastexcel.read_excel(str(path)).sheet_names == sheets


def test_domain_sheet_has_kpis_across_and_periods_down(workbook):
    path, _ = workbook
    df = _sheet(path, "经营主体")
    assert df.columns[:4] == ["周期类型", "周期", "开始日期", "结束日期"]
    assert df.columns[4:] == ["经营主体总量（户）", "经营主体净增长率（%）", "新增市场主体（户）"]
    # Years first, latest first; then months (quarters: none in the fixture for this domain).
    assert df["周期"].to_list() == ["2023年1—6月", "2022年", "2021年"]
    row = df.row(1, named=True)
    assert row["经营主体总量（户）"] == 100425
    assert row["经营主体净增长率（%）"] == pytest.approx(0.06300212759201052)
    assert row["开始日期"].date() == date(2022, 1, 1)


def test_months_follow_years_and_an_empty_month_stays(workbook):
    path, _ = workbook
    df = _sheet(path, "政务服务")
    kinds = df["周期类型"].to_list()
    assert kinds[:3] == ["年度"] * 3 and set(kinds[3:]) == {"月度"}
    assert df["周期"].to_list()[3] == "2023年6月"
    # In 2022-03 every KPI of the domain is empty (no completed case): no row for it.
    assert "2022年3月" not in df["周期"].to_list()


def test_scorecard_sheet(workbook):
    path, _ = workbook
    df = _sheet(path, "目标进度")
    assert df.columns == [
        "指标代码", "指标名称", "领域", "年度", "数据截至", "本年累计", "全年目标", "完成率",
        "按进度应完成", "预计全年", "推算方法", "上年同期", "同比", "状态", "状态说明",
    ]  # fmt: skip
    first = df.row(0, named=True)
    assert first["指标代码"] == "projects_signed"
    assert (first["本年累计"], first["全年目标"], first["完成率"]) == (28, 70, 0.4)
    assert first["状态"] == "预警" and first["推算方法"] == "按上年同期进度（季节性）推算"
    assert df["状态"].to_list().count("达标") == 3


def test_revisions_sheet_marks_this_period(workbook):
    path, _ = workbook
    df = _sheet(path, "修订说明")
    assert df["本期"].to_list() == ["是", None]
    assert df["指标名称"].to_list() == ["新增市场主体", "新引进（签约）项目数"]
    assert df["周期"].to_list() == ["2023年3月", "2022年第4季度"]
    assert df["引起修订的文件"].to_list()[0] == "市场主体登记_补报_20230630.csv"


def test_breakdowns_sheet(workbook):
    path, _ = workbook
    df = _sheet(path, "分项统计")
    teams = df.filter(df["维度"] == "招商团")
    assert teams["分项"].to_list()[0] == "绿色工业" and teams["数值"].to_list()[0] == 9
    assert len(df) == 16


def test_formats_frozen_header_filters_and_widths(workbook):
    path, sheets = workbook
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    for fmt in ("0.0%", "#,##0", "0.00", "#,##0.0", "yyyy-mm-dd"):
        assert f'formatCode="{fmt}"' in styles
    for index, name in enumerate(sheets[1:], start=2):
        xml = _sheet_xml(path, index)
        assert 'state="frozen"' in xml and 'ySplit="1"' in xml, name
        assert "<autoFilter" in xml, name
        widths = [float(w) for w in re.findall(r'<col [^>]*width="([\d.]+)"', xml)]
        assert widths and min(widths) >= 8, name
    # The domain sheets keep the period columns in view when scrolling right.
    assert 'xSplit="2"' in _sheet_xml(path, 2)


def test_no_revisions_sheet_says_so(tmp_path):
    from kzdw.report.data import load_report_data
    from tests.kzdw.report.fixture import build_fixture

    serving = build_fixture(tmp_path / "serving" / "warehouse.duckdb", revisions=False)
    path = tmp_path / "report.xlsx"
    write_workbook(load_report_data(serving), path)
    assert _sheet(path, "修订说明")["本期"].to_list() == ["本期无修订"]
