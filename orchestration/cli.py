"""`kzdw`: the warehouse from a terminal.

    kzdw demo [--scale N]      write the demo landing set
    kzdw run [--as-of DATE]    load pending files, build and check everything (the Dagster job)
    kzdw kpis [--year YYYY]    print the KPI table for a year
    kzdw replay [--into FILE]  rebuild a fresh warehouse from the archived files
    kzdw dev [--port 3000]     start the Dagster UI (dagster dev) on 127.0.0.1
    kzdw report [--out DIR]    write the leadership report (HTML, Excel, PDF) for the as-of date
    kzdw rejects [--source S]  write the 退回清单 workbooks to send back to the source systems
    kzdw sql [-c SQL]          SQL shell, read only, on the analysts' serving copy
    kzdw docs [--port 8080]    build the dbt docs site (catalogue, lineage), serve on 127.0.0.1
    kzdw settings              print the deployment's settings, derived locations included
    kzdw prepare               prepare the dbt manifest the code location loads (make setup)

Settings come from the `KZDW_*` environment variables, then from a `.env` file in the working
directory for those the environment does not set (`kzdw.settings`). `kzdw run` executes
`warehouse_job` from `orchestration.definitions` in-process, on the Dagster instance in
`$DAGSTER_HOME`: the run shows in `kzdw dev`'s UI like any other.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import socket
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from kzdw.files import pid_alive
from kzdw.settings import CODE_ROOT, Settings, SettingsError
from kzdw.terminal import inert
from sources.warehouse import (
    PiiKeyMismatch,
    WarehouseBusy,
    WarehouseUnreadable,
    key_fingerprint,
    open_warehouse,
    verify_pii_key,
)

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
MAX_DEMO_SCALE = 1000.0


class Refused(Exception):
    """An argument or setting that cannot work: said in one line, exit status 2."""


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of a `.env` file (comments, blank lines and quotes as usual)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        values[key] = value.strip("'\"")
    return values


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """The deployment's settings: the environment, then `./.env` for what it leaves unset,
    then the command line's --landing, --warehouse and --as-of over both."""
    env = dict(os.environ if environ is None else environ)
    env = {**read_dotenv(Path.cwd() / ".env"), **{k: v for k, v in env.items() if v != ""}}
    return Settings.from_env(
        env,
        KZDW_LANDING_DIR=getattr(args, "landing", None),
        KZDW_WAREHOUSE=getattr(args, "warehouse", None),
        KZDW_AS_OF=getattr(args, "as_of", None),
    )


# Arguments, each checked before anything is done.
def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= MAX_DEMO_SCALE:
        raise argparse.ArgumentTypeError(
            f"{text} is out of range: give a number above 0 and at most {MAX_DEMO_SCALE:g} "
            "(1 = the district's own volume)"
        )
    return value


def _natural(what: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: {what} must be from {low} to {high}"
            )
        return value

    parse.__name__ = what
    return parse


def _iso_date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give it as YYYY-MM-DD") from None
    return text


def writable_folder(path: Path, what: str) -> Path:
    """Make the folder (and its parents) and prove a file can be written there, or Refused."""
    path = path.expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".kzdw-probe-"):
            pass
    except OSError as exc:
        raise Refused(
            f"{what} {inert(str(path))} cannot be written ({exc.strerror or exc}): give a "
            "folder you can write to"
        ) from None
    return path


def free_port(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:port, or Refused when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise Refused(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror}): give another with --port"
        ) from None
    return sock


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


@contextlib.contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One `kzdw run` (or replay) at a time per warehouse: a second one waits for the first
    to finish, saying so, instead of interleaving with it."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    path = settings.warehouse.with_name(f".{settings.warehouse.name}.run.lock")
    with open(path, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            _say(
                f"另一个 kzdw run（pid {holder}）正在处理此仓库，等待其结束。 / another kzdw run "
                f"(pid {holder}) is working on {settings.warehouse}: waiting for it to finish"
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def ensure_manifest() -> None:
    """The dbt manifest that the code location loads, prepared again when the dbt project
    changed since (a developer's edit); an installed, unchanged project is never written."""
    from orchestration.dbt.resources import MANIFEST, manifest_is_stale, prepare_manifest

    if not manifest_is_stale():
        return
    _say(f"the dbt project changed since {MANIFEST} was made: dbt parse")
    result = prepare_manifest()
    if result.returncode != 0:
        raise Refused(
            f"dbt parse failed ({result.returncode}): {inert(result.stdout[-1500:])}"
            f"{inert(result.stderr[-1500:])}"
        )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from sources.demo import write_demo

    landing = settings.landing_dir
    if landing.exists() and any(p.is_file() for p in landing.rglob("*")) and not args.force:
        raise Refused(f"{landing} already holds files; pass --force to write the demo set over it")
    writable_folder(landing, "the landing folder")
    _say(f"writing the demo landing set (scale {args.scale:g}) to {landing}")
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


def _connect_read_only(path: Path, wait_seconds: float = 60.0):
    """A read-only connection, waiting while a writer (a dbt process ending) still holds it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return open_warehouse(path, read_only=True)
        except WarehouseBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def kpi_years(con) -> list[int]:
    return [
        r[0]
        for r in con.execute(
            "select distinct year(period_start) from marts.kpi_values "
            "where period_type = 'year' order by 1"
        ).fetchall()
    ]


def print_kpis(database: Path, year: int | None, codes: tuple[str, ...] | None = None) -> int:
    con = _connect_read_only(database)
    try:
        if year is None:
            year = con.execute("select year(max(as_of)) from marts.kpi_values").fetchone()[0]
        rows = con.execute(
            "select kpi_code, kpi_name_zh, value, unit, target, as_of from marts.kpi_values "
            "where period_type = 'year' and year(period_start) = ? order by kpi_code",
            [year],
        ).fetchall()
        years = kpi_years(con)
    finally:
        con.close()
    if codes:
        order = {c: i for i, c in enumerate(codes)}
        rows = sorted((r for r in rows if r[0] in order), key=lambda r: order[r[0]])
    if not rows:
        held = f"{years[0]}–{years[-1]}" if years else "none yet (run `kzdw run`)"
        print(f"no KPI values for {year}: the warehouse holds years {held}", file=sys.stderr)
        return 1
    print(f"\n{year} 年度指标 (as of {rows[0][5]})")
    for code, name, value, unit, target, _ in rows:
        tgt = f"   目标 {_format_value(target, unit)}" if target is not None else ""
        print(f"  {_pad(inert(name), 30)}{_format_value(value, unit):>12}   {code}{tgt}")
    return 0


def _summary(database: Path, run_id: str) -> dict | None:
    try:
        con = _connect_read_only(database, wait_seconds=30)
    except WarehouseUnreadable as exc:
        print(f"(no file summary: {exc})", file=sys.stderr)
        return None
    try:
        files = con.execute(
            "select status, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected) "
            "from audit.file_loads where run_id = ? group by status",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return {s: {"files": n, "read": r, "loaded": lo, "rejected": rj} for s, n, r, lo, rj in files}


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
        if pid and pid_alive(pid):
            continue
        instance.report_run_failed(run, f"the kzdw process (pid {pid}) ended without finishing")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def preflight(settings: Settings) -> None:
    """What would stop a run, found before it starts: an unreadable warehouse file, a missing
    or weak personal-data key, a key other than the warehouse was built with."""
    key = settings.pii_key()
    if not settings.landing_dir.is_dir():
        _say(
            f"落地文件夹 {settings.landing_dir} 不存在，没有文件可载入。 / the landing folder "
            f"{settings.landing_dir} does not exist: nothing to load (check KZDW_LANDING_DIR)"
        )
    if not settings.warehouse.exists():
        return
    try:
        con = _connect_read_only(settings.warehouse, wait_seconds=10)
    except WarehouseBusy:
        return  # a run of the daemon is writing: the loads check the key themselves
    try:
        verify_pii_key(con, key_fingerprint(key), record=False)
    except PiiKeyMismatch as exc:
        raise Refused(str(exc)) from None
    finally:
        con.close()


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    with run_lock(settings):
        preflight(settings)
        return _run(settings)


def _run(settings: Settings) -> int:
    import dagster as dg
    from dagster import Failure

    from orchestration.lib.settings import WarehouseResource

    handler = logging.StreamHandler(sys.__stdout__)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    handler.addFilter(_InertFilter())
    progress = logging.getLogger("kzdw.progress")
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False

    ensure_dagster_home(settings.dagster_home)
    ensure_manifest()
    _say("loading the Dagster definitions (dbt manifest, assets, checks)")
    from orchestration.definitions import defs

    job = defs.resolve_job_def("warehouse_job")
    warehouse = settings.warehouse
    _say(f"running warehouse_job: landing {settings.landing_dir} → {warehouse}")
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.logs_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    _say(f"dbt and Dagster output goes to {log_path}")
    started = time.perf_counter()
    # dagster-dbt echoes every dbt log line to stdout (for the UI's captured logs); here the
    # terminal shows progress lines only and the full output goes to the log file.
    with (
        log_path.open("w", encoding="utf-8") as log_file,
        contextlib.redirect_stdout(log_file),
        dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance,
    ):
        for run_id in release_dead_cli_runs(instance):
            progress.info("run %s of a kzdw process that died: marked failed, slot freed", run_id)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            resources={"warehouse": WarehouseResource.of(settings)},
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
            print(f"{where} failed: {inert(message)}", file=sys.stderr)

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
    serving = settings.serving
    counts = _summary(warehouse, result.run_id) if warehouse.exists() else None
    if counts is not None:
        files = ", ".join(f"{v['files']} {k}" for k, v in sorted(counts.items())) or "none"
        loaded = counts.get("loaded", {})
        print(f"files: {files}")
        print(
            f"rows: {int(loaded.get('read') or 0):,} read, {int(loaded.get('loaded') or 0):,} "
            f"loaded, {int(loaded.get('rejected') or 0):,} rejected "
            "(see audit.file_loads and audit.rejected_rows; `kzdw rejects` writes the lists "
            "to send back)"
        )
    print(
        f"checks: {len(passed)} passed, {len(warned)} warned, {len(failed) - len(warned)} failed"
        + (f" ({len(blocking_failed)} blocking)" if blocking_failed else "")
    )
    for e in failed:
        desc = (e.description or "").strip().replace("\n", " ")[:300] or (
            "see the check in the Dagster UI or the run log"
        )
        print(
            f"  - {e.asset_key.to_user_string()} {e.check_name} [{e.severity.value}]: {inert(desc)}"
        )
    if result.success and serving.exists():
        print(f"serving copy for analysts: {serving} (kzdw sql)")
        print_kpis(serving, settings.as_of.year if settings.as_of else None, HEADLINE_KPIS)
    if failed_steps or blocking_failed or not result.success:
        print(
            "\nthe run did not finish cleanly: see the messages above, or the run in the Dagster "
            "UI (`kzdw dev`)",
            file=sys.stderr,
        )
        return 1
    return 0


class _InertFilter(logging.Filter):
    """Progress lines quote file names and reasons from the source systems: shown inert."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = inert(record.getMessage())
        record.args = None
        return True


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild a fresh warehouse from the archive, through the same job, in load order, with
    the deployment's personal-data key (the new warehouse's hashes equal the old ones)."""
    import shutil

    archive = settings.archive_dir
    target = Path(args.into).expanduser().absolute() if args.into else None
    if target is None:
        target = settings.warehouse.parent / "replay" / settings.warehouse.name
    if target == settings.warehouse:
        raise Refused(
            f"--into {target} is the live warehouse: replay builds a new file; give another path"
        )
    if target.exists() and not args.force:
        raise Refused(f"{target} exists; replay builds a fresh warehouse (pass --force to replace)")
    files = sorted(p for p in archive.glob("*/*") if p.is_file() and not p.is_symlink())
    if not files:
        raise Refused(f"nothing to replay: {archive} holds no archived files")
    writable_folder(target.parent, "the replay folder")
    key = settings.pii_key()
    work = Path(tempfile.mkdtemp(prefix="kzdw-replay-", dir=target.parent))
    replay = settings.for_warehouse(target).replace(
        landing_dir=work / "landing",
        archive_dir=work / "archive",
        quarantine_dir=work / "quarantine",
        pii_key_value=settings.pii_key_value,
    )
    if replay.pii_key_value is None:
        # The new warehouse keeps the deployment's key in its own key file.
        replay.pii_key_file.unlink(missing_ok=True)
        fd = os.open(replay.pii_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key + "\n")
    for name in (target.name, f"{target.name}.wal"):
        (target.parent / name).unlink(missing_ok=True)
    # Archived names start with their load id: sorted by name is the order they were loaded
    # in, which the landing folder expresses as modification times.
    for i, path in enumerate(sorted(files, key=lambda p: p.name)):
        dest = work / "landing" / path.parent.name / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        os.utime(dest, (1_000_000_000 + i, 1_000_000_000 + i))
    _say(f"replaying {len(files)} archived file(s) from {archive} into {target}")
    try:
        with run_lock(replay):
            preflight(replay)
            return _run(replay)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    """`dagster dev` on this project's workspace, bound to 127.0.0.1, with the settings as
    resolved here handed to it (and so to its code server, daemon and runs) as absolute
    paths."""
    free_port(args.port).close()
    ensure_dagster_home(settings.dagster_home)
    ensure_manifest()
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [
        str(dagster),
        "dev",
        "-w",
        str(CODE_ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(args.port),
    ]
    _say(f"Dagster UI on http://127.0.0.1:{args.port} (instance {settings.dagster_home})")
    env = {**os.environ, **settings.to_env()}
    # `dagster dev` loads a `.env` from its working directory over the environment; `.env`
    # was read above with the environment taking precedence, so start it where there is none
    # (the project is installed in the environment: the code location imports from anywhere).
    os.chdir(settings.dagster_home)
    os.execve(cmd[0], cmd, env)
    return 0


def cmd_kpis(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.warehouse.exists():
        raise Refused(f"no warehouse at {settings.warehouse}: run `kzdw run` first")
    return print_kpis(settings.warehouse, args.year, None if args.all else HEADLINE_KPIS)


def _serving_or_refuse(settings: Settings) -> Path:
    if not settings.serving.exists():
        raise Refused(
            f"no serving copy at {settings.serving} yet: run `kzdw run` (it builds the "
            "warehouse and publishes this read-only copy once the blocking checks pass), or "
            "set KZDW_SERVING to a copy"
        )
    return settings.serving


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The leadership report from the serving copy (never the live warehouse)."""
    from orchestration.report import ChromiumNotFound, ReportDataError, build_report

    serving = _serving_or_refuse(settings)
    out = writable_folder(Path(args.out), "--out") if args.out else None
    try:
        if out is None:
            writable_folder(settings.reports_dir, "the reports folder (KZDW_REPORTS_DIR)")
            files = build_report(serving, reports_dir=settings.reports_dir)
        else:
            files = build_report(serving, out_dir=out)
    except ReportDataError as exc:
        raise Refused(str(exc)) from None
    except ChromiumNotFound as exc:
        print(f"report.html and report.xlsx are written, the PDF is not: {exc}", file=sys.stderr)
        return 1
    for path in files.paths:
        print(path)
    return 0


def cmd_rejects(args: argparse.Namespace, settings: Settings) -> int:
    """The 退回清单 workbooks: every rejected row and set-aside file, per source system."""
    from kzdw.rejects import write_rejects_workbooks

    serving = _serving_or_refuse(settings)
    out = writable_folder(Path(args.out) if args.out else settings.reports_dir / "rejects", "--out")
    con = open_warehouse(serving, read_only=True)
    try:
        paths = write_rejects_workbooks(
            con,
            out,
            source=args.source,
            since=date.fromisoformat(args.since) if args.since else None,
        )
    finally:
        con.close()
    if not paths:
        print("no rejected rows or set-aside files in that range: nothing to send back")
        return 0
    for path in paths:
        print(path)
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    width = max(len(name) for name, _ in settings.describe())
    for name, value in settings.describe():
        print(f"{name:<{width}}  {inert(value)}")
    return 0


def cmd_prepare(args: argparse.Namespace, settings: Settings | None) -> int:
    from orchestration.dbt.resources import MANIFEST, prepare_manifest

    result = prepare_manifest()
    if result.returncode != 0:
        print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
        return 1
    print(MANIFEST)
    return 0


class _Parser(argparse.ArgumentParser):
    """Refusals in one line: what was wrong and what is allowed (usage is one -h away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} -h`)\n")


def build_parser() -> argparse.ArgumentParser:
    from orchestration import analysts
    from sources.contracts import SOURCES

    parser = _Parser(prog="kzdw", description=__doc__.split("\n")[0])
    parser.add_argument("--landing", help="landing folder (default $KZDW_LANDING_DIR)")
    parser.add_argument("--warehouse", help="DuckDB file (default $KZDW_WAREHOUSE)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="write the deterministic demo landing set")
    demo.add_argument(
        "--scale",
        type=_scale,
        default=1.0,
        help=f"multiply the case volume (above 0, at most {MAX_DEMO_SCALE:g})",
    )
    demo.add_argument("--seed", type=_natural("--seed", 0, 2**31 - 1), default=2022)
    demo.add_argument("--force", action="store_true", help="write into a non-empty folder")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="load pending files, build and check everything")
    run.add_argument(
        "--as-of", dest="as_of", type=_iso_date, help="as-of date YYYY-MM-DD ($KZDW_AS_OF)"
    )
    run.set_defaults(func=cmd_run)

    kpis = sub.add_parser("kpis", help="print a year's KPIs from marts.kpi_values")
    kpis.add_argument(
        "--year", type=_natural("--year", 1900, 2999), help="year (default: the as-of year)"
    )
    kpis.add_argument("--all", action="store_true", help="every KPI, not only the headline ones")
    kpis.set_defaults(func=cmd_kpis)

    replay = sub.add_parser("replay", help="rebuild a fresh warehouse from the archive")
    replay.add_argument(
        "--into", help="the new warehouse file (default replay/<warehouse file> beside it)"
    )
    replay.add_argument("--force", action="store_true", help="replace an existing file")
    replay.set_defaults(func=cmd_replay)

    port = _natural("--port", 1, 65535)
    dev = sub.add_parser("dev", help="start the Dagster UI and daemon on 127.0.0.1")
    dev.add_argument("--port", type=port, default=3000)
    dev.set_defaults(func=cmd_dev)

    report = sub.add_parser("report", help="write the leadership report for the as-of date")
    report.add_argument(
        "--out", help="folder for report.html/.xlsx/.pdf (default <reports>/<as-of>/)"
    )
    report.set_defaults(func=cmd_report)

    rejects = sub.add_parser(
        "rejects", help="write the 退回清单 workbooks to send back to the source systems"
    )
    rejects.add_argument("--source", choices=sorted(SOURCES), help="one source system only")
    rejects.add_argument("--since", type=_iso_date, help="files loaded on or after YYYY-MM-DD")
    rejects.add_argument("--out", help="folder for the workbooks (default <reports>/rejects/)")
    rejects.set_defaults(func=cmd_rejects)

    sql = sub.add_parser("sql", help="a SQL shell, read only, on the serving copy")
    sql.add_argument("-c", dest="sql", metavar="SQL", help="run these statements and exit")
    sql.add_argument("--csv", action="store_true", help="print results as CSV, every row")
    sql.add_argument(
        "--max-rows",
        type=_natural("--max-rows", 1, 10_000_000),
        default=analysts.DEFAULT_MAX_ROWS,
        help="rows shown per result",
    )
    sql.set_defaults(func=analysts.cmd_sql)

    docs = sub.add_parser("docs", help="build the dbt docs site and serve it on 127.0.0.1")
    docs.add_argument("--port", type=port, default=8080, help="port on 127.0.0.1 (default 8080)")
    docs.add_argument("--out", help="site folder (default docs/ beside the serving copy)")
    docs.set_defaults(func=analysts.cmd_docs)

    shown = sub.add_parser("settings", help="print the settings, derived locations included")
    shown.set_defaults(func=cmd_settings)

    prepare = sub.add_parser("prepare", help="prepare the dbt manifest (part of make setup)")
    prepare.set_defaults(func=cmd_prepare, needs_settings=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args) if getattr(args, "needs_settings", True) else None
        return args.func(args, settings)
    except (Refused, SettingsError, WarehouseUnreadable) as exc:
        print(f"kzdw {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    # `python -m orchestration.cli`: run the imported module's main, so that the commands
    # elsewhere that import this module share its exception classes with it.
    from orchestration.cli import main as cli_main

    sys.exit(cli_main())
