"""End-to-end benchmark of the demo: wall time and peak memory of `kzdw run` on the demo set.

    .venv/bin/python benchmarks/demo.py --repeat 3 [--scale 1]

Writes the demo landing set once, then for each repeat builds a fresh warehouse (new DuckDB
file, new Dagster home) with `kzdw run`, sampling the resident memory of the whole process
tree (kzdw, dbt) every 0.2 s from /proc. Prints each run and the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree_rss_kib(root_pid: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        rss[int(entry)] = int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak MiB of the process tree, return code)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=Path(env["KZDW_LANDING_DIR"]).parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return time.perf_counter() - started, peak / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kzdw-demo-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
    base.update(KZDW_AS_OF="")
    demo_landing = work / "demo-landing"
    kzdw = [sys.executable, "-m", "kzdw.cli"]
    t, _, rc = run_measured(
        [*kzdw, "demo", "--scale", str(args.scale)],
        {**base, "KZDW_LANDING_DIR": str(demo_landing), "DAGSTER_HOME": str(work / "dh0")},
    )
    assert rc == 0
    print(f"kzdw demo (scale {args.scale}): {t:.1f} s")
    times, peaks = [], []
    for i in range(args.repeat):
        run_dir = work / f"run{i + 1}"
        # A run moves what it loads out of the landing folder: each run gets its own copy.
        shutil.copytree(demo_landing, run_dir / "landing")
        env = {
            **base,
            "KZDW_LANDING_DIR": str(run_dir / "landing"),
            "KZDW_WAREHOUSE": str(run_dir / "warehouse.duckdb"),
            "DAGSTER_HOME": str(run_dir / "dagster_home"),
        }
        t, peak, rc = run_measured([*kzdw, "run"], env)
        assert rc == 0, f"kzdw run failed (exit {rc})"
        times.append(t)
        peaks.append(peak)
        print(f"run {i + 1}: kzdw run {t:.1f} s, peak RSS of the process tree {peak:.0f} MiB")
    print(f"median: {statistics.median(times):.1f} s wall, {statistics.median(peaks):.0f} MiB peak")


if __name__ == "__main__":
    main()
