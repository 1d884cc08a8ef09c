"""Asset factory for the raw layer: one asset per source, loading its pending landing files."""

from importlib import import_module

import dagster as dg

from orchestration.lib.progress import progress_log
from orchestration.lib.settings import WAREHOUSE_POOL, WarehouseResource
from sources.contracts import Source
from sources.loader import FileLoad, load_pending, pending_files, settle_files
from sources.warehouse import ensure_schema

# Above this, a suite runs on a reservoir sample of the batch: its shape expectations need no
# more, and the contract's rules were already enforced on every row by the loader.
GX_SAMPLE_ROWS = 200_000


def reconcile_check_name(source: Source) -> str:
    return f"{source.name}_files_reconcile"


def suite_check_name(source: Source) -> str:
    return f"{source.name}_batch_meets_suite"


def _batch_frame(warehouse: WarehouseResource, source: Source, load_ids: list[int]):
    ids = ", ".join(str(int(i)) for i in load_ids)
    con = warehouse.connect(read_only=True)
    try:
        n = con.execute(
            f"select count(*) from {source.raw_table} where _load_id in ({ids})"
        ).fetchone()[0]
        sample = (
            f" using sample {GX_SAMPLE_ROWS} rows (reservoir, 42)" if n > GX_SAMPLE_ROWS else ""
        )
        frame = con.execute(
            f"select * from {source.raw_table} where _load_id in ({ids}){sample}"
        ).to_arrow_table()
        return frame, n
    finally:
        con.close()


def _suite_result(source: Source, warehouse: WarehouseResource, loaded_ids: list[int]):
    if not loaded_ids:
        return dg.AssetCheckResult(
            check_name=suite_check_name(source),
            passed=True,
            description="no rows loaded in this run: nothing to validate",
            metadata={"rows_in_batch": 0},
        )
    from expectations.runner import run_suite

    progress_log.info("%s: Great Expectations suite on the loaded batch", source.name)
    frame, n = _batch_frame(warehouse, source, loaded_ids)
    suite = import_module(f"expectations.{source.name}").build_suite()
    outcome = run_suite(suite, frame)
    return dg.AssetCheckResult(
        check_name=suite_check_name(source),
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.WARN
        if outcome.critical_success
        else dg.AssetCheckSeverity.ERROR,
        description=outcome.summary(),
        metadata={
            "rows_in_batch": n,
            "rows_validated": outcome.rows,
            "expectations": outcome.evaluated,
            "failed": len(outcome.failures),
        },
    )


def _reconcile(con, source: Source, results: list[FileLoad]) -> dg.AssetCheckResult:
    problems = []
    for r in results:
        if r.rows_read != r.rows_loaded + r.rows_rejected:
            problems.append(
                f"{r.file_name}: read {r.rows_read} != {r.rows_loaded} + {r.rows_rejected}"
            )
            continue
        raw_n = con.execute(
            f"select count(*) from {source.raw_table} where _load_id = ?", [r.load_id]
        ).fetchone()[0]
        rej_n = con.execute(
            "select count(*) from audit.rejected_rows where load_id = ?", [r.load_id]
        ).fetchone()[0]
        if (raw_n, rej_n) != (r.rows_loaded, r.rows_rejected):
            problems.append(
                f"{r.file_name}: audit says {r.rows_loaded} loaded / {r.rows_rejected} rejected, "
                f"tables hold {raw_n} / {rej_n}"
            )
    return dg.AssetCheckResult(
        check_name=reconcile_check_name(source),
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) if problems else f"{len(results)} file(s) reconcile",
        metadata={"files": len(results), "problems": len(problems)},
    )


def build_raw_asset(source: Source) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", source.name])

    @dg.asset(
        key=key,
        group_name=source.name,
        kinds={"polars", "duckdb"},
        pool=WAREHOUSE_POOL,
        description=(
            f"raw.{source.name}: {source.title_zh} ({source.system_zh}). {source.description} "
            "Grain: every version of every accepted row of every landing file, with its file, "
            "row number and load time. Rejected rows go to audit.rejected_rows, each file to "
            f"audit.file_loads. Source: files in the landing folder's {source.name}/."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                reconcile_check_name(source),
                asset=key,
                blocking=True,
                description="For every file of this run: rows read = rows loaded + rows "
                "rejected, and the raw and audit tables hold exactly those rows.",
            ),
            dg.AssetCheckSpec(
                suite_check_name(source),
                asset=key,
                blocking=True,
                description=f"Great Expectations suite expectations/{source.name}.py on the "
                "rows loaded in this run: contract expectations are critical (error, blocks "
                "the build), shape expectations warn.",
            ),
        ],
    )
    def _raw_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        def report(r: FileLoad) -> None:
            line = (
                f"{source.name}/{r.file_name}: {r.status}, read {r.rows_read:,}, loaded "
                f"{r.rows_loaded:,}, rejected {r.rows_rejected:,} ({r.seconds:.1f} s)"
                + (f"; {r.reason}" if r.reason else "")
            )
            (context.log.warning if r.status == "set_aside" else context.log.info)(line)
            progress_log.info(line)

        con = warehouse.connect()
        try:
            ensure_schema(con)
            pending = pending_files(con, warehouse.landing_path, source)
            progress_log.info(
                "%s: %d new file(s) in %s",
                source.name,
                len(pending),
                warehouse.landing_path / source.name,
            )
            results = load_pending(
                con,
                warehouse.landing_path,
                source,
                pii_key=warehouse.pii_key,
                run_id=context.run_id,
                files=pending,
                progress=report,
            )
            reconcile = _reconcile(con, source, results)
            settled = settle_files(
                con,
                warehouse.landing_path,
                warehouse.archive_path,
                warehouse.quarantine_path,
                source,
            )
        finally:
            con.close()
        loaded_ids = [r.load_id for r in results if r.status == "loaded" and r.rows_loaded]
        suite_result = _suite_result(source, warehouse, loaded_ids)
        statuses = ("loaded", "duplicate", "set_aside")
        counts = {s: sum(r.status == s for r in results) for s in statuses}
        return dg.MaterializeResult(
            metadata={
                "files_loaded": counts["loaded"],
                "files_duplicate": counts["duplicate"],
                "files_set_aside": counts["set_aside"],
                "rows_read": sum(r.rows_read for r in results),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_rejected": sum(r.rows_rejected for r in results),
                "load_ids": dg.MetadataValue.json([r.load_id for r in results]),
                "files_moved": dg.MetadataValue.json([str(t) for _, t in settled]),
            },
            check_results=[reconcile, suite_result],
        )

    _raw_asset.__name__ = source.name
    return _raw_asset
