"""The HTML page rendered from the fixture's KPI tables: what it says, and that it stands alone."""

import dataclasses
import re

import pytest

from kzdw.report.data import ReportData, ReportDataError, load_report_data
from kzdw.report.html import lead_paragraph, render_html, target_sentence
from tests.kzdw.report.browser import visible_text
from tests.kzdw.report.fixture import AS_OF, build_fixture


@pytest.fixture(scope="module")
def page(data) -> str:
    return render_html(data)


@pytest.fixture(scope="module")
def text(page) -> str:
    return visible_text(page)


def _section(page: str, name: str) -> str:
    match = re.search(rf"<section id='{name}'>(.*?)</section>", page, re.S)
    assert match, name
    return visible_text(match.group(1))


def test_data_reads_the_agreed_tables(data):
    assert data.as_of == AS_OF
    assert data.current_year == 2023
    assert data.last_full_year == 2022
    assert len(data.scorecard) == 5
    assert data.year_value("entities_total", 2022).value == 100425
    assert data.year_value("entities_total", 2022).domain == "market_entities"


def test_page_stands_alone(page):
    # The only URL is the SVG namespace (an identifier, never fetched).
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s'\"<>]*", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    for banned in ("<script", "<link", "<img", "@import", "url(", "@font-face", "<iframe"):
        assert banned not in page.lower()
    assert "<html lang='zh-CN'>" in page and "<meta charset='utf-8'>" in page
    assert '"Noto Sans CJK SC"' in page


def test_headline_cards_show_last_full_year(page):
    headline = _section(page, "headline")
    assert headline.startswith("一、2022年主要指标")
    assert "平均跑动次数 0.11次 上年 0.18次" in headline
    assert "经营主体总量 100425户 上年 94473户" in headline
    assert "经营主体净增长率 6.3%" in headline
    assert "引进工业项目总投资 289.9亿元" in headline
    # Domains in the district report's order.
    assert re.findall(r"<h3>(.*?)</h3>", page)[:4] == [
        "政务服务",
        "事项目录",
        "经营主体",
        "招商项目",
    ]


def test_lead_paragraph_speaks_like_the_district_report(data):
    assert lead_paragraph(data, 2022) == (
        "2022年，群众平均跑动次数为0.11次，全程网办办件占比69.9%，行政许可事项全程网办率95.7%，"
        "18个部门单位492个事项纳入“一窗综办”，办件10488件；"
        "截至2022年底，经营主体总量达到100425户，净增长6.3%，新增市场主体12000户；"
        "共引进工业项目53个，总投资289.9亿元，推动31个工业项目实现开工。"
    )


def test_lead_paragraph_leaves_out_a_sentence_without_figures(data):
    values = [v for v in data.values if v.code != "cross_region_cases"]
    assert "通办专窗" not in lead_paragraph(dataclasses.replace(data, values=values), 2022)
    values = [v for v in data.values if v.code != "entities_net_growth_rate"]
    text = lead_paragraph(dataclasses.replace(data, values=values), 2022)
    assert "净增长" not in text and "经营主体总量达到100425户" in text


def test_targets_are_stated_in_chinese(page, data):
    targets = _section(page, "targets")
    assert targets.startswith("二、2023年目标进度（截至2023年6月30日）")
    assert "2023年设定年度目标5项，截至2023年6月30日：达标3项、预警1项、落后1项。" in targets
    row = next(r for r in data.scorecard if r["kpi_code"] == "projects_signed")
    assert target_sentence(row, AS_OF) == (
        "新引进（签约）项目数：全年目标70个，截至6月30日完成28个，完成目标的40.0%"
        "（按进度应完成42.0%），预计全年59个，同比下降9.7%。"
    )
    for phrase in ("全年目标400亿元", "全年目标50个", "全年目标40个", "完成159.8亿元"):
        assert phrase in targets
    # Status and the scorecard's own reason beside each target.
    assert "落后 完成目标的40.0%，比按进度应完成的55.0%低15.1个百分点。" in targets
    assert "不作推算" in targets


def test_a_target_without_projection_is_judged_on_its_value(data):
    row = next(r for r in data.scorecard if r["kpi_code"] == "lead_week_coverage")
    row = dict(row, expected_share_to_date=1.0)
    assert target_sentence(row, AS_OF) == (
        "周周有项目信息：全年目标100%，截至6月30日完成100%，完成目标的100.0%，同比增长4.0%。"
    )


def test_progress_bars_are_coloured_by_status(page):
    svg = re.search(r"<svg[^>]*aria-label=\"2023年目标完成进度\".*?</svg>", page, re.S).group(0)
    assert svg.count("#2e7d32") == 3  # 达标
    assert svg.count("#e08a00") == 1  # 预警
    assert svg.count("#c62828") == 1  # 落后
    assert svg.count("stroke-dasharray") == 4  # expected share: none for lead_week_coverage


def test_monthly_trend_breaks_at_a_month_without_cases(page):
    trend = re.search(r"<section id='trend'>.*?</section>", page, re.S).group(0)
    assert "三、政务服务月度走势（2022年1月—2023年6月）" in visible_text(trend)
    trips = re.search(r"aria-label=\"平均跑动次数月度走势\".*?</svg>", trend, re.S).group(0)
    # 2022-03 is NULL: Jan–Feb is one line, Apr 2022–Jun 2023 another.
    lines = re.findall(r"<polyline points=\"([^\"]+)\"", trips)
    assert [len(p.split()) for p in lines] == [2, 15]
    # The last value printed at the line's end: 0.25 − 17 × 0.01.
    assert ">0.08</text>" in trips


def test_funnel_names_its_kpis(page):
    funnel = _section(page, "funnel")
    assert "线索→洽谈→签约→开工→投产" in funnel
    for code in (
        "lead_week_coverage",
        "talk_month_coverage",
        "projects_signed",
        "projects_started",
        "projects_in_production",
    ):
        assert code in funnel
    assert "签约 28个" in funnel and "合同引资159.8亿元" in funnel
    assert "签约 73个" in funnel  # 2022, the last full year
    assert "2023年1—6月" in funnel and "2022年" in funnel


def test_breakdowns_show_the_top_items(page):
    breakdowns = _section(page, "breakdowns")
    assert breakdowns.startswith("五、分项排行（2023年1—6月）")
    assert "办结办件量 · 按实施部门" in breakdowns and "共10项，列前8位" in breakdowns
    assert "部门01" in breakdowns and "部门08" in breakdowns
    assert "部门09" not in breakdowns and "部门10" not in breakdowns
    assert "新引进（签约）项目数 · 按招商团" in breakdowns
    teams = re.findall(r"(绿色工业|商贸物流|文旅融合|绿色农业|城市提升|乡镇街道)", breakdowns)
    assert teams == ["绿色工业", "商贸物流", "文旅融合", "绿色农业", "城市提升", "乡镇街道"]


def test_revisions_of_this_period(page):
    revisions = _section(page, "revisions")
    assert "本期有1项已发布数据因补报或更正而修订" in revisions
    assert "新增市场主体 2023年3月 1021户 1023户 2023年6月15日 2023-07-01 06:00" in revisions
    assert "市场主体登记_补报_20230630.csv" in revisions
    assert "招商项目_更正_20230331.xlsx" not in revisions
    assert "此前各期共记录修订1项" in revisions


def test_no_revisions(tmp_path):
    serving = build_fixture(tmp_path / "serving" / "warehouse.duckdb", revisions=False)
    revisions = _section(render_html(load_report_data(serving)), "revisions")
    assert revisions == "六、修订说明 本期无修订。"


def test_a_missing_mart_is_named(tmp_path):
    import duckdb

    serving = build_fixture(tmp_path / "serving" / "warehouse.duckdb")
    con = duckdb.connect(str(serving))
    con.execute("drop table marts.kpi_scorecard")
    con.close()
    with pytest.raises(ReportDataError, match=r"no marts\.kpi_scorecard.*kzdw run"):
        load_report_data(serving)
    with pytest.raises(ReportDataError, match="no serving copy"):
        load_report_data(tmp_path / "elsewhere" / "warehouse.duckdb")


def test_no_target_this_year(data):
    page = render_html(dataclasses.replace(data, scorecard=[]))
    assert "2023年未设定年度目标。" in _section(page, "targets")


def test_text_is_escaped(data):
    row = dict(data.scorecard[0], status_reason="<b>1 < 2</b>")
    page = render_html(dataclasses.replace(data, scorecard=[row]))
    assert "&lt;b&gt;1 &lt; 2&lt;/b&gt;" in page and "<b>1 < 2</b>" not in page


def test_report_data_is_only_read(serving):
    before = serving.stat().st_mtime_ns
    assert isinstance(load_report_data(serving), ReportData)
    assert serving.stat().st_mtime_ns == before
