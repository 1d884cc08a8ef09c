"""Under the real Dagster daemon (`kzdw dev`, i.e. `dg dev`, on a temporary DAGSTER_HOME,
after a first build by `kzdw run` on the same home: a copy of the shared hand-made run's
deployment): files dropped into the landing folder become KPI values in the serving copy with
nobody pressing a button; an analyst's connection held on the serving copy survives the loads;
fifty files dropped at once are all loaded and no run fails; `kzdw run` started while the
daemon's runs go on takes turns with them.

Expected KPI values come from the independent oracle (tests/oracle.py) over every file dropped.
"""

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import Deployment, copy_of_handmade_run
from tests.oracle import compute_kpis, read_landing
from tests.sources.test_serving import assert_same_database
from tests.test_end_to_end import _assert_same_kpis

pytestmark = pytest.mark.slow

# Long enough for a cold start of the code location, a load and a dbt build on this machine.
SETTLE_SECONDS = 420


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """`kzdw dev` in its own process group, stopped with everything it started."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.port = _free_port()
        self.log = deployment.root / "dagster-dev.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = self.deployment.env()
        # The daemon's runs import the code location afresh; compiled bytecode halves that.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kzdw.cli", "dev", "--port", str(self.port)],
                cwd=self.deployment.root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.deployment.dagster_home))

    def runs(self) -> list[dg.DagsterRun]:
        with self.instance() as instance:
            return list(instance.get_runs())

    def materialized(self, run_id: str) -> set[dg.AssetKey]:
        with self.instance() as instance:
            records = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            return {r.event_log_entry.dagster_event.asset_key for r in records}

    def serving_publish(self, run_id: str) -> dict:
        """The metadata of the serving copy's materialisation in a run."""
        with self.instance() as instance:
            records = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            for r in records:
                m = r.event_log_entry.dagster_event.event_specific_data.materialization
                if m.asset_key == dg.AssetKey(["serving", "warehouse"]):
                    return {k: v.value for k, v in m.metadata.items()}
        raise AssertionError(f"run {run_id} published no serving copy")

    def explain(self) -> str:
        """What the runs did, for a failure message."""
        lines = []
        with self.instance() as instance:
            for run in instance.get_runs():
                lines.append(f"{run.job_name} {run.status.value} {dict(run.tags)}")
                if run.status == dg.DagsterRunStatus.FAILURE:
                    for record in instance.all_logs(run.run_id):
                        if record.is_dagster_event and record.dagster_event.is_failure:
                            lines.append(f"  {record.dagster_event.message}")
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        return "\n".join(lines) + "\n--- dg dev ---\n" + tail


def _serving_kpis(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute(
            "select kpi_code, period_type, period_start, value from marts.kpi_values"
        ).fetchall()
    finally:
        con.close()
    return {(code, ptype, start): value for code, ptype, start, value in rows}


def _matches(actual: dict | None, expected: dict) -> bool:
    if actual is None:
        return False
    try:
        _assert_same_kpis(actual, expected)
    except AssertionError:
        return False
    return True


def _idle(daemon: Daemon) -> bool:
    busy = {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
    }
    return not any(run.status in busy for run in daemon.runs())


def _wait_until_serving_matches(daemon: Daemon, expected: dict) -> float:
    """Seconds until the serving copy shows exactly the expected KPI table and no run is left
    to do; fails with what the runs did."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_SECONDS:
        if daemon.proc.poll() is not None:
            pytest.fail(f"dg dev exited\n{daemon.explain()}")
        if _matches(_serving_kpis(daemon.deployment.serving), expected) and _idle(daemon):
            return time.monotonic() - started
        time.sleep(1)
    actual = _serving_kpis(daemon.deployment.serving)
    detail = "no serving copy" if actual is None else ""
    if actual is not None:
        try:
            _assert_same_kpis(actual, expected)
        except AssertionError as e:
            detail = str(e)
    pytest.fail(
        f"serving copy not as expected after {SETTLE_SECONDS} s: {detail}\n{daemon.explain()}"
    )


def _expected(*roots: Path) -> dict:
    """The oracle's KPI table over every file in the given landing copies."""
    merged = roots[0].parent / "all_dropped"
    shutil.rmtree(merged, ignore_errors=True)
    for root in roots:
        shutil.copytree(root, merged, dirs_exist_ok=True)
    return compute_kpis(read_landing(merged), as_of=None)


def _drop(source_root: Path, landing: Path) -> None:
    """Copy a landing set into the landing folder the way a transfer job would (times kept)."""
    shutil.copytree(source_root, landing, dirs_exist_ok=True)


def _extra_case_files(made_root: Path, dest: Path, files: int, tag: str) -> Path:
    """`files` new permit-case files, each a few whole cases (every version) copied from the
    hand-made set under new case numbers: valid rows that move the case KPIs."""
    template = made_root / "permit_cases" / "办件_2021_Q2.csv"
    with template.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    by_case: dict[str, list[list[str]]] = {}
    for row in rows:
        by_case.setdefault(row[0], []).append(row)
    cases = list(by_case.values())
    folder = dest / "permit_cases"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        path = folder / f"办件_增量_{tag}_{i:03d}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for k in range(3):
                for row in cases[(i * 3 + k) % len(cases)]:
                    writer.writerow([f"BJ{tag}{i:03d}{k}", *row[1:]])
    return dest


@pytest.fixture(scope="module")
def daemon(handmade_run, tmp_path_factory):
    """A deployment built by `kzdw run` (a copy of the shared hand-made run's, Dagster home
    included), then handed to the daemon."""
    made, _, _ = handmade_run
    deployment = copy_of_handmade_run(handmade_run, tmp_path_factory.mktemp("daemon") / "d")
    running = Daemon(deployment)
    running.made = made.root
    running.start()
    yield running
    running.stop()


def test_a_dropped_file_becomes_kpis_in_the_serving_copy(daemon):
    runs_before = {r.run_id for r in daemon.runs()}
    one = _extra_case_files(daemon.made, daemon.deployment.root / "first", 1, "A")
    _drop(one, daemon.deployment.landing)
    _wait_until_serving_matches(daemon, _expected(daemon.made, one))

    # The report follows the new copy: wait for it and for whatever else automation requests.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        new_runs = [r for r in daemon.runs() if r.run_id not in runs_before]
        done = [
            r for r in new_runs if r.tags.get("dagster/sensor_name") == "kzdw_automation_sensor"
        ]
        if done and _idle(daemon):
            time.sleep(15)  # three automation ticks: time enough to request a rebuild
            if _idle(daemon):
                break
        time.sleep(1)
    new_runs = [r for r in daemon.runs() if r.run_id not in runs_before]
    # The landing sensor's run carried the file to the serving copy; declarative automation
    # then printed the report and rebuilt nothing that run had built. Nobody launched a run.
    built = {r.run_id: daemon.materialized(r.run_id) for r in new_runs}
    by_sensor: dict[str, set[dg.AssetKey]] = {}
    for r in new_runs:
        name = r.tags.get("dagster/sensor_name", "")
        by_sensor.setdefault(name, set()).update(built[r.run_id])
    assert set(by_sensor) == {"landing_sensor", "kzdw_automation_sensor"}
    landing = by_sensor["landing_sensor"]
    assert {
        dg.AssetKey(["raw", "permit_cases"]),
        dg.AssetKey(["staging", "stg_permit_cases__cases"]),
        dg.AssetKey(["marts", "kpi_values"]),
        dg.AssetKey(["serving", "warehouse"]),
    } <= landing
    assert by_sensor["kzdw_automation_sensor"] == {dg.AssetKey(["reports", "leadership"])}
    # The landing run brought the previous serving copy up to date: it holds exactly what the
    # warehouse holds, table by table, view by view.
    [landing_run] = [r for r in new_runs if r.tags.get("dagster/sensor_name") == "landing_sensor"]
    assert daemon.serving_publish(landing_run.run_id)["published"] == "refreshed"
    live = duckdb.connect(str(daemon.deployment.warehouse), read_only=True)
    try:
        assert_same_database(live, daemon.deployment.serving)
    finally:
        live.close()
    assert [r for r in new_runs if r.status != dg.DagsterRunStatus.SUCCESS] == []
    # The file left the landing folder for the archive.
    assert [p for p in daemon.deployment.landing.rglob("*") if p.is_file()] == []
    assert list((daemon.deployment.root / "archive").rglob("*办件_增量_A_000.csv"))


# An analyst in another process (as analysts are: DuckDB shares one open database per file
# within a process): one connection held open, queried every 50 ms until told to stop.
ANALYST = r"""
import json, pathlib, sys, time
import duckdb
path, stop, out = sys.argv[1:4]
con = duckdb.connect(path, read_only=True)
query = "select count(*), sum(value) from marts.kpi_values where value is not null"
first = con.execute(query).fetchone()
pathlib.Path(out + ".ready").write_text("ready")
reads, changed, errors = 0, 0, []
while not pathlib.Path(stop).exists():
    try:
        changed += con.execute(query).fetchone() != first
        reads += 1
    except Exception as e:
        errors.append(repr(e))
        break
    time.sleep(0.05)
last = con.execute(query).fetchone()
json.dump({"first": first, "last": last, "reads": reads, "changed": changed, "errors": errors},
          open(out, "w"))
"""


def test_an_analyst_connection_survives_loads_and_kzdw_run_takes_turns_with_the_daemon(daemon):
    """Fifty files dropped at once, then twenty more that the landing sensor and `kzdw run`
    see at the same time, while an analyst holds a connection on the serving copy: several
    loads, several publishes."""
    made_root = daemon.made
    deployment = daemon.deployment
    first = deployment.root / "first"
    serving = deployment.serving
    stop, out = deployment.root / "analyst.stop", deployment.root / "analyst.json"
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(serving), str(stop), str(out)])
    deadline = time.monotonic() + 60
    while not Path(f"{out}.ready").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        runs_before = {r.run_id for r in daemon.runs()}
        fifty = _extra_case_files(made_root, deployment.root / "fifty", 50, "F")
        _drop(fifty, deployment.landing)
        _wait_until_serving_matches(daemon, _expected(made_root, first, fifty))
        fifty_runs = [r for r in daemon.runs() if r.run_id not in runs_before]
        # The landing sensor and `kzdw run` see the same twenty files at once: whichever loads
        # a file first takes it, the other finds it loaded; writers queue for the pool slot.
        twenty = _extra_case_files(made_root, deployment.root / "twenty", 20, "T")
        _drop(twenty, deployment.landing)
        run = deployment.kzdw("run")
        assert run.returncode == 0, run.output
        _wait_until_serving_matches(daemon, _expected(made_root, first, fifty, twenty))
    finally:
        stop.write_text("stop")
        analyst.wait(timeout=60)

    # The analyst's connection read the copy it opened, the whole time, without an error.
    seen = json.loads(out.read_text())
    assert seen["errors"] == []
    assert seen["reads"] > 10
    assert seen["changed"] == 0
    assert seen["last"] == seen["first"]
    # A new connection sees the new figures, and every file loaded once.
    fresh = duckdb.connect(str(serving), read_only=True)
    now = fresh.execute(
        "select count(*), sum(value) from marts.kpi_values where value is not null"
    ).fetchone()
    loaded = fresh.execute(
        "select left(file_name, 7), status, count(*) from audit.file_loads "
        "where file_name like '办件_增量_%' group by all order by all"
    ).fetchall()
    fresh.close()
    assert list(now) != seen["first"]
    assert loaded == [
        ("办件_增量_A", "loaded", 1),
        ("办件_增量_F", "loaded", 50),
        ("办件_增量_T", "loaded", 20),
    ]

    new_runs = [r for r in daemon.runs() if r.run_id not in runs_before]
    failed = [r for r in new_runs if r.status != dg.DagsterRunStatus.SUCCESS]
    assert failed == [], daemon.explain()
    loads = [r for r in fifty_runs if r.tags.get("kzdw/sources") == "permit_cases"]
    # The sensor batches whatever is ready on a tick: fifty files never take fifty runs.
    assert 1 <= len(loads) < 10
    # The analyst's connection outlived several publishes of the copy it had open.
    serving_key = dg.AssetKey(["serving", "warehouse"])
    publishes = [r for r in new_runs if serving_key in daemon.materialized(r.run_id)]
    assert len(publishes) >= 2, daemon.explain()
