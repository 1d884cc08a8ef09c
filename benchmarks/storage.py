"""Storage over many loads: the warehouse file after N incremental loads against a fresh build
of the same data, and the serving copy's free blocks.

    .venv/bin/python benchmarks/storage.py --loads 20 [--scale 1] [--rows 2000]

1. Writes the demo landing set and builds it with `kzdw run` (KZDW_AS_OF=2023-06-30).
2. N times: drops one file of --rows new permit cases (June 2023) and runs `kzdw run` again,
   the way a day's delivery is loaded; after each, prints the warehouse's size and its used
   and free blocks (`pragma database_size`), and the serving copy's.
3. Builds the same data afresh with `kzdw replay --into` (every archived file, in the order it
   was loaded) and prints the ratio of the two files' sizes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import make_csv  # noqa: E402


def _env(work: Path, warehouse: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
    env.update(
        KZDW_LANDING_DIR=str(work / "landing"),
        KZDW_WAREHOUSE=str(warehouse or work / "warehouse.duckdb"),
        KZDW_AS_OF="2023-06-30",
        DAGSTER_HOME=str(work / "dagster_home"),
    )
    return env


def _kzdw(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "kzdw.cli", *args],
        cwd=Path(env["KZDW_LANDING_DIR"]).parent,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-3000:])
        raise SystemExit(f"kzdw {' '.join(args)} failed (exit {proc.returncode})")
    return time.perf_counter() - started


def blocks(path: Path) -> tuple[int, int, int, int]:
    """(file bytes, block size, used blocks, free blocks)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        _, _, block_size, total, used, free, *_ = con.execute("pragma database_size").fetchone()
    finally:
        con.close()
    assert total == used + free
    return path.stat().st_size, block_size, used, free


def _line(label: str, path: Path) -> str:
    size, block_size, used, free = blocks(path)
    return (
        f"{label} {size / 2**20:8.1f} MiB  used {used * block_size / 2**20:8.1f} MiB  "
        f"free {free:5d} blocks ({free * block_size / 2**20:6.1f} MiB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--rows", type=int, default=2_000)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/kzdw-storage"))
    args = ap.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = _env(work)
    warehouse, serving = work / "warehouse.duckdb", work / "serving" / "warehouse.duckdb"
    _kzdw(env, "demo", "--scale", str(args.scale), "--force")
    seconds = _kzdw(env, "run")
    print(f"first build {seconds:5.1f} s  warehouse {_line('', warehouse)}")
    print(f"{'':20s}serving   {_line('', serving)}")
    for i in range(args.loads):
        stamp = f"S{i:03d}"
        make_csv(
            work / "landing" / "permit_cases" / f"办件_日增量_{stamp}.csv",
            args.rows,
            seed=500 + i,
            id_prefix=stamp,
            start="2023-06-01T08:00:00",
            span_days=29,
        )
        seconds = _kzdw(env, "run")
        print(f"load {i + 1:3d}    {seconds:5.1f} s  warehouse {_line('', warehouse)}")
    print(f"{'':20s}serving   {_line('', serving)}")
    fresh = work / "fresh" / "warehouse.duckdb"
    seconds = _kzdw(env, "replay", "--into", str(fresh))
    print(f"fresh build {seconds:5.1f} s  warehouse {_line('', fresh)}")
    grown, fresh_size = warehouse.stat().st_size, fresh.stat().st_size
    print(
        f"after {args.loads} loads the warehouse is {grown / fresh_size:.2f}x a fresh build of "
        f"the same data ({grown / 2**20:.1f} / {fresh_size / 2**20:.1f} MiB); the serving copy "
        f"holds {blocks(serving)[3]} free blocks"
    )


if __name__ == "__main__":
    main()
