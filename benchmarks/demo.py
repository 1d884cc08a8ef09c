"""End-to-end benchmark of the demo: wall time and peak memory of `kzdw run` on the demo set.

    .venv/bin/python benchmarks/demo.py --repeat 3 [--scale 1]
    .venv/bin/python benchmarks/demo.py --scales 1,20,100,200 --work /var/tmp/kzdw-scales
    .venv/bin/python benchmarks/demo.py --scales 200 --work W --results W/scales.json --keep
    .venv/bin/python benchmarks/demo.py --scale 20 --repeat 1 --engines duckdb,spark

Writes the demo landing set once, then for each repeat builds a fresh warehouse (new DuckDB
file, new Dagster home) with `kzdw run`, sampling the resident memory of the whole process
tree (kzdw, dbt, and the JVM a Spark build starts) every 0.2 s from /proc. Prints each run and
the medians; with --engines, each engine's in turn on the same landing set and the median of
their pairwise ratio; with --scales, a
table of time and peak memory against the data's size (time x and data x: relative to the
first scale), removing each scale's files before the next. --results keeps each scale's
figures in a JSON file, so that a long table can be measured a scale at a time (a scale
already there is not measured again) and printed whole; --keep leaves the last run's folder
(landing archive, warehouse, serving copy) for `benchmarks/daily.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

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


def _landing_stats(landing: Path) -> tuple[int, int]:
    """(files, bytes) of a landing set."""
    files = [p for p in landing.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure_scale(
    work: Path,
    base: dict,
    scale: float,
    repeat: int,
    keep: bool = False,
    engines: tuple[str, ...] = ("duckdb",),
) -> dict:
    """Write the demo at `scale` (timed, peak memory) and build it `repeat` times with each
    engine (KZDW_ENGINE); each run on its own copy of the landing set (a run moves what it
    loads), removed after."""
    kzdw = [sys.executable, "-m", "kzdw.cli"]
    demo_landing = work / f"landing-{scale:g}"
    t, peak, rc = run_measured(
        [*kzdw, "demo", "--scale", str(scale), "--force"],
        {**base, "KZDW_LANDING_DIR": str(demo_landing), "DAGSTER_HOME": str(work / "dh0")},
    )
    assert rc == 0, f"kzdw demo --scale {scale} failed (exit {rc})"
    files, size = _landing_stats(demo_landing)
    print(
        f"kzdw demo (scale {scale:g}): {t:.1f} s, peak {peak:.0f} MiB, {files} files, "
        f"{size / 2**20:,.0f} MiB",
        flush=True,
    )
    out = {"scale": scale, "demo_s": t, "demo_mib": peak, "files": files, "bytes": size}
    measured: dict[str, tuple[list[float], list[float]]] = {e: ([], []) for e in engines}
    last = (repeat - 1, engines[-1])
    # The engines take turns, run after run, so that a busier spell of the machine falls on
    # both alike.
    for i in range(repeat):
        for engine in engines:
            run_dir = work / f"run-{scale:g}-{engine}-{i + 1}"
            if (i, engine) != last:
                shutil.copytree(demo_landing, run_dir / "landing")
            else:
                run_dir.mkdir(parents=True)
                demo_landing.rename(run_dir / "landing")
            env = {
                **base,
                "KZDW_ENGINE": engine,
                "KZDW_LANDING_DIR": str(run_dir / "landing"),
                "KZDW_WAREHOUSE": str(run_dir / "warehouse.duckdb"),
                "DAGSTER_HOME": str(run_dir / "dagster_home"),
            }
            t, peak, rc = run_measured([*kzdw, "run"], env)
            assert rc == 0, f"kzdw run ({engine}) failed (exit {rc})"
            con = duckdb.connect(str(run_dir / "serving" / "warehouse.duckdb"), read_only=True)
            out["cases"] = con.execute("select count(*) from marts.fct_permit_cases").fetchone()[0]
            out["versions"] = con.execute("select count(*) from raw.permit_cases").fetchone()[0]
            con.close()
            out["warehouse_bytes"] = (run_dir / "warehouse.duckdb").stat().st_size
            measured[engine][0].append(t)
            measured[engine][1].append(peak)
            print(
                f"run {i + 1} ({engine}): kzdw run {t:.1f} s, peak RSS of the process tree "
                f"{peak:.0f} MiB",
                flush=True,
            )
            if not (keep and (i, engine) == last):
                shutil.rmtree(run_dir)
            else:
                print(f"kept {run_dir}", flush=True)
    for engine, (times, peaks) in measured.items():
        out[f"run_s_{engine}"] = statistics.median(times)
        out[f"run_mib_{engine}"] = statistics.median(peaks)
        print(
            f"median ({engine}): {statistics.median(times):.1f} s wall, "
            f"{statistics.median(peaks):.0f} MiB peak ({len(times)} run(s) at scale {scale:g})",
            flush=True,
        )
    out["run_s"], out["run_mib"] = out[f"run_s_{engines[0]}"], out[f"run_mib_{engines[0]}"]
    if len(engines) > 1:
        times = {e: measured[e][0] for e in engines}
        ratios = [b / a for a, b in zip(times[engines[0]], times[engines[1]], strict=True)]
        print(
            f"{engines[1]} / {engines[0]}: {statistics.median(ratios):.2f}x wall time "
            "(median of the pairwise ratios)",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument(
        "--scales",
        help="comma-separated scales (e.g. 1,20,100,200): one table of every scale; runs that "
        "take over 10 minutes are measured once",
    )
    ap.add_argument("--work", type=Path, help="working folder (default: a new temporary one)")
    ap.add_argument("--results", type=Path, help="JSON file of each scale's figures, kept")
    ap.add_argument("--keep", action="store_true", help="keep the last run's folder")
    ap.add_argument(
        "--engines",
        default="duckdb",
        help="comma-separated engines to build with, side by side (e.g. duckdb,spark)",
    )
    args = ap.parse_args()
    engines = tuple(args.engines.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="kzdw-demo-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("KZDW_")}
    base.update(KZDW_AS_OF="")
    if not args.scales:
        measure_scale(work, base, args.scale, args.repeat, engines=engines)
        return
    recorded = {}
    if args.results and args.results.exists():
        recorded = {r["scale"]: r for r in json.loads(args.results.read_text())}
    for scale in (float(x) for x in args.scales.split(",")):
        if scale in recorded:
            print(f"scale {scale:g}: from {args.results}", flush=True)
            continue
        repeat = args.repeat if scale <= 20 else 1
        recorded[scale] = measure_scale(work, base, scale, repeat, keep=args.keep, engines=engines)
        if args.results:
            args.results.write_text(json.dumps(list(recorded.values()), indent=1))
    rows = sorted(recorded.values(), key=lambda r: r["scale"])
    first = rows[0]
    print(
        "\n| scale | cases | case versions | landing MiB | kzdw demo s | demo peak MiB | "
        "kzdw run s | run peak MiB | warehouse MiB | run s per M versions | time x | data x |"
    )
    print("|" + "---|" * 12)
    for r in rows:
        print(
            f"| {r['scale']:g} | {r['cases']:,} | {r['versions']:,} | {r['bytes'] / 2**20:,.0f} | "
            f"{r['demo_s']:.0f} | {r['demo_mib']:,.0f} | {r['run_s']:.0f} | {r['run_mib']:,.0f} | "
            f"{r['warehouse_bytes'] / 2**20:,.0f} | {r['run_s'] / r['versions'] * 1e6:.1f} | "
            f"{r['run_s'] / first['run_s']:.1f} | {r['versions'] / first['versions']:.1f} |"
        )


if __name__ == "__main__":
    main()
