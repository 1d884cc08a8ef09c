"""Running the deployment: `kzdw run`, `replay`, `dev`, `settings`, `prepare`.

`kzdw run` executes `warehouse_job` from `orchestration.definitions` in-process, on the Dagster
instance in `$DAGSTER_HOME`: the run shows in `kzdw dev`'s UI like any other.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kzdw.cli.analysts import print_kpis
from kzdw.cli.common import (
    Refused,
    free_port,
    iso_date,
    natural,
    say,
    writable_folder,
)
from kzdw.files import pid_alive
from kzdw.settings import CODE_ROOT, Settings, installed_command
from kzdw.terminal import inert
from sources.warehouse import (
    PiiKeyMismatch,
    WarehouseBusy,
    WarehouseUnreadable,
    key_fingerprint,
    open_when_free,
    verify_pii_key,
)

FAILURE_EVENTS = {"STEP_FAILURE", "RUN_FAILURE", "RESOURCE_INIT_FAILURE", "ENGINE_EVENT"}


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
# Runs start forked from a process that has imported Dagster and Great Expectations once,
# instead of importing them anew each (orchestration/lib/run_launcher.py).
run_launcher:
  module: orchestration.lib.run_launcher
  class: PreloadedRunLauncher
# Dagster's SQLite event log (the same files, in history/runs/), storing each event without
# making a new database engine for it (orchestration/lib/event_log.py).
event_log_storage:
  module: orchestration.lib.event_log
  class: EngineKeepingSqliteEventLogStorage
  config:
    base_dir: {event_logs}
"""


def dagster_yaml(home: Path) -> str:
    """kzdw's dagster.yaml for the instance folder `home` (absolute)."""
    event_logs = json.dumps(str(home.resolve() / "history" / "runs"), ensure_ascii=False)
    return DAGSTER_YAML.format(event_logs=event_logs)


def ensure_dagster_home(home: Path) -> None:
    """The instance folder with kzdw's dagster.yaml, kept up to date unless edited by hand."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    managed = current is None or current.startswith("# Local instance")
    wanted = dagster_yaml(home)
    if managed and current != wanted:
        config.write_text(wanted, encoding="utf-8")


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
            say(
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
    from orchestration.lib.dbt import MANIFEST, manifest_is_stale, prepare_manifest

    if not manifest_is_stale():
        return
    say(f"the dbt project changed since {MANIFEST} was made: dbt parse")
    result = prepare_manifest()
    if result.returncode != 0:
        raise Refused(
            f"dbt parse failed ({result.returncode}): {inert(result.stdout[-1500:])}"
            f"{inert(result.stderr[-1500:])}"
        )


def _summary(database: Path, run_id: str) -> dict | None:
    try:
        con = open_when_free(database, wait_seconds=30)
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
        say(
            f"落地文件夹 {settings.landing_dir} 不存在，没有文件可载入。 / the landing folder "
            f"{settings.landing_dir} does not exist: nothing to load (check KZDW_LANDING_DIR)"
        )
    if not settings.warehouse.exists():
        return
    try:
        con = open_when_free(settings.warehouse, wait_seconds=10)
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

    from orchestration.lib.warehouse import ENGINE_TAG, WarehouseResource
    from orchestration.lib.warm_dbt import warm_dbt

    handler = logging.StreamHandler(sys.__stdout__)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    handler.addFilter(_InertFilter())
    progress = logging.getLogger("kzdw.progress")
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False

    ensure_dagster_home(settings.dagster_home)
    ensure_manifest()
    say("loading the Dagster definitions (dbt manifest, assets, checks)")
    from orchestration.definitions import defs

    job = defs.resolve_job_def("warehouse_job")
    warehouse = settings.warehouse
    say(f"running warehouse_job: landing {settings.landing_dir} → {warehouse}")
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.logs_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    say(f"dbt and Dagster output goes to {log_path}")
    started = time.perf_counter()
    # dagster-dbt echoes every dbt log line to stdout (for the UI's captured logs); here the
    # terminal shows progress lines only and the full output goes to the log file.
    with (
        log_path.open("w", encoding="utf-8") as log_file,
        contextlib.redirect_stdout(log_file),
        dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance,
        warm_dbt(),
    ):
        for run_id in release_dead_cli_runs(instance):
            progress.info("run %s of a kzdw process that died: marked failed, slot freed", run_id)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            resources={"warehouse": WarehouseResource.of(settings)},
            tags={
                "kzdw/launched_by": "cli",
                "kzdw/pid": str(os.getpid()),
                ENGINE_TAG: settings.engine,
            },
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
        print_kpis(serving, settings.as_of.year if settings.as_of else None)
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
    say(f"replaying {len(files)} archived file(s) from {archive} into {target}")
    try:
        with run_lock(replay):
            preflight(replay)
            return _run(replay)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    """`dg dev` on this project (orchestration/defs), bound to 127.0.0.1, with the settings as
    resolved here handed to it (and so to its code server, daemon and runs) as absolute
    paths."""
    free_port(args.port).close()
    ensure_dagster_home(settings.dagster_home)
    ensure_manifest()
    cmd = [
        installed_command("dg"),
        "dev",
        "--target-path",
        str(CODE_ROOT),
        "--use-active-venv",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    say(f"Dagster UI on http://127.0.0.1:{args.port} (instance {settings.dagster_home})")
    # The environment this interpreter runs in is the project's: dg uses it as it is.
    env = {**os.environ, **settings.to_env(), "VIRTUAL_ENV": sys.prefix}
    # Started where no `.env` is, so nothing overrides the settings resolved above.
    os.chdir(settings.dagster_home)
    os.execve(cmd[0], cmd, env)
    return 0


def cmd_spark_server(args: argparse.Namespace, settings: Settings) -> int:
    """A Spark Thrift Server for this deployment, in the foreground (`kzdw.spark`): run it
    where it stays up (a terminal, a service), then set KZDW_ENGINE=spark and
    KZDW_SPARK_METHOD=thrift (with KZDW_SPARK_PORT if not 10000) for kzdw."""
    from kzdw.spark import SparkMissing, thrift_server_command, thrift_server_env

    port = args.port or settings.spark_port
    free_port(port).close()
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    try:
        cmd = thrift_server_command(
            settings, port, extra=[part for pair in args.conf for part in pair]
        )
    except SparkMissing as exc:
        raise Refused(str(exc)) from None
    say(
        f"Spark Thrift Server on 127.0.0.1:{port} (metastore and tables in "
        f"{settings.spark_dir}); point kzdw at it with KZDW_ENGINE=spark "
        f"KZDW_SPARK_METHOD=thrift KZDW_SPARK_PORT={port}"
    )
    # Derby writes derby.log into the working folder: the server's own.
    os.chdir(settings.spark_dir)
    os.execve(cmd[0], cmd, thrift_server_env())
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    width = max(len(name) for name, _ in settings.describe())
    for name, value in settings.describe():
        print(f"{name:<{width}}  {inert(value)}")
    return 0


def cmd_prepare(args: argparse.Namespace, settings: Settings | None) -> int:
    from orchestration.lib.dbt import MANIFEST, prepare_manifest

    result = prepare_manifest()
    if result.returncode != 0:
        print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
        return 1
    print(MANIFEST)
    return 0


def register(sub) -> None:
    run = sub.add_parser("run", help="load pending files, build and check everything")
    run.add_argument(
        "--as-of", dest="as_of", type=iso_date, help="as-of date YYYY-MM-DD ($KZDW_AS_OF)"
    )
    run.set_defaults(func=cmd_run)

    replay = sub.add_parser("replay", help="rebuild a fresh warehouse from the archive")
    replay.add_argument(
        "--into", help="the new warehouse file (default replay/<warehouse file> beside it)"
    )
    replay.add_argument("--force", action="store_true", help="replace an existing file")
    replay.set_defaults(func=cmd_replay)

    dev = sub.add_parser("dev", help="start the Dagster UI and daemon on 127.0.0.1")
    dev.add_argument("--port", type=natural("--port", 1, 65535), default=3000)
    dev.set_defaults(func=cmd_dev)

    server = sub.add_parser(
        "spark-server", help="start a Spark Thrift Server for KZDW_SPARK_METHOD=thrift"
    )
    server.add_argument(
        "--port", type=natural("--port", 1, 65535), help="default $KZDW_SPARK_PORT (10000)"
    )
    server.add_argument(
        "--conf",
        action="append",
        default=[],
        type=lambda text: ["--conf", text],
        help="a Spark setting key=value for the server (e.g. spark.driver.memory=8g); repeatable",
    )
    server.set_defaults(func=cmd_spark_server)

    shown = sub.add_parser("settings", help="print the settings, derived locations included")
    shown.set_defaults(func=cmd_settings)

    prepare = sub.add_parser("prepare", help="prepare the dbt manifest (part of make setup)")
    prepare.set_defaults(func=cmd_prepare, needs_settings=False)
