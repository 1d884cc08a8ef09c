"""The landing sensor over every source's folder, and declarative automation: everything
downstream of a load that the landing run did not build follows by itself."""

import dagster as dg

from orchestration.lib.automation import MINIMUM_INTERVAL_SECONDS
from orchestration.lib.landing_sensor import build_landing_sensor
from sources.contracts import SOURCES

landing_sensor = build_landing_sensor(list(SOURCES.values()))

automation_sensor = dg.AutomationConditionSensorDefinition(
    "kzdw_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    description="Evaluates every asset's automation condition: after a landing run, requests "
    "what follows the serving copy (the report); after a build that no file started (a "
    "schedule, the UI), what depends on it, in one writer's pool.",
)
