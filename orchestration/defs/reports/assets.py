"""reports.leadership: the leadership report written after each build."""

import time

import dagster as dg

from kzdw.report import ChromiumNotFound, NothingToReport, build_report, summary
from kzdw.report.data import TABLES_READ
from orchestration.lib.automation import after_upstream_updates
from orchestration.lib.progress import progress_log
from orchestration.lib.warehouse import WarehouseResource

SERVING = dg.AssetKey(["serving", "warehouse"])
# What the report reads, through the serving copy: each a dependency, so that a failed blocking
# check on any of them keeps the report from printing; only a new serving copy starts it.
READS = [SERVING, *(dg.AssetKey(list(table)) for table in TABLES_READ)]


# No pool: the report opens only the serving copy, read-only, which no writer ever holds
# (a new copy is renamed over it), so it need not queue for the warehouse's writer slot.
@dg.asset(
    key=["reports", "leadership"],
    group_name="reports",
    kinds={"html", "excel", "pdf"},
    deps=READS,
    automation_condition=after_upstream_updates(triggered_by=dg.AssetSelection.assets(SERVING)),
    description="The leadership report (领导报告) for the as-of date: report.html (one "
    "self-contained page in Chinese: the last full year's headline figures, progress against "
    "this year's targets, monthly trend of trips per case and the online rate, the project "
    "funnel, breakdowns, 修订说明), report.xlsx (one sheet per domain, 目标进度, 分项统计, "
    "修订说明) and report.pdf (the page printed by headless Chromium), in <reports>/<as-of>/ "
    "(KZDW_REPORTS_DIR, by default reports/ beside the warehouse). Reads only the serving "
    "copy: " + ", ".join(".".join(t) for t in TABLES_READ) + ". Before any file is loaded "
    "(no KPI values) it writes nothing and says so in its metadata.",
)
def leadership(warehouse: WarehouseResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    try:
        settings = warehouse.settings
        files = build_report(settings.serving, reports_dir=settings.reports_dir)
    except NothingToReport as exc:
        # A new deployment before its first files: the run has done its work, and there is no
        # report to write yet. Recorded as this asset's materialisation all the same, so that
        # automation does not ask for a report of the empty copy again until it changes.
        progress_log.info("no report written: %s", exc)
        return dg.MaterializeResult(metadata={"written": False, "reason": str(exc)})
    except ChromiumNotFound as exc:
        raise dg.Failure(str(exc)) from exc
    seconds = time.perf_counter() - started
    progress_log.info("wrote the leadership report to %s (%.1f s)", files.html.parent, seconds)
    return dg.MaterializeResult(
        metadata={
            "written": True,
            "html": dg.MetadataValue.path(str(files.html)),
            "xlsx": dg.MetadataValue.path(str(files.xlsx)),
            "pdf": dg.MetadataValue.path(str(files.pdf)),
            **summary(files),
            "seconds": round(seconds, 2),
        }
    )
