"""Figures printed the district report's way (0.11次, 100425户, 6.3%, 289.9亿元)."""

from datetime import date

import pytest

from kzdw.report.charts import nice_ceiling
from kzdw.report.formatting import (
    display_width,
    format_change,
    format_percent,
    format_value,
    period_label,
)


@pytest.mark.parametrize(
    ("value", "unit", "code", "expected"),
    [
        # The demo's 2022 values as marts.kpi_values holds them (floating point and all).
        (0.1100013871549452, "trips", "avg_trips_per_case", "0.11次"),
        (100425.0, "count", "entities_total", "100425户"),
        (0.06300212759201052, "ratio", "entities_net_growth_rate", "6.3%"),
        (289.9, "100m_cny", "industrial_investment_signed", "289.9亿元"),
        (282.29999999999995, "100m_cny", "contract_investment_signed", "282.3亿元"),
        (400.0, "100m_cny", "contract_investment_signed", "400亿元"),
        (53.0, "count", "industrial_projects_signed", "53个"),
        (169.0, "count", "high_frequency_items", "169项"),
        (10488.0, "count", "one_window_cases", "10488件"),
        (18.0, "count", "one_window_departments", "18个"),
        (0.9423076923076923, "ratio", "lead_week_coverage", "94.2%"),
        (1.0, "ratio", "talk_month_coverage", "100%"),
        (0.0, "ratio", "lead_week_coverage", "0%"),
        (412.0763455196127, "10k_cny_per_mu", "investment_per_mu", "412.1万元/亩"),
        # 0.10 keeps its last digit: only an all-zero fraction is dropped.
        (0.1, "trips", "avg_trips_per_case", "0.10次"),
        (59.2, "count", "projects_signed", "59个"),
        (7.0, "count", "some_new_count", "7"),
        (None, "ratio", "online_case_rate", "—"),
        (float("nan"), "trips", "avg_trips_per_case", "—"),
    ],
)
def test_format_value(value, unit, code, expected):
    assert format_value(value, unit, code) == expected


def test_format_value_without_unit_word():
    assert format_value(18.0, "count", "one_window_departments", with_unit=False) == "18"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (-0.0967741935483871, "下降9.7%"),
        (0.33055786844296413, "增长33.1%"),
        (0.0, "持平"),
        (0.0004, "持平"),
        (None, "—"),
    ],
)
def test_format_change(change, expected):
    assert format_change(change) == expected


def test_format_percent_keeps_its_decimal():
    assert format_percent(0.4) == "40.0%"
    assert format_percent(0.3995) == "40.0%"
    assert format_percent(None) == "—"


@pytest.mark.parametrize(
    ("period_type", "start", "end", "as_of", "expected"),
    [
        ("year", date(2022, 1, 1), date(2022, 12, 31), date(2023, 6, 30), "2022年"),
        ("year", date(2023, 1, 1), date(2023, 12, 31), date(2023, 6, 30), "2023年1—6月"),
        ("year", date(2023, 1, 1), date(2023, 12, 31), date(2023, 6, 15), "2023年1月1日—6月15日"),
        ("year", date(2023, 1, 1), date(2023, 12, 31), date(2023, 1, 31), "2023年1月"),
        ("quarter", date(2022, 10, 1), date(2022, 12, 31), None, "2022年第4季度"),
        ("quarter", date(2023, 4, 1), date(2023, 6, 30), date(2023, 5, 31), "2023年4—5月"),
        ("month", date(2023, 6, 1), date(2023, 6, 30), date(2023, 6, 30), "2023年6月"),
        ("month", date(2023, 2, 1), date(2023, 2, 28), date(2023, 2, 28), "2023年2月"),
        ("month", date(2023, 6, 1), date(2023, 6, 30), date(2023, 6, 15), "2023年6月1日—6月15日"),
    ],
)
def test_period_label(period_type, start, end, as_of, expected):
    assert period_label(period_type, start, end, as_of) == expected


def test_axis_tops_are_round():
    assert nice_ceiling(0.06875) == 0.1
    assert nice_ceiling(0.2) == 0.2
    assert nice_ceiling(1.9) == 2
    assert nice_ceiling(3) == 5
    assert nice_ceiling(7.5) == 10
    assert nice_ceiling(0) == 1


def test_display_width_counts_cjk_twice():
    assert display_width("平均跑动次数（次）") == 18
    assert display_width("2023-06-30") == 10
