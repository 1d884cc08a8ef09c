"""`kzdw`: the warehouse from a terminal.

    kzdw demo [--scale N]      write the demo landing set
    kzdw run [--as-of DATE]    load pending files, build and check everything (the Dagster job)
    kzdw kpis [--year YYYY]    print the KPI table for a year
    kzdw replay [--into FILE]  rebuild a fresh warehouse from the archived files
    kzdw dev [--port 3000]     start the Dagster UI (dagster dev) on 127.0.0.1
    kzdw report [--out DIR]    write the leadership report (HTML, Excel, PDF) for the as-of date
    kzdw sql [-c SQL]          SQL shell, read only, on the analysts' serving copy
    kzdw docs [--port 8080]    build the dbt docs site (catalogue, lineage), serve on 127.0.0.1

`kzdw run` executes `warehouse_job` from `orchestration.definitions` in-process, on the Dagster
instance in `$DAGSTER_HOME` (default `data/dagster_home`): the run shows in `dagster dev`'s UI
like any other.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from datetime import date
from pathlib import Path

from orchestration.lib.settings import PROJECT_ROOT, apply_defaults, resolve

HEADLINE_KPIS = (
    "avg_trips_per_case",
    "online_case_rate",
    "online_licensing_item_rate",
    "high_frequency_items",
    "one_window_items",
    "one_window_departments",
    "one_window_cases",
    "cross_region_cases",
    "enterprise_registration_2h_rate",
    "items_approval_cancelled",
    "items_approval_to_filing",
    "items_notification_commitment",
    "items_approval_optimized",
    "entities_total",
    "entities_net_growth_rate",
    "entities_new",
    "returnee_entities_new",
    "industrial_projects_signed",
    "industrial_investment_signed",
    "industrial_projects_started",
    "projects_signed",
    "contract_investment_signed",
    "projects_started",
    "projects_in_production",
)


FAILURE_EVENTS = {"STEP_FAILURE", "RUN_FAILURE", "RESOURCE_INIT_FAILURE", "ENGINE_EVENT"}


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_dotenv(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of a `.env` file put into the environment where not already set:
    a variable set in the environment wins over `.env`, which wins over the defaults."""
    applied = {}
    if not path.is_file():
        return applied
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        value = value.strip("'\"")
        if key not in os.environ:
            os.environ[key] = applied[key] = value
    return applied


def _env(args: argparse.Namespace) -> None:
    if getattr(args, "landing", None):
        os.environ["KZDW_LANDING_DIR"] = str(Path(args.landing).resolve())
    if getattr(args, "warehouse", None):
        os.environ["KZDW_WAREHOUSE"] = str(Path(args.warehouse).resolve())
        # The serving copy goes beside a warehouse given on the command line.
        serving = Path(args.warehouse).resolve().parent / "serving" / Path(args.warehouse).name
        os.environ.setdefault("KZDW_SERVING", str(serving))
    if getattr(args, "as_of", None) is not None:
        os.environ["KZDW_AS_OF"] = args.as_of
    load_dotenv(PROJECT_ROOT / ".env")
    apply_defaults()
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "data" / "dagster_home"))


DAGSTER_YAML = """\
# Local instance (written by kzdw): runs, event logs and schedules in SQLite files beside this
# one. Delete this first line to keep your own edits from being replaced.
telemetry:
  enabled: false
concurrency:
  pools:
    # One slot per pool: the duckdb_warehouse pool admits one writer at a time.
    default_limit: 1
    # One queued run more may start its process and wait for the slot, so the next writer is
    # ready the moment the slot frees instead of starting up then.
    op_granularity_run_buffer: 1
run_queue:
  # Look at the queue every second, not every five: a run requested by a sensor or by
  # automation starts up to four seconds sooner.
  dequeue_interval_seconds: 1
"""


def ensure_dagster_home(home: Path) -> None:
    """The instance folder with kzdw's dagster.yaml, kept up to date unless edited by hand."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    managed = current is None or current.startswith("# Local instance")
    if managed and current != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")


def cmd_demo(args: argparse.Namespace) -> int:
    from sources.demo import write_demo

    landing = resolve(os.environ["KZDW_LANDING_DIR"])
    if landing.exists() and any(landing.rglob("*.*")) and not args.force:
        print(
            f"{landing} already holds files; pass --force to write the demo set over it",
            file=sys.stderr,
        )
        return 2
    _say(f"writing the demo landing set (scale {args.scale}) to {landing}")
    started = time.perf_counter()
    summary = write_demo(landing, scale=args.scale, seed=args.seed)
    _say(f"done in {time.perf_counter() - started:.1f} s: {summary}")
    return 0


def _pad(text: str, width: int) -> str:
    """Left-align text whose CJK characters take two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def print_kpis(warehouse: Path, year: int | None, codes: tuple[str, ...] | None = None) -> None:
    con = _connect_read_only(warehouse)
    try:
        if year is None:
            year = con.execute("select year(max(as_of)) from marts.kpi_values").fetchone()[0]
        rows = con.execute(
            "select kpi_code, kpi_name_zh, value, unit, target, as_of from marts.kpi_values "
            "where period_type = 'year' and year(period_start) = ? order by kpi_code",
            [year],
        ).fetchall()
    finally:
        con.close()
    if codes:
        order = {c: i for i, c in enumerate(codes)}
        rows = sorted((r for r in rows if r[0] in order), key=lambda r: order[r[0]])
    if not rows:
        print(f"no KPI values for {year}")
        return
    print(f"\n{year} 年度指标 (as of {rows[0][5]})")
    for code, name, value, unit, target, _ in rows:
        tgt = f"   目标 {_format_value(target, unit)}" if target is not None else ""
        print(f"  {_pad(name, 30)}{_format_value(value, unit):>12}   {code}{tgt}")


def _connect_read_only(warehouse: Path, wait_seconds: float = 60.0):
    """A read-only connection, waiting while a writer (a dbt process ending) still holds it."""
    import duckdb

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _summary(warehouse: Path, run_id: str) -> dict:
    con = _connect_read_only(warehouse)
    try:
        files = con.execute(
            "select status, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected) "
            "from audit.file_loads where run_id = ? group by status",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return {s: {"files": n, "read": r, "loaded": lo, "rejected": rj} for s, n, r, lo, rj in files}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_cli_runs(instance) -> list[str]:
    """Mark failed the runs of earlier `kzdw run` processes that died without finishing
    (killed, machine stopped) and give back their slot in the one-slot warehouse pool:
    otherwise every later run would wait for that slot for ever."""
    from dagster import DagsterRunStatus, RunsFilter

    released = []
    unfinished = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.NOT_STARTED]
    runs = instance.get_runs(
        filters=RunsFilter(statuses=unfinished, tags={"kzdw/launched_by": "cli"})
    )
    for run in runs:
        pid = int(run.tags.get("kzdw/pid", "0") or 0)
        if pid and _alive(pid):
            continue
        instance.report_run_failed(run, f"the kzdw process (pid {pid}) ended without finishing")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg
    from dagster import Failure

    as_of = os.environ.get("KZDW_AS_OF", "")
    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            print(
                f"KZDW_AS_OF (or --as-of) is {as_of!r}, not a date: give it as YYYY-MM-DD, or "
                "leave it empty for the latest updated_at among loaded rows",
                file=sys.stderr,
            )
            return 2

    handler = logging.StreamHandler(sys.__stdout__)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    progress = logging.getLogger("kzdw.progress")
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False

    ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    _say("loading the Dagster definitions (dbt manifest, assets, checks)")
    from orchestration.definitions import defs

    job = defs.resolve_job_def("warehouse_job")
    warehouse = resolve(os.environ["KZDW_WAREHOUSE"])
    _say(f"running warehouse_job: landing {resolve(os.environ['KZDW_LANDING_DIR'])} → {warehouse}")
    log_dir = Path(os.environ["DAGSTER_HOME"]) / "cli-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log"
    _say(f"dbt and Dagster output goes to {log_path}")
    started = time.perf_counter()
    # dagster-dbt echoes every dbt log line to stdout (for the UI's captured logs); here the
    # terminal shows progress lines only and the full output goes to the log file.
    with (
        log_path.open("w", encoding="utf-8") as log_file,
        contextlib.redirect_stdout(log_file),
        dg.DagsterInstance.get() as instance,
    ):
        for run_id in release_dead_cli_runs(instance):
            progress.info("run %s of a kzdw process that died: marked failed, slot freed", run_id)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"kzdw/launched_by": "cli", "kzdw/pid": str(os.getpid())},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    elapsed = time.perf_counter() - started

    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    reported = set()
    for event in result.all_events:
        err = getattr(event.event_specific_data, "error", None)
        if err is None or event.event_type_value not in FAILURE_EVENTS:
            continue
        while err.cause is not None:  # the user code's own error, not Dagster's wrapper
            err = err.cause
        # A dg.Failure raised on purpose carries a message for people: no class name before it.
        message = err.message.strip().removeprefix(f"{Failure.__module__}.Failure: ")[:2000]
        if message not in reported:
            reported.add(message)
            where = f"step {event.step_key}" if event.step_key else "run"
            print(f"{where} failed: {message}", file=sys.stderr)

    specs = {
        (spec.asset_key, spec.name): spec
        for assets_def in defs.resolve_asset_graph().assets_defs
        for spec in assets_def.check_specs
    }
    evaluations = result.get_asset_check_evaluations()
    passed = [e for e in evaluations if e.passed]
    failed = [e for e in evaluations if not e.passed]
    # A warn-severity check that did not pass reports something (an unknown item code), it
    # does not say the data is wrong: counted apart, so "failed" means what it says.
    warned = [e for e in failed if e.severity == dg.AssetCheckSeverity.WARN]
    blocking_failed = [
        e
        for e in failed
        if e.severity == dg.AssetCheckSeverity.ERROR
        and getattr(specs.get((e.asset_key, e.check_name)), "blocking", False)
    ]

    print(
        f"\nwarehouse_job {'succeeded' if result.success else 'FAILED'} in {elapsed:.1f} s "
        f"(run {result.run_id})"
    )
    serving = resolve(os.environ["KZDW_SERVING"])
    if warehouse.exists():
        counts = _summary(warehouse, result.run_id)
        files = ", ".join(f"{v['files']} {k}" for k, v in sorted(counts.items())) or "none"
        loaded = counts.get("loaded", {})
        print(f"files: {files}")
        print(
            f"rows: {int(loaded.get('read') or 0):,} read, {int(loaded.get('loaded') or 0):,} "
            f"loaded, {int(loaded.get('rejected') or 0):,} rejected "
            "(see audit.file_loads and audit.rejected_rows)"
        )
    print(
        f"checks: {len(passed)} passed, {len(warned)} warned, {len(failed) - len(warned)} failed"
        + (f" ({len(blocking_failed)} blocking)" if blocking_failed else "")
    )
    for e in failed:
        desc = (e.description or "").strip().replace("\n", " ")[:300] or (
            "see the check in the Dagster UI or the run log"
        )
        print(f"  - {e.asset_key.to_user_string()} {e.check_name} [{e.severity.value}]: {desc}")
    if result.success and serving.exists():
        print(f"serving copy for analysts: {serving} (duckdb -readonly {serving})")
    if result.success and warehouse.exists():
        as_of = os.environ.get("KZDW_AS_OF")
        print_kpis(warehouse, date.fromisoformat(as_of).year if as_of else None, HEADLINE_KPIS)
    if failed_steps or blocking_failed or not result.success:
        print(
            "\nthe run did not finish cleanly: see the messages above, or the run in the Dagster "
            "UI (`make dev`)",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild a fresh warehouse from the archive, through the same job, in load order."""
    archive = resolve(os.environ["KZDW_ARCHIVE_DIR"])
    target = Path(args.into).resolve()
    if target.exists() and not args.force:
        print(
            f"{target} exists; replay builds a fresh warehouse (pass --force to replace it)",
            file=sys.stderr,
        )
        return 2
    files = sorted(p for p in archive.glob("*/*") if p.is_file())
    if not files:
        print(f"nothing to replay: {archive} holds no archived files", file=sys.stderr)
        return 2
    target.unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kzdw-replay-"))
    # Archived names start with their load id: sorted by name is the order they were loaded
    # in, which the landing folder expresses as modification times.
    for i, path in enumerate(sorted(files, key=lambda p: p.name)):
        dest = work / "landing" / path.parent.name / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        os.utime(dest, (1_000_000_000 + i, 1_000_000_000 + i))
    os.environ.update(
        KZDW_LANDING_DIR=str(work / "landing"),
        KZDW_WAREHOUSE=str(target),
        KZDW_SERVING=str(target.parent / "serving" / target.name),
        KZDW_ARCHIVE_DIR=str(work / "archive"),
        KZDW_QUARANTINE_DIR=str(work / "quarantine"),
    )
    _say(f"replaying {len(files)} archived file(s) from {archive} into {target}")
    try:
        return cmd_run(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on this project's workspace, bound to 127.0.0.1, same settings as `run`."""
    home = Path(os.environ["DAGSTER_HOME"]).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    ensure_dagster_home(home)
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [
        str(dagster),
        "dev",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(args.port),
    ]
    _say(f"Dagster UI on http://127.0.0.1:{args.port} (instance {os.environ['DAGSTER_HOME']})")
    # `dagster dev` loads a `.env` from its working directory over the environment; `.env`
    # was read above with the environment taking precedence, so start it where there is none
    # (the project is installed in the environment: the code location imports from anywhere).
    os.chdir(home)
    os.execv(cmd[0], cmd)
    return 0


def cmd_kpis(args: argparse.Namespace) -> int:
    warehouse = resolve(os.environ["KZDW_WAREHOUSE"])
    if not warehouse.exists():
        print(f"no warehouse at {warehouse}: run `kzdw run` first", file=sys.stderr)
        return 2
    print_kpis(warehouse, args.year, None if args.all else HEADLINE_KPIS)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The leadership report from the serving copy (never the live warehouse)."""
    from orchestration.report import ChromiumNotFound, ReportDataError, build_report

    serving = resolve(os.environ["KZDW_SERVING"])
    try:
        files = build_report(serving, Path(args.out).resolve() if args.out else None)
    except ReportDataError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ChromiumNotFound as exc:
        print(f"report.html and report.xlsx are written, the PDF is not: {exc}", file=sys.stderr)
        return 1
    for path in files.paths:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kzdw", description=__doc__.split("\n")[0])
    parser.add_argument("--landing", help="landing folder (default $KZDW_LANDING_DIR)")
    parser.add_argument("--warehouse", help="DuckDB file (default $KZDW_WAREHOUSE)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the deterministic demo landing set")
    demo.add_argument("--scale", type=float, default=1.0, help="multiply the case volume")
    demo.add_argument("--seed", type=int, default=2022)
    demo.add_argument("--force", action="store_true", help="write into a non-empty folder")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="load pending files, build and check everything")
    run.add_argument("--as-of", dest="as_of", help="as-of date YYYY-MM-DD (default $KZDW_AS_OF)")
    run.set_defaults(func=cmd_run)

    kpis = sub.add_parser("kpis", help="print a year's KPIs from marts.kpi_values")
    kpis.add_argument("--year", type=int, help="year (default: the as-of year)")
    kpis.add_argument("--all", action="store_true", help="every KPI, not only the headline ones")
    kpis.set_defaults(func=cmd_kpis)

    replay = sub.add_parser("replay", help="rebuild a fresh warehouse from the archive")
    replay.add_argument(
        "--into",
        default=str(PROJECT_ROOT / "data" / "replay" / "warehouse.duckdb"),
        help="the new warehouse file (default data/replay/warehouse.duckdb)",
    )
    replay.add_argument("--force", action="store_true", help="replace an existing file")
    replay.set_defaults(func=cmd_replay)

    dev = sub.add_parser("dev", help="start the Dagster UI and daemon on 127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)

    report = sub.add_parser("report", help="write the leadership report for the as-of date")
    report.add_argument(
        "--out", help="folder for report.html/.xlsx/.pdf (default data/reports/<as-of>/)"
    )
    report.set_defaults(func=cmd_report)

    from orchestration import analysts

    sql = sub.add_parser("sql", help="a SQL shell, read only, on the serving copy")
    sql.add_argument("-c", dest="sql", metavar="SQL", help="run these statements and exit")
    sql.add_argument("--csv", action="store_true", help="print results as CSV, every row")
    sql.add_argument(
        "--max-rows", type=int, default=analysts.DEFAULT_MAX_ROWS, help="rows shown per result"
    )
    sql.set_defaults(func=analysts.cmd_sql)

    docs = sub.add_parser("docs", help="build the dbt docs site and serve it on 127.0.0.1")
    docs.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    docs.add_argument("--out", help="site folder (default dbt_project/target/docs)")
    docs.set_defaults(func=analysts.cmd_docs)

    args = parser.parse_args(argv)
    _env(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
