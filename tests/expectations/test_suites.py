"""The Great Expectations suites really run, and fail on bad data."""

from datetime import date, datetime

import pandas as pd
import pytest

from expectations import kpi_values, permit_cases
from expectations.runner import run_suite
from sources.contracts import PERMIT_CASES


def _cases(n: int = 20) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "case_id": f"C{i}",
                "item_code": "I1",
                "channel": "全程网办" if i % 4 else "窗口办理",
                "intake": "网上申报",
                "applicant_type": "自然人",
                "applicant_id_hash": -7_517_489_824_120_513_392 + i,
                "applicant_id_masked": "500234********1234",
                "submitted_at": datetime(2022, 1, 1),
                "accepted_at": datetime(2022, 1, 1, 1),
                "completed_at": datetime(2022, 1, 2),
                "status": "已办结",
                "trips": i % 2,
                "promised_days": 5,
                "rating": "满意",
                "updated_at": datetime(2022, 1, 3),
                "_load_id": 1,
                "_file_name": "f.csv",
                "_row_number": i + 1,
                "_loaded_at": datetime(2022, 1, 4),
            }
        )
    frame = pd.DataFrame(rows)
    assert list(frame.columns) == [name for name, _ in PERMIT_CASES.raw_schema()]
    return frame


def test_suite_passes_on_good_rows():
    outcome = run_suite(permit_cases.build_suite(), _cases())
    assert outcome.success, outcome.summary()
    assert outcome.evaluated > 20


def test_suite_passes_when_a_personal_value_is_absent():
    # No applicant ID: neither digest nor mask, and pandas holds the digests as float64.
    frame = _cases()
    frame.loc[3, ["applicant_id_hash", "applicant_id_masked"]] = None
    assert frame["applicant_id_hash"].dtype == "float64"
    outcome = run_suite(permit_cases.build_suite(), frame)
    assert outcome.success, outcome.summary()


@pytest.mark.parametrize(
    ("column", "value", "expectation"),
    [
        ("status", "办理中", "expect_column_values_to_be_in_set"),
        ("case_id", None, "expect_column_values_to_not_be_null"),
        ("trips", 99, "expect_column_values_to_be_between"),
        # A mask without its digest: the value was there, its digest was lost.
        ("applicant_id_hash", None, "expect_column_values_to_not_be_null"),
    ],
)
def test_suite_fails_critically_on_rows_that_break_the_contract(column, value, expectation):
    frame = _cases()
    frame.loc[3, column] = value
    outcome = run_suite(permit_cases.build_suite(), frame)
    assert not outcome.success and not outcome.critical_success
    assert expectation in {f["expectation"] for f in outcome.failures}


@pytest.mark.parametrize(
    "digests",
    [
        # Digests stored as text, as before they were integers.
        lambda frame: [f"{d & (2**64 - 1):016x}" + "0" * 48 for d in frame["applicant_id_hash"]],
        # One ID number in clear among the digests.
        lambda frame: [
            *frame["applicant_id_hash"][:3],
            "500234199001011234",
            *frame["applicant_id_hash"][4:],
        ],
    ],
)
def test_suite_fails_critically_on_digests_that_are_not_integers(digests):
    frame = _cases()
    frame["applicant_id_hash"] = pd.Series(digests(frame), dtype=object)
    outcome = run_suite(permit_cases.build_suite(), frame)
    assert not outcome.critical_success
    assert {f["expectation"] for f in outcome.failures} == {
        "expect_column_values_to_be_in_type_list"
    }


def test_shape_expectations_warn_without_failing_critically():
    frame = _cases()
    frame["trips"] = 3  # every case three trips: legal, but not what the district looks like
    outcome = run_suite(permit_cases.build_suite(), frame)
    assert not outcome.success and outcome.critical_success
    assert [f["expectation"] for f in outcome.failures] == ["expect_column_mean_to_be_between"]


def _kpis(codes: list[str]) -> pd.DataFrame:
    rows = []
    for code in codes:
        unit = "ratio" if code.endswith("rate") else "count"
        for ptype, start in (("year", date(2022, 1, 1)), ("month", date(2022, 1, 1))):
            rows.append(
                {
                    "kpi_code": code,
                    "kpi_name_zh": "名",
                    "period_type": ptype,
                    "period_start": start,
                    "period_end": start,
                    "value": 0.5 if unit == "ratio" else 3.0,
                    "unit": unit,
                    "target": None,
                    "as_of": date(2022, 12, 31),
                }
            )
    return pd.DataFrame(rows)


def test_kpi_suite_passes_on_a_complete_grid_and_fails_when_one_kpi_is_missing():
    codes = kpi_values.kpi_codes()
    assert len(codes) == 33
    complete = _kpis(codes)
    # Only year and month periods here: the period_type set expectation fails, nothing else.
    outcome = run_suite(kpi_values.build_suite(n_periods=2), complete)
    assert [f["expectation"] for f in outcome.failures] == [
        "expect_column_distinct_values_to_equal_set"
    ]
    missing = complete[complete.kpi_code != codes[0]]
    outcome = run_suite(kpi_values.build_suite(n_periods=2), missing)
    failed = {f["expectation"] for f in outcome.failures}
    assert "expect_table_row_count_to_equal" in failed and not outcome.critical_success


def test_kpi_suite_rejects_a_ratio_given_as_percent():
    codes = kpi_values.kpi_codes()
    frame = _kpis(codes)
    frame.loc[frame.unit == "ratio", "value"] = 94.0
    outcome = run_suite(kpi_values.build_suite(n_periods=2), frame)
    assert "expect_column_values_to_be_between" in {f["expectation"] for f in outcome.failures}
