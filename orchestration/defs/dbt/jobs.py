"""The daily rebuild of marts, KPIs, checks and the serving copy, without loading files."""

import dagster as dg

marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(
        "market_entities", "permit_cases", "service_items", "investment_projects"
    ).upstream(depth=0),
    description="dbt build of staging, marts and KPIs with their tests, the KPI completeness "
    "check and the serving copy, on the raw layer as it stands (no file loading).",
)
