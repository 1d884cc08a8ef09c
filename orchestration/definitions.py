"""The code location: every asset, check, job and resource of the warehouse."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt.assets import kzdw_dbt_models
from orchestration.dbt.checks import kpi_values_are_complete
from orchestration.dbt.resources import dbt_resource
from orchestration.dbt.schedules import marts_job, marts_job_schedule
from orchestration.investment_projects.assets import investment_projects
from orchestration.investment_projects.sensors import investment_projects_file_landed_sensor
from orchestration.lib.automation import automation_sensor
from orchestration.lib.freshness import (
    freshness_checks,
    freshness_checks_job,
    freshness_checks_schedule,
)
from orchestration.lib.settings import WarehouseResource
from orchestration.market_entities.assets import market_entities
from orchestration.market_entities.sensors import market_entities_file_landed_sensor
from orchestration.permit_cases.assets import permit_cases
from orchestration.permit_cases.sensors import permit_cases_file_landed_sensor
from orchestration.report.assets import leadership as reports_leadership
from orchestration.service_items.assets import service_items
from orchestration.service_items.sensors import service_items_file_landed_sensor
from orchestration.serving.assets import warehouse as serving_warehouse

# One process writes the DuckDB file at a time, and in-process runs start in a fraction of
# the multiprocess executor's time: every run (this job, or assets materialised from the UI)
# executes its steps one after another in one process.
warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all(),
    description="Load every pending landing file, build staging, marts and KPIs with dbt, run "
    "every check (dbt tests and Great Expectations suites), then publish the serving copy.",
)

defs = dg.Definitions(
    assets=[
        market_entities,
        permit_cases,
        service_items,
        investment_projects,
        kzdw_dbt_models,
        serving_warehouse,
        reports_leadership,
    ],
    asset_checks=[kpi_values_are_complete, *freshness_checks],
    jobs=[warehouse_job, marts_job, freshness_checks_job],
    schedules=[marts_job_schedule, freshness_checks_schedule],
    sensors=[
        market_entities_file_landed_sensor,
        permit_cases_file_landed_sensor,
        service_items_file_landed_sensor,
        investment_projects_file_landed_sensor,
        automation_sensor,
    ],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource},
    executor=dg.in_process_executor,
)
