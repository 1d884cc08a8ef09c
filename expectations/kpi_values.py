"""Suite for `marts.kpi_values`: every KPI × period present once, values in their ranges."""

from __future__ import annotations

import csv
from pathlib import Path

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

KPI_DEFINITIONS = (
    Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "kpi_definitions.csv"
)
CRITICAL = {"critical": True}


def kpi_codes() -> list[str]:
    """The KPI codes of the contract, from the dbt seed that names them (one list, in dbt)."""
    with KPI_DEFINITIONS.open(encoding="utf-8") as fh:
        return [row["kpi_code"] for row in csv.DictReader(fh)]


def build_suite(n_periods: int) -> gx.ExpectationSuite:
    """`n_periods`: distinct (period_type, period_start) in the table; with the compound key
    unique, rows = KPIs × periods means no KPI is missing a period."""
    codes = kpi_codes()
    return gx.ExpectationSuite(
        name="kpi_values",
        expectations=[
            gxe.ExpectColumnDistinctValuesToEqualSet(
                column="kpi_code", value_set=codes, meta=CRITICAL
            ),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["kpi_code", "period_type", "period_start"], meta=CRITICAL
            ),
            gxe.ExpectTableRowCountToEqual(value=len(codes) * n_periods, meta=CRITICAL),
            gxe.ExpectColumnDistinctValuesToEqualSet(
                column="period_type", value_set=["year", "quarter", "month"], meta=CRITICAL
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="kpi_name_zh", meta=CRITICAL),
            gxe.ExpectColumnValuesToNotBeNull(column="as_of", meta=CRITICAL),
            gxe.ExpectColumnValuesToBeInSet(
                column="unit",
                value_set=["count", "ratio", "trips", "100m_cny", "10k_cny_per_mu"],
                meta=CRITICAL,
            ),
            # Ratios are fractions, never percentages; counts are whole and never negative.
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=0,
                max_value=1,
                row_condition=(Column("unit") == "ratio")
                & (Column("kpi_code") != "entities_net_growth_rate"),
                meta=CRITICAL,
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=0,
                row_condition=Column("unit") == "count",
                meta=CRITICAL,
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="value",
                row_condition=Column("unit") == "count",
                meta=CRITICAL,
            ),
            # Averages of a few trips a case; more would be a unit error upstream.
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=0,
                max_value=20,
                row_condition=Column("unit") == "trips",
            ),
        ],
    )
