"""An independent implementation of the KPI contract (KPIS.md) and the landing contract
(SOURCES.md), for tests.

The warehouse computes KPIs in dbt SQL and loads files with Polars. This module does the same
job a second time, in plain Python over dicts and `datetime`, straight from the contracts'
words, so that the two cannot share a bug. It takes only the column metadata from
`sources.contracts` (names, headers, types, ranges: the one place they live) and never its
Polars rule expressions: the cross-column rules are written out again below, by rule name.

Readings of the contract that both sides must share are listed in `tests/handmade/README.md`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import chinese_calendar
from stdnum.cn import ric, uscc

from sources.contracts import FLAG_FALSE, FLAG_TRUE, SOURCES, Column, Source

Row = dict[str, Any]
KpiKey = tuple[str, str, date]

# Every KPI of KPIS.md, in the order the contract lists them.
KPI_CODES: tuple[str, ...] = (
    # government-service cases
    "cases_submitted",
    "cases_completed",
    "avg_trips_per_case",
    "online_case_rate",
    "one_window_cases",
    "cross_region_cases",
    "on_time_rate",
    "satisfaction_rate",
    # service-item catalogue
    "online_licensing_item_rate",
    "high_frequency_items",
    "one_window_items",
    "one_window_departments",
    "items_approval_cancelled",
    "items_approval_to_filing",
    "items_notification_commitment",
    "items_approval_optimized",
    # market entities
    "entities_total",
    "entities_new",
    "entities_exited",
    "entities_net_growth_rate",
    "enterprise_registration_2h_rate",
    "returnee_entities_new",
    # investment projects
    "projects_signed",
    "contract_investment_signed",
    "industrial_projects_signed",
    "industrial_investment_signed",
    "projects_started",
    "industrial_projects_started",
    "projects_in_production",
    "lead_week_coverage",
    "talk_month_coverage",
    "sign_start_quarter_coverage",
    "investment_per_mu",
)

PERIOD_TYPES: tuple[str, ...] = ("year", "quarter", "month")
_PERIOD_MONTHS = {"year": 12, "quarter": 3, "month": 1}

ONE_DAY = timedelta(days=1)
CROSS_REGION_INTAKES = ("跨省通办", "川渝通办", "五省通办")
GOOD_RATINGS = ("非常满意", "满意", "基本满意")
REFORM_KPIS = {
    "items_approval_cancelled": "直接取消审批",
    "items_approval_to_filing": "审批改为备案",
    "items_notification_commitment": "实行告知承诺",
    "items_approval_optimized": "优化审批服务",
}
# Only these events change whether an entity exists; 变更 (change) does not.
EXISTENCE_EVENTS = ("设立", "注销", "吊销")
EXIT_EVENTS = ("注销", "吊销")


# --------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    type: str
    start: date
    end: date

    def previous(self) -> Period:
        return period_of(_add_months(self.start, -_PERIOD_MONTHS[self.type]), self.type)


def _add_months(d: date, months: int) -> date:
    years, month0 = divmod(d.month - 1 + months, 12)
    return date(d.year + years, month0 + 1, 1)


def period_of(d: date, period_type: str) -> Period:
    """The period of the given type that contains day `d`."""
    if period_type == "year":
        start = date(d.year, 1, 1)
    elif period_type == "quarter":
        start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    elif period_type == "month":
        start = date(d.year, d.month, 1)
    else:
        raise ValueError(f"unknown period type {period_type!r}")
    end = _add_months(start, _PERIOD_MONTHS[period_type]) - ONE_DAY
    return Period(period_type, start, end)


def period_grid(first_day: date, as_of: date) -> list[Period]:
    """Every year, quarter and month with start <= as_of and end >= the month of `first_day`."""
    periods: list[Period] = []
    for period_type in PERIOD_TYPES:
        p = period_of(first_day, period_type)
        while p.start <= as_of:
            periods.append(p)
            p = period_of(p.end + ONE_DAY, period_type)
    return periods


def _days(start: date, end: date) -> Iterable[date]:
    d = start
    while d <= end:
        yield d
        d += ONE_DAY


def _day(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value


# --------------------------------------------------------------------------------------------
# Versions and working days


def _version_order(row: Row) -> tuple[datetime, int, int]:
    # Latest updated_at; on a tie the later-loaded file; then the later row of that file.
    return (row["updated_at"], row.get("_load_order", 0), row.get("_row_number", 0))


def current_versions(rows: Iterable[Row], key: str) -> dict[Any, Row]:
    """The current version of each key: latest updated_at, then later file, then later row."""
    best: dict[Any, Row] = {}
    for row in rows:
        k = row[key]
        if k not in best or _version_order(row) > _version_order(best[k]):
            best[k] = row
    return best


def due_date(accepted: date, promised_days: int, is_workday: Callable[[date], bool]) -> date:
    """The promised_days-th working day strictly after `accepted` (0 = that same day)."""
    d = accepted
    left = promised_days
    while left > 0:
        d += ONE_DAY
        if is_workday(d):
            left -= 1
    return d


# --------------------------------------------------------------------------------------------
# KPIs


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _sum_days(daily: Mapping[date, Counter[str]], start: date, end: date) -> Counter[str]:
    total: Counter[str] = Counter()
    for d in _days(start, end):
        if d in daily:
            total.update(daily[d])
    return total


def _case_daily(
    cases: Iterable[Row], is_workday: Callable[[date], bool]
) -> dict[date, Counter[str]]:
    """Per day, the counts and sums the case KPIs add up over a period."""
    daily: dict[date, Counter[str]] = {}
    deadlines: dict[tuple[date, int], date] = {}
    for case in cases:
        submitted = _day(case["submitted_at"])
        daily.setdefault(submitted, Counter())["submitted"] += 1
        completed = _day(case.get("completed_at"))
        if case["status"] != "已办结" or completed is None:
            continue
        tally = daily.setdefault(completed, Counter())
        tally["completed"] += 1
        tally["trips"] += case["trips"]
        tally["online"] += case["channel"] == "全程网办"
        tally["one_window"] += case["intake"] == "一窗综办"
        tally["cross_region"] += case["intake"] in CROSS_REGION_INTAKES
        accepted = _day(case.get("accepted_at"))
        if accepted is not None:
            k = (accepted, case["promised_days"])
            if k not in deadlines:
                deadlines[k] = due_date(accepted, case["promised_days"], is_workday)
            tally["with_accepted"] += 1
            tally["on_time"] += completed <= deadlines[k]
        if case.get("rating") is not None:
            tally["rated"] += 1
            tally["rated_good"] += case["rating"] in GOOD_RATINGS
    return daily


def _case_kpis(daily: Mapping[date, Counter[str]], start: date, end: date) -> dict[str, Any]:
    t = _sum_days(daily, start, end)
    return {
        "cases_submitted": t["submitted"],
        "cases_completed": t["completed"],
        "avg_trips_per_case": _ratio(t["trips"], t["completed"]),
        "online_case_rate": _ratio(t["online"], t["completed"]),
        "one_window_cases": t["one_window"],
        "cross_region_cases": t["cross_region"],
        "on_time_rate": _ratio(t["on_time"], t["with_accepted"]),
        "satisfaction_rate": _ratio(t["rated_good"], t["rated"]),
    }


def items_valid_at(item_versions: Iterable[Row], day: date) -> dict[str, Row]:
    """Each item's latest version with updated_at on or before the end of `day`."""
    versions = (v for v in item_versions if v["updated_at"].date() <= day)
    return current_versions(versions, "item_code")


def _item_kpis(item_versions: list[Row], day: date) -> dict[str, Any]:
    items = items_valid_at(item_versions, day).values()
    in_use = [i for i in items if i["item_status"] == "在用"]
    licensing = [i for i in in_use if i["item_type"] == "行政许可"]
    one_window = [i for i in in_use if i["one_window"]]
    values: dict[str, Any] = {
        "online_licensing_item_rate": _ratio(
            sum(1 for i in licensing if i["online_enabled"]), len(licensing)
        ),
        "high_frequency_items": sum(1 for i in in_use if i["high_frequency"]),
        "one_window_items": len(one_window),
        "one_window_departments": len({i["department"] for i in one_window}),
    }
    for code, reform in REFORM_KPIS.items():
        values[code] = sum(1 for i in items if i.get("reform") == reform)
    return values


def entities_existing(events: Iterable[Row], day: date) -> int:
    """Entities (uscc) whose latest 设立/注销/吊销 event completed by the end of `day` is 设立."""
    relevant = [
        e for e in events if e["event_type"] in EXISTENCE_EVENTS and e["completed_at"].date() <= day
    ]
    relevant.sort(key=lambda e: (e["completed_at"], e["event_id"]))
    exists: dict[str, bool] = {}
    for e in relevant:
        exists[e["uscc"]] = e["event_type"] == "设立"
    return sum(1 for v in exists.values() if v)


def entity_totals(events: Iterable[Row], days: Iterable[date]) -> dict[date, int]:
    """`entities_existing` for many days in one pass over the events in time order."""
    ordered = sorted(
        (e for e in events if e["event_type"] in EXISTENCE_EVENTS),
        key=lambda e: (e["completed_at"], e["event_id"]),
    )
    exists: dict[str, bool] = {}
    count = 0
    i = 0
    totals: dict[date, int] = {}
    for day in sorted(set(days)):
        while i < len(ordered) and ordered[i]["completed_at"].date() <= day:
            e = ordered[i]
            now = e["event_type"] == "设立"
            count += now - exists.get(e["uscc"], False)
            exists[e["uscc"]] = now
            i += 1
        totals[day] = count
    return totals


def _entity_daily(events: Iterable[Row]) -> dict[date, Counter[str]]:
    daily: dict[date, Counter[str]] = {}
    for e in events:
        tally = daily.setdefault(e["completed_at"].date(), Counter())
        if e["event_type"] == "设立":
            tally["new"] += 1
            tally["returnee"] += e.get("is_returnee") is True
            if e["entity_type"] == "企业":
                tally["enterprise_new"] += 1
                tally["within_2h"] += e["completed_at"] - e["submitted_at"] <= timedelta(hours=2)
        elif e["event_type"] in EXIT_EVENTS:
            tally["exited"] += 1
    return daily


def _project_daily(projects: Iterable[Row]) -> dict[date, Counter[str]]:
    daily: dict[date, Counter[str]] = {}
    for p in projects:
        industrial = p["is_industrial"] is True
        signed = p.get("signed_date")
        if signed is not None:
            t = daily.setdefault(signed, Counter())
            t["signed"] += 1
            # Sums skip a missing amount rather than make the whole sum unknown.
            t["contract_investment"] += p.get("contract_investment") or 0.0
            if industrial:
                t["industrial_signed"] += 1
                t["industrial_investment"] += p.get("planned_investment") or 0.0
                land = p.get("land_mu")
                if land is not None and land > 0:
                    t["per_mu_projects"] += 1
                    t["per_mu_investment"] += p.get("planned_investment") or 0.0
                    t["per_mu_land"] += land
        started = p.get("started_date")
        if started is not None:
            t = daily.setdefault(started, Counter())
            t["started"] += 1
            t["industrial_started"] += industrial
        production = p.get("production_date")
        if production is not None:
            daily.setdefault(production, Counter())["in_production"] += 1
    return daily


def _coverage(period: Period, as_of: date, projects: list[Row]) -> dict[str, float | None]:
    leads = {p["lead_date"] for p in projects}
    talks = {p["first_talk_date"] for p in projects if p.get("first_talk_date") is not None}
    signings = {p["signed_date"] for p in projects if p.get("signed_date") is not None}
    starts = {p["started_date"] for p in projects if p.get("started_date") is not None}
    last = min(period.end, as_of)

    # Weeks whose Monday lies in P (up to as-of); a lead on any day of that week counts.
    mondays = [d for d in _days(period.start, last) if d.weekday() == 0]
    weeks_hit = sum(1 for m in mondays if any(m + timedelta(days=i) in leads for i in range(7)))

    # Months whose first day lies in P and is not after as-of; any day of the month counts.
    months = [d for d in _days(period.start, last) if d.day == 1]
    months_hit = sum(1 for m in months if any(period_of(t, "month").start == m for t in talks))

    values: dict[str, float | None] = {
        "lead_week_coverage": _ratio(weeks_hit, len(mondays)),
        "talk_month_coverage": _ratio(months_hit, len(months)),
        "sign_start_quarter_coverage": None,
    }
    if period.type != "month":
        # Quarters wholly within P's nominal bounds, not starting after as-of.
        quarters = [
            period_of(d, "quarter")
            for d in _days(period.start, last)
            if d.day == 1 and d.month in (1, 4, 7, 10) and period_of(d, "quarter").end <= period.end
        ]
        quarters_hit = sum(
            1
            for q in quarters
            if any(q.start <= s <= q.end for s in signings)
            and any(q.start <= s <= q.end for s in starts)
        )
        values["sign_start_quarter_coverage"] = _ratio(quarters_hit, len(quarters))
    return values


def first_day_with_data(rows: Mapping[str, list[Row]]) -> date | None:
    """The first day of the month of the earliest case submission, entity event completion,
    item update or project lead, over all versions."""
    days = [
        *(r["submitted_at"].date() for r in rows.get("permit_cases", [])),
        *(r["completed_at"].date() for r in rows.get("market_entities", [])),
        *(r["updated_at"].date() for r in rows.get("service_items", [])),
        *(r["lead_date"] for r in rows.get("investment_projects", [])),
    ]
    return min(days).replace(day=1) if days else None


def default_as_of(rows: Mapping[str, list[Row]]) -> date | None:
    """The date of the latest updated_at among all rows of all sources (all versions)."""
    stamps = [r["updated_at"] for name in SOURCES for r in rows.get(name, [])]
    return max(stamps).date() if stamps else None


def compute_kpis(
    rows: Mapping[str, list[Row]],
    as_of: date | None = None,
    calendar: Callable[[date], bool] | None = None,
) -> dict[KpiKey, float | None]:
    """Every KPI of KPIS.md for every year, quarter and month from the first month with data
    up to `as_of`, keyed (kpi_code, period_type, period_start).

    `rows[source]` are the accepted rows (all versions) as typed dicts keyed by contract column
    names, each with `_load_order` (order the file was loaded in) and `_row_number`.
    `calendar(day)` says whether a day is a working day (default: China's official calendar).
    """
    is_workday = calendar or chinese_calendar.is_workday
    if as_of is None:
        as_of = default_as_of(rows)
    first = first_day_with_data(rows)
    if as_of is None or first is None:
        return {}

    cases = list(current_versions(rows.get("permit_cases", []), "case_id").values())
    events = list(current_versions(rows.get("market_entities", []), "event_id").values())
    projects = list(current_versions(rows.get("investment_projects", []), "project_id").values())
    item_versions = list(rows.get("service_items", []))

    case_daily = _case_daily(cases, is_workday)
    entity_daily = _entity_daily(events)
    project_daily = _project_daily(projects)
    grid = period_grid(first, as_of)
    ends = [d for p in grid for d in (min(p.end, as_of), p.previous().end)]
    totals = entity_totals(events, ends)

    result: dict[KpiKey, float | None] = {}
    for period in grid:
        last = min(period.end, as_of)
        values: dict[str, Any] = {}
        values.update(_case_kpis(case_daily, period.start, last))
        values.update(_item_kpis(item_versions, last))

        e = _sum_days(entity_daily, period.start, last)
        total = totals[last]
        before = totals[period.previous().end]
        values.update(
            {
                "entities_total": total,
                "entities_new": e["new"],
                "entities_exited": e["exited"],
                "entities_net_growth_rate": None if before == 0 else total / before - 1,
                "enterprise_registration_2h_rate": _ratio(e["within_2h"], e["enterprise_new"]),
                "returnee_entities_new": e["returnee"],
            }
        )

        p = _sum_days(project_daily, period.start, last)
        values.update(
            {
                "projects_signed": p["signed"],
                "contract_investment_signed": p["contract_investment"],
                "industrial_projects_signed": p["industrial_signed"],
                "industrial_investment_signed": p["industrial_investment"],
                "projects_started": p["started"],
                "industrial_projects_started": p["industrial_started"],
                "projects_in_production": p["in_production"],
                "investment_per_mu": None
                if p["per_mu_projects"] == 0
                else p["per_mu_investment"] * 10000 / p["per_mu_land"],
            }
        )
        values.update(_coverage(period, as_of, projects))

        assert set(values) == set(KPI_CODES), set(values) ^ set(KPI_CODES)
        for code in KPI_CODES:
            v = values[code]
            result[(code, period.type, period.start)] = None if v is None else float(v)
    return result


# --------------------------------------------------------------------------------------------
# Landing folder reader


class Rejected(NamedTuple):
    source: str
    file_name: str
    row_number: int
    column: str
    rule: str
    # How many rules the row broke; `rule` is the first, in contract column order, then the
    # cross-column rules in contract order.
    rules_broken: int


@dataclass
class FileRead:
    source: str
    file_name: str
    status: str  # loaded | duplicate | set_aside
    load_order: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    encoding: str | None = None
    header_language: str | None = None
    extra_columns: list[str] = field(default_factory=list)


class Landing(dict[str, list[Row]]):
    """Accepted rows per source (as `compute_kpis` takes them), plus what happened to each
    file (`files`, in arrival order) and each rejected row (`rejected`)."""

    def __init__(self) -> None:
        super().__init__({name: [] for name in SOURCES})
        self.files: list[FileRead] = []
        self.rejected: list[Rejected] = []


_TIMESTAMP_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"), "%Y-%m-%d %H:%M"),
    (re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}"), "%Y/%m/%d %H:%M:%S"),
)
_DATE_FORMATS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{4}/\d{2}/\d{2}"), "%Y/%m/%d"),
)
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class BrokenRule(Exception):
    """A cell breaks the contract rule named in `rule` (a `COLUMN_RULES` code)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _parse_with(value: str, formats: tuple[tuple[re.Pattern[str], str], ...]) -> datetime | None:
    for pattern, fmt in formats:
        if pattern.fullmatch(value):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                return None  # the right shape but no such day or time
    return None


def _cn_id_check_digit_ok(value: str) -> bool:
    # Only the GB 11643 check digit is the contract's rule, not the birth date or place.
    body = value[:17]
    return (
        len(value) == 18
        and body.isascii()
        and body.isdigit()
        and ric.calc_check_digit(value) == value[17]
    )


def parse_value(column: Column, text: str) -> Any:
    """One non-empty, trimmed cell as the column's type; raises BrokenRule with the rule."""
    value: Any
    if column.dtype == "text":
        value = text.upper() if column.upper else text
    elif column.dtype == "timestamp":
        value = _parse_with(text, _TIMESTAMP_FORMATS)
        if value is None:
            raise BrokenRule("invalid_timestamp")
    elif column.dtype == "date":
        parsed = _parse_with(text, _DATE_FORMATS)
        if parsed is None:
            raise BrokenRule("invalid_date")
        value = parsed.date()
    elif column.dtype == "decimal":
        if not _DECIMAL.fullmatch(text):
            raise BrokenRule("invalid_number")
        value = float(text)
    elif column.dtype == "integer":
        # The rule is "a whole number": 3.0 is one (Excel prints whole numbers so), 2.5 is not.
        if not _DECIMAL.fullmatch(text) or not float(text).is_integer():
            raise BrokenRule("invalid_integer")
        value = int(float(text))
    elif column.dtype == "flag":
        lowered = text.lower()
        if lowered in FLAG_TRUE:
            value = True
        elif lowered in FLAG_FALSE:
            value = False
        else:
            raise BrokenRule("invalid_flag")
    else:
        raise ValueError(f"unknown type {column.dtype!r}")

    if column.allowed is not None and value not in column.allowed:
        raise BrokenRule("not_allowed_value")
    if column.minimum is not None and value < column.minimum:
        raise BrokenRule("below_minimum")
    if column.maximum is not None and value > column.maximum:
        raise BrokenRule("above_maximum")
    if column.length is not None and len(value) != column.length:
        raise BrokenRule("wrong_length")
    if column.check == "uscc" and not uscc.is_valid(value):
        raise BrokenRule("uscc_check_character")
    if column.check == "cn_id" and not _cn_id_check_digit_ok(value):
        raise BrokenRule("cn_id_check_digit")
    return value


def _lt(a: Any, b: Any) -> bool:
    # A rule comparing two values holds when either is missing.
    return a is not None and b is not None and a < b


_SIGNED_STAGES = ("签约", "开工", "投产")

# The contract's cross-column rules, written again from SOURCES.md's words, by rule name.
ROW_RULES: dict[str, Callable[[Row], bool]] = {
    "completed_before_submitted": lambda r: _lt(r["completed_at"], r["submitted_at"]),
    "accepted_before_submitted": lambda r: _lt(r["accepted_at"], r["submitted_at"]),
    "completed_before_accepted": lambda r: _lt(
        r["completed_at"], r["accepted_at"] if r["accepted_at"] is not None else r["submitted_at"]
    ),
    "completed_at_required_when_completed": lambda r: (
        r["status"] == "已办结" and r["completed_at"] is None
    ),
    "contract_investment_required_when_signed": lambda r: (
        (r["signed_date"] is not None or r["stage"] in _SIGNED_STAGES)
        and r["contract_investment"] is None
    ),
    "first_talk_before_lead": lambda r: _lt(r["first_talk_date"], r["lead_date"]),
    "signed_before_lead": lambda r: _lt(r["signed_date"], r["lead_date"]),
    "signed_date_required_for_stage": lambda r: (
        r["stage"] in _SIGNED_STAGES and r["signed_date"] is None
    ),
    "started_before_signed": lambda r: _lt(r["started_date"], r["signed_date"]),
    "started_date_required_for_stage": lambda r: (
        r["stage"] in ("开工", "投产") and r["started_date"] is None
    ),
    "production_before_started": lambda r: _lt(r["production_date"], r["started_date"]),
    "production_date_required_for_stage": lambda r: (
        r["stage"] == "投产" and r["production_date"] is None
    ),
}


def check_row(source: Source, cells: Mapping[str, str]) -> tuple[Row, list[tuple[str, str]]]:
    """Type one row of trimmed cells (missing column = empty) and list the (column, rule) pairs
    it breaks, column rules first."""
    row: Row = {}
    broken: list[tuple[str, str]] = []
    for column in source.columns:
        text = cells.get(column.name, "")
        row[column.name] = None
        if text == "":
            if column.required:
                broken.append((column.name, "required"))
            continue
        try:
            row[column.name] = parse_value(column, text)
        except BrokenRule as b:
            broken.append((column.name, b.rule))
    for rule in source.row_rules:
        if ROW_RULES[rule.name](row):
            broken.append((rule.column, rule.name))
    return row, broken


def _decode(data: bytes) -> tuple[str, str] | None:
    # utf-8-sig reads plain UTF-8 too; GB18030 is tried only when that fails.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
            return text, "utf-8-sig"
        return text, "utf-8" if encoding == "utf-8-sig" else encoding
    return None


def _read_csv_file(
    source: Source, path: Path, load_order: int, landing: Landing, read: FileRead
) -> None:
    decoded = _decode(path.read_bytes())
    if decoded is None:
        read.status, read.reason = "set_aside", "not UTF-8 or GB18030"
        return
    text, read.encoding = decoded
    # Blank lines are not rows: they neither count nor shift row numbers.
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    if not records:
        read.status, read.reason = "set_aside", "no header row"
        return

    by_header: dict[str, tuple[Column, str]] = {}
    for column in source.columns:
        by_header[column.header_zh] = (column, "zh")
        by_header[column.name] = (column, "en")
    positions: dict[str, int] = {}
    languages: set[str] = set()
    for index, header in enumerate(h.strip() for h in records[0]):
        if header in by_header:
            column, language = by_header[header]
            languages.add(language)
            positions.setdefault(column.name, index)
        else:
            read.extra_columns.append(header)
    read.header_language = languages.pop() if len(languages) == 1 else "mixed"
    missing = [c.name for c in source.required_columns if c.name not in positions]
    if missing:
        read.status, read.reason = "set_aside", "missing required column: " + ", ".join(missing)
        return

    read.status, read.load_order = "loaded", load_order
    for row_number, record in enumerate(records[1:], start=1):
        cells = {
            name: record[index].strip() if index < len(record) else ""
            for name, index in positions.items()
        }
        row, broken = check_row(source, cells)
        read.rows_read += 1
        if broken:
            column, rule = broken[0]
            landing.rejected.append(
                Rejected(source.name, path.name, row_number, column, rule, len(broken))
            )
            read.rows_rejected += 1
            continue
        row["_load_order"] = load_order
        row["_row_number"] = row_number
        row["_file_name"] = path.name
        landing[source.name].append(row)
        read.rows_loaded += 1


def read_landing(landing_dir: str | Path) -> Landing:
    """Read a landing folder of CSV files the way SOURCES.md says, one row at a time.

    Returns the accepted rows per source, typed, each with `_load_order` (1 = first file
    loaded), `_row_number` (1 = first data row) and `_file_name`; `.rejected` lists every
    rejected row with its first broken rule, `.files` every file with its fate.
    """
    root = Path(landing_dir)
    arrivals: list[tuple[int, str, str, Path]] = []
    for name in SOURCES:
        folder = root / name
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and not path.name.startswith("."):
                arrivals.append((path.stat().st_mtime_ns, path.name, name, path))
    arrivals.sort(key=lambda a: a[:3])

    landing = Landing()
    seen_hashes: set[str] = set()
    load_order = 0
    for _, file_name, source_name, path in arrivals:
        if path.suffix.lower() != ".csv":
            # A silently skipped .xlsx/.parquet/.jsonl would make the oracle quietly disagree.
            raise NotImplementedError(f"the oracle reads CSV only: {path}")
        read = FileRead(source_name, file_name, status="loaded")
        landing.files.append(read)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen_hashes:
            read.status, read.reason = "duplicate", "same bytes loaded before"
            continue
        load_order += 1
        _read_csv_file(SOURCES[source_name], path, load_order, landing, read)
        if read.status == "loaded":
            seen_hashes.add(digest)
        assert read.rows_read == read.rows_loaded + read.rows_rejected
    return landing
