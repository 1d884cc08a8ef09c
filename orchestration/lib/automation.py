"""Declarative automation: what follows a file's load without anybody pressing a button.

The landing sensor's run builds `raw/<source>` of each source with a file ready and everything
between them and the serving copy.
Every asset downstream of a raw table (dbt seeds, staging, marts, KPIs, the serving copy, the
report) carries `after_upstream_updates()`, and `kzdw_automation_sensor` evaluates those
conditions and requests the runs: the report after a new serving copy, and a build of
whatever a run updated without building what follows it (a raw load of `kzdw run`'s own, an
asset materialised by hand). An asset that a run built after its inputs is not requested
again: Dagster's `eager` resets on the asset's own update.
"""

import dagster as dg

# The Dagster daemon looks at its sensors (the landing sensor, the automation sensor) once a
# loop, a loop every 5 s at most, and ticks a sensor whose minimum interval has passed since its
# previous tick began. That tick began a little after its own loop did, so a minimum equal to
# the loop's 5 s ticks on every other loop at times: 5 and 10 s apart in turn, measured under
# `kzdw dev`. A minimum below the loop's period ticks on every loop, every 5 s
# (tests/orchestration/test_landing_sensor.py asks Dagster's own rule).
MINIMUM_INTERVAL_SECONDS = 1


def after_upstream_updates(
    triggered_by: dg.AssetSelection | None = None,
) -> dg.AutomationCondition:
    """Dagster's `eager` (run when a dependency updated; never while a dependency is missing or
    running), plus a first build of an asset that is missing while everything it reads exists
    (`eager` alone only builds what goes missing after the condition was applied, so a fresh
    warehouse's seeds would never be built), never on top of a dependency whose latest blocking
    check failed: a bad batch or a failed dbt test stops the data from travelling on.

    `triggered_by`: only an update of these dependencies starts a build (the report reads the
    marts through the serving copy: a mart's update alone would print the previous copy);
    the blocking checks of every dependency still guard it."""
    first_build = (
        dg.AutomationCondition.missing()
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.execution_failed()
    ).with_label("missing and buildable")
    no_failed_blocking_check_upstream = ~dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.any_checks_match(
            dg.AutomationCondition.check_failed(), blocking_only=True
        )
    ).with_label("no upstream blocking check failed")
    eager = dg.AutomationCondition.eager()
    if triggered_by is not None:
        eager = eager.replace(
            "any_deps_updated", dg.AutomationCondition.any_deps_updated().allow(triggered_by)
        )
    return ((eager | first_build) & no_failed_blocking_check_upstream).with_label(
        "after upstream updates"
    )
