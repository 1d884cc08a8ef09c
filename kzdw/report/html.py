"""The leadership report as one self-contained HTML page in Chinese: inline CSS, inline SVG
charts, no script, no web font, no link to anything outside the file."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from html import escape

from kzdw.report import charts
from kzdw.report.data import KpiValue, ReportData
from kzdw.report.formatting import (
    DOMAIN_ZH,
    MISSING,
    KpiFacts,
    digits,
    format_change,
    format_date,
    format_percent,
    format_share,
    format_ticks,
    period_label,
    projection_method_zh,
    span_label,
    status_class,
    visible,
)

TITLE = "开州区营商环境与招商引资指标报告"

# The funnel counts projects and a ranking's volume counts cases: each is printed as the KPI
# that counts the same things (个, 件), by the seed's facts for it.
PROJECTS_KPI = "projects_signed"
# The averages and shares of kpi_breakdowns, each with the count that is its denominator
# (KPIS.md): trips per case and the online share are both over the cases completed in P.
RATE_VOLUMES = {"avg_trips_per_case": "cases_completed", "online_case_rate": "cases_completed"}
# A member is ranked by an average or a share only with at least this many completed cases in
# the period. With 30, one case moves a share by at most 3.3 points and the trips per case by
# 0.033 (about a third of the district's 0.11); with 2, one case is half of a share, so a
# department that handled two cases would lead the ranking on luck. On the demo's first half of
# 2023, 30 of its 72 departments completed between 1 and 29 cases: without a floor they would
# fill the top and bottom of every ranking. (30 is also the usual floor for treating a share's
# sampling error as normal: about 9 points at 50%.)
MIN_CASES = 30
BREAKDOWN_TOP = 8
# The page runs no script and fetches nothing, in any browser that opens it and in the
# Chromium that prints it: first in <head>, before any text from the data.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
TREND_MONTHS = 60

# Chromium prints an OpenType-CFF font (Noto Sans CJK) as Type 3 bitmaps-in-PDF, never as an
# embedded CID font: the PDF uses a TrueType Chinese font (WenQuanYi Micro Hei, the Debian
# package fonts-wqy-microhei) and no synthetic bold, which Chromium would also print as Type 3.
PRINT_FONTS = '"WenQuanYi Micro Hei", "DejaVu Sans", sans-serif'
CSS = """
:root { --ink: #1d2733; --muted: #5b6675; --line: #d9dee7; --blue: #1f5fa8;
  --ok: #2e7d32; --warn: #e08a00; --behind: #c62828; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px 28px 40px; color: var(--ink);
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  font-size: 14px; line-height: 1.6; background: #fff; }
header { border-bottom: 3px solid #b71c1c; padding-bottom: 10px; margin-bottom: 18px; }
h1 { font-size: 26px; margin: 0 0 4px; color: #b71c1c; letter-spacing: 1px; }
.subtitle { color: var(--muted); margin: 0; }
h2 { font-size: 19px; margin: 28px 0 10px; padding-left: 10px; border-left: 5px solid var(--blue); }
h3 { font-size: 15px; margin: 16px 0 8px; color: var(--blue); }
p.lead { background: #f5f8fc; border: 1px solid var(--line); padding: 10px 14px; margin: 8px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; break-inside: avoid; }
.card .name { color: var(--muted); font-size: 13px; }
.card .when { color: var(--muted); font-size: 12px; margin-left: 4px; }
.card .value { font-size: 22px; font-weight: 700; color: var(--ink); line-height: 1.3; }
.card .change { color: var(--muted); font-size: 12px; }
.card .ytd { border-top: 1px dashed var(--line); margin-top: 4px; padding-top: 3px;
  font-size: 12px; color: var(--muted); }
.card .ytd b { color: var(--blue); font-size: 15px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  break-inside: avoid; }
figcaption { font-weight: 700; font-size: 14px; margin-bottom: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; font-size: 12px; fill: var(--ink); }
svg text.axis { fill: var(--muted); font-size: 11px; }
svg text.point { font-weight: 700; }
svg text.bar-label { font-size: 12px; }
svg text.bar-value { font-size: 12px; font-weight: 700; }
svg text.funnel-label { font-size: 14px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
th { background: #eef3f9; font-weight: 700; text-align: center; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
td .reason { white-space: normal; }
table.scorecard td:first-child { min-width: 9em; }
table.about { table-layout: fixed; }
table.about th:first-child { width: 11.5em; }
table.about th.year { width: 7.5em; }
table.scorecard td.projected { min-width: 7.5em; }
.group { break-inside: avoid; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff;
  white-space: nowrap;
  font-weight: 700; font-size: 12px; }
.status.ok { background: var(--ok); } .status.warn { background: var(--warn); }
.status.behind { background: var(--behind); } .status.none { background: #607d8b; }
.reason { color: var(--muted); font-size: 12px; }
ul.progress { margin: 6px 0; padding-left: 20px; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0; }
.legend { color: var(--muted); font-size: 12px; font-weight: 400; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px;
  color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm 16mm;
  @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页";
    font-family: PRINT_FONTS; font-size: 9pt; color: #5b6675; } }
@media (max-width: 600px) {
  body { padding: 12px 12px 28px; }
  h1 { font-size: 21px; }
  .charts { grid-template-columns: 1fr; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 12px; font-family: PRINT_FONTS; }
  * { font-synthesis: none; }
  h2 { break-after: avoid; }
  section { break-inside: auto; }
  .charts { grid-template-columns: 1fr 1fr; }
  .scroll { overflow: visible; }
  #about { break-before: page; }
}
""".replace("PRINT_FONTS", PRINT_FONTS)


def _e(text: object) -> str:
    return escape(visible(text), quote=True)


def _v(data: ReportData, kpi: KpiValue | None) -> str:
    return MISSING if kpi is None else data.format(kpi.code, kpi.value)


def _count(data: ReportData, like: str, n: float | None) -> str:
    """A count printed as the KPI `like` prints its own (7个, 612件)."""
    if like in data.facts:
        return data.format(like, n)
    return MISSING if n is None else digits(n, 0)


def _year_label(data: ReportData, year: int) -> str:
    """2022年, or the span of a year still running at the as-of date (2023年1—6月)."""
    return period_label("year", date(year, 1, 1), date(year, 12, 31), data.as_of)


def _end_of(data: ReportData, year: int) -> str:
    """截至2022年底, or for a running year 截至6月底 / 截至6月15日."""
    if date(year, 12, 31) <= data.as_of:
        return f"截至{year}年底"
    label = _year_label(data, year)
    if label.endswith("月"):
        return f"截至{data.as_of.month}月底"
    return f"截至{data.as_of.month}月{data.as_of.day}日"


def _sentence(template: str, data: ReportData, year: int, *codes: str) -> str | None:
    """A sentence of the lead paragraph, left out when any of its figures is missing."""
    shown = []
    for code in codes:
        # "code#": the number alone, where the sentence supplies its own unit word.
        kpi = data.year_value(code.rstrip("#"), year)
        if kpi is None or kpi.value is None:
            return None
        shown.append(data.format(kpi.code, kpi.value, with_unit=not code.endswith("#")))
    return template.format(*shown)


def lead_paragraph(data: ReportData, year: int) -> str:
    """The year (or the year to date) in the words of the district's report, figure by figure
    from kpi_values."""
    parts = [
        _sentence("群众平均跑动次数为{}", data, year, "avg_trips_per_case"),
        _sentence("全程网办办件占比{}", data, year, "online_case_rate"),
        _sentence("行政许可事项全程网办率{}", data, year, "online_licensing_item_rate"),
        _sentence(
            "{}个部门单位{}个事项纳入“一窗综办”，办件{}",
            data,
            year,
            "one_window_departments#",
            "one_window_items#",
            "one_window_cases",
        ),
        _sentence("通办专窗办理事项{}", data, year, "cross_region_cases"),
    ]
    business = [
        _sentence(f"{_end_of(data, year)}，经营主体总量达到{{}}", data, year, "entities_total"),
        _sentence("净增长{}", data, year, "entities_net_growth_rate"),
        _sentence("新增市场主体{}", data, year, "entities_new"),
    ]
    projects = [
        _sentence(
            "共引进工业项目{}，总投资{}",
            data,
            year,
            "industrial_projects_signed",
            "industrial_investment_signed",
        ),
        _sentence("推动{}工业项目实现开工", data, year, "industrial_projects_started"),
    ]
    clauses = [
        "，".join(p for p in group if p) for group in (parts, business, projects) if any(group)
    ]
    if not clauses:
        return ""
    return f"{_year_label(data, year)}，" + "；".join(clauses) + "。"


def _card(data: ReportData, code: str, year: int | None, ytd: int | None) -> str:
    """A headline KPI: the last full year's figure and its change on the year before, and
    beneath it the year to date and its change on the same period last year."""
    facts = data.facts[code]
    parts = []
    if year is not None and (kpi := data.year_value(code, year)) is not None:
        before = data.year_value(code, year - 1)
        change = format_change(kpi.value, before.value if before else None, facts)
        parts.append(
            f"<div><span class='value'>{_e(_v(data, kpi))}</span>"
            f"<span class='when'>{_e(_year_label(data, year))}</span></div>"
            + (f"<div class='change'>比上年{_e(change)}</div>" if change != MISSING else "")
        )
    if ytd is not None and (now := data.year_value(code, ytd)) is not None:
        row = next((r for r in data.scorecard if r["kpi_code"] == code), None)
        before = row.get("same_period_last_year") if row else None
        change = format_change(now.value, before, facts)
        parts.append(
            f"<div class='ytd'>{_e(_year_label(data, ytd))} <b>{_e(_v(data, now))}</b>"
            + (f"，同比{_e(change)}" if change != MISSING else "")
            + "</div>"
        )
    if not parts:
        return ""
    return (
        f"<div class='card' data-kpi='{_e(code)}'><div class='name'>{_e(facts.name)}</div>"
        + "".join(parts)
        + "</div>"
    )


def _headline_section(data: ReportData) -> str:
    year, ytd = data.last_full_year, data.year_to_date()
    spans = [_year_label(data, y) for y in (year, ytd) if y is not None]
    if not spans:
        return (
            "<section id='headline'><h2>一、主要指标</h2>"
            "<p class='note'>尚无可列示的数据。</p></section>"
        )
    out = [f"<section id='headline'><h2>一、主要指标（{_e('及'.join(spans))}）</h2>"]
    for y in (year, ytd):
        lead = lead_paragraph(data, y) if y is not None else ""
        if lead:
            out.append(f"<p class='lead'>{_e(lead)}</p>")
    headline = data.headline_codes()
    for domain, codes in data.codes_by_domain().items():
        cards = [_card(data, c, year, ytd) for c in headline if c in codes]
        cards = [c for c in cards if c]
        if cards:
            # One block per domain: a printed page never ends on a heading without its cards.
            out.append(
                f"<div class='group'><h3>{_e(DOMAIN_ZH.get(domain, '其他'))}</h3>"
                "<div class='cards'>" + "".join(cards) + "</div></div>"
            )
    out.append(
        "<p class='note'>“比上年”：全年数与上一年全年相比；“同比”：本年累计与上年同期相比。"
        "比例的变化以百分点计，其余指标以增减幅度计。其余指标见文末“指标说明”。</p></section>"
    )
    return "".join(out)


def _fmt(data: ReportData, row: dict, key: str) -> str:
    return data.format(row["kpi_code"], row.get(key))


def _yoy(data: ReportData, row: dict) -> str:
    return format_change(
        row.get("value_to_date"), row.get("same_period_last_year"), data.facts[row["kpi_code"]]
    )


def target_sentence(data: ReportData, row: dict) -> str:
    """One target in a sentence: what is done, of what, how far along, where it is heading."""
    as_of = data.as_of
    # A flow is done towards its target and projected; a level, a ratio or an average is
    # judged on its value: no "expected by now" share, nothing "done".
    projected = row.get("projection_method") not in (None, "none")
    done, of = ("完成", "完成目标的") if projected else ("为", "为目标的")
    text = (
        f"{data.facts[row['kpi_code']].name}：全年目标{_fmt(data, row, 'target')}，"
        f"截至{as_of.month}月{as_of.day}日{done}{_fmt(data, row, 'value_to_date')}，"
        f"{of}{format_percent(row.get('share_of_target'))}"
    )
    if projected and row.get("expected_share_to_date") is not None:
        text += f"（按进度应完成{format_percent(row.get('expected_share_to_date'))}）"
    if row.get("projected_year_end") is not None:
        text += f"，预计全年{_fmt(data, row, 'projected_year_end')}"
    change = _yoy(data, row)
    if change != MISSING:
        text += f"，同比{change}"
    return text + "。"


def _scorecard_rows(data: ReportData) -> list[dict]:
    return sorted(data.scorecard, key=lambda r: data.order_key(r["kpi_code"]))


def _targets_section(data: ReportData) -> str:
    year = data.current_year
    out = [
        f"<section id='targets'><h2>二、{_e(year)}年目标进度（截至{_e(format_date(data.as_of))}）"
        "</h2>"
    ]
    rows = _scorecard_rows(data)
    if not rows:
        out.append(f"<p class='note'>{_e(year)}年未设定年度目标。</p></section>")
        return "".join(out)
    counts = {s: sum(1 for r in rows if r.get("status") == s) for s in ("达标", "预警", "落后")}
    out.append(
        f"<p class='lead'>{_e(year)}年设定年度目标{len(rows)}项，"
        f"截至{_e(format_date(data.as_of))}："
        f"达标{counts['达标']}项、预警{counts['预警']}项、落后{counts['落后']}项。</p>"
    )
    out.append("<ul class='progress'>")
    for row in rows:
        css = status_class(row.get("status"))
        out.append(
            f"<li data-kpi='{_e(row['kpi_code'])}'>{_e(target_sentence(data, row))}"
            f" <span class='status {css}'>{_e(row.get('status') or MISSING)}</span>"
            f" <span class='reason'>{_e(row.get('status_reason') or '')}</span></li>"
        )
    out.append("</ul>")
    bars = [
        (
            data.facts[r["kpi_code"]].name,
            r.get("share_of_target"),
            r.get("expected_share_to_date"),
            status_class(r.get("status")),
            f"{format_percent(r.get('share_of_target'))}  {_fmt(data, r, 'value_to_date')}"
            f"/{_fmt(data, r, 'target')}",
        )
        for r in rows
    ]
    out.append(
        "<figure><figcaption>目标完成进度</figcaption>"
        + charts.progress_chart(bars, label=f"{year}年目标完成进度")
        + "<div class='legend'>色条：完成目标的比例（绿＝达标，橙＝预警，红＝落后）；"
        "虚线：按进度截至本日应完成的比例。</div></figure>"
    )
    head = (
        "<thead><tr><th>指标</th><th>本年累计</th><th>全年目标</th><th>完成率</th><th>按进度应完成</th>"
        "<th>预计全年</th><th>上年同期</th><th>同比</th><th>状态</th></tr></thead>"
    )
    body = []
    for r in rows:
        css = status_class(r.get("status"))
        body.append(
            f"<tr data-kpi='{_e(r['kpi_code'])}'><td>{_e(data.facts[r['kpi_code']].name)}</td>"
            f"<td class='num'>{_e(_fmt(data, r, 'value_to_date'))}</td>"
            f"<td class='num'>{_e(_fmt(data, r, 'target'))}</td>"
            f"<td class='num'>{_e(format_percent(r.get('share_of_target')))}</td>"
            f"<td class='num'>{_e(format_percent(r.get('expected_share_to_date')))}</td>"
            f"<td class='num projected'>{_e(_fmt(data, r, 'projected_year_end'))}"
            f"<div class='reason'>{_e(projection_method_zh(r.get('projection_method')))}</div></td>"
            f"<td class='num'>{_e(_fmt(data, r, 'same_period_last_year'))}</td>"
            f"<td class='num'>{_e(_yoy(data, r))}</td>"
            f"<td><span class='status {css}'>{_e(r.get('status') or MISSING)}</span></td></tr>"
        )
    out.append(
        f"<div class='scroll'><table class='scorecard'>{head}<tbody>{''.join(body)}</tbody>"
        "</table></div>"
        "<p class='note'>完成率＝本年累计÷全年目标；按进度应完成：按季节性进度截至本日应完成的"
        "目标比例；预计全年：按所列方法推算的全年数；同比：与上年同期（上年1月1日至同月同日）相比，"
        "比例以百分点计。各项状态的判定理由见上文。</p></section>"
    )
    return "".join(out)


def _trend_points(data: ReportData, code: str) -> list[tuple[date, float | None]]:
    months = [m for m in data.months(code) if m.period_start <= data.as_of]
    first = next((i for i, m in enumerate(months) if m.value is not None), None)
    if first is None:
        return []
    return [(m.period_start, m.value) for m in months[first:]][-TREND_MONTHS:]


def _trend_section(data: ReportData) -> str:
    trips = _trend_points(data, "avg_trips_per_case")
    online = _trend_points(data, "online_case_rate")
    span = trips or online
    when = (
        f"（{span[0][0].year}年{span[0][0].month}月—{span[-1][0].year}年{span[-1][0].month}月）"
        if span
        else ""
    )
    charts_html = []
    for code, points, caption, colour, top in (
        ("avg_trips_per_case", trips, "平均跑动次数（次/件）", charts.BLUE, None),
        ("online_case_rate", online, "全程网办办件占比", charts.RED, 1.0),
    ):
        if code not in data.facts:
            continue
        facts = data.facts[code]
        charts_html.append(
            f"<figure><figcaption>{_e(caption)}</figcaption>"
            + charts.line_chart(
                points,
                label=f"{facts.name}月度走势",
                # The axis of an average carries its unit in the caption; a share's % is the
                # figure's own.
                y_format=lambda v, f=facts: data.format(f.code, v, with_unit=f.is_ratio),
                tick_labels=lambda ts, f=facts: format_ticks(ts, f, with_unit=f.is_ratio),
                colour=colour,
                y_top=top,
            )
            + "</figure>"
        )
    return (
        f"<section id='trend'><h2>三、政务服务月度走势{when}</h2>"
        f"<div class='charts'>{''.join(charts_html)}</div>"
        "<p class='note'>按办结月份统计：平均跑动次数＝当月办结办件的跑动次数之和"
        "÷办结件数；全程网办办件占比＝当月办结办件中“全程网办”的比例。</p></section>"
    )


def funnel_cohorts(data: ReportData) -> list[tuple[str, int, list[dict]]]:
    """The funnel's cohorts, earliest first: (name by the span of its lead dates, e.g.
    2022年线索 / 2023年1—6月线索, the number of leads, its stages in order)."""
    cohorts: dict[str, list[dict]] = defaultdict(list)
    for row in data.funnel:
        cohorts[row["cohort"]].append(row)
    out = []
    for rows in sorted(cohorts.values(), key=lambda rs: rs[0]["cohort_start"]):
        rows = sorted(rows, key=lambda r: r["stage_order"])
        first = rows[0]
        name = span_label(first["cohort_start"], first["cohort_end"]) + "线索"
        out.append((name, int(first["cohort_projects"] or 0), rows))
    return out


def _funnel_section(data: ReportData) -> str:
    figures = []
    for name, leads, rows in funnel_cohorts(data):
        if leads == 0:
            figures.append(
                f"<figure><figcaption>{_e(name)}</figcaption>"
                "<p class='note'>这一时期没有新的项目线索。</p></figure>"
            )
            continue
        stages = [
            (
                r["stage"],
                r["share_of_cohort"],
                f"{_count(data, PROJECTS_KPI, r['projects_reached'])}"
                f"  {format_share(r['share_of_cohort'])}",
            )
            for r in rows
        ]
        figures.append(
            f"<figure><figcaption>{_e(name)}"
            f"<span class='legend'>（共{_e(_count(data, PROJECTS_KPI, leads))}项目）</span>"
            "</figcaption>"
            + charts.funnel_chart(stages, label=f"{name}的项目推进漏斗")
            + "</figure>"
        )
    if not figures:
        figures.append("<p class='note'>暂无项目线索数据。</p>")
    return (
        "<section id='funnel'><h2>四、招商项目推进：线索→洽谈→签约→开工→投产</h2>"
        f"<div class='charts'>{''.join(figures)}</div>"
        "<p class='note'>说明：按线索日期把项目分批，统计每批项目截至"
        f"{_e(format_date(data.as_of))}达到各阶段的个数及占本批线索的比例；条长与达到该阶段的"
        "项目个数成正比，线索一栏为满格。"
        "阶段以线索日期、首次洽谈日期、签约日期、开工日期、投产日期为准；已到后一阶段的项目"
        "计入前面各阶段；终止的项目按终止前达到的阶段计入。</p></section>"
    )


def _is_rate(facts: KpiFacts) -> bool:
    """An average or a share, whose figure means little over a handful of cases."""
    return facts.unit not in ("count", "100m_cny")


def breakdown_groups(data: ReportData) -> tuple[str, list[dict]]:
    """The rankings of the latest year with breakdowns (this year to date, else the last full
    year): per (KPI, dimension) the members ranked, highest first, and for an average or a
    share only those with at least MIN_CASES cases, each with its cases; `left_out` counts
    the members with a figure from fewer cases. A share or an average without a known count
    of cases is not ranked."""
    for year in (data.current_year, data.last_full_year):
        if year is None:
            continue
        start = date(year, 1, 1)
        rows = [
            r for r in data.breakdowns if r["period_type"] == "year" and r["period_start"] == start
        ]
        if not rows:
            continue
        groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in rows:
            groups[(r["kpi_code"], r["dimension"])].append(r)
        out = []
        for (code, dimension), members in sorted(
            groups.items(), key=lambda kv: (data.order_key(kv[0][0]), kv[0][1])
        ):
            facts = data.facts[code]
            volume_code = RATE_VOLUMES.get(code) if _is_rate(facts) else None
            if _is_rate(facts) and volume_code is None:
                continue
            volumes = {
                r["dimension_value"]: r["value"] or 0
                for r in groups.get((volume_code, dimension), [])
            }
            ranked, left_out = [], 0
            for r in members:
                cases = volumes.get(r["dimension_value"]) if volume_code else None
                if volume_code and (cases or 0) < MIN_CASES:
                    left_out += r["value"] is not None
                    continue
                ranked.append({**r, "cases": cases})
            ranked.sort(
                key=lambda r: (r["value"] is None, -(r["value"] or 0), r["dimension_value"])
            )
            out.append(
                {
                    "kpi_code": code,
                    "dimension": dimension,
                    "dimension_name_zh": members[0]["dimension_name_zh"],
                    "volume_code": volume_code,
                    "ranked": ranked,
                    "left_out": left_out,
                }
            )
        label = period_label("year", start, rows[0]["period_end"], data.as_of)
        return label, out
    return "", []


def _breakdowns_section(data: ReportData) -> str:
    label, groups = breakdown_groups(data)
    if not groups:
        return (
            "<section id='breakdowns'><h2>五、分项排行</h2>"
            "<p class='note'>暂无分项数据。</p></section>"
        )
    figures = []
    for g in groups:
        facts, dim = data.facts[g["kpi_code"]], g["dimension_name_zh"]
        members = g["ranked"]
        top = members[:BREAKDOWN_TOP]
        volume = g["volume_code"]
        bars = [
            (
                str(r["dimension_value"]),
                r["value"],
                data.format(facts.code, r["value"])
                + (f"（{_count(data, volume, r['cases'])}）" if volume else ""),
            )
            for r in top
        ]
        more = f"共{len(members)}个，列前{len(top)}位" if len(members) > len(top) else ""
        legend, left = "由高到低" + (f"，{more}" if more else ""), ""
        if volume:
            least, volume_name = _count(data, volume, MIN_CASES), data.facts[volume].name
            legend += f"；括号内为{volume_name}，仅{volume_name}达到{least}的{dim}参加排行"
            if g["left_out"]:
                left = (
                    f"<div class='note'>另有{_e(g['left_out'])}个{_e(dim)}{_e(volume_name)}"
                    f"不足{_e(least)}，未参加排行。</div>"
                )
        chart = (
            charts.bar_chart(bars, label=f"{facts.name}按{dim}", text_w=126 if volume else 84)
            if bars
            else f"<p class='note'>没有{_e(dim)}达到参加排行的件数。</p>"
        )
        figures.append(
            f"<figure data-kpi='{_e(facts.code)}' data-dimension='{_e(g['dimension'])}'>"
            f"<figcaption>{_e(facts.name)} · 按{_e(dim)}</figcaption>"
            f"<div class='legend'>{_e(legend)}</div>{chart}{left}</figure>"
        )
    return (
        f"<section id='breakdowns'><h2>五、分项排行（{_e(label)}）</h2>"
        f"<div class='charts'>{''.join(figures)}</div></section>"
    )


def current_revisions(data: ReportData) -> list[dict]:
    """Revisions recorded by the builds of this report's as-of date."""
    return [r for r in data.revisions if r.get("new_as_of") == data.as_of]


def _revisions_section(data: ReportData) -> str:
    rows = current_revisions(data)
    out = ["<section id='revisions'><h2>六、修订说明</h2>"]
    earlier = len(data.revisions) - len(rows)
    if not rows:
        out.append("<p class='lead'>本期无修订。</p>")
    else:
        out.append(
            f"<p class='lead'>本期有{len(rows)}项已发布数据因补报或更正而修订，明细如下。</p>"
            "<div class='scroll'><table><thead><tr><th>指标</th><th>周期</th><th>原值</th>"
            "<th>修订后</th><th>原数据截至</th><th>修订时间</th><th>引起修订的文件</th></tr>"
            "</thead>"
        )
        for r in rows:
            # The period as it stood when the revised value was computed.
            period = period_label(
                r["period_type"], r["period_start"], r["period_end"], r.get("new_as_of")
            )
            revised = r.get("revised_at")
            old_as_of = format_date(r["old_as_of"]) if r.get("old_as_of") else MISSING
            when = revised.strftime("%Y-%m-%d %H:%M") if revised else MISSING
            name = (
                data.facts[r["kpi_code"]].name if r["kpi_code"] in data.facts else r["kpi_name_zh"]
            )
            out.append(
                f"<tr><td>{_e(name)}</td><td>{_e(period)}</td>"
                f"<td class='num'>{_e(_revision_value(data, r, 'old_value'))}</td>"
                f"<td class='num'>{_e(_revision_value(data, r, 'new_value'))}</td>"
                f"<td class='num'>{_e(old_as_of)}</td><td class='num'>{_e(when)}</td>"
                f"<td>{_e(r.get('caused_by_files') or MISSING)}</td></tr>"
            )
        out.append("</table></div>")
    if earlier > 0:
        out.append(
            f"<p class='note'>此前各期共记录修订{earlier}项，见 Excel 工作簿“修订说明”工作表。</p>"
        )
    out.append("</section>")
    return "".join(out)


def _revision_value(data: ReportData, row: dict, key: str) -> str:
    if row["kpi_code"] not in data.facts:
        return MISSING if row.get(key) is None else str(row.get(key))
    return data.format(row["kpi_code"], row.get(key))


def _about_section(data: ReportData) -> str:
    """指标说明: every KPI in plain Chinese, with its figures, in the report's order."""
    year, ytd = data.last_full_year, data.year_to_date()
    years = [y for y in (year, ytd) if y is not None]
    head = "".join(f"<th class='year'>{_e(_year_label(data, y))}</th>" for y in years)
    out = [
        "<section id='about'><h2>附：指标说明</h2>"
        "<p class='note'>各项指标的统计口径。统计期未结束的，统计到数据截止日期。</p>"
    ]
    for domain, codes in data.codes_by_domain().items():
        body = []
        for code in codes:
            facts = data.facts[code]
            cells = "".join(
                f"<td class='num'>{_e(_v(data, data.year_value(code, y)))}</td>" for y in years
            )
            body.append(
                f"<tr><td>{_e(facts.name)}</td>{cells}"
                f"<td class='reason'>{_e(facts.description_zh or MISSING)}</td></tr>"
            )
        out.append(
            f"<div class='group'><h3>{_e(DOMAIN_ZH.get(domain, '其他'))}</h3><div class='scroll'>"
            f"<table class='about'><thead><tr><th>指标</th>{head}<th>说明</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div></div>"
        )
    out.append("</section>")
    return "".join(out)


def render_html(data: ReportData) -> str:
    as_of = format_date(data.as_of)
    return (
        "<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{TITLE}（截至{as_of}）</title><style>{CSS}</style></head><body>"
        f"<header><h1>{TITLE}</h1><p class='subtitle'>数据截至{as_of}"
        f" · 生成于{data.generated_at:%Y-%m-%d %H:%M}</p></header>"
        + _headline_section(data)
        + _targets_section(data)
        + _trend_section(data)
        + _funnel_section(data)
        + _breakdowns_section(data)
        + _revisions_section(data)
        + _about_section(data)
        + "<footer>数据来源：开州区营商环境与招商引资数据仓库，经数据校验后发布的数据副本；"
        "指标口径见上文“指标说明”。比例以百分数列示，金额单位为亿元，亩均投资强度单位为万元/亩。"
        "“—”表示无可计算的数据。</footer></body></html>\n"
    )
