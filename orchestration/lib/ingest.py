"""Asset factory for the raw layer: one asset per source, loading its pending landing files."""

import threading
from importlib import import_module

import dagster as dg

from expectations.runner import warm_up
from kzdw.settings import SettingsError
from orchestration.lib.dbt import start_parse_ahead
from orchestration.lib.progress import progress_log
from orchestration.lib.text import literal
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource, tag_engine
from sources.contracts import Source
from sources.landing import FileVersion, LandingFile, display_name
from sources.loader import DiskFull, FileLoad, Ingested, ingest
from sources.warehouse import PiiKeyMismatch


class LandingFileVersion(dg.Config):
    """One version of one landing file, as the landing sensor saw it settle: the name's
    bytes as hex (`key`; names may hold any bytes), its size and modification time."""

    key: str
    name: str
    size: int
    mtime_ns: int


class LoadConfig(dg.Config):
    """Which files a load takes. Empty (a run from the UI, a job, `kzdw run`): every file of
    the landing folder that has settled. From the landing sensor: exactly the file versions
    it saw settle, so a file still being written when the run starts is never loaded half."""

    files: list[LandingFileVersion] | None = None


def _has_entries(folder) -> bool:
    try:
        return any(True for _ in folder.iterdir())
    except OSError:
        return False


def file_versions(files: list[LandingFile]) -> list[dict]:
    """The run configuration that makes a load take exactly these file versions."""
    return [vars(FileVersion.of(f)) for f in files]


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


def shape_check_name(source: Source) -> str:
    return f"{source.name}_batch_shape"


def _suite_results(
    source: Source, warehouse: WarehouseResource, loaded_ids: list[int]
) -> list[dg.AssetCheckResult]:
    """One run of the source's suite, reported as two checks: the contract expectations
    (critical: blocking, an error stops the build and automation) and the shape expectations
    (volumes, distributions: a warning that lets the data travel on)."""
    if not loaded_ids:
        return [
            dg.AssetCheckResult(
                check_name=name,
                passed=True,
                description="no rows loaded in this run: nothing to validate",
                metadata={"rows_in_batch": 0},
            )
            for name in (suite_check_name(source), shape_check_name(source))
        ]
    from expectations.runner import run_suite

    progress_log.info("%s: Great Expectations suite on the loaded batch", source.name)
    frame, n = _batch_frame(warehouse, source, loaded_ids)
    suite = import_module(f"expectations.{source.name}").build_suite()
    outcome = run_suite(suite, frame)
    metadata = {"rows_in_batch": n, "rows_validated": outcome.rows}
    results = []
    for name, critical, severity in (
        (suite_check_name(source), True, dg.AssetCheckSeverity.ERROR),
        (shape_check_name(source), False, dg.AssetCheckSeverity.WARN),
    ):
        failures = [f for f in outcome.failures if f["critical"] == critical]
        kind = "contract" if critical else "shape"
        description = (
            f"{outcome.suite}: every {kind} expectation met on {outcome.rows:,} rows"
            if not failures
            else "\n".join(
                [f"{outcome.suite}: {len(failures)} {kind} expectation(s) failed"]
                + [f"- {f['expectation']}: {literal(f['detail'])}" for f in failures]
            )
        )
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not failures,
                severity=severity,
                description=description,
                metadata={**metadata, "failed": len(failures)},
            )
        )
    return results


def _reconcile_result(source: Source, ingested: Ingested) -> dg.AssetCheckResult:
    problems = [f"{literal(name)}: {what}" for name, what in ingested.problems]
    return dg.AssetCheckResult(
        check_name=reconcile_check_name(source),
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems)
        if problems
        else f"{len(ingested.results)} file(s) reconcile",
        metadata={"files": len(ingested.results), "problems": len(problems)},
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
                "rows loaded in this run, its contract (critical) expectations: a failure is "
                "an error and blocks everything downstream.",
            ),
            dg.AssetCheckSpec(
                shape_check_name(source),
                asset=key,
                blocking=False,
                description=f"Great Expectations suite expectations/{source.name}.py on the "
                "rows loaded in this run, its shape expectations (volumes, distributions, "
                "completeness): a failure is a warning to look at, not a stop.",
            ),
        ],
    )
    def _raw_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: LoadConfig
    ) -> dg.MaterializeResult:
        settings = warehouse.settings
        tag_engine(context, settings.engine)

        def say(line: str, warn: bool = False) -> None:
            (context.log.warning if warn else context.log.info)(line)
            progress_log.info(line)

        def report(r: FileLoad) -> None:
            say(
                f"{source.name}/{r.file_name}: {r.status}, read {r.rows_read:,}, loaded "
                f"{r.rows_loaded:,}, rejected {r.rows_rejected:,} ({r.seconds:.1f} s)"
                + (f"; {r.reason}" if r.reason else ""),
                warn=r.status == "set_aside",
            )

        versions = (
            None if config.files is None else [FileVersion(**v.model_dump()) for v in config.files]
        )
        if config.files or (
            config.files is None and _has_entries(settings.landing_dir / source.name)
        ):
            # The batch's suite needs Great Expectations (≈3 s of imports): while files load.
            threading.Thread(target=warm_up, name="gx-warm-up", daemon=True).start()
            # A new deployment's first build would parse the whole dbt project: while files load.
            start_parse_ahead(settings)
        try:
            ingested = ingest(
                warehouse.connect,
                source,
                landing_dir=settings.landing_dir,
                archive_dir=settings.archive_dir,
                quarantine_dir=settings.quarantine_dir,
                pii_key=settings.pii_key(),
                run_id=context.run_id,
                versions=versions,
                say=say,
                progress=report,
                lake=settings.lake if settings.engine == "spark" else None,
            )
        except (SettingsError, PiiKeyMismatch, DiskFull) as exc:
            raise dg.Failure(str(exc)) from exc
        results = ingested.results
        loaded_ids = [r.load_id for r in results if r.status == "loaded" and r.rows_loaded]
        suite_results = _suite_results(source, warehouse, loaded_ids)
        statuses = ("loaded", "duplicate", "set_aside")
        counts = {s: sum(r.status == s for r in results) for s in statuses}
        return dg.MaterializeResult(
            metadata={
                "files_loaded": counts["loaded"],
                "files_duplicate": counts["duplicate"],
                "files_set_aside": counts["set_aside"],
                "files_skipped": len(ingested.skipped),
                "rows_read": sum(r.rows_read for r in results),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_rejected": sum(r.rows_rejected for r in results),
                "load_ids": dg.MetadataValue.json([r.load_id for r in results]),
                "files": dg.MetadataValue.json([r.file_name for r in results]),
                "files_moved": dg.MetadataValue.json(
                    [display_name(str(t)) for _, t in ingested.settled]
                ),
            },
            check_results=[_reconcile_result(source, ingested), *suite_results],
        )

    _raw_asset.__name__ = source.name
    return _raw_asset
