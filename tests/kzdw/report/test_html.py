"""The HTML page rendered from the fixture's KPI tables: what it says, and that it stands alone."""

import dataclasses
import re

import pytest

from kzdw.report.data import ReportData, ReportDataError, load_report_data
from kzdw.report.html import MIN_CASES, lead_paragraph, render_html, target_sentence
from tests.kzdw.report.browser import visible_text
from tests.kzdw.report.fixture import AS_OF, KPIS, build_fixture


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
    assert data.year_to_date() == 2023
    assert len(data.scorecard) == 8
    assert len(data.funnel) == 10
    assert data.year_value("entities_total", 2022).value == 100425
    assert data.year_value("entities_total", 2022).domain == "market_entities"
    assert data.facts["entities_total"].unit_word == "户"
    assert data.headline_codes()[:3] == [
        "avg_trips_per_case",
        "online_case_rate",
        "online_licensing_item_rate",
    ]


def test_page_stands_alone(page):
    # The only URL is the SVG namespace (an identifier, never fetched).
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s'\"<>]*", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    for banned in ("<script", "<link", "<img", "@import", "url(", "@font-face", "<iframe"):
        assert banned not in page.lower()
    assert "<html lang='zh-CN'>" in page and "<meta charset='utf-8'>" in page
    assert '"Noto Sans CJK SC"' in page
    # Phones lay it out at their own width.
    assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in page


def test_no_internal_name_on_the_page(text, data):
    assert "marts." not in text and "seeds." not in text
    for code in data.facts:
        assert code not in text, code
    for column in ("kpi_code", "period_start", "share_of_cohort", "headline_rank"):
        assert column not in text


def test_headline_cards_show_last_year_and_this_year_to_date(page):
    headline = _section(page, "headline")
    assert headline.startswith("一、主要指标（2022年及2023年1—6月）")
    # The last full year, its change on the year before, then the year to date and its
    # change on the same period last year (a ratio's changes in 个百分点).
    assert (
        "平均跑动次数 0.11次 2022年 比上年下降38.9% 2023年1—6月 0.09次 ，同比下降25.8%" in headline
    )
    assert (
        "全程网办办件占比 69.9% 2022年 比上年提高6.7个百分点 2023年1—6月 69.8% ，"
        "同比提高3.8个百分点"
    ) in headline
    assert "经营主体总量 100425户 2022年 比上年增长6.3% 2023年1—6月 103832户" in headline
    assert "经营主体净增长率 6.3% 2022年 比上年下降1个百分点 2023年1—6月 3.4%" in headline
    assert "引进工业项目总投资 289.9亿元 2022年 比上年增长37.4% 2023年1—6月 110.7亿元" in headline
    assert "一窗综办部门数 18个 2022年 比上年持平" in headline
    # Only the headline KPIs (headline_rank), in the domains' order and by rank within each.
    cards = re.findall(
        r"data-kpi='(\w+)'><div class='name'>", page.split("<section id='targets'>")[0]
    )
    domains = ["permit_cases", "service_items", "market_entities", "investment_projects"]
    ranked = sorted(
        (c for c, f in KPIS.items() if f[3] is not None),
        key=lambda c: (domains.index(KPIS[c][2]), KPIS[c][3]),
    )
    assert cards == ranked
    assert "办结办件量" not in headline and "周周有项目信息" not in headline
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


def test_the_half_year_is_summed_up_as_the_districts_half_year_reports_write_it(data, page):
    summary = (
        "2023年1—6月，群众平均跑动次数为0.09次，全程网办办件占比69.8%，"
        "行政许可事项全程网办率96.2%，19个部门单位518个事项纳入“一窗综办”，办件5731件；"
        "截至6月底，经营主体总量达到103832户，净增长3.4%，新增市场主体6307户；"
        "共引进工业项目19个，总投资110.7亿元，推动14个工业项目实现开工。"
    )
    assert lead_paragraph(data, 2023) == summary
    # Beside the last full year's, in the headline section.
    headline = _section(page, "headline")
    assert headline.index("2022年，群众平均跑动次数") < headline.index(summary)
    # Mid-month, the span is named to the day.
    mid = dataclasses.replace(data, as_of=AS_OF.replace(day=15))
    assert lead_paragraph(mid, 2023).startswith("2023年1月1日—6月15日，")
    assert "截至6月15日，经营主体总量达到103832户" in lead_paragraph(mid, 2023)


def test_lead_paragraph_leaves_out_a_sentence_without_figures(data):
    values = [v for v in data.values if v.code != "cross_region_cases"]
    assert "通办专窗" not in lead_paragraph(dataclasses.replace(data, values=values), 2022)
    values = [v for v in data.values if v.code != "entities_net_growth_rate"]
    text = lead_paragraph(dataclasses.replace(data, values=values), 2022)
    assert "净增长" not in text and "经营主体总量达到100425户" in text


def test_targets_are_stated_in_chinese(page, data):
    targets = _section(page, "targets")
    assert targets.startswith("二、2023年目标进度（截至2023年6月30日）")
    assert "2023年设定年度目标8项，截至2023年6月30日：达标4项、预警2项、落后2项。" in targets
    rows = {r["kpi_code"]: r for r in data.scorecard}
    assert target_sentence(data, rows["projects_signed"]) == (
        "新引进（签约）项目数：全年目标70个，截至6月30日完成28个，完成目标的40.0%"
        "（按进度应完成42.5%），预计全年66个，同比下降9.7%。"
    )
    for phrase in ("全年目标400亿元", "全年目标50个", "全年目标40个", "完成159.8亿元"):
        assert phrase in targets
    # Status and the scorecard's own reason beside each target.
    assert "落后 截至2023年6月30日完成159.8亿元，为年度目标400亿元的40.0%" in targets
    assert "不作推算" in targets


def test_change_of_a_ratio_is_in_percentage_points(data, page):
    rows = {r["kpi_code"]: r for r in data.scorecard}
    # 69.840% now against 66% a year before: 3.8 points, not the 5.8% it grew by.
    assert target_sentence(data, rows["online_case_rate"]) == (
        "全程网办办件占比：全年目标75%，截至6月30日为69.8%，为目标的93.1%，同比提高3.8个百分点。"
    )
    table = re.search(r"<table class='scorecard'>.*?</table>", page, re.S).group(0)
    cells = dict(
        (visible_text(row[0]), visible_text(row[1]))
        for row in re.findall(
            r"<tr data-kpi='\w+'><td>(.*?)</td>.*?<td class='num'>([^<]*)</td><td>", table
        )
    )
    assert cells["全程网办办件占比"] == "提高3.8个百分点"
    assert cells["周周有项目信息"] == "提高3.8个百分点"  # 100% against 25 of 26 weeks
    assert cells["合同引资额"] == "增长6.4%"  # 159.8 against 150.2 亿元
    assert cells["平均跑动次数"] == "下降25.8%"  # an average: relative


def test_a_target_without_projection_is_judged_on_its_value(data):
    row = next(r for r in data.scorecard if r["kpi_code"] == "lead_week_coverage")
    row = dict(row, expected_share_to_date=1.0)
    assert target_sentence(data, row) == (
        "周周有项目信息：全年目标100%，截至6月30日为100%，为目标的100.0%，同比提高3.8个百分点。"
    )


def test_progress_bars_are_coloured_by_status(page):
    svg = re.search(r"<svg[^>]*aria-label=\"2023年目标完成进度\".*?</svg>", page, re.S).group(0)
    assert svg.count("#2e7d32") == 4  # 达标
    assert svg.count("#e08a00") == 2  # 预警
    assert svg.count("#c62828") == 2  # 落后
    assert svg.count("stroke-dasharray") == 8


def test_monthly_trend_breaks_at_a_month_without_cases(page):
    trend = re.search(r"<section id='trend'>.*?</section>", page, re.S).group(0)
    assert "三、政务服务月度走势（2022年1月—2023年6月）" in visible_text(trend)
    trips = re.search(r"aria-label=\"平均跑动次数月度走势\".*?</svg>", trend, re.S).group(0)
    # 2022-03 is NULL: Jan–Feb is one line, Apr 2022–Jun 2023 another.
    lines = re.findall(r"<polyline points=\"([^\"]+)\"", trips)
    assert [len(p.split()) for p in lines] == [2, 15]
    # The last value printed at the line's end: 0.25 − 17 × 0.01; the axis's ticks in one
    # form, the online share's in %.
    assert ">0.08</text>" in trips
    assert re.findall(r'class="axis">([\d.%]+)</text>', trips) == [
        "0.0",
        "0.1",
        "0.2",
        "0.3",
        "0.4",
    ]
    online = re.search(r"aria-label=\"全程网办办件占比月度走势\".*?</svg>", trend, re.S).group(0)
    assert ">67%</text>" in online
    assert re.findall(r'class="axis">([\d.%]+)</text>', online) == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
    ]


def _funnel_figures(page: str) -> dict[str, list[tuple[str, str, str]]]:
    funnel = re.search(r"<section id='funnel'>.*?</section>", page, re.S).group(0)
    out = {}
    for figure in re.findall(r"<figure>.*?</figure>", funnel, re.S):
        name = re.search(r"<figcaption>([^<]*)<", figure).group(1)
        texts = re.findall(r"class=\"funnel-label\">([^<]*)</text>", figure)
        widths = [
            float(w)
            for w in re.findall(
                # The bars, not the grey tracks behind them.
                r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="24" rx="3" '
                r'fill="#(?!e3e7ee)',
                figure,
            )
        ]
        out[name] = (list(zip(texts[0::2], texts[1::2], strict=True)), widths)
    return out


def test_funnel_follows_each_cohort_of_leads_down_the_stages(page):
    figures = _funnel_figures(page)
    # Counted by hand from the fixture's projects (fixture.py): 10 leads in 2022, 4 in 2023
    # to 30 June; each bar's share of the leads.
    assert list(figures) == ["2022年线索", "2023年1—6月线索"]
    prior, prior_widths = figures["2022年线索"]
    assert prior == [
        ("线索", "10个  100%"),
        ("洽谈", "9个  90%"),
        ("签约", "7个  70%"),
        ("开工", "4个  40%"),
        ("投产", "2个  20%"),
    ]
    current, current_widths = figures["2023年1—6月线索"]
    assert current == [
        ("线索", "4个  100%"),
        ("洽谈", "3个  75%"),
        ("签约", "2个  50%"),
        ("开工", "1个  25%"),
        ("投产", "0个  0%"),
    ]
    # Widths mean something: proportional to the counts of the cohort (no bar for 0).
    full = prior_widths[0]
    assert [round(w / full, 3) for w in prior_widths] == [1.0, 0.9, 0.7, 0.4, 0.2]
    assert [round(w / full, 3) for w in current_widths] == [1.0, 0.75, 0.5, 0.25]
    funnel = _section(page, "funnel")
    assert "（共10个项目）" in funnel and "（共4个项目）" in funnel
    # Week coverage is no stage of a funnel.
    assert "周周有项目信息" not in funnel


def test_a_cohort_without_leads_says_so(data):
    funnel = [
        dict(r, cohort_projects=0, projects_reached=0, share_of_cohort=None)
        if r["cohort"] == "year_to_date"
        else r
        for r in data.funnel
    ]
    page = render_html(dataclasses.replace(data, funnel=funnel))
    assert "2023年1—6月线索 这一时期没有新的项目线索。" in _section(page, "funnel")


def _ranking(page: str, kpi: str, dimension: str) -> tuple[list[tuple[str, str]], str]:
    figure = re.search(
        rf"<figure data-kpi='{kpi}' data-dimension='{dimension}'>.*?</figure>", page, re.S
    ).group(0)
    names = re.findall(r'class="bar-label">([^<]*)</text>', figure)
    values = re.findall(r'class="bar-value">([^<]*)</text>', figure)
    return list(zip(names, values, strict=True)), visible_text(figure)


def test_an_average_ranks_only_members_with_enough_cases(page):
    ranked, text = _ranking(page, "avg_trips_per_case", "department")
    # 部门13 (2 cases, 1.5 trips) and 部门12 (29 cases, 0.6) would lead; 部门11 has 30.
    assert ranked[:3] == [
        ("部门11", "0.40次（30件）"),
        ("部门10", "0.14次（1000件）"),
        ("部门09", "0.13次（2000件）"),
    ]
    assert "部门13" not in text and "部门12" not in text
    assert f"仅办结办件量达到{MIN_CASES}件的实施部门参加排行" in text
    assert "另有2个实施部门办结办件量不足30件，未参加排行。" in text
    assert "共11个，列前8位" in text


def test_a_share_ranks_only_members_with_enough_cases(page):
    ranked, text = _ranking(page, "online_case_rate", "department")
    # 部门13's 100% of 2 cases and 部门12's 96.6% of 29 are left out.
    assert ranked[0] == ("部门10", "78%（1000件）")
    assert "部门13" not in text and "部门12" not in text
    assert "另有2个实施部门办结办件量不足30件，未参加排行。" in text


def test_a_two_case_department_never_ranks_first(data):
    # However extreme its figure, and even as the only other member.
    for code, extreme in (("avg_trips_per_case", 99.0), ("online_case_rate", 1.0)):
        rows = [
            dict(r, value=extreme)
            if (r["dimension_value"], r["kpi_code"]) == ("部门13", code)
            else r
            for r in data.breakdowns
        ]
        page = render_html(dataclasses.replace(data, breakdowns=rows))
        ranked, _ = _ranking(page, code, "department")
        assert ranked[0][0] != "部门13" and "部门13" not in dict(ranked)


def test_counts_rank_every_member(page):
    ranked, text = _ranking(page, "cases_completed", "department")
    assert [name for name, _ in ranked] == [f"部门{i:02d}" for i in range(1, 9)]
    assert ranked[0] == ("部门01", "10000件")
    assert "共13个，列前8位" in text and "未参加排行" not in text
    teams, _ = _ranking(page, "projects_signed", "team")
    assert [name for name, _ in teams] == [
        "绿色工业",
        "商贸物流",
        "文旅融合",
        "绿色农业",
        "城市提升",
        "乡镇街道",
    ]


def test_appendix_explains_every_kpi_in_chinese(page, data):
    about = _section(page, "about")
    assert about.startswith("附：指标说明")
    for facts in data.facts.values():
        assert f"{facts.name} " in about and facts.description_zh in about
    assert "经营主体总量 100425户 103832户 统计期末存续的经营主体数量。" in about


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
