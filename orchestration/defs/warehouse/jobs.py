"""The whole warehouse at once, and the freshness checks on their own."""

import dagster as dg

from orchestration.lib.freshness import check_name
from sources.contracts import SOURCES

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all(),
    description="Load every pending landing file, build staging, marts and KPIs with dbt, run "
    "every check (dbt tests and Great Expectations suites), then publish the serving copy.",
)

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job",
    selection=dg.AssetSelection.checks(
        *(dg.AssetCheckKey(dg.AssetKey(["raw", s.name]), check_name(s)) for s in SOURCES.values())
    ),
    description="Checks every source's deliveries against its submission calendar.",
)
