"""Suite for a loaded batch of investment-project versions."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.contract_suite import contract_expectations
from sources.contracts import INVESTMENT_PROJECTS


def build_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="investment_projects",
        expectations=[
            *contract_expectations(INVESTMENT_PROJECTS),
            # A district project above 1,000 亿元 or 100,000 亩 is a unit error (元 or m²).
            gxe.ExpectColumnValuesToBeBetween(column="planned_investment", max_value=1000),
            gxe.ExpectColumnValuesToBeBetween(column="land_mu", max_value=100_000),
            # A batch may hold several versions of a key, but one file holds each version once.
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["_load_id", "project_id", "updated_at"], mostly=0.99
            ),
        ],
    )
