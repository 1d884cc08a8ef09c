"""Storing a run's Dagster events: Dagster's SQLite event log against kzdw's
(orchestration/lib/event_log.py), on the same events.

    .venv/bin/python benchmarks/event_log.py --dagster-home D [--run-id R] [--repeat 5]

Reads every event of a finished run (the latest of instance D unless --run-id) and stores them
again, one by one as a run does, into a fresh folder with each class in turn: --repeat rounds,
the two classes alternating within a round. Prints each store's wall and CPU seconds, then the
medians and the median of the pairwise ratios. A `kzdw run` of the demo leaves some 700 events
(`kzdw demo && kzdw run`, then D is its $DAGSTER_HOME).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _events(dagster_home: Path, run_id: str | None) -> tuple[str, list]:
    """A finished run's events, read with Dagster's own class from the instance's files."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    folder = dagster_home / "history" / "runs"
    if run_id is None:
        shards = [p for p in folder.glob("*.db") if p.stem != "index"]
        if not shards:
            raise SystemExit(f"no run in {folder}: run `kzdw run` with DAGSTER_HOME={dagster_home}")
        run_id = max(shards, key=lambda p: p.stat().st_mtime).stem
    storage = SqliteEventLogStorage(str(folder))
    try:
        records = storage.get_records_for_run(run_id).records
    finally:
        storage.dispose()
    if not records:
        raise SystemExit(f"run {run_id} has no events in {folder}")
    return run_id, [r.event_log_entry for r in records]


def _store(cls, events: list) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="kzdw-event-log-") as folder:
        storage = cls(folder)
        wall, cpu = time.perf_counter(), time.process_time()
        for event in events:
            storage.store_event(event)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        storage.dispose()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagster-home", type=Path, required=True)
    parser.add_argument("--run-id")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from orchestration.lib.event_log import EngineKeepingSqliteEventLogStorage

    run_id, events = _events(args.dagster_home, args.run_id)
    print(f"run {run_id}: {len(events)} events")
    classes = {"dagster": SqliteEventLogStorage, "kzdw": EngineKeepingSqliteEventLogStorage}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in classes}
    for round_ in range(args.repeat):
        order = list(classes) if round_ % 2 == 0 else list(reversed(classes))
        for name in order:
            wall, cpu = _store(classes[name], events)
            times[name].append((wall, cpu))
            print(f"round {round_ + 1} {name:8s} wall {wall:6.2f} s  cpu {cpu:6.2f} s")
    for name, got in times.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"median {name:8s} wall {wall:6.2f} s  cpu {cpu:6.2f} s")
    ratios = [k[0] / d[0] for d, k in zip(times["dagster"], times["kzdw"], strict=True)]
    print(f"kzdw / dagster, wall, median of pairs: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
