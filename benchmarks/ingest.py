"""Ingest benchmark: validated load of N permit-case rows vs DuckDB's own read_csv.

    .venv/bin/python benchmarks/ingest.py --rows 5000000 --repeat 3

Writes one synthetic permit-case CSV (Chinese headers, contract-valid, a few bad rows), then,
in the same run, times (a) `create table as select * from read_csv(...)` in a fresh DuckDB file
and (b) `sources.loader.load_file` (read, type, check every rule, hash personal data, insert
raw + audit) into another fresh DuckDB file. Prints each run and the medians; the ratio to
hold is the median of the runs' own ratios (each run's two loads back to back see the same
machine). The working folder (the CSV is about 180 bytes a row) is removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from sources.contracts import PERMIT_CASES
from sources.loader import load_file
from sources.warehouse import ensure_schema


def make_csv(
    path: Path,
    rows: int,
    seed: int = 7,
    id_prefix: str = "KZ",
    start: str = "2018-01-01T08:00:00",
    span_days: int = 5 * 365,
) -> None:
    """`rows` completed permit cases `{id_prefix}000000000`..., submitted within `span_days`
    from `start`."""
    rng = np.random.default_rng(seed)
    base = np.datetime64(start)
    submitted = base + rng.integers(0, span_days * 86400, rows).astype("timedelta64[s]")
    accepted = submitted + rng.integers(60, 86400, rows).astype("timedelta64[s]")
    completed = accepted + rng.integers(3600, 10 * 86400, rows).astype("timedelta64[s]")
    updated = completed + np.timedelta64(3600, "s")
    fmt = "%Y-%m-%d %H:%M:%S"
    intake = np.array(["网上申报", "一窗综办", "部门窗口", "跨省通办", "川渝通办", "五省通办"])
    frame = pl.DataFrame(
        {
            "办件编号": [f"{id_prefix}{i:09d}" for i in range(rows)],
            "事项编码": [f"11500154MB{i % 1500:05d}" for i in range(rows)],
            "办理渠道": np.where(rng.random(rows) < 0.9, "全程网办", "窗口办理"),
            "受理方式": intake[rng.integers(0, 6, rows)],
            "申请人类型": np.where(rng.random(rows) < 0.8, "自然人", "法人"),
            "申请人证件号码": [
                f"500234{19600101 + i % 400000:08d}{i % 1000:03d}X" for i in range(rows)
            ],
            "申请时间": pl.Series(submitted.astype("datetime64[ms]")).dt.strftime(fmt),
            "受理时间": pl.Series(accepted.astype("datetime64[ms]")).dt.strftime(fmt),
            "办结时间": pl.Series(completed.astype("datetime64[ms]")).dt.strftime(fmt),
            "办件状态": "已办结",
            "跑动次数": rng.integers(0, 2, rows),
            "承诺时限（工作日）": rng.integers(0, 20, rows),
            "评价": "满意",
            "更新时间": pl.Series(updated.astype("datetime64[ms]")).dt.strftime(fmt),
        }
    )
    # A few rows that break rules, as real exports have.
    frame = frame.with_columns(
        pl.when(pl.int_range(rows) % 100_000 == 5)
        .then(pl.lit("99"))
        .otherwise(pl.col("跑动次数").cast(pl.Utf8))
        .alias("跑动次数")
    )
    frame.write_csv(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kzdw-bench-"))
    try:
        _run(work, args.rows, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, rows: int, repeat: int) -> None:
    csv = work / "permit_cases.csv"
    t = time.perf_counter()
    make_csv(csv, rows)
    print(
        f"wrote {rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - t:.1f} s"
    )
    duck, ours = [], []
    for i in range(repeat):
        db = work / f"duck{i}.duckdb"
        con = duckdb.connect(str(db))
        t = time.perf_counter()
        con.execute(f"create table t as select * from read_csv('{csv}')")
        duck.append(time.perf_counter() - t)
        con.close()
        db.unlink()
        db = work / f"ours{i}.duckdb"
        con = duckdb.connect(str(db))
        ensure_schema(con)
        t = time.perf_counter()
        r = load_file(con, PERMIT_CASES, csv, pii_key="bench")
        ours.append(time.perf_counter() - t)
        assert r.rows_read == r.rows_loaded + r.rows_rejected == rows, r
        con.close()
        db.unlink()
        print(
            f"run {i + 1}: duckdb read_csv {duck[-1]:.2f} s   kzdw load_file {ours[-1]:.2f} s "
            f"(loaded {r.rows_loaded:,}, rejected {r.rows_rejected:,}) "
            f"ratio {ours[-1] / duck[-1]:.2f}"
        )
    md, mo = statistics.median(duck), statistics.median(ours)
    pairwise = statistics.median(o / d for o, d in zip(ours, duck, strict=True))
    print(
        f"median: duckdb read_csv {md:.2f} s ({rows / md / 1e6:.2f} M rows/s); "
        f"kzdw load_file {mo:.2f} s ({rows / mo / 1e6:.2f} M rows/s); ratio {mo / md:.2f}; "
        f"pairwise ratio {pairwise:.2f}"
    )


if __name__ == "__main__":
    main()
