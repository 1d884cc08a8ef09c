"""The workbook: one sheet per domain plus 目标进度, 项目漏斗, 分项统计, 修订说明, 指标说明;
Chinese headers, number formats from the seed's decimals, frozen header, filters, column widths,
and no internal name on any sheet."""

import re
import zipfile
from datetime import date

import fastexcel
import pytest

from kzdw.report.excel import write_workbook
from tests.kzdw.report.fixture import KPIS


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
        "项目漏斗",
        "分项统计",
        "修订说明",
        "指标说明",
    ]
    assert fastexcel.read_excel(str(path)).sheet_names == sheets


def test_domain_sheet_has_kpis_across_and_periods_down(workbook):
    path, _ = workbook
    df = _sheet(path, "经营主体")
    assert df.columns[:4] == ["周期类型", "周期", "开始日期", "结束日期"]
    # In display_order, each with the seed's unit word.
    assert df.columns[4:] == [
        "经营主体总量（户）",
        "经营主体净增长率（%）",
        "新增市场主体（户）",
        "返乡创业新增主体（户）",
    ]
    # Years first, latest first; then months (quarters: none in the fixture for this domain).
    assert df["周期"].to_list() == ["2023年1—6月", "2022年", "2021年"]
    row = df.row(1, named=True)
    assert row["经营主体总量（户）"] == 100425
    assert row["经营主体净增长率（%）"] == pytest.approx(0.06300212759201052)
    assert row["开始日期"].date() == date(2022, 1, 1)


def test_a_period_row_ends_where_its_label_says(workbook):
    path, _ = workbook
    for sheet in ("政务服务", "经营主体", "招商项目"):
        df = _sheet(path, sheet)
        rows = {r["周期"]: r for r in df.iter_rows(named=True)}
        # Labelled 2023年1—6月: it ends on the as-of date, not on 31 December.
        assert rows["2023年1—6月"]["结束日期"].date() == date(2023, 6, 30), sheet
        assert rows["2022年"]["结束日期"].date() == date(2022, 12, 31), sheet
    months = _sheet(path, "政务服务")
    june = months.filter(months["周期"] == "2023年6月").row(0, named=True)
    assert june["结束日期"].date() == date(2023, 6, 30)
    breakdowns = _sheet(path, "分项统计")
    assert set(breakdowns["周期"].to_list()) == {"2023年1—6月"}
    assert {d.date() for d in breakdowns["结束日期"].to_list()} == {date(2023, 6, 30)}


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
        "指标名称", "领域", "年度", "数据截至", "本年累计", "全年目标", "完成率",
        "按进度应完成", "预计全年", "推算方法", "上年同期", "同比", "状态", "状态说明",
    ]  # fmt: skip
    rows = {r["指标名称"]: r for r in df.iter_rows(named=True)}
    signed = rows["新引进（签约）项目数"]
    assert (signed["本年累计"], signed["全年目标"], signed["完成率"]) == (28, 70, 0.4)
    assert signed["状态"] == "预警" and signed["推算方法"] == "按上年同期进度（季节性）推算"
    # 同比 as the page writes it: a ratio in 个百分点, a count or an amount in per cent.
    assert signed["同比"] == "下降9.7%"
    assert rows["全程网办办件占比"]["同比"] == "提高3.8个百分点"
    assert rows["合同引资额"]["同比"] == "增长6.4%"
    assert df["状态"].to_list().count("达标") == 4
    # The domain's order, then display_order within it.
    assert df["指标名称"].to_list()[:3] == ["平均跑动次数", "全程网办办件占比", "返乡创业新增主体"]


def test_funnel_sheet(workbook):
    path, _ = workbook
    df = _sheet(path, "项目漏斗")
    got = [
        (r["线索批次"], r["阶段"], r["本批线索数"], r["达到该阶段项目数"], r["占本批线索比例"])
        + (r["停留在该阶段项目数"],)
        for r in df.iter_rows(named=True)
    ]
    # Counted by hand from the fixture's projects (fixture.py).
    assert got == [
        ("2022年线索", "线索", 10, 10, 1.0, 1),
        ("2022年线索", "洽谈", 10, 9, 0.9, 2),
        ("2022年线索", "签约", 10, 7, 0.7, 3),
        ("2022年线索", "开工", 10, 4, 0.4, 2),
        ("2022年线索", "投产", 10, 2, 0.2, 2),
        ("2023年1—6月线索", "线索", 4, 4, 1.0, 1),
        ("2023年1—6月线索", "洽谈", 4, 3, 0.75, 1),
        ("2023年1—6月线索", "签约", 4, 2, 0.5, 1),
        ("2023年1—6月线索", "开工", 4, 1, 0.25, 1),
        ("2023年1—6月线索", "投产", 4, 0, 0.0, 0),
    ]
    assert df["线索截止日期"].to_list()[5].date() == date(2023, 6, 30)
    assert df["标志日期"].to_list()[:2] == ["线索日期", "首次洽谈日期"]


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
    assert len(df) == 6 + 3 * 13
    # An average or a share carries the cases it is over, and says when they are too few.
    trips = {
        r["分项"]: r for r in df.filter(df["指标名称"] == "平均跑动次数").iter_rows(named=True)
    }
    assert (trips["部门13"]["数值"], trips["部门13"]["办结办件量"]) == (1.5, 2)
    assert trips["部门13"]["备注"] == "办结办件量不足30件，不参加排行"
    assert trips["部门12"]["备注"] == "办结办件量不足30件，不参加排行"
    assert trips["部门11"]["备注"] is None and trips["部门11"]["办结办件量"] == 30


def test_definitions_sheet(workbook, data):
    path, _ = workbook
    df = _sheet(path, "指标说明")
    assert df.columns == ["领域", "指标名称", "单位", "说明"]
    assert len(df) == len(KPIS)
    row = df.filter(df["指标名称"] == "经营主体总量").row(0, named=True)
    assert (row["领域"], row["单位"]) == ("经营主体", "户")
    assert row["说明"] == data.facts["entities_total"].description_zh


def test_no_sheet_names_a_kpi_code_or_a_table(workbook):
    path, sheets = workbook
    with zipfile.ZipFile(path) as z:
        texts = [z.read("xl/sharedStrings.xml").decode("utf-8")]
        texts += [z.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8") for i in range(1, 11)]
    cells = "\n".join(re.sub(r"<[^>]+>", "\n", t) for t in texts)
    assert "marts." not in cells and "seeds." not in cells
    for code in KPIS:
        assert code not in cells, code


def test_formats_frozen_header_filters_and_widths(workbook):
    path, sheets = workbook
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    # From the seed's decimals: counts 0 (no thousands separator, as 100425户), ratios 0.0%,
    # trips 0.00, 亿元 0.0.
    for fmt in ("0.0%", "0.00", "0.0", "yyyy-mm-dd"):
        assert f'formatCode="{fmt}"' in styles
    assert "#,##0" not in styles
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
