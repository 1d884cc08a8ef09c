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
            # Shape, not rules: an export is a set of distinct events, mostly set-ups and
            # changes; a batch made mostly of exits points at a wrong extract.
            gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column="event_id", min_value=0.95),
            gxe.ExpectColumnValuesToBeInSet(
                column="event_type", value_set=["设立", "变更"], mostly=0.3
            ),
            gxe.ExpectColumnValuesToMatchRegex(
                column="uscc", regex=r"^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$"
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="township", mostly=0.9),
        ],
    )
