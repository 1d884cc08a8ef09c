"""Suite for a loaded batch of government-service case versions."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.contract_suite import contract_expectations
from sources.contracts import PERMIT_CASES


def build_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="permit_cases",
        expectations=[
            *contract_expectations(PERMIT_CASES),
            # Distributions the district's own figures make plausible: far under one trip a
            # case on average, most cases online, most cases accepted.
            gxe.ExpectColumnMeanToBeBetween(column="trips", min_value=0, max_value=1.5),
            gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=["全程网办"], mostly=0.5),
            gxe.ExpectColumnValuesToNotBeNull(column="accepted_at", mostly=0.7),
            # A batch may hold several versions of a key, but one file holds each version once.
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["_load_id", "case_id", "updated_at"], mostly=0.99
            ),
        ],
    )
