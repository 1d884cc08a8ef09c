"""Suite for a loaded batch of service-item catalogue versions."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.contract_suite import contract_expectations
from sources.contracts import SERVICE_ITEMS


def build_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="service_items",
        expectations=[
            *contract_expectations(SERVICE_ITEMS),
            # A catalogue export lists each item once and most items are in use.
            gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column="item_code", min_value=0.95),
            gxe.ExpectColumnValuesToBeInSet(column="item_status", value_set=["在用"], mostly=0.5),
        ],
    )
