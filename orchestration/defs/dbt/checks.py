"""Great Expectations on the KPI table, as a blocking asset check."""

import dagster as dg

from orchestration.lib.progress import progress_log
from orchestration.lib.text import literal
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

KPI_VALUES = dg.AssetKey(["marts", "kpi_values"])


@dg.asset_check(
    asset=KPI_VALUES,
    name="kpi_values_are_complete",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="Great Expectations suite expectations/kpi_values.py: every KPI × period present "
    "exactly once, ratios within 0–1, counts whole and non-negative, names and as-of filled.",
)
def kpi_values_are_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from expectations.kpi_values import build_suite
    from expectations.runner import run_suite

    progress_log.info("marts.kpi_values: Great Expectations completeness suite")

    con = warehouse.connect(read_only=True)
    try:
        frame = con.execute("select * from marts.kpi_values").to_arrow_table()
        n_periods = con.execute(
            "select count(*) from (select distinct period_type, period_start from marts.kpi_values)"
        ).fetchone()[0]
    finally:
        con.close()
    if n_periods == 0:
        # Nothing loaded yet: no period exists, so there is nothing to be incomplete.
        return dg.AssetCheckResult(
            passed=True,
            description="marts.kpi_values is empty: no data loaded yet, no period to cover",
            metadata={"rows": 0, "periods": 0},
        )
    outcome = run_suite(build_suite(n_periods), frame)
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR
        if not outcome.critical_success
        else dg.AssetCheckSeverity.WARN,
        description=outcome.summary(literal),
        metadata={"rows": outcome.rows, "periods": n_periods, "failed": len(outcome.failures)},
    )
