"""Faults, produced for real: two `kzdw run` started together; SIGKILL while the serving copy
is published and while the report is printed; the disk filling up during a load; a warehouse
file that is damaged or was written by a newer DuckDB."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from benchmarks.ingest import make_csv
from sources.contracts import PERMIT_CASES
from sources.loader import DiskFull, load_pending
from tests.handmade import make_landing

IN_CREATE = 0x100
IN_MOVED_TO = 0x80


def _build(deployment, seed: int):
    made = make_landing(deployment.root / "made", seed)
    shutil.copytree(made.root, deployment.landing)
    return made


def _start(deployment, *args: str, log: str) -> subprocess.Popen:
    out = (deployment.root / log).open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "kzdw.cli", *args],
        cwd=deployment.root,
        env=deployment.env(),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Watch:
    """inotify on a folder: wakes the moment a file is created there (a copy being published
    lasts milliseconds; polling would miss it)."""

    def __init__(self, folder: Path) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        folder.mkdir(parents=True, exist_ok=True)
        wd = self.libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_CREATE | IN_MOVED_TO)
        assert wd >= 0

    def wait_for(self, suffix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                continue
            data = os.read(self.fd, 65536)
            offset = 0
            while offset < len(data):
                _, _, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0").decode()
                offset += 16 + length
                if name.endswith(suffix):
                    return name
        raise AssertionError(f"no file ending in {suffix} appeared within {timeout} s")

    def close(self) -> None:
        os.close(self.fd)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.slow
def test_two_runs_started_together_one_waits_and_both_succeed(deployment):
    made = _build(deployment, 21)
    n_files = sum(1 for p in made.root.rglob("*") if p.is_file())
    first = _start(deployment, "run", log="a.log")
    second = _start(deployment, "run", log="b.log")
    assert first.wait(timeout=900) == 0, (deployment.root / "a.log").read_text()
    assert second.wait(timeout=900) == 0, (deployment.root / "b.log").read_text()
    logs = [(deployment.root / name).read_text(encoding="utf-8") for name in ("a.log", "b.log")]
    assert sum("waiting for it to finish" in log for log in logs) == 1
    # Every file was taken once: by whichever run came first, found known by the other.
    statuses = dict(
        deployment.query("select status, count(*) from audit.file_loads group by status")
    )
    assert sum(statuses.values()) == n_files
    assert statuses.get("duplicate", 0) == len(made.duplicates)
    assert [p for p in deployment.landing.rglob("*") if p.is_file()] == []


@pytest.mark.slow
def test_sigkill_while_publishing_and_while_printing_leaves_the_previous_files(handmade_copy):
    # A deployment after its first build, with a serving copy and a report.
    deployment = handmade_copy
    serving = deployment.serving
    before = _sha(serving)
    [report_dir] = (deployment.root / "reports").iterdir()
    # A larger file to load: the new copy then takes long enough to write (half a second and
    # more) that the kill below, the moment inotify reports it, lands while it is written.
    make_csv(deployment.landing / "permit_cases" / "big.csv", 100_000)

    # Killed the moment the new copy starts being written beside the old one.
    watch = Watch(serving.parent)
    try:
        proc = _start(deployment, "run", log="killed-publish.log")
        partial = watch.wait_for(".partial", timeout=600)
        _kill(proc)
    finally:
        watch.close()
    assert partial.startswith(f".{serving.name}.")
    assert _sha(serving) == before
    con = duckdb.connect(str(serving), read_only=True)
    assert con.execute("select count(*) from marts.kpi_values").fetchone()[0] > 0
    con.close()

    # Killed while Chromium prints the PDF (the HTML was just replaced, the workbook is being
    # written meanwhile), by `kzdw report`, which writes the report as the run's last step
    # does (build_report).
    proc = _start(deployment, "report", log="killed-report.log")
    deadline = time.monotonic() + 600
    while not _chromium_running(proc.pid):
        assert proc.poll() is None, (deployment.root / "killed-report.log").read_text()
        assert time.monotonic() < deadline, "Chromium never started"
        time.sleep(0.02)
    _kill(proc)
    _assert_whole_report(report_dir)

    run = deployment.kzdw("run")
    assert run.returncode == 0, run.output
    assert "died: marked failed, slot freed" in run.output
    _assert_whole_report(report_dir)
    # The killed runs' half-written files are gone.
    leftovers = [p for p in deployment.root.rglob(".*.partial")]
    assert leftovers == []


def _chromium_running(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            if "chrom" in (entry / "comm").read_text():
                return True
        except (OSError, ValueError):
            continue
    return False


def _assert_whole_report(folder: Path) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    with zipfile.ZipFile(folder / "report.xlsx") as book:
        assert book.testzip() is None
    pdf = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True)
    assert pdf.returncode == 0 and "开州区" in pdf.stdout.decode("utf-8")


@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB filesystem of its own (tmpfs), or None where this machine allows no mount."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_a_load_keeps_nothing_of_the_file_and_says_which_disk(
    small_disk, tmp_path
):
    landing = tmp_path / "landing"
    (landing / "permit_cases").mkdir(parents=True)
    make_csv(landing / "permit_cases" / "a_small.csv", 2_000, id_prefix="S")
    make_csv(landing / "permit_cases" / "b_big.csv", 600_000, id_prefix="B")
    os.utime(landing / "permit_cases" / "a_small.csv", (1_000, 1_000))
    os.utime(landing / "permit_cases" / "b_big.csv", (2_000, 2_000))
    if small_disk is not None:
        warehouse = small_disk / "w.duckdb"
        load = _load_until_full(warehouse, landing)
    else:
        # No mount here: the same failure from the file layer, a size limit on the process.
        warehouse = tmp_path / "w.duckdb"
        load = _load_until_full_in_a_limited_process(warehouse, landing)
    assert "b_big.csv" in load and str(warehouse) in load
    if small_disk is not None:
        assert "磁盘已满" in load and f"disk {small_disk} holding" in load
    else:
        assert "文件大小超过限制" in load

    if small_disk is not None:
        subprocess.run(["mount", "-o", "remount,size=400m", str(small_disk)], check=True)
    else:
        shutil.move(warehouse, tmp_path / "w2.duckdb")
        warehouse = tmp_path / "w2.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        files = con.execute("select file_name, status from audit.file_loads").fetchall()
        assert files == [("a_small.csv", "loaded")]
        assert con.execute("select count(*) from raw.permit_cases").fetchone()[0] == 2_000 - 1
        [result] = load_pending(con, landing, PERMIT_CASES, pii_key="k" * 32)
    finally:
        con.close()
    # make_csv breaks trips on every 100,000th row from row 6: six rejects in 600,000 rows.
    assert (result.file_name, result.status, result.rows_loaded) == ("b_big.csv", "loaded", 599_994)


def _load_until_full(warehouse: Path, landing: Path) -> str:
    con = duckdb.connect(str(warehouse))
    try:
        with pytest.raises(DiskFull) as caught:
            load_pending(con, landing, PERMIT_CASES, pii_key="k" * 32)
    finally:
        try:
            con.close()
        except duckdb.Error:
            pass
    return str(caught.value)


LIMITED = """
import resource, signal, sys
import duckdb
from pathlib import Path
from sources.contracts import PERMIT_CASES
from sources.loader import DiskFull, load_pending
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (15 * 2**20, 15 * 2**20))
con = duckdb.connect(sys.argv[1])
try:
    load_pending(con, Path(sys.argv[2]), PERMIT_CASES, pii_key="k" * 32)
except DiskFull as exc:
    print(exc)
"""


def _load_until_full_in_a_limited_process(warehouse: Path, landing: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, str(warehouse), str(landing)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.stdout + proc.stderr


def _newer(path: Path) -> None:
    """A warehouse as a future DuckDB would write it: the storage version in both database
    headers raised, their checksums made again (DuckDB's own block checksum)."""
    con = duckdb.connect(str(path))
    con.execute("create table t as select 1 as a")
    con.close()
    data = bytearray(path.read_bytes())
    mask = (1 << 64) - 1
    for header in (4096, 8192):
        struct.pack_into("<Q", data, header + 0x38, 99)
        checksum = 5381
        for i in range(8, 4096, 8):
            word = struct.unpack_from("<Q", data, header + i)[0]
            checksum ^= (word * 0xBF58476D1CE4E5B9) & mask
        struct.pack_into("<Q", data, header, checksum)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "newer"])
def test_a_damaged_or_newer_warehouse_is_refused_in_words(deployment, damage):
    deployment.landing.mkdir(parents=True)
    path = deployment.warehouse
    if damage == "garbage":
        path.write_bytes(os.urandom(50_000))
    elif damage == "truncated":
        con = duckdb.connect(str(path))
        con.execute("create table t as select range as a from range(100000)")
        con.close()
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        _newer(path)
    expected = "更新版本的 DuckDB" if damage == "newer" else "已损坏"
    run = deployment.kzdw("run")
    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output
    assert str(path) in run.output and expected in run.output, run.output
    # The analysts' commands read the serving copy: the same file there is refused alike.
    serving = deployment.serving
    serving.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, serving)
    for command in (("kpis",), ("sql", "-c", "select 1")):
        run = deployment.kzdw(*command)
        assert run.returncode == 2 and "Traceback" not in run.output, run.output
        assert expected in run.output, run.output
