"""The deployment (kzdw.settings) as the resource every asset, check and sensor receives."""

import dagster as dg

from orchestration.lib.warehouse import WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": WarehouseResource()})
