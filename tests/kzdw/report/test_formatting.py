"""The one formatter, tested once: figures printed the district report's way (0.11次, 100425户,
6.3%, 289.9亿元) from a KPI's display facts, the same figures the scorecard's SQL macro writes,
changes in 个百分点 or per cent, and the names of periods."""

from datetime import date

import duckdb
import pytest

from kzdw.report.charts import nice_ceiling
from kzdw.report.data import load_report_data
from kzdw.report.formatting import (
    KpiFacts,
    digits,
    display_width,
    format_change,
    format_percent,
    format_share,
    format_ticks,
    format_value,
    period_label,
    period_span,
    span_label,
)
from tests.kzdw.report.fixture import format_kpi_value_sql
from tests.kzdw.report.scorecard_text import scorecard_figures

D = date.fromisoformat


def facts(unit: str, word: str, decimals: int) -> KpiFacts:
    return KpiFacts("k", "指标", unit, "permit_cases", None, 1, word, decimals, "")


TRIPS = facts("trips", "次", 2)
SHARE = facts("ratio", "%", 1)
SHARE_2 = facts("ratio", "%", 2)
ENTITIES = facts("count", "户", 0)
PROJECTS = facts("count", "个", 0)
MONEY = facts("100m_cny", "亿元", 1)
PER_MU = facts("10k_cny_per_mu", "万元/亩", 1)
BARE = facts("count", "", 0)


@pytest.mark.parametrize(
    ("value", "kpi", "expected"),
    [
        # The demo's 2022 values as marts.kpi_values holds them (floating point and all).
        (0.1100013871549452, TRIPS, "0.11次"),
        (100425.0, ENTITIES, "100425户"),  # no thousands separator
        (3912.0, ENTITIES, "3912户"),
        (0.06300212759201052, SHARE, "6.3%"),  # ×100, one decimal
        (289.9, MONEY, "289.9亿元"),
        (282.29999999999995, MONEY, "282.3亿元"),
        (110.70000000000002, MONEY, "110.7亿元"),
        (400.0, MONEY, "400亿元"),  # an all-zero fraction is dropped
        (53.0, PROJECTS, "53个"),
        (0.9423076923076923, SHARE, "94.2%"),
        (1.0, SHARE, "100%"),
        (0.99951, SHARE, "100%"),  # 99.951 rounds to 100.0, then drops its .0
        (0.0, SHARE, "0%"),
        (412.0763455196127, PER_MU, "412.1万元/亩"),
        # 0.10 keeps its last digit: only an all-zero fraction is dropped.
        (0.1, TRIPS, "0.10次"),
        (0.004, TRIPS, "0次"),  # 0.00 is all zeros
        (2.0, TRIPS, "2次"),
        (0.125, SHARE_2, "12.50%"),
        (59.2, PROJECTS, "59个"),  # a projection of a count, rounded to the count's decimals
        # A tie goes to the even digit (58.5 is exact in binary), as DuckDB's format does.
        (58.5, PROJECTS, "58个"),
        (59.5, PROJECTS, "60个"),
        (-0.0004, SHARE, "0%"),  # -0.0 is no figure a leader reads
        (-0.0123, SHARE, "-1.2%"),
        (7.0, BARE, "7"),
        (None, SHARE, "—"),
        (float("nan"), TRIPS, "—"),
    ],
)
def test_format_value(value, kpi, expected):
    assert format_value(value, kpi) == expected


def test_format_value_without_unit_word():
    assert format_value(18.0, PROJECTS, with_unit=False) == "18"
    assert format_value(0.25, SHARE, with_unit=False) == "25"


@pytest.mark.parametrize(
    ("ticks", "kpi", "expected"),
    [
        ([0, 0.5, 1, 1.5, 2], TRIPS, ["0.0", "0.5", "1.0", "1.5", "2.0"]),
        ([0, 0.05, 0.1, 0.15, 0.2], TRIPS, ["0.00", "0.05", "0.10", "0.15", "0.20"]),
        (
            [0, 0.4 * 1 / 4, 0.4 * 2 / 4, 0.4 * 3 / 4, 0.4],
            TRIPS,
            ["0.0", "0.1", "0.2", "0.3", "0.4"],
        ),
        ([0, 0.25, 0.5, 0.75, 1.0], SHARE, ["0%", "25%", "50%", "75%", "100%"]),
        ([0, 0.025, 0.05, 0.075, 0.1], SHARE, ["0.0%", "2.5%", "5.0%", "7.5%", "10.0%"]),
        ([0, 1 / 3], SHARE, ["0.0%", "33.3%"]),  # no exact form: the KPI's own decimals
    ],
)
def test_axis_ticks_share_one_form(ticks, kpi, expected):
    assert format_ticks(ticks, kpi, with_unit=kpi.is_ratio) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "trim", "expected"),
    [
        (0.125, 2, True, "0.12"),  # exact tie: even digit
        (2.675, 2, True, "2.67"),  # 2.675 is 2.67499… in binary
        (1234567.0, 0, True, "1234567"),
        (0.5, 0, True, "0"),
        (1.5, 0, True, "2"),
        (400.0, 1, False, "400.0"),
        (400.0, 1, True, "400"),
        (0.10, 2, True, "0.10"),
    ],
)
def test_digits(value, decimals, trim, expected):
    assert digits(value, decimals, trim=trim) == expected


@pytest.mark.parametrize(
    ("now", "before", "kpi", "expected"),
    [
        # A ratio by the difference, in 个百分点, to the KPI's decimals.
        (0.6983997233313421, 0.66, SHARE, "提高3.8个百分点"),  # 69.840 − 66.000
        (0.6987446247745873, 0.6321243523316062, SHARE, "提高6.7个百分点"),  # 69.874 − 63.212
        (0.063, 0.0728, SHARE, "下降1个百分点"),  # −0.98 → 1.0 → 1
        (0.5004, 0.5, SHARE, "持平"),  # 0.04 points
        (0.5, 0.525, SHARE_2, "下降2.50个百分点"),
        # Anything else by its relative change, to one decimal.
        (28, 31, PROJECTS, "下降9.7%"),  # 28 / 31 − 1 = −9.677%
        (20, 16, PROJECTS, "增长25%"),
        (159.8, 150.2, MONEY, "增长6.4%"),  # 6.391%
        (0.09001163265947747, 0.1213, TRIPS, "下降25.8%"),  # an average: relative
        (100425, 100400, ENTITIES, "持平"),  # 0.025%
        (5, 0, PROJECTS, "—"),  # no base
        (None, 31, PROJECTS, "—"),
        (0.7, None, SHARE, "—"),
    ],
)
def test_format_change(now, before, kpi, expected):
    assert format_change(now, before, kpi) == expected


def test_shares_of_a_target_keep_their_decimal_other_shares_do_not():
    # As the scorecard's sentences write a share of a target: 40.0%, 100.0%.
    assert format_percent(0.4) == "40.0%"
    assert format_percent(0.3995) == "40.0%"  # 39.95 is 39.950000000000003 in binary
    assert format_percent(1.0) == "100.0%"
    assert format_percent(None) == "—"
    # A share of a cohort's leads, an axis tick: as a ratio KPI prints it.
    assert format_share(0.7) == "70%"
    assert format_share(1 / 3) == "33.3%"
    assert format_share(0.0) == "0%"
    assert format_share(None) == "—"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2022, 1, 1), date(2022, 12, 31), "2022年"),
        (date(2023, 1, 1), date(2023, 6, 30), "2023年1—6月"),
        (date(2023, 6, 1), date(2023, 6, 30), "2023年6月"),
        (date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        (date(2023, 1, 1), date(2023, 6, 15), "2023年1月1日—6月15日"),
        (date(2023, 1, 1), date(2023, 1, 10), "2023年1月1日—1月10日"),
    ],
)
def test_span_label(start, end, expected):
    assert span_label(start, end) == expected


@pytest.mark.parametrize(
    ("period_type", "start", "end", "as_of", "label", "last"),
    [
        ("year", "2022-01-01", "2022-12-31", "2023-06-30", "2022年", "2022-12-31"),
        ("year", "2023-01-01", "2023-12-31", "2023-06-30", "2023年1—6月", "2023-06-30"),
        ("year", "2023-01-01", "2023-12-31", "2023-06-15", "2023年1月1日—6月15日", "2023-06-15"),
        ("year", "2023-01-01", "2023-12-31", "2023-01-31", "2023年1月", "2023-01-31"),
        ("year", "2023-01-01", "2023-12-31", "2023-12-31", "2023年", "2023-12-31"),
        ("quarter", "2022-10-01", "2022-12-31", None, "2022年第4季度", "2022-12-31"),
        ("quarter", "2023-04-01", "2023-06-30", "2023-06-30", "2023年第2季度", "2023-06-30"),
        ("quarter", "2023-04-01", "2023-06-30", "2023-05-31", "2023年4—5月", "2023-05-31"),
        ("month", "2023-06-01", "2023-06-30", "2023-06-30", "2023年6月", "2023-06-30"),
        ("month", "2023-02-01", "2023-02-28", "2023-02-28", "2023年2月", "2023-02-28"),
        ("month", "2023-06-01", "2023-06-30", "2023-06-15", "2023年6月1日—6月15日", "2023-06-15"),
    ],
)
def test_period_label_and_last_day_come_from_one_rule(period_type, start, end, as_of, label, last):
    start, end, last = D(start), D(end), D(last)
    as_of = D(as_of) if as_of else None
    assert period_span(period_type, start, end, as_of) == (label, last)
    assert period_label(period_type, start, end, as_of) == label


# --- the scorecard's SQL writes the same figures ------------------------------------------

# Values where two roundings could part: exact binary ties, values just below a tie, an
# all-zero fraction, a negative zero, a large count.
TRICKY = [0.125, 0.375, 2.5, 58.5, 2.675, 0.9995, 400.0, 0.1, -0.0004, 100425.0, 1e-9, 12.345]


def test_the_scorecard_macro_writes_every_kpi_as_the_python_formatter(serving, data):
    """The dbt macro format_kpi_value, run in DuckDB on every value of every KPI of the serving
    copy (and on values where roundings could part), against format_value."""
    expression = format_kpi_value_sql("v.value", "d.unit", "d.decimals", "d.unit_word")
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows = con.execute(
            f"""
            with v as (
                select kpi_code, value from marts.kpi_values
                union all
                select kpi_code, unnest(?::double[]) from seeds.kpi_definitions
            )
            select v.kpi_code, v.value, {expression}
            from v inner join seeds.kpi_definitions as d using (kpi_code)
            """,
            [TRICKY],
        ).fetchall()
    finally:
        con.close()
    assert {code for code, _, _ in rows} == set(data.facts)
    assert len(rows) > 100
    for code, value, written in rows:
        expected = None if value is None else format_value(value, data.facts[code])
        assert written == expected, (code, value)


def test_every_figure_in_the_scorecard_sentences_is_the_python_formatters(data):
    assert len(data.scorecard) == 8
    for row in data.scorecard:
        figures = scorecard_figures(row["status_reason"])
        expected = {"value_to_date", "target"}
        if row["projection_method"] != "none":
            expected.add("projected_year_end")
        assert set(figures) == expected, row["status_reason"]
        for column, written in figures.items():
            assert written == data.format(row["kpi_code"], row[column]), (row["kpi_code"], column)


def test_the_sentences_read_as_the_district_writes(data):
    reasons = {r["kpi_code"]: r["status_reason"] for r in data.scorecard}
    assert reasons["contract_investment_signed"] == (
        "截至2023年6月30日完成159.8亿元，为年度目标400亿元的40.0%；按去年同期进度推算全年约"
        "300.3亿元，为目标的75.1%，明显落后于目标。"
    )
    assert reasons["avg_trips_per_case"] == (
        "截至2023年6月30日为0.09次，年度目标0.10次，未超过目标。"
    )
    assert reasons["returnee_entities_new"].startswith(
        "截至2023年6月30日完成1780户，为年度目标10000户"
    )


def test_facts_are_read_from_the_serving_copy(tmp_path):
    from tests.kzdw.report.fixture import build_fixture

    serving = build_fixture(tmp_path / "serving" / "warehouse.duckdb")
    con = duckdb.connect(str(serving))
    con.execute(
        "update seeds.kpi_definitions set unit_word = '家', decimals = 1 "
        "where kpi_code = 'entities_total'"
    )
    con.close()
    data = load_report_data(serving)
    assert data.format("entities_total", 100425.0) == "100425家"
    assert data.format("entities_total", 100425.25) == "100425.2家"


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
