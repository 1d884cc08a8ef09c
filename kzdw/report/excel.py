"""The leadership report as an Excel workbook: one sheet per domain (KPIs across periods), then
目标进度, 项目漏斗, 分项统计, 修订说明 and 指标说明, each with Chinese headers, number formats
from the KPI seed's decimals, a frozen header row and filters. No sheet names a KPI code or a
table: leaders read it."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from kzdw.report.data import ReportData
from kzdw.report.formatting import (
    DOMAIN_ZH,
    MISSING,
    PERIOD_TYPE_ZH,
    KpiFacts,
    display_width,
    format_change,
    format_date,
    period_span,
    projection_method_zh,
)
from kzdw.report.html import (
    MIN_CASES,
    RATE_VOLUMES,
    TITLE,
    current_revisions,
    funnel_cohorts,
)

PERIOD_ORDER = {"year": 0, "quarter": 1, "month": 2}

FONT = {"font_name": "Noto Sans CJK SC", "font_size": 10}

# Text from a source file (a department, a township, a file name) is data: xlsxwriter's
# defaults would make "=HYPERLINK(...)" or "=cmd|' /C calc'!A0" a formula and "http://..." a
# link. Every cell is written by the type of its value instead (SafeWorkbook.write).
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
    "default_date_format": "yyyy-mm-dd",
}
# What Excel reads as the start of a formula when a cell is typed into (a tab or a line break
# before it is dropped on paste): such text cells get the quote prefix, so that editing one
# keeps it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 cannot hold at all (xlsxwriter escapes the other controls as _xHHHH_).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_EXCEL_MAX_UTF16 = 32767


def _utf16_cut(text: str) -> str:
    if len(text) * 2 <= _EXCEL_MAX_UTF16:
        return text
    units = text.encode("utf-16-le")[: _EXCEL_MAX_UTF16 * 2]
    return units.decode("utf-16-le", errors="ignore")


class SafeWorkbook:
    """An xlsxwriter workbook whose cells are written by the type of their value: None blank,
    numbers as numbers, dates and times as dates, everything else as a text cell, never a
    formula, a link or a number. Formats are made with `add_format`, so that a quote-prefixed
    twin of any of them can be made for text that starts like a formula."""

    def __init__(self, path: Path, font: dict | None = None) -> None:
        self.wb = xlsxwriter.Workbook(str(path), dict(WORKBOOK_OPTIONS))
        self._props: dict[Format, dict] = {}
        self._quoted: dict[Format | None, Format] = {}
        self._run = self.add_format(dict(font or FONT))

    def add_format(self, props: dict) -> Format:
        fmt = self.wb.add_format(props)
        self._props[fmt] = dict(props)
        return fmt

    def add_worksheet(self, name: str) -> Worksheet:
        return self.wb.add_worksheet(name)

    def quoted(self, fmt: Format | None) -> Format:
        if fmt not in self._quoted:
            props = self._props[fmt] if fmt is not None else {}
            self._quoted[fmt] = self.wb.add_format({**props, "quote_prefix": True})
        return self._quoted[fmt]

    def write(
        self, ws: Worksheet, row: int, col: int, value: object, fmt: Format | None = None
    ) -> None:
        if value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, datetime):
            # Excel has no time zones: the local wall-clock time.
            ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
        elif isinstance(value, date):
            ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, int | float | Decimal):
            ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)
        else:
            self.write_text(ws, row, col, str(value), fmt)

    def write_text(
        self, ws: Worksheet, row: int, col: int, text: str, fmt: Format | None = None
    ) -> None:
        if text == "":
            ws.write_blank(row, col, None, fmt)
            return
        text = _utf16_cut(_NOT_XML.sub("\ufffd", text))
        if text.startswith(FORMULA_STARTS):
            fmt = self.quoted(fmt)
        if text.startswith("<r>") and text.endswith("</r>"):
            # xlsxwriter copies a shared string of this shape into sharedStrings.xml unescaped,
            # taking it for its own rich-text XML; as two plain runs it is escaped like any other.
            ws.write_rich_string(row, col, self._run, text[:1], self._run, text[1:], fmt)
        else:
            ws.write_string(row, col, text, fmt)

    def close(self) -> None:
        self.wb.close()


class _Book(SafeWorkbook):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        font = FONT
        self.header = self.add_format(
            {
                **font,
                "bold": True,
                "bg_color": "#DCE6F1",
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.title = self.add_format({**font, "bold": True, "font_size": 14})
        self.text = self.add_format({**font, "border": 1, "valign": "top"})
        self.wrap = self.add_format({**font, "border": 1, "valign": "top", "text_wrap": True})
        self.date = self.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd"})
        self.stamp = self.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd hh:mm"})
        self._numbers: dict[str, Format] = {}
        self.share = self.number_format("0.0%")
        self.whole = self.number_format("0")
        self.status = {
            s: self.add_format({**font, "border": 1, "bold": True, "font_color": c})
            for s, c in (("达标", "#2E7D32"), ("预警", "#E08A00"), ("落后", "#C62828"))
        }

    def number_format(self, code: str) -> Format:
        if code not in self._numbers:
            self._numbers[code] = self.add_format({**FONT, "border": 1, "num_format": code})
        return self._numbers[code]

    def number(self, facts: KpiFacts | None) -> Format:
        """A KPI's cells as the seed says it is printed: its decimals, a ratio as a percentage,
        no thousands separator (100425, as the district writes it)."""
        if facts is None:
            return self.number_format("0.00")
        body = "0" if facts.decimals == 0 else "0." + "0" * facts.decimals
        return self.number_format(body + "%" if facts.is_ratio else body)

    def table(
        self,
        name: str,
        headers: list[str],
        rows: list[list[tuple[object, object]]],
        *,
        freeze_cols: int = 0,
        max_width: int = 60,
    ) -> None:
        """Header row 0 (frozen), then rows of (value, format) cells; widths from content."""
        ws = self.add_worksheet(name)
        # Room for the header and the filter button beside it.
        widths = [max(display_width(h) + 4, 8) for h in headers]
        for col, h in enumerate(headers):
            self.write_text(ws, 0, col, h, self.header)
        for r, row in enumerate(rows, start=1):
            for c, (value, fmt) in enumerate(row):
                self.write(ws, r, c, value, fmt)
                if value is not None:
                    widths[c] = max(widths[c], min(display_width(_shown(value)) + 2, max_width))
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        ws.set_row(0, 32)
        ws.freeze_panes(1, freeze_cols)
        if rows:
            ws.autofilter(0, 0, len(rows), len(headers) - 1)


def _shown(value: object) -> str:
    """About what a cell shows, for its column's width."""
    if isinstance(value, datetime):
        return "0000-00-00 00:00"
    if isinstance(value, date):
        return "0000-00-00"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{value:,.2f}"
    return str(value)


def _domain_zh(domain: str) -> str:
    return DOMAIN_ZH.get(domain, "其他")


def _kpi_header(facts: KpiFacts) -> str:
    return f"{facts.name}（{facts.unit_word}）" if facts.unit_word else facts.name


def _period(r: dict, as_of: date | None) -> tuple[str, date]:
    """The period's label and the last day it covers, from one rule (period_span): a row named
    2023年1—6月 ends on the as-of date."""
    return period_span(r["period_type"], r["period_start"], r["period_end"], as_of)


def _domain_sheet(book: _Book, data: ReportData, domain: str, codes: list[str]) -> None:
    """Periods down, KPIs across: the year rows first, then quarters, then months, latest first.
    Periods where every KPI of the domain is empty or zero (before the source has any record)
    are left out."""
    periods: dict[tuple[str, date], dict[str, float | None]] = defaultdict(dict)
    ends: dict[tuple[str, date], date] = {}
    for v in data.values:
        if v.domain == domain:
            periods[(v.period_type, v.period_start)][v.code] = v.value
            ends[(v.period_type, v.period_start)] = v.period_end
    headers = ["周期类型", "周期", "开始日期", "结束日期"] + [
        _kpi_header(data.facts[c]) for c in codes
    ]
    rows = []
    keys = sorted(periods, key=lambda k: (PERIOD_ORDER.get(k[0], 9), -k[1].toordinal()))
    for period_type, start in keys:
        by_code = periods[(period_type, start)]
        if not any(by_code.get(c) for c in codes):
            continue
        label, last = period_span(period_type, start, ends[(period_type, start)], data.as_of)
        row = [
            (PERIOD_TYPE_ZH.get(period_type, period_type), book.text),
            (label, book.text),
            (start, book.date),
            (last, book.date),
        ]
        for code in codes:
            row.append((by_code.get(code), book.number(data.facts[code])))
        rows.append(row)
    book.table(_domain_zh(domain), headers, rows, freeze_cols=2, max_width=24)


def _scorecard_sheet(book: _Book, data: ReportData) -> None:
    headers = [
        "指标名称",
        "领域",
        "年度",
        "数据截至",
        "本年累计",
        "全年目标",
        "完成率",
        "按进度应完成",
        "预计全年",
        "推算方法",
        "上年同期",
        "同比",
        "状态",
        "状态说明",
    ]
    rows = []
    for r in sorted(data.scorecard, key=lambda r: data.order_key(r["kpi_code"])):
        facts = data.facts[r["kpi_code"]]
        num = book.number(facts)
        change = format_change(r.get("value_to_date"), r.get("same_period_last_year"), facts)
        rows.append(
            [
                (facts.name, book.text),
                (facts.domain_zh, book.text),
                (r.get("year"), book.text),
                (r.get("as_of"), book.date),
                (r.get("value_to_date"), num),
                (r.get("target"), num),
                (r.get("share_of_target"), book.share),
                (r.get("expected_share_to_date"), book.share),
                (r.get("projected_year_end"), num),
                (projection_method_zh(r.get("projection_method")), book.text),
                (r.get("same_period_last_year"), num),
                (None if change == MISSING else change, book.text),
                (r.get("status"), book.status.get(r.get("status"), book.text)),
                (r.get("status_reason"), book.wrap),
            ]
        )
    book.table("目标进度", headers, rows, freeze_cols=1)


def _funnel_sheet(book: _Book, data: ReportData) -> None:
    headers = [
        "线索批次",
        "线索起始日期",
        "线索截止日期",
        "数据截至",
        "阶段序号",
        "阶段",
        "标志日期",
        "本批线索数",
        "达到该阶段项目数",
        "占本批线索比例",
        "停留在该阶段项目数",
    ]
    rows = []
    for name, leads, stages in funnel_cohorts(data):
        for r in stages:
            rows.append(
                [
                    (name, book.text),
                    (r["cohort_start"], book.date),
                    (r["cohort_end"], book.date),
                    (r["as_of"], book.date),
                    (r["stage_order"], book.whole),
                    (r["stage"], book.text),
                    (r["milestone_zh"], book.text),
                    (leads, book.whole),
                    (r["projects_reached"], book.whole),
                    (r["share_of_cohort"], book.share),
                    (r["projects_at_stage"], book.whole),
                ]
            )
    book.table("项目漏斗", headers, rows, freeze_cols=1)


def _too_few(data: ReportData, volume_code: str | None) -> str:
    assert volume_code is not None
    volume = data.facts[volume_code]
    return f"{volume.name}不足{data.format(volume_code, MIN_CASES)}，不参加排行"


def _breakdowns_sheet(book: _Book, data: ReportData) -> None:
    volume_names = sorted({data.facts[v].name for v in RATE_VOLUMES.values() if v in data.facts})
    headers = [
        "指标名称",
        "维度",
        "分项",
        "周期类型",
        "周期",
        "开始日期",
        "结束日期",
        "数值",
        "、".join(volume_names) or "件数",
        "备注",
    ]

    def key(r: dict, code: str) -> tuple:
        return (code, r["dimension"], r["period_type"], r["period_start"], r["dimension_value"])

    volumes = {key(r, r["kpi_code"]): r["value"] for r in data.breakdowns}
    rows = []
    ordered = sorted(
        data.breakdowns,
        key=lambda r: (
            data.order_key(r["kpi_code"]),
            r["dimension"],
            PERIOD_ORDER.get(r["period_type"], 9),
            -r["period_start"].toordinal(),
            -(r["value"] or 0),
        ),
    )
    for r in ordered:
        facts = data.facts[r["kpi_code"]]
        label, last = _period(r, data.as_of)
        volume_code = RATE_VOLUMES.get(r["kpi_code"])
        cases = volumes.get(key(r, volume_code)) if volume_code else None
        few = volume_code is not None and r["value"] is not None and (cases or 0) < MIN_CASES
        rows.append(
            [
                (facts.name, book.text),
                (r["dimension_name_zh"], book.text),
                (r["dimension_value"], book.text),
                (PERIOD_TYPE_ZH.get(r["period_type"], r["period_type"]), book.text),
                (label, book.text),
                (r["period_start"], book.date),
                (last, book.date),
                (r["value"], book.number(facts)),
                (cases, book.whole),
                (_too_few(data, volume_code) if few else None, book.text),
            ]
        )
    book.table("分项统计", headers, rows, freeze_cols=1)


def _revisions_sheet(book: _Book, data: ReportData) -> None:
    headers = [
        "本期",
        "指标名称",
        "周期类型",
        "周期",
        "开始日期",
        "结束日期",
        "原值",
        "修订后",
        "原数据截至",
        "修订后数据截至",
        "修订时间",
        "引起修订的文件",
        "加载批次",
    ]
    this_period = {id(r) for r in current_revisions(data)}
    rows = []
    for r in data.revisions:
        facts = data.facts.get(r["kpi_code"])
        num = book.number(facts)
        # The period as it stood when the revised value was computed.
        label, last = _period(r, r.get("new_as_of"))
        rows.append(
            [
                ("是" if id(r) in this_period else "", book.text),
                (facts.name if facts else r["kpi_name_zh"], book.text),
                (PERIOD_TYPE_ZH.get(r["period_type"], r["period_type"]), book.text),
                (label, book.text),
                (r["period_start"], book.date),
                (last, book.date),
                (r.get("old_value"), num),
                (r.get("new_value"), num),
                (r.get("old_as_of"), book.date),
                (r.get("new_as_of"), book.date),
                (r.get("revised_at"), book.stamp),
                (r.get("caused_by_files"), book.wrap),
                (r.get("caused_by_load_ids"), book.wrap),
            ]
        )
    if not rows:
        rows.append([("本期无修订", book.text)] + [(None, book.text)] * (len(headers) - 1))
    book.table("修订说明", headers, rows, freeze_cols=2)


def _definitions_sheet(book: _Book, data: ReportData) -> None:
    headers = ["领域", "指标名称", "单位", "说明"]
    rows = [
        [
            (data.facts[code].domain_zh, book.text),
            (data.facts[code].name, book.text),
            (data.facts[code].unit_word, book.text),
            (data.facts[code].description_zh, book.wrap),
        ]
        for codes in data.codes_by_domain().values()
        for code in codes
    ]
    book.table("指标说明", headers, rows, freeze_cols=2, max_width=80)


def _about_sheet(book: _Book, data: ReportData, sheets: list[str]) -> None:
    ws = book.add_worksheet("说明")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 90)
    book.write_text(ws, 0, 0, TITLE, book.title)
    lines = [
        ("数据截至", format_date(data.as_of)),
        ("生成时间", f"{data.generated_at:%Y-%m-%d %H:%M}"),
        ("数据来源", "开州区营商环境与招商引资数据仓库，经数据校验后发布的数据副本"),
        ("工作表", "、".join(sheets)),
        (
            "数值口径",
            "比例为小数并以百分比格式显示；金额单位亿元；亩均投资强度单位万元/亩；"
            "空白表示无可计算的数据；统计期未结束的，结束日期为数据截止日期；"
            "各项指标的口径见“指标说明”工作表。",
        ),
    ]
    for i, (key, value) in enumerate(lines, start=2):
        book.write_text(ws, i, 0, key, book.header)
        book.write_text(ws, i, 1, value, book.wrap)


def write_workbook(data: ReportData, path: Path) -> list[str]:
    """Write the workbook; returns the sheet names in order."""
    book = _Book(path)
    by_domain = data.codes_by_domain()
    sheets = [_domain_zh(d) for d in by_domain]
    sheets += ["目标进度", "项目漏斗", "分项统计", "修订说明", "指标说明"]
    _about_sheet(book, data, sheets)
    for domain, codes in by_domain.items():
        _domain_sheet(book, data, domain, codes)
    _scorecard_sheet(book, data)
    _funnel_sheet(book, data)
    _breakdowns_sheet(book, data)
    _revisions_sheet(book, data)
    _definitions_sheet(book, data)
    book.close()
    return ["说明", *sheets]
