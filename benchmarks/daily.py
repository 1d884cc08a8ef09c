"""The daily build on a big warehouse: one day's files dropped into a deployment that `kzdw run`
built, under the Dagster daemon, until the serving copy shows them.

    .venv/bin/python benchmarks/demo.py --scales 200 --work W --results W/scales.json --keep
    .venv/bin/python benchmarks/daily.py --deployment W/run-200-duckdb-1 --repeat 3

The deployment is a folder as `benchmarks/demo.py --keep` leaves it (landing/, warehouse.duckdb,
serving/, dagster_home/). Each repeat is the next day after the newest update in the warehouse,
and writes two files into landing/ at once:
- permit_cases: --cases rows, two thirds new cases submitted and accepted that day, one third
  cases of the warehouse that were open and are completed that day (a new version of each);
- market_entities: --entities new enterprises (设立) registered that day.
Then opens the serving copy every 0.5 s until it holds both files' rows, and prints the time
from the drop, with the runs the daemon started (sensor, created, started, ended, relative to
the drop) and the median over the days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.latency import _phases, dagster_dev  # noqa: E402
from sources.demo_files import LandingFile, write_landing_file  # noqa: E402
from sources.demo_reference import TOWNSHIPS, credit_codes, resident_ids  # noqa: E402

DAY_SECONDS = 86_400


def _env(deployment: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
    env.update(
        KZDW_LANDING_DIR=str(deployment / "landing"),
        KZDW_WAREHOUSE=str(deployment / "warehouse.duckdb"),
        KZDW_AS_OF="",
        DAGSTER_HOME=str(deployment / "dagster_home"),
    )
    return env


def _times(rng: np.random.Generator, day: dt.date, n: int, first: int, last: int) -> np.ndarray:
    """n times on `day` between hour `first` and hour `last`, as datetime64[s]."""
    start = np.datetime64(day, "s") + np.timedelta64(first * 3600, "s")
    return start + rng.integers(0, (last - first) * 3600, n).astype("timedelta64[s]")


def day_files(con: duckdb.DuckDBPyConnection, day: dt.date, cases: int, entities: int, seed: int):
    """The permit-case and registration files of `day` (LandingFile each)."""
    rng = np.random.default_rng(seed)
    stamp = day.strftime("%Y%m%d")
    n_done = cases // 3
    n_new = cases - n_done
    items = [
        r[0]
        for r in con.execute(
            "select item_code from marts.dim_service_items "
            "where is_current and item_status = '在用'"
        ).fetchall()
    ]
    # New cases, accepted ten minutes after they were submitted.
    submitted = _times(rng, day, n_new, 8, 17)
    accepted = submitted + np.timedelta64(600, "s")
    births = rng.integers(-10_000, 12_000, n_new)
    new = pl.DataFrame(
        {
            # The platform's numbering, as in the demo: 500154, the submission date, a running
            # number (from 900000: the demo numbers a day's cases from 1).
            "case_id": [f"500154{stamp}{900_000 + i:06d}" for i in range(n_new)],
            "item_code": np.array(items)[rng.integers(0, len(items), n_new)],
            "channel": np.where(rng.random(n_new) < 0.6, "全程网办", "窗口办理"),
            "intake": np.array(["网上申报", "一窗综办", "部门窗口"])[rng.integers(0, 3, n_new)],
            "applicant_type": "自然人",
            "applicant_id": resident_ids(rng, births),
            "submitted_at": pl.Series(submitted.astype("datetime64[us]")),
            "accepted_at": pl.Series(accepted.astype("datetime64[us]")),
            "completed_at": pl.Series([None] * n_new, dtype=pl.Datetime("us")),
            "status": "已受理",
            "trips": 0,
            "promised_days": rng.integers(1, 20, n_new),
            "rating": pl.Series([None] * n_new, dtype=pl.String),
            "updated_at": pl.Series(accepted.astype("datetime64[us]")),
        }
    )
    # Open cases of the warehouse, completed today: their latest accepted first.
    before = dt.datetime.combine(day, dt.time(8))
    open_cases = pl.from_arrow(
        con.sql(
            f"""
            select case_id, item_code, channel, intake, applicant_type, submitted_at,
                accepted_at, promised_days
            from marts.fct_permit_cases
            where status = '已受理' and accepted_at is not null
                and accepted_at < timestamp '{before}'
            order by accepted_at desc
            limit {n_done}
            """
        ).to_arrow_table()
    )
    completed = _times(rng, day, open_cases.height, 9, 18)
    done = open_cases.with_columns(
        pl.lit(None, dtype=pl.String).alias("applicant_id"),
        pl.Series("completed_at", completed.astype("datetime64[us]")),
        pl.lit("已办结").alias("status"),
        pl.Series("trips", rng.integers(0, 2, open_cases.height)),
        pl.lit("满意").alias("rating"),
        pl.Series("updated_at", (completed + np.timedelta64(60, "s")).astype("datetime64[us]")),
    ).select(new.columns)
    permit = pl.concat([new, done.cast(new.schema)], how="vertical")
    # New enterprises, registered within two hours.
    reg_submitted = _times(rng, day, entities, 8, 16)
    reg_completed = reg_submitted + rng.integers(1800, 7200, entities).astype("timedelta64[s]")
    serial = 90_000_000 + int(stamp) % 1_000_000 * 1000 + np.arange(entities)
    registered = pl.DataFrame(
        {
            "event_id": [f"ED{stamp}{i:05d}" for i in range(entities)],
            "uscc": credit_codes(np.full(entities, "1"), serial, np.full(entities, True)),
            "entity_name": [f"重庆开州{stamp}第{i}号商贸有限公司" for i in range(entities)],
            "entity_type": "企业",
            "industry_section": np.array(list("CFGHIM"))[rng.integers(0, 6, entities)],
            "township": np.array(TOWNSHIPS)[rng.integers(0, len(TOWNSHIPS), entities)],
            "registered_capital": rng.integers(10, 500, entities).astype(float),
            "event_type": "设立",
            "submitted_at": pl.Series(reg_submitted.astype("datetime64[us]")),
            "completed_at": pl.Series(reg_completed.astype("datetime64[us]")),
            "is_returnee": rng.random(entities) < 0.1,
            "legal_rep_name": "张某",
            "legal_rep_id": resident_ids(rng, rng.integers(-10_000, 12_000, entities)),
            "updated_at": pl.Series(reg_completed.astype("datetime64[us]")),
        }
    )
    arrives = dt.datetime.combine(day, dt.time(18, 30))
    return (
        LandingFile("permit_cases", f"办件_{stamp}.csv", permit, arrives),
        LandingFile("market_entities", f"entities_{stamp}.csv", registered, arrives),
    )


def _shows(serving: Path, day: dt.date) -> tuple[int, int] | None:
    """(cases updated on `day`, registrations completed on `day`) in the serving copy."""
    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error:
        return None
    try:
        start, end = dt.datetime.combine(day, dt.time()), dt.datetime.combine(day, dt.time(23))
        cases = con.execute(
            "select count(*) from marts.fct_permit_cases where updated_at between ? and ?",
            [start, end + dt.timedelta(hours=1)],
        ).fetchone()[0]
        entities = con.execute(
            "select count(*) from marts.fct_market_entity_events where completed_date = ?", [day]
        ).fetchone()[0]
        return cases, entities
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deployment", type=Path, required=True)
    ap.add_argument("--cases", type=int, default=30_000)
    ap.add_argument("--entities", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    deployment = args.deployment.resolve()
    env = _env(deployment)
    serving = deployment / "serving" / "warehouse.duckdb"
    con = duckdb.connect(str(serving), read_only=True)
    last = (
        con.execute(
            "select greatest((select max(updated_at) from raw.permit_cases), "
            "(select max(updated_at) from raw.market_entities))"
        )
        .fetchone()[0]
        .date()
    )
    cases = con.execute("select count(*) from marts.fct_permit_cases").fetchone()[0]
    con.close()
    print(f"{deployment}: {cases:,} cases, newest update {last}", flush=True)
    log = deployment / "dagster-dev.log"
    seconds = []
    with dagster_dev(deployment, env, log) as daemon:
        for i in range(args.repeat):
            day = last + dt.timedelta(days=i + 1)
            con = duckdb.connect(str(serving), read_only=True)
            files = day_files(con, day, args.cases, args.entities, seed=1000 + i)
            con.close()
            staged = deployment / f"day-{day}"
            staged.mkdir(exist_ok=True)
            paths = [write_landing_file(f, staged) for f in files]
            want = (files[0].rows.height, files[1].rows.height)
            dropped = time.time()
            for f, path in zip(files, paths, strict=True):
                os.replace(path, deployment / "landing" / f.source / path.name)
            while (seen := _shows(serving, day)) != want:
                if time.time() - dropped > args.timeout or daemon.poll() is not None:
                    raise SystemExit(f"{day}: serving shows {seen}, not {want}; see {log}")
                time.sleep(0.5)
            took = time.time() - dropped
            seconds.append(took)
            print(
                f"day {day}: {took:.1f} s from the drop until the serving copy showed "
                f"{want[0]:,} case versions and {want[1]:,} registrations",
                flush=True,
            )
            print("\n".join(_phases(deployment, dropped)), flush=True)
            time.sleep(15)  # the automation run (the report) passes
    print(
        f"median daily build {statistics.median(seconds):.1f} s over {len(seconds)} day(s) "
        f"onto {cases:,} cases"
    )


if __name__ == "__main__":
    main()
