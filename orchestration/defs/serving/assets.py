"""serving.warehouse: the read-only copy of the warehouse that analysts and reports query."""

import os
import time

import dagster as dg

from kzdw.files import partial_path, remove_stale_partials
from orchestration.defs.dbt import assets as dbt_models
from orchestration.lib.automation import after_upstream_updates
from orchestration.lib.progress import progress_log
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.warehouse import SERVING_STORAGE_VERSION, NotCopyable, publish_copy

# The copy holds every table and view dbt builds: it depends on all of them, so a failed
# blocking check on any of them (a dbt test, the KPI suite) stops the publish.
SERVING_DEPS = sorted(dbt_models.kzdw_dbt_models.keys, key=lambda k: k.path)


@dg.asset(
    key=["serving", "warehouse"],
    group_name="serving",
    kinds={"duckdb"},
    deps=SERVING_DEPS,
    pool=WAREHOUSE_POOL,
    automation_condition=after_upstream_updates(),
    description="The DuckDB file analysts read (KZDW_SERVING, by default serving/<warehouse "
    "file name> beside the warehouse): a compact copy of the whole warehouse in DuckDB's v1.5 "
    "storage format (so DuckDB 1.x clients, the DuckDB CLI and BI drivers read it), taken "
    "after a build whose blocking checks passed, written beside the old copy and renamed over "
    "it in one step. An analyst's open connection keeps reading the copy it opened; a new "
    "connection sees the new one; a failed build never reaches this asset, so the previous "
    "copy stays.",
)
def warehouse(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    target = settings.serving
    remove_stale_partials(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = partial_path(target)
    con = warehouse.connect()
    try:
        kpi_rows = con.execute("select count(*) from marts.kpi_values").fetchone()[0]
        as_of = con.execute("select max(as_of) from marts.kpi_values").fetchone()[0]
        # Copied while this connection is open: no other process can write meanwhile.
        publish_copy(con, partial)
    except NotCopyable as exc:
        partial.unlink(missing_ok=True)
        raise dg.Failure(str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(partial, target)
    seconds = time.perf_counter() - started
    progress_log.info("published the serving copy %s (%.1f s)", target, seconds)
    return dg.MaterializeResult(
        metadata={
            "path": str(target),
            "bytes": target.stat().st_size,
            "kpi_rows": kpi_rows,
            "as_of": str(as_of),
            "storage_version": SERVING_STORAGE_VERSION,
            "seconds": round(seconds, 2),
        }
    )
