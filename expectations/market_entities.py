"""Suite for a loaded batch of market-entity registration events."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.contract_suite import contract_expectations
from sources.contracts import MARKET_ENTITIES


def build_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="market_entities",
        expectations=[
            *contract_expectations(MARKET_ENTITIES),
            # Shape, not rules. A batch may hold several versions of a key, but one file holds
            # each version once.
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["_load_id", "event_id", "updated_at"], mostly=0.99
            ),
            # An export is mostly set-ups and changes; mostly exits points at a wrong extract.
            gxe.ExpectColumnValuesToBeInSet(
                column="event_type", value_set=["设立", "变更"], mostly=0.3
            ),
            gxe.ExpectColumnValuesToMatchRegex(
                column="uscc", regex=r"^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$"
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="township", mostly=0.9),
        ],
    )
