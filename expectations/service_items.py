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
            # Most items of a catalogue are in use.
            # A batch may hold several versions of a key, but one file holds each version once.
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["_load_id", "item_code", "updated_at"], mostly=0.99
            ),
            gxe.ExpectColumnValuesToBeInSet(column="item_status", value_set=["在用"], mostly=0.5),
        ],
    )
