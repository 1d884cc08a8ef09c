"""How the report writes figures, periods and statuses: the district's own way of printing them
(群众平均跑动次数减少为0.11次, 经营主体总量达到100425户, 净增长6.3%, 总投资289.9亿元).

Formatting only: every figure arrives computed from the marts; nothing here derives one figure
from another.
"""

from __future__ import annotations

import math
from datetime import date

from kzdw.terminal import inert

DOMAIN_ZH = {
    "permit_cases": "政务服务",
    "market_entities": "经营主体",
    "investment_projects": "招商项目",
    "service_items": "事项目录",
}
DOMAIN_ORDER = ("permit_cases", "service_items", "market_entities", "investment_projects")

# The unit word the district's report puts after each count (办件1万余件, 100425户, 169项,
# 18个部门, 引进工业项目53个).
COUNT_WORDS = {
    "cases_submitted": "件",
    "cases_completed": "件",
    "one_window_cases": "件",
    "cross_region_cases": "件",
    "high_frequency_items": "项",
    "one_window_items": "项",
    "items_approval_cancelled": "项",
    "items_approval_to_filing": "项",
    "items_notification_commitment": "项",
    "items_approval_optimized": "项",
    "one_window_departments": "个",
    "entities_total": "户",
    "entities_new": "户",
    "entities_exited": "户",
    "returnee_entities_new": "户",
    "projects_signed": "个",
    "industrial_projects_signed": "个",
    "projects_started": "个",
    "industrial_projects_started": "个",
    "projects_in_production": "个",
}
UNIT_WORDS = {"trips": "次", "ratio": "%", "100m_cny": "亿元", "10k_cny_per_mu": "万元/亩"}
# Decimals as printed: 0.11次, 6.3%, 289.9亿元; counts are whole numbers.
UNIT_DIGITS = {"trips": 2, "ratio": 1, "100m_cny": 1, "10k_cny_per_mu": 1, "count": 0}

STATUS_CLASS = {"达标": "ok", "预警": "warn", "落后": "behind"}
PROJECTION_METHOD_ZH = {
    "seasonal": "按上年同期进度（季节性）推算",
    "linear": "按时间进度线性推算",
    "none": "不作推算",
}
PERIOD_TYPE_ZH = {"year": "年度", "quarter": "季度", "month": "月度"}
MISSING = "—"


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float, digits: int) -> str:
    """`digits` decimals, dropping a fraction that is all zeros (400亿元, not 400.0亿元)."""
    text = f"{value:.{digits}f}"
    if "." in text and set(text.split(".")[1]) == {"0"}:
        text = text.split(".")[0]
    return "0" if text == "-0" else text


def unit_word(code: str, unit: str) -> str:
    if unit == "count":
        return COUNT_WORDS.get(code, "")
    return UNIT_WORDS.get(unit, "")


def format_value(value: float | None, unit: str, code: str = "", with_unit: bool = True) -> str:
    """A KPI value as the district's report prints it: 0.11次, 100425户, 6.3%, 289.9亿元."""
    if _is_missing(value):
        return MISSING
    shown = value * 100 if unit == "ratio" else value
    text = number(shown, UNIT_DIGITS.get(unit, 2))
    return text + unit_word(code, unit) if with_unit else text


def format_percent(share: float | None, digits: int = 1) -> str:
    """A share of a target, always with its decimal (40.0%), as status reasons write it."""
    return MISSING if _is_missing(share) else f"{share * 100:.{digits}f}%"


def format_change(change: float | None) -> str:
    """同比: 增长12.3% / 下降5.0% / 持平."""
    if _is_missing(change):
        return MISSING
    pct = f"{abs(change) * 100:.1f}%"
    if pct == "0.0%":
        return "持平"
    return f"增长{pct}" if change > 0 else f"下降{pct}"


def format_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _is_month_end(day: date) -> bool:
    return day.toordinal() + 1 == _first_of_next_month(day).toordinal()


def period_label(period_type: str, start: date, end: date, as_of: date | None = None) -> str:
    """2022年 / 2023年第2季度 / 2023年6月; a period still running at the as-of date is named
    by the span it covers (2023年1—6月, 2023年1月1日—6月15日)."""
    running = as_of is not None and end > as_of
    if period_type == "year" and not running:
        return f"{start.year}年"
    if period_type == "quarter" and not running:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    if period_type == "month" and not running:
        return f"{start.year}年{start.month}月"
    assert as_of is not None
    if _is_month_end(as_of):
        if as_of.month == start.month:
            return f"{start.year}年{start.month}月"
        return f"{start.year}年{start.month}—{as_of.month}月"
    return f"{start.year}年{start.month}月{start.day}日—{as_of.month}月{as_of.day}日"


def status_class(status: str | None) -> str:
    return STATUS_CLASS.get(status or "", "none")


def projection_method_zh(method: str | None) -> str:
    if not method:
        return MISSING
    return PROJECTION_METHOD_ZH.get(method, method)


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: a CJK character is about two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def visible(text: object) -> str:
    """A string from the data as the page shows it: a control character or a bidi override
    (which would hide itself, or show `gpj.exe` as `exe.jpg`) as a visible escape, `\\x1b`,
    `\\u202e`; everything else as it is."""
    return inert(str(text))
