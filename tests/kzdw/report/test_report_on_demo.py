"""Issue 4's "done when", on a real build of the demo: `kzdw report` from the serving copy,
the page rendered by headless Chromium (DOM text and a screenshot), the PDF and the workbook
carry the district's published 2022 figures and the 2023 targets in Chinese."""

import re
import subprocess
import zipfile
from datetime import date

import duckdb
import fastexcel
import pytest

from kzdw.report.data import load_report_data
from tests.kzdw.report.browser import (
    cjk_font_families,
    dump_dom,
    pdf_font_families,
    png_size_and_busy_rows,
    screenshot,
    visible_text,
)
from tests.kzdw.report.fixture import format_kpi_value_sql
from tests.kzdw.report.scorecard_text import scorecard_figures

pytestmark = pytest.mark.slow

ARTICLE_TARGETS = {
    "projects_signed": "全年目标70个",
    "contract_investment_signed": "全年目标400亿元",
    "projects_started": "全年目标50个",
    "projects_in_production": "全年目标40个",
}


@pytest.fixture(scope="module")
def demo_report(demo, tmp_path_factory):
    # `demo` (tests/conftest.py): the session's one demo build, shared with
    # tests/test_demo_end_to_end.py.
    deployment, _ = demo
    out = tmp_path_factory.mktemp("demo_report")
    made = deployment.kzdw("report", "--out", str(out))
    assert made.returncode == 0, made.output
    assert made.output.split()[-3:] == [str(out / f"report.{x}") for x in ("html", "xlsx", "pdf")]
    return deployment, out


@pytest.fixture(scope="module")
def rendered(demo_report):
    """The DOM after Chromium parsed and laid out the page, and its visible text."""
    _, out = demo_report
    dom = dump_dom(out / "report.html")
    return dom, visible_text(dom)


def _serving_query(deployment, sql, params=None):
    return deployment.query(sql, params, database=deployment.serving)


def test_chromium_shows_the_published_2022_figures(rendered):
    _, text = rendered
    assert "一、主要指标（2022年及2023年1—6月）" in text
    assert "平均跑动次数 0.11次" in text
    assert "经营主体总量 100425户" in text
    assert "经营主体净增长率 6.3%" in text
    assert "引进工业项目数 53个" in text and "引进工业项目总投资 289.9亿元" in text
    assert "截至2022年底，经营主体总量达到100425户，净增长6.3%，新增市场主体12000户" in text
    assert "共引进工业项目53个，总投资289.9亿元，推动31个工业项目实现开工" in text
    assert "169项" in text and "18个部门单位" in text


def test_every_headline_card_is_the_kpi_values_figure(demo_report, rendered):
    deployment, _ = demo_report
    dom, _ = rendered
    data = load_report_data(deployment.serving)
    cards = re.findall(
        r'data-kpi="(\w+)"><div class="name">[^<]*</div><div><span class="value">([^<]*)</span>',
        dom,
    )
    headline = [f.code for f in data.facts.values() if f.headline_rank is not None]
    assert sorted(code for code, _ in cards) == sorted(headline)
    values = {
        code: value
        for code, value in _serving_query(
            deployment,
            "select kpi_code, value from marts.kpi_values "
            "where period_type = 'year' and period_start = date '2022-01-01'",
        )
    }
    for code, shown in cards:
        assert shown == data.format(code, values[code]), code


def test_the_scorecard_sentences_print_every_figure_as_the_python_formatter(demo_report):
    deployment, _ = demo_report
    data = load_report_data(deployment.serving)
    assert data.scorecard
    for row in data.scorecard:
        figures = scorecard_figures(row["status_reason"])
        assert {"value_to_date", "target"} <= set(figures), row["status_reason"]
        for column, written in figures.items():
            assert written == data.format(row["kpi_code"], row[column]), (row["kpi_code"], column)


def test_the_scorecard_macro_writes_every_demo_value_as_the_python_formatter(demo_report):
    deployment, _ = demo_report
    data = load_report_data(deployment.serving)
    expression = format_kpi_value_sql("v.value", "d.unit", "d.decimals", "d.unit_word")
    con = duckdb.connect(str(deployment.serving), read_only=True)
    try:
        rows = con.execute(
            f"select v.kpi_code, v.value, {expression} from marts.kpi_values as v "
            "inner join seeds.kpi_definitions as d using (kpi_code)"
        ).fetchall()
    finally:
        con.close()
    assert {code for code, _, _ in rows} == set(data.facts)
    for code, value, written in rows:
        assert written == (None if value is None else data.format(code, value)), (code, value)


def test_the_funnel_on_the_page_is_the_marts(demo_report, rendered):
    deployment, _ = demo_report
    dom, text = rendered
    data = load_report_data(deployment.serving)
    funnel = re.search(r'<section id="funnel">.*?</section>', dom, re.S).group(0)
    for name, leads, stages in _cohorts(data):
        assert name in text
        if leads == 0:
            continue
        figure = next(f for f in re.findall(r"<figure>.*?</figure>", funnel, re.S) if name in f)
        labels = re.findall(r'class="funnel-label">([^<]*)</text>', figure)
        for r in stages:
            count = data.format("projects_signed", r["projects_reached"])
            assert f"{count}  " in labels[2 * (r["stage_order"] - 1) + 1], (name, r["stage"])


def _cohorts(data):
    from kzdw.report.html import funnel_cohorts

    return funnel_cohorts(data)


def test_no_internal_name_on_the_page_or_in_the_workbook(demo_report, rendered):
    deployment, out = demo_report
    _, text = rendered
    data = load_report_data(deployment.serving)
    with zipfile.ZipFile(out / "report.xlsx") as z:
        cells = "\n".join(
            re.sub(r"<[^>]+>", "\n", z.read(n).decode("utf-8"))
            for n in z.namelist()
            if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"
        )
    for where in (text, cells):
        assert "marts." not in where and "seeds." not in where
        for code in data.facts:
            assert code not in where, code


def test_the_2023_targets_of_the_article_in_chinese(demo_report, rendered):
    deployment, _ = demo_report
    dom, text = rendered
    assert "二、2023年目标进度（截至2023年6月30日）" in text
    scorecard = {
        row[0]: row[1:]
        for row in _serving_query(
            deployment,
            "select kpi_code, unit, value_to_date, target, status from marts.kpi_scorecard "
            "where year = 2023 and as_of = date '2023-06-30'",
        )
    }
    assert set(ARTICLE_TARGETS) <= set(scorecard)
    data = load_report_data(deployment.serving)
    for code, phrase in ARTICLE_TARGETS.items():
        unit, value, _, status = scorecard[code]
        item = re.search(rf'<li data-kpi="{code}">(.*?)</li>', dom, re.S)
        assert item, code
        said = visible_text(item.group(1))
        assert phrase in said, said
        assert f"完成{data.format(code, value)}" in said, said
        assert status in ("达标", "预警", "落后") and status in said
    counts = re.search(r"2023年设定年度目标(\d+)项", text)
    assert counts and int(counts.group(1)) == len(scorecard)


def test_revisions_section_matches_kpi_revisions(demo_report, rendered):
    deployment, _ = demo_report
    _, text = rendered
    (this_period,) = _serving_query(
        deployment,
        "select count(*) from marts.kpi_revisions where new_as_of = date '2023-06-30'",
    )[0]
    assert "六、修订说明" in text
    if this_period == 0:
        assert "本期无修订" in text
    else:
        assert f"本期有{this_period}项已发布数据因补报或更正而修订" in text


def test_screenshot_is_not_blank(demo_report, tmp_path):
    _, out = demo_report
    png = screenshot(out / "report.html", tmp_path / "report.png", 1280, 2400)
    width, height, busy = png_size_and_busy_rows(png)
    assert (width, height) == (1280, 2400)
    # Text, cards and charts: a blank page has 0 such rows, the demo's report about half.
    assert busy > height * 0.25, busy


def test_pdf_prints_the_page_in_a_chinese_font(demo_report):
    _, out = demo_report
    pdf = out / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_font_families(pdf) & cjk_font_families()
    try:
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text is not read")
    assert "平均跑动次数" in text and "0.11次" in text
    assert "经营主体总量达到100425户" in text.replace("\n", "").replace(" ", "")
    assert "修订说明" in text
    pages = [p for p in text.split("\f") if p.strip()]
    for n, page in enumerate(pages, start=1):
        assert f"第{n}页/共{len(pages)}页" in re.sub(r"\s+", "", page), n
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(" CID " in f and " yes " in f for f in fonts), fonts


def test_workbook_has_the_demo_figures(demo_report):
    deployment, out = demo_report
    facts = load_report_data(deployment.serving).facts
    book = fastexcel.read_excel(str(out / "report.xlsx"))
    assert {"政务服务", "经营主体", "招商项目", "事项目录", "目标进度", "修订说明"} <= set(
        book.sheet_names
    )
    entities = book.load_sheet_by_name("经营主体").to_polars()
    row = entities.filter(entities["周期"] == "2022年").row(0, named=True)
    assert row["经营主体总量（户）"] == 100425
    assert row["开始日期"].date() == date(2022, 1, 1)
    targets = book.load_sheet_by_name("目标进度").to_polars()
    got = dict(zip(targets["指标名称"].to_list(), targets["全年目标"].to_list(), strict=True))
    assert {k: got.get(facts[k].name) for k in ARTICLE_TARGETS} == {
        "projects_signed": 70,
        "contract_investment_signed": 400,
        "projects_started": 50,
        "projects_in_production": 40,
    }
