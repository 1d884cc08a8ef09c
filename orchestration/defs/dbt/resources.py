"""dbt's CLI, on the project prepared with the code (orchestration/lib/dbt.py)."""

import dagster as dg

from orchestration.lib.dbt import dbt_resource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_resource})
