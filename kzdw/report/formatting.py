"""How the product writes figures, periods and statuses: the district's own way of printing
them (群众平均跑动次数减少为0.11次, 经营主体总量达到100425户, 净增长6.3%, 总投资289.9亿元).

`format_value` writes every KPI figure that the report, the workbook's text, the charts and
`kzdw kpis` show, from the KPI's display facts (`KpiFacts`, one row of the serving copy's
seeds.kpi_definitions): a ratio times 100, rounded to `decimals`, a fraction of all zeros
dropped, no thousands separator, then `unit_word`. The scorecard's Chinese sentences are
written in SQL by the dbt macro `format_kpi_value` from the same seed columns by the same
rule, so the two cannot disagree (tests/kzdw/report/test_formatting.py holds them side by
side). Shares of a target and changes use the same digits (`digits`).

Formatting only: every figure arrives computed from the marts; the one sum done here is the
difference of two ratios that 同比 states in 个百分点.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from kzdw.terminal import inert

DOMAIN_ZH = {
    "permit_cases": "政务服务",
    "market_entities": "经营主体",
    "investment_projects": "招商项目",
    "service_items": "事项目录",
}
DOMAIN_ORDER = ("permit_cases", "service_items", "market_entities", "investment_projects")


@dataclass(frozen=True)
class KpiFacts:
    """What people see of one KPI: a row of seeds.kpi_definitions."""

    code: str
    name: str
    unit: str
    domain: str
    headline_rank: int | None
    display_order: int | None
    unit_word: str
    decimals: int
    description_zh: str

    @property
    def is_ratio(self) -> bool:
        return self.unit == "ratio"

    @property
    def domain_zh(self) -> str:
        return DOMAIN_ZH.get(self.domain, "其他")

    @property
    def display_key(self) -> tuple:
        """Where the KPI stands on every screen: its domain in the report's order, then its
        display_order within the domain."""
        domain = DOMAIN_ORDER.index(self.domain) if self.domain in DOMAIN_ORDER else 99
        order = self.display_order
        return (domain, self.domain, order is None, order or 0, self.code)


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


def digits(value: float, decimals: int, *, trim: bool = True) -> str:
    """`decimals` digits after the point, no thousands separator (100425); with `trim`, a
    fraction of all zeros dropped (400, not 400.0; 0.10 keeps its 0). Python's rounding of the
    exact binary value, as DuckDB's format('{:.2f}') rounds it in the scorecard's macro."""
    text = f"{value:.{decimals}f}"
    if trim and "." in text and set(text.split(".")[1]) == {"0"}:
        text = text.split(".")[0]
    return "0" if text == "-0" else text


def format_value(
    value: float | None,
    facts: KpiFacts,
    *,
    with_unit: bool = True,
    decimals: int | None = None,
    trim: bool = True,
) -> str:
    """A KPI figure as the district's report prints it: 0.11次, 100425户, 6.3%, 400亿元; — when
    there is none. `decimals` and `trim` only for an axis, whose ticks share one form."""
    if _is_missing(value):
        return MISSING
    assert value is not None
    shown = value * 100 if facts.is_ratio else value
    text = digits(shown, facts.decimals if decimals is None else decimals, trim=trim)
    return text + facts.unit_word if with_unit else text


def format_ticks(values: list[float], facts: KpiFacts, *, with_unit: bool = True) -> list[str]:
    """An axis's tick labels, all with the same decimals: the fewest, up to the KPI's own, that
    write every tick exactly (0.00 0.50 1.00 → 0.0 0.5 1.0; 0% 25% 50%), none dropped."""
    shown = [v * 100 if facts.is_ratio else v for v in values]
    decimals = next(
        (d for d in range(facts.decimals + 1) if all(abs(round(v, d) - v) < 1e-9 for v in shown)),
        facts.decimals,
    )
    return [
        format_value(v, facts, with_unit=with_unit, decimals=decimals, trim=False) for v in values
    ]


def format_percent(share: float | None, decimals: int = 1) -> str:
    """A share of a target, always with its decimal (40.0%), as the scorecard's sentences
    write it."""
    if _is_missing(share):
        return MISSING
    assert share is not None
    return digits(share * 100, decimals, trim=False) + "%"


def format_share(share: float | None, decimals: int = 1) -> str:
    """A share that is not a target's (of a cohort's leads, an axis tick): a percentage as a
    ratio KPI prints it, an all-zero fraction dropped (70%, 33.3%)."""
    if _is_missing(share):
        return MISSING
    assert share is not None
    return digits(share * 100, decimals) + "%"


def format_change(now: float | None, before: float | None, facts: KpiFacts) -> str:
    """同比 or 比上年: a ratio by the difference in 个百分点, to the KPI's own decimals
    (提高1.2个百分点 / 下降0.5个百分点); any other figure by its relative change, to one
    decimal (增长12.3% / 下降5%); 持平 when it rounds to nothing; — without a base."""
    if _is_missing(now) or _is_missing(before):
        return MISSING
    assert now is not None and before is not None
    if facts.is_ratio:
        points = (now - before) * 100
        text = digits(abs(points), facts.decimals)
        if text == "0":
            return "持平"
        return f"提高{text}个百分点" if points > 0 else f"下降{text}个百分点"
    if before == 0:
        return MISSING
    change = now / before - 1
    text = digits(abs(change) * 100, 1)
    if text == "0":
        return "持平"
    return f"增长{text}%" if change > 0 else f"下降{text}%"


def format_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _is_month_end(day: date) -> bool:
    return day.toordinal() + 1 == _first_of_next_month(day).toordinal()


def span_label(start: date, end: date) -> str:
    """A span of days as the district names it: 2022年 (a whole year), 2023年6月 (a whole
    month), 2023年1—6月 (whole months), else 2023年1月1日—6月15日."""
    if start.day == 1 and _is_month_end(end) and start.year == end.year:
        if start.month == 1 and end.month == 12:
            return f"{start.year}年"
        if start.month == end.month:
            return f"{start.year}年{start.month}月"
        return f"{start.year}年{start.month}—{end.month}月"
    if start.year != end.year:
        return f"{format_date(start)}—{format_date(end)}"
    return f"{start.year}年{start.month}月{start.day}日—{end.month}月{end.day}日"


def period_span(
    period_type: str, start: date, end: date, as_of: date | None = None
) -> tuple[str, date]:
    """A period's name and the last day it covers, from one rule: a period that ended by the
    as-of date is named by its type (2022年, 2023年第2季度, 2023年6月) and covers up to its
    end; one still running covers up to the as-of date and is named by that span (2023年1—6月,
    2023年1月1日—6月15日)."""
    if as_of is None or end <= as_of:
        if period_type == "year":
            return f"{start.year}年", end
        if period_type == "quarter":
            return f"{start.year}年第{(start.month - 1) // 3 + 1}季度", end
        if period_type == "month":
            return f"{start.year}年{start.month}月", end
        return span_label(start, end), end
    return span_label(start, as_of), as_of


def period_label(period_type: str, start: date, end: date, as_of: date | None = None) -> str:
    return period_span(period_type, start, end, as_of)[0]


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
