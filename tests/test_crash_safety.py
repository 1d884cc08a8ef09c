"""A run killed with SIGKILL in the middle of loading a file leaves nothing of that file, and
the next run loads it completely: one DuckDB transaction per file, for real."""

import os
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.ingest import make_csv

pytestmark = pytest.mark.slow

# Enough rows that the load writes for over a second (about 20 MB here): the kill below lands
# inside it.
ROWS = 400_000
# make_csv breaks trips (99) on every 100,000th row, from the sixth on.
BROKEN = len(range(5, ROWS, 100_000))


def _size(path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.exists())


def test_sigkill_mid_load_leaves_nothing_and_the_next_run_loads_all(deployment):
    folder = deployment.landing / "permit_cases"
    folder.mkdir(parents=True)
    make_csv(folder / "big.csv", ROWS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kzdw.cli", "run"],
        cwd=deployment.root,
        env=deployment.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # The file's rows are being written once the database file grows well past the empty
        # schema (about 1 MB): that is inside the file's transaction, which ends at about
        # 20 MB. Kill the whole process group there.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if deployment.warehouse.exists() and _size(deployment.warehouse) > 6_000_000:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed mid-load"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    counts = deployment.query(
        "select (select count(*) from audit.file_loads where file_name = 'big.csv'), "
        "(select count(*) from audit.rejected_rows where file_name = 'big.csv'), "
        "(select count(*) from raw.permit_cases)"
    )
    assert counts == [(0, 0, 0)]
    assert (folder / "big.csv").exists()

    run = deployment.kzdw("run")
    assert run.returncode == 0, run.output
    # The killed run still held the one-slot warehouse pool: the next run gave it back.
    assert "died: marked failed, slot freed" in run.output
    loaded = deployment.query(
        "select status, rows_read, rows_loaded, rows_rejected from audit.file_loads "
        "where file_name = 'big.csv'"
    )
    assert BROKEN == 4 and loaded == [("loaded", ROWS, ROWS - BROKEN, BROKEN)]
    assert deployment.query("select count(*) from raw.permit_cases") == [(ROWS - BROKEN,)]
