"""File-to-KPI latency under the Dagster daemon: a 10,000-row permit-case file dropped onto a
warehouse that already holds millions of cases, until the serving copy's KPI table shows it.

    .venv/bin/python benchmarks/latency.py --base-rows 5000000 --repeat 3

1. Builds the base deployment once (kept in --work, default /tmp/kzdw-latency; --rebuild to
   start over): the demo landing set plus one file of --base-rows permit cases, loaded and
   built by `kzdw run` with KZDW_AS_OF=2023-06-30.
2. Starts `kzdw dev` (`dg dev`: daemon, landing sensors, automation) on that deployment's
   Dagster home, so the daemon knows what is already built.
3. For each repeat, writes a file of --rows new cases, all submitted in June 2023, under a
   `.part` name and renames it into landing/permit_cases/: that rename is the drop. Then opens
   the serving copy every 0.5 s until `cases_submitted` for June 2023 has grown by the
   file's valid rows.

Prints each drop's latency with where the time went (from the Dagster instance's run
records: the landing sensor's run, created, started and ended, and each of its steps, up to
the serving copy), then the median.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import make_csv  # noqa: E402

AS_OF = "2023-06-30"
JUNE = "select value from marts.kpi_values where kpi_code = 'cases_submitted' and period_type = 'month' and period_start = date '2023-06-01'"  # noqa: E501


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
    env.update(
        KZDW_LANDING_DIR=str(work / "landing"),
        KZDW_WAREHOUSE=str(work / "warehouse.duckdb"),
        KZDW_AS_OF=AS_OF,
        DAGSTER_HOME=str(work / "dagster_home"),
    )
    return env


def _kzdw(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "kzdw.cli", *args],
        cwd=Path(env["KZDW_LANDING_DIR"]).parent,
        env=env,
        check=True,
    )


def build_base(work: Path, base_rows: int) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = _env(work)
    started = time.perf_counter()
    _kzdw(env, "demo", "--force")
    make_csv(work / "landing" / "permit_cases" / "办件_存量.csv", base_rows, seed=11)
    _kzdw(env, "run")
    cases = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    n = cases.execute("select count(*) from staging.stg_permit_cases__cases").fetchone()[0]
    cases.close()
    (work / "base.ok").write_text(str(n))
    print(f"base built: {n:,} cases in {time.perf_counter() - started:.0f} s")


def _serving_value(serving: Path) -> float | None:
    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(JUNE).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dagster_dev(work: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`kzdw dev` (daemon, sensors, automation) on the deployment in `work`, its output appended
    to `log`, once its code server is up and the first sensor ticks have passed; stopped after."""
    with log.open("ab") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "kzdw.cli", "dev", "--port", str(_free_port())],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(20)
            yield daemon
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=60)


def _phases(work: Path, since: float) -> list[str]:
    """Runs created after `since` (epoch seconds): what started them, when they started and
    ended, and each step's start and end, relative to the drop."""
    import dagster as dg

    lines = []
    steps = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    steps.add(dg.DagsterEventType.STEP_FAILURE)
    with dg.DagsterInstance.from_config(str(work / "dagster_home")) as instance:
        for record in reversed(instance.get_run_records()):
            created = record.create_timestamp.timestamp()
            if created < since:
                continue
            run = record.dagster_run
            who = run.tags.get("dagster/sensor_name") or run.tags.get(
                "dagster/schedule_name", "manual"
            )
            start = f"{record.start_time - since:6.1f}" if record.start_time else "     -"
            end = f"{record.end_time - since:6.1f}" if record.end_time else "     -"
            lines.append(
                f"    {who:38s} created {created - since:6.1f}  started {start}  ended {end}  "
                f"{run.status.value}"
            )
            began: dict[str, float] = {}
            for entry in instance.all_logs(run.run_id, of_type=steps):
                key = entry.step_key or "?"
                if entry.dagster_event_type == dg.DagsterEventType.STEP_START:
                    began[key] = entry.timestamp
                elif key in began:
                    lines.append(
                        f"      step {key:36s} {began[key] - since:6.1f} -> "
                        f"{entry.timestamp - since:6.1f}  ({entry.timestamp - began[key]:.1f} s)"
                    )
    return lines


def _tick_gaps(work: Path, since: float) -> dict[str, list[float]]:
    """Seconds between the ticks of each sensor of the deployment's instance since `since`."""
    import dagster as dg

    gaps = {}
    with dg.DagsterInstance.from_config(str(work / "dagster_home")) as instance:
        for state in instance.all_instigator_state():
            ticks = instance.get_ticks(
                state.instigator_origin_id, state.selector_id, after=since, limit=1000
            )
            times = sorted(t.timestamp for t in ticks)
            gaps[state.name] = [b - a for a, b in zip(times, times[1:], strict=False)]
    return gaps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-rows", type=int, default=5_000_000)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/kzdw-latency"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="build the base and stop")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    work = args.work.resolve()
    if args.rebuild or not (work / "base.ok").exists():
        build_base(work, args.base_rows)
    if args.build_only:
        return
    env = _env(work)
    serving = work / "serving" / "warehouse.duckdb"
    log = work / "dagster-dev.log"
    latencies = []
    with dagster_dev(work, env, log) as daemon:
        up = time.time()
        for i in range(args.repeat):
            before = _serving_value(serving) or 0
            stamp = datetime.now().strftime("%H%M%S")
            part = work / f"办件_增量_{stamp}.csv.part"
            make_csv(
                part,
                args.rows,
                seed=100 + i,
                id_prefix=f"L{stamp}",
                start="2023-06-01T08:00:00",
                span_days=29,
            )
            target = work / "landing" / "permit_cases" / part.name.removesuffix(".part")
            dropped = time.time()
            os.replace(part, target)
            while True:
                value = _serving_value(serving)
                # make_csv breaks one row in 100,000 (rejected): the file is in when the month
                # has grown by its valid rows, all at once (one transaction, one build).
                if value is not None and value >= before + args.rows - args.rows // 100_000 - 1:
                    break
                if time.time() - dropped > args.timeout or daemon.poll() is not None:
                    raise SystemExit(f"no new KPI after {args.timeout} s; see {log}")
                time.sleep(0.5)
            seconds = time.time() - dropped
            latencies.append(seconds)
            print(
                f"drop {i + 1}: {seconds:.1f} s (June cases {before:,.0f} -> {value:,.0f})",
                flush=True,
            )
            print("\n".join(_phases(work, dropped)), flush=True)
            time.sleep(10)  # let the daemon settle: two of its loops
    ticks = ", ".join(
        f"{name} {statistics.median(gaps):.1f} s (max {max(gaps):.1f})"
        for name, gaps in _tick_gaps(work, up).items()
        if gaps
    )
    print(
        f"median file-to-KPI latency {statistics.median(latencies):.1f} s over {len(latencies)} "
        f"drops of {args.rows:,} rows; seconds between ticks, median: {ticks}"
    )


if __name__ == "__main__":
    main()
