"""Declarative automation: everything downstream of a load follows by itself."""

import dagster as dg

from orchestration.lib.automation import AUTOMATION_INTERVAL_SECONDS

automation_sensor = dg.AutomationConditionSensorDefinition(
    "kzdw_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    description="Evaluates every asset's automation condition: after a landing sensor's run "
    "loads a file, requests the dbt build of the models that depend on it, the KPI checks and "
    "the serving copy, in one writer's pool.",
)
