"""The leadership report as one self-contained HTML page in Chinese: inline CSS, inline SVG
charts, no script, no web font, no link to anything outside the file."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from html import escape

from kzdw.report import charts
from kzdw.report.data import KpiValue, ReportData
from kzdw.report.formatting import (
    DOMAIN_ORDER,
    DOMAIN_ZH,
    MISSING,
    format_change,
    format_date,
    format_percent,
    format_value,
    period_label,
    projection_method_zh,
    status_class,
    visible,
)

TITLE = "开州区营商环境与招商引资指标报告"

# The order in which the headline figures of each domain are shown: the district report's
# own order first (跑动次数, 全程网办, 一窗综办 …), then anything else the marts hold.
HEADLINES = {
    "permit_cases": (
        "avg_trips_per_case",
        "online_case_rate",
        "one_window_cases",
        "cross_region_cases",
        "cases_completed",
        "cases_submitted",
        "on_time_rate",
        "satisfaction_rate",
    ),
    "service_items": (
        "online_licensing_item_rate",
        "high_frequency_items",
        "one_window_items",
        "one_window_departments",
        "items_approval_cancelled",
        "items_approval_to_filing",
        "items_notification_commitment",
        "items_approval_optimized",
    ),
    "market_entities": (
        "entities_total",
        "entities_net_growth_rate",
        "entities_new",
        "entities_exited",
        "enterprise_registration_2h_rate",
        "returnee_entities_new",
    ),
    "investment_projects": (
        "industrial_projects_signed",
        "industrial_investment_signed",
        "industrial_projects_started",
        "projects_signed",
        "contract_investment_signed",
        "projects_started",
        "projects_in_production",
        "investment_per_mu",
        "lead_week_coverage",
        "talk_month_coverage",
        "sign_start_quarter_coverage",
    ),
}
KPI_ORDER = {code: i for i, code in enumerate(c for codes in HEADLINES.values() for c in codes)}

# 线索→洽谈→签约→开工→投产, each stage from one KPI of marts.kpi_values. The project KPIs count
# signings, starts and productions; leads and talks are measured by the cadence the district
# set itself (周周有项目信息、月月有考察洽谈), the only figures the marts keep for them.
FUNNEL_STAGES = (
    ("线索", "lead_week_coverage", "周周有项目信息：有新线索的周数占比"),
    ("洽谈", "talk_month_coverage", "月月有考察洽谈：有考察洽谈的月数占比"),
    ("签约", "projects_signed", "新引进（签约）项目数"),
    ("开工", "projects_started", "动工项目数"),
    ("投产", "projects_in_production", "竣工投产项目数"),
)
BREAKDOWN_TOP = 8
# The page runs no script and fetches nothing, in any browser that opens it and in the
# Chromium that prints it: first in <head>, before any text from the data.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
TREND_MONTHS = 60

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
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; break-inside: avoid; }
.card .name { color: var(--muted); font-size: 13px; }
.card .value { font-size: 22px; font-weight: 700; color: var(--ink); }
.card .prev { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  break-inside: avoid; }
figcaption { font-weight: 700; font-size: 14px; margin-bottom: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; font-size: 12px; fill: var(--ink); }
svg text.axis { fill: var(--muted); font-size: 11px; }
svg text.point { font-weight: 700; }
svg text.funnel-main { fill: #fff; font-size: 15px; font-weight: 700; }
svg text.funnel-sub { fill: #eaf2fb; font-size: 11px; }
svg text.bar-label { font-size: 12px; }
svg text.bar-value { font-size: 12px; font-weight: 700; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
th { background: #eef3f9; font-weight: 700; text-align: center; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
td .reason { white-space: normal; }
table.scorecard td:first-child { min-width: 9em; }
.group { break-inside: avoid; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff;
  white-space: nowrap;
  font-weight: 700; font-size: 12px; }
.status.ok { background: var(--ok); } .status.warn { background: var(--warn); }
.status.behind { background: var(--behind); } .status.none { background: #607d8b; }
.reason { color: var(--muted); font-size: 12px; }
ul.progress { margin: 6px 0; padding-left: 20px; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0; }
.legend { color: var(--muted); font-size: 12px; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px;
  color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  h2 { break-after: avoid; }
  section { break-inside: auto; }
  .charts { grid-template-columns: 1fr 1fr; }
}
"""


def _e(text: object) -> str:
    return escape(visible(text), quote=True)


def _v(kpi: KpiValue | None) -> str:
    return MISSING if kpi is None else format_value(kpi.value, kpi.unit, kpi.code)


def _ordered_codes(data: ReportData) -> dict[str, list[str]]:
    by_domain: dict[str, list[str]] = defaultdict(list)
    for code, domain in sorted(
        data.domains().items(), key=lambda kv: (KPI_ORDER.get(kv[0], 999), kv[0])
    ):
        by_domain[domain].append(code)
    return by_domain


def _domains(data: ReportData) -> list[str]:
    present = _ordered_codes(data)
    return [d for d in DOMAIN_ORDER if d in present] + sorted(
        d for d in present if d not in DOMAIN_ORDER
    )


def _sentence(template: str, data: ReportData, year: int, *codes: str) -> str | None:
    """A sentence of the lead paragraph, left out when any of its figures is missing."""
    shown = []
    for code in codes:
        # "code#": the number alone, where the sentence supplies its own unit word.
        kpi = data.year_value(code.rstrip("#"), year)
        if kpi is None or kpi.value is None:
            return None
        bare = code.endswith("#")
        shown.append(format_value(kpi.value, kpi.unit, kpi.code, with_unit=not bare))
    return template.format(*shown)


def lead_paragraph(data: ReportData, year: int) -> str:
    """The year in the words of the district's report, figure by figure from kpi_values."""
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
        _sentence(f"截至{year}年底，经营主体总量达到{{}}", data, year, "entities_total"),
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
    return f"{year}年，" + "；".join(clauses) + "。"


def _headline_section(data: ReportData) -> str:
    year = data.last_full_year
    if year is None:
        return (
            "<section id='headline'><h2>一、主要指标</h2>"
            "<p class='note'>尚无完整年度的数据。</p></section>"
        )
    out = [f"<section id='headline'><h2>一、{year}年主要指标</h2>"]
    lead = lead_paragraph(data, year)
    if lead:
        out.append(f"<p class='lead'>{_e(lead)}</p>")
    codes = _ordered_codes(data)
    for domain in _domains(data):
        cards = []
        for code in codes[domain]:
            kpi = data.year_value(code, year)
            if kpi is None:
                continue
            prev = data.year_value(code, year - 1)
            prev_text = f"上年 {_v(prev)}" if prev is not None and prev.value is not None else ""
            cards.append(
                f"<div class='card' data-kpi='{_e(code)}'><div class='name'>{_e(kpi.name)}</div>"
                f"<div class='value'>{_e(_v(kpi))}</div>"
                f"<div class='prev'>{_e(prev_text)}</div></div>"
            )
        if cards:
            # One block per domain: a printed page never ends on a heading without its cards.
            out.append(
                f"<div class='group'><h3>{_e(DOMAIN_ZH.get(domain, '其他'))}</h3>"
                "<div class='cards'>" + "".join(cards) + "</div></div>"
            )
    out.append("</section>")
    return "".join(out)


def _fmt(row: dict, key: str) -> str:
    return format_value(row.get(key), row["unit"], row["kpi_code"])


def target_sentence(row: dict, as_of: date) -> str:
    """One target in a sentence: what is done, of what, how far along, where it is heading."""
    name = row["kpi_name_zh"]
    text = (
        f"{name}：全年目标{_fmt(row, 'target')}，截至{as_of.month}月{as_of.day}日完成"
        f"{_fmt(row, 'value_to_date')}，完成目标的{format_percent(row.get('share_of_target'))}"
    )
    # A level or a ratio (no projection) is judged on its value: no "expected by now" share.
    projected = row.get("projection_method") not in (None, "none")
    if projected and row.get("expected_share_to_date") is not None:
        text += f"（按进度应完成{format_percent(row.get('expected_share_to_date'))}）"
    if row.get("projected_year_end") is not None:
        text += f"，预计全年{_fmt(row, 'projected_year_end')}"
    if row.get("yoy_change") is not None:
        text += f"，同比{format_change(row.get('yoy_change'))}"
    return text + "。"


def _scorecard_rows(data: ReportData) -> list[dict]:
    return sorted(data.scorecard, key=lambda r: (KPI_ORDER.get(r["kpi_code"], 999), r["kpi_code"]))


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
            f"<li data-kpi='{_e(row['kpi_code'])}'>{_e(target_sentence(row, data.as_of))}"
            f" <span class='status {css}'>{_e(row.get('status') or MISSING)}</span>"
            f" <span class='reason'>{_e(row.get('status_reason') or '')}</span></li>"
        )
    out.append("</ul>")
    bars = [
        (
            r["kpi_name_zh"],
            r.get("share_of_target"),
            r.get("expected_share_to_date"),
            status_class(r.get("status")),
            f"{format_percent(r.get('share_of_target'))}  {_fmt(r, 'value_to_date')}"
            f"/{_fmt(r, 'target')}",
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
            f"<tr data-kpi='{_e(r['kpi_code'])}'><td>{_e(r['kpi_name_zh'])}</td>"
            f"<td class='num'>{_e(_fmt(r, 'value_to_date'))}</td>"
            f"<td class='num'>{_e(_fmt(r, 'target'))}</td>"
            f"<td class='num'>{_e(format_percent(r.get('share_of_target')))}</td>"
            f"<td class='num'>{_e(format_percent(r.get('expected_share_to_date')))}</td>"
            f"<td class='num'>{_e(_fmt(r, 'projected_year_end'))}"
            f"<div class='reason'>{_e(projection_method_zh(r.get('projection_method')))}</div></td>"
            f"<td class='num'>{_e(_fmt(r, 'same_period_last_year'))}</td>"
            f"<td class='num'>{_e(format_change(r.get('yoy_change')))}</td>"
            f"<td><span class='status {css}'>{_e(r.get('status') or MISSING)}</span></td></tr>"
        )
    out.append(
        f"<table class='scorecard'>{head}<tbody>{''.join(body)}</tbody></table>"
        "<p class='note'>完成率＝本年累计÷全年目标；按进度应完成：按季节性进度截至本日应完成的"
        "目标比例；预计全年：按所列方法推算的全年数；同比：与上年同期（上年1月1日至同月同日）相比。"
        "各项状态的判定理由见上文。</p></section>"
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
    return (
        f"<section id='trend'><h2>三、政务服务月度走势{when}</h2><div class='charts'>"
        "<figure><figcaption>平均跑动次数（次/件）</figcaption>"
        + charts.line_chart(trips, label="平均跑动次数月度走势", y_format=lambda v: f"{v:.2f}")
        + "</figure><figure><figcaption>全程网办办件占比</figcaption>"
        + charts.line_chart(
            online,
            label="全程网办办件占比月度走势",
            y_format=lambda v: f"{v * 100:.0f}%",
            colour=charts.RED,
            y_top=1.0,
        )
        + "</figure></div><p class='note'>按办结月份统计：平均跑动次数＝当月办结办件的跑动次数之和"
        "÷办结件数；全程网办办件占比＝当月办结办件中“全程网办”的比例。</p></section>"
    )


def _funnel(data: ReportData, year: int) -> tuple[str, str]:
    period = None
    stages = []
    for name, code, kind in FUNNEL_STAGES:
        kpi = data.year_value(code, year)
        if kpi is not None and period is None:
            period = period_label("year", kpi.period_start, kpi.period_end, data.as_of)
        figure = _v(kpi)
        if code == "projects_signed":
            money = data.year_value("contract_investment_signed", year)
            if money is not None and money.value is not None:
                kind = f"{kind}，合同引资{_v(money)}"
        stages.append((name, figure, kind))
    title = period or f"{year}年"
    return title, charts.funnel_chart(stages, label=f"{title}招商项目推进漏斗")


def _funnel_section(data: ReportData) -> str:
    years = [data.current_year]
    if data.last_full_year is not None and data.last_full_year != data.current_year:
        years.append(data.last_full_year)
    figures = []
    for year in years:
        title, svg = _funnel(data, year)
        quarter = data.year_value("sign_start_quarter_coverage", year)
        extra = (
            f"<div class='legend'>季季有签约开工：{_e(_v(quarter))}</div>"
            if quarter is not None
            else ""
        )
        figures.append(f"<figure><figcaption>{_e(title)}</figcaption>{svg}{extra}</figure>")
    stage_codes = "、".join(f"{name}＝{code}" for name, code, _ in FUNNEL_STAGES)
    return (
        "<section id='funnel'><h2>四、招商项目推进：线索→洽谈→签约→开工→投产</h2>"
        f"<div class='charts'>{''.join(figures)}</div>"
        "<p class='note'>说明：各环节取自 marts.kpi_values 的指标（"
        f"{_e(stage_codes)}）。线索、洽谈两环节以区里提出的“周周有项目信息、月月有考察洽谈”"
        "节奏指标衡量（有新线索的周、有考察洽谈的月所占比例），签约、开工、投产为当期项目个数。"
        "各环节均为当期发生数，并非同一批项目的逐级转化；漏斗宽度仅示意环节先后。</p></section>"
    )


def _breakdown_groups(data: ReportData) -> tuple[str, list[tuple[dict, list[dict]]]]:
    for year in (data.current_year, data.last_full_year):
        if year is None:
            continue
        start = date(year, 1, 1)
        rows = [
            r for r in data.breakdowns if r["period_type"] == "year" and r["period_start"] == start
        ]
        if rows:
            groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
            for r in rows:
                groups[(r["kpi_code"], r["dimension"])].append(r)
            ordered = sorted(groups.items(), key=lambda kv: (KPI_ORDER.get(kv[0][0], 999), kv[0]))
            first = rows[0]
            label = period_label("year", first["period_start"], first["period_end"], data.as_of)
            return label, [
                (
                    members[0],
                    sorted(
                        members,
                        key=lambda r: (
                            r["value"] is None,
                            -(r["value"] or 0),
                            r["dimension_value"],
                        ),
                    ),
                )
                for _, members in ordered
            ]
    return "", []


def _breakdowns_section(data: ReportData) -> str:
    label, groups = _breakdown_groups(data)
    if not groups:
        return (
            "<section id='breakdowns'><h2>五、分项排行</h2>"
            "<p class='note'>暂无分项数据。</p></section>"
        )
    figures = []
    for head, members in groups:
        top = members[:BREAKDOWN_TOP]
        bars = [
            (
                str(r["dimension_value"]),
                r["value"],
                format_value(r["value"], r["unit"], r["kpi_code"]),
            )
            for r in top
        ]
        more = f"，共{len(members)}项，列前{len(top)}位" if len(members) > len(top) else ""
        figures.append(
            f"<figure data-kpi='{_e(head['kpi_code'])}' data-dimension='{_e(head['dimension'])}'>"
            f"<figcaption>{_e(head['kpi_name_zh'])} · 按{_e(head['dimension_name_zh'])}"
            f"<span class='legend'>（由高到低{_e(more)}）</span></figcaption>"
            + charts.bar_chart(bars, label=f"{head['kpi_name_zh']}按{head['dimension_name_zh']}")
            + "</figure>"
        )
    return (
        f"<section id='breakdowns'><h2>五、分项排行（{_e(label)}）</h2>"
        f"<div class='charts'>{''.join(figures)}</div></section>"
    )


def current_revisions(data: ReportData) -> list[dict]:
    """Revisions recorded by the builds of this report's as-of date."""
    return [r for r in data.revisions if r.get("new_as_of") == data.as_of]


def _revision_value(data: ReportData, row: dict, key: str) -> str:
    units = {v.code: v.unit for v in data.values}
    return format_value(row.get(key), units.get(row["kpi_code"], ""), row["kpi_code"])


def _revisions_section(data: ReportData) -> str:
    rows = current_revisions(data)
    out = ["<section id='revisions'><h2>六、修订说明</h2>"]
    earlier = len(data.revisions) - len(rows)
    if not rows:
        out.append("<p class='lead'>本期无修订。</p>")
    else:
        out.append(
            f"<p class='lead'>本期有{len(rows)}项已发布数据因补报或更正而修订，明细如下。</p>"
            "<table><thead><tr><th>指标</th><th>周期</th><th>原值</th><th>修订后</th>"
            "<th>原数据截至</th><th>修订时间</th><th>引起修订的文件</th></tr></thead>"
        )
        for r in rows:
            period = period_label(r["period_type"], r["period_start"], r["period_end"])
            revised = r.get("revised_at")
            old_as_of = format_date(r["old_as_of"]) if r.get("old_as_of") else MISSING
            when = revised.strftime("%Y-%m-%d %H:%M") if revised else MISSING
            out.append(
                f"<tr><td>{_e(r['kpi_name_zh'])}</td><td>{_e(period)}</td>"
                f"<td class='num'>{_e(_revision_value(data, r, 'old_value'))}</td>"
                f"<td class='num'>{_e(_revision_value(data, r, 'new_value'))}</td>"
                f"<td class='num'>{_e(old_as_of)}</td><td class='num'>{_e(when)}</td>"
                f"<td>{_e(r.get('caused_by_files') or MISSING)}</td></tr>"
            )
        out.append("</table>")
    if earlier > 0:
        out.append(
            f"<p class='note'>此前各期共记录修订{earlier}项，见 Excel 工作簿“修订说明”工作表。</p>"
        )
    out.append("</section>")
    return "".join(out)


def render_html(data: ReportData) -> str:
    as_of = format_date(data.as_of)
    return (
        "<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>{TITLE}（截至{as_of}）</title><style>{CSS}</style></head><body>"
        f"<header><h1>{TITLE}</h1><p class='subtitle'>数据截至{as_of}"
        f" · 生成于{data.generated_at:%Y-%m-%d %H:%M}</p></header>"
        + _headline_section(data)
        + _targets_section(data)
        + _trend_section(data)
        + _funnel_section(data)
        + _breakdowns_section(data)
        + _revisions_section(data)
        + "<footer>数据来源：开州区经济与营商环境数据仓库服务副本（marts.kpi_values、"
        "marts.kpi_scorecard、marts.kpi_breakdowns、marts.kpi_revisions），指标口径见指标定义表。"
        "比例以百分数列示，金额单位为亿元，亩均投资强度单位为万元/亩。“—”表示无可计算的数据。"
        "</footer></body></html>\n"
    )
