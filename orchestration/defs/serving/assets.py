"""serving.warehouse: the read-only copy of the warehouse that analysts and reports query."""

import os
import shutil
import time

import dagster as dg

from kzdw.files import partial_path, remove_stale_partials
from orchestration.lib.automation import after_upstream_updates
from orchestration.lib.progress import progress_log
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource


@dg.asset(
    key=["serving", "warehouse"],
    group_name="serving",
    kinds={"duckdb"},
    deps=[dg.AssetKey(["marts", "kpi_values"])],
    pool=WAREHOUSE_POOL,
    automation_condition=after_upstream_updates(),
    description="The DuckDB file analysts read (KZDW_SERVING, by default serving/<warehouse "
    "file name> beside the warehouse): a copy of the whole warehouse taken after a build whose "
    "blocking checks passed, written beside the old copy and renamed over it in one step. An "
    "analyst's open connection keeps reading the copy it opened; a new connection sees the new "
    "one; a failed build never reaches this asset, so the previous copy stays.",
)
def warehouse(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    source, target = settings.warehouse, settings.serving
    remove_stale_partials(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = warehouse.connect()
    try:
        # Everything in the write-ahead log goes into the file, so the file alone is complete.
        con.execute("checkpoint")
        kpi_rows = con.execute("select count(*) from marts.kpi_values").fetchone()[0]
        as_of = con.execute("select max(as_of) from marts.kpi_values").fetchone()[0]
        # Copied while this connection is open: no other process can write meanwhile.
        partial = partial_path(target)
        shutil.copyfile(source, partial)
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
            "seconds": round(seconds, 2),
        }
    )
