"""serving.warehouse: the read-only copy of the warehouse that analysts and reports query."""

import json
import os
import time

import dagster as dg
import duckdb

from kzdw.files import partial_path, remove_stale_partials
from orchestration.defs.dbt import assets as dbt_models
from orchestration.lib.automation import after_upstream_updates
from orchestration.lib.dbt import manifest_path
from orchestration.lib.progress import progress_log
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.compaction import COMPACT_FREE_SHARE, blocks, compact
from sources.serving import BUILT_AT, MAX_FREE_SHARE, NotRefreshable, refresh_copy
from sources.warehouse import SERVING_STORAGE_VERSION, NotCopyable, publish_copy

# The copy holds every table and view dbt builds: it depends on all of them, so a failed
# blocking check on any of them (a dbt test, the KPI suite) stops the publish.
SERVING_DEPS = sorted(dbt_models.kzdw_dbt_models.keys, key=lambda k: k.path)


# Runs that publish a whole, compact copy: `kzdw run` and the daily rebuild. A landing run (or
# an automation run) brings the previous copy up to date instead (sources.serving).
WHOLE_COPY_JOBS = frozenset({"warehouse_job", "marts_job"})


def _incremental_models() -> dict[tuple[str, str], str]:
    """{(schema, table): unique key} of the incremental models that stamp rows with
    `_built_at`, from the prepared manifest (read when a copy is published, not at import)."""
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    found = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        key = config.get("unique_key")
        if config.get("materialized") == "incremental" and isinstance(key, str):
            if BUILT_AT in node.get("columns", {}):
                found[(node["schema"], node.get("alias") or node["name"])] = key
    return found


def _compact_when_creeping(warehouse: WarehouseResource) -> tuple | None:
    """The daily rebuild and `kzdw run` also give the live file's free blocks back, once the
    copy is published (a failure here leaves the warehouse as it was and the copy in place)."""
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        before = blocks(con)
        if before.free_share <= COMPACT_FREE_SHARE:
            return None
        remove_stale_partials(settings.warehouse)
        compact(con, settings.warehouse, partial_path(settings.warehouse))
    except (OSError, RuntimeError, duckdb.Error) as exc:
        progress_log.warning("the warehouse was not compacted: %s", exc)
        return None
    finally:
        con.close()
    after = settings.warehouse.stat().st_size
    progress_log.info(
        "compacted the warehouse %s: %.0f MiB with %.0f%% free, now %.0f MiB",
        settings.warehouse,
        before.total * before.block_size / 2**20,
        100 * before.free_share,
        after / 2**20,
    )
    return before, after


@dg.asset(
    key=["serving", "warehouse"],
    group_name="serving",
    kinds={"duckdb"},
    deps=SERVING_DEPS,
    pool=WAREHOUSE_POOL,
    automation_condition=after_upstream_updates(),
    description="The DuckDB file analysts read (KZDW_SERVING, by default serving/<warehouse "
    "file name> beside the warehouse): a copy of the whole warehouse in DuckDB's v1.5 "
    "storage format (so DuckDB 1.x clients, the DuckDB CLI and BI drivers read it), taken "
    "after a build whose blocking checks passed, written beside the old copy and renamed over "
    "it in one step. `kzdw run` and the daily rebuild write it whole (compact: no free "
    "blocks), and compact the live warehouse file when more than "
    f"{COMPACT_FREE_SHARE:.0%} of it is free; a landing run brings the previous copy up to "
    "date, rewriting only the rows and tables that changed (and leaves it alone when it "
    "already holds everything), and falls back to a whole copy "
    f"when that would leave more than {MAX_FREE_SHARE:.0%} of it free. An analyst's open "
    "connection keeps reading the copy it opened; a new connection sees the new one; a failed "
    "build never reaches this asset, so the previous copy stays.",
)
def warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    target = settings.serving
    remove_stale_partials(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = partial_path(target)
    refresh = target.is_file() and context.job_name not in WHOLE_COPY_JOBS
    how, refreshed, compacted = "whole", None, None
    con = warehouse.connect()
    try:
        kpi_rows = con.execute("select count(*) from marts.kpi_values").fetchone()[0]
        as_of = con.execute("select max(as_of) from marts.kpi_values").fetchone()[0]
        # Copied while this connection is open: no other process can write meanwhile.
        if refresh:
            try:
                refreshed = refresh_copy(con, target, partial, _incremental_models())
                how = "unchanged" if refreshed.unchanged else "refreshed"
            except NotRefreshable as exc:
                progress_log.info("serving copy: a whole copy instead (%s)", exc)
                partial.unlink(missing_ok=True)
        if refreshed is None:
            publish_copy(con, partial)
    except NotCopyable as exc:
        partial.unlink(missing_ok=True)
        raise dg.Failure(str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    if how != "unchanged":
        os.replace(partial, target)
    if not refresh:
        compacted = _compact_when_creeping(warehouse)
    seconds = time.perf_counter() - started
    progress_log.info("published the serving copy %s (%s, %.1f s)", target, how, seconds)
    metadata = {
        "path": str(target),
        "bytes": target.stat().st_size,
        "kpi_rows": kpi_rows,
        "as_of": str(as_of),
        "storage_version": SERVING_STORAGE_VERSION,
        "published": how,
        "seconds": round(seconds, 2),
    }
    metadata["warehouse_bytes"] = settings.warehouse.stat().st_size
    if compacted:
        metadata["warehouse_compacted_from_bytes"] = compacted[0].total * compacted[0].block_size
    if refreshed is not None and not refreshed.unchanged:
        metadata.update(
            rows_written=refreshed.rows_written,
            tables_kept=len(refreshed.kept),
            tables_rewritten=len(refreshed.rewritten),
            free_blocks=refreshed.free_blocks,
        )
    return dg.MaterializeResult(metadata=metadata)
