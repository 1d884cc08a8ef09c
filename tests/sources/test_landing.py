"""The landing folder is the boundary: only regular files directly in <landing>/<source>/ are
read; links, pipes, sockets, devices and folders are skipped with a reason; names may hold any
bytes; a file still being written is never loaded half."""

import os
import shutil
import socket
import stat
import time

import duckdb
import pytest

from sources.contracts import SERVICE_ITEMS
from sources.landing import (
    SETTLE_SECONDS,
    FileChanged,
    LandingFile,
    display_name,
    opened,
    scan,
    settled,
)
from sources.loader import load_pending
from tests.sources.test_validate import GOOD

HEADER = ",".join(c.header_zh for c in SERVICE_ITEMS.columns)
KEY = "k" * 32


def _csv(code: str) -> str:
    row = {**GOOD["service_items"], "item_code": code}
    values = ["" if row[c.name] is None else row[c.name] for c in SERVICE_ITEMS.columns]
    return f"{HEADER}\n{','.join(values)}\n"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "landing" / "service_items"
    path.mkdir(parents=True)
    return path


def _old(path, seconds: int = 1_000) -> None:
    os.utime(path, (seconds, seconds), follow_symlinks=False)


def test_only_regular_files_are_candidates_and_the_rest_is_said(folder, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text(_csv("SECRET"), encoding="utf-8")
    (folder / "good.csv").write_text(_csv("I1"), encoding="utf-8")
    (folder / "link.csv").symlink_to(outside)
    (folder / "dir_link").symlink_to(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.csv").write_text(_csv("NESTED"), encoding="utf-8")
    os.mkfifo(folder / "pipe.csv")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.csv"))
    if os.geteuid() == 0:
        os.mknod(folder / "dev.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    (folder / "half.csv.part").write_text("being written", encoding="utf-8")
    (folder / ".hidden.csv").write_text(_csv("HIDDEN"), encoding="utf-8")
    try:
        listing = scan(folder.parent, SERVICE_ITEMS)
    finally:
        sock.close()
    assert [f.name for f in listing.files] == ["good.csv"]
    why = {s.name: s.why for s in listing.skipped}
    expected = {"link.csv", "dir_link", "sub", "pipe.csv", "sock.csv"}
    if os.geteuid() == 0:
        expected.add("dev.csv")
    assert set(why) == expected
    assert why["link.csv"].startswith("符号链接") and "never followed" in why["link.csv"]
    assert "named pipe" in why["pipe.csv"] and "socket" in why["sock.csv"]
    assert "folder" in why["sub"]
    if os.geteuid() == 0:
        assert "character device" in why["dev.csv"]


def test_a_linked_source_folder_is_not_followed(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "items.csv").write_text(_csv("I1"), encoding="utf-8")
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "service_items").symlink_to(real)
    listing = scan(tmp_path / "landing", SERVICE_ITEMS)
    assert listing.files == []
    assert "symbolic link" in listing.skipped[0].why


def test_names_with_any_bytes_load_and_are_stored_printable(folder, tmp_path):
    names = {
        b"quote\"and'apostrophe.csv": "quote\"and'apostrophe.csv",
        b"new\nline.csv": "new\\nline.csv",
        b"bytes\xff\xfe.csv": "bytes\\xff\\xfe.csv",
        "办件 (2023).csv".encode(): "办件 (2023).csv",
        b"back\\slash\x1b[31m.csv": "back\\\\slash\\x1b[31m.csv",
        b"rtl\xe2\x80\xaevsc.csv": "rtl\\u202evsc.csv",
    }
    for i, raw in enumerate(names):
        path = os.path.join(os.fsencode(folder), raw)
        with open(path, "w", encoding="utf-8") as f:
            f.write(_csv(f"I{i}"))
        os.utime(path, (1_000 + i, 1_000 + i))
    con = duckdb.connect()
    results = load_pending(con, folder.parent, SERVICE_ITEMS, pii_key=KEY)
    assert [r.file_name for r in results] == list(names.values())
    assert [r.status for r in results] == ["loaded"] * len(names)
    stored = con.execute("select file_name from audit.file_loads order by load_id").fetchall()
    assert [s for (s,) in stored] == list(names.values())
    assert con.execute("select count(*) from raw.service_items").fetchone() == (len(names),)
    # A second look finds every one of them known: nothing is loaded twice.
    assert load_pending(con, folder.parent, SERVICE_ITEMS, pii_key=KEY) == []


def test_display_name_is_reversible_in_what_it_keeps():
    assert display_name("plain 名称.csv") == "plain 名称.csv"
    assert display_name("a\tb\x7f\x9bc") == "a\\tb\\x7f\\x9bc"


def test_a_file_is_settled_only_after_the_settle_time(folder):
    path = folder / "young.csv"
    path.write_text(_csv("I1"), encoding="utf-8")
    written = path.stat().st_mtime_ns
    f = LandingFile.at(path)
    clock = {"now": written + 1 * 10**9}
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += int(seconds * 10**9)

    # Looked at 1 s after its last write: waits the other 2 s, sees it unchanged, takes it.
    ready, young = settled([f], clock=lambda: clock["now"], sleep=sleep)
    assert (ready, young) == ([f], [])
    assert slept == [pytest.approx(SETTLE_SECONDS - 1)]
    # Without waiting it is too young.
    ready, young = settled([f], wait=False, clock=lambda: written + 10**9)
    assert (ready, young) == ([], [f])

    # Written to while waited for: not taken.
    def sleep_and_write(seconds):
        with path.open("a", encoding="utf-8") as out:
            out.write(_csv("I2").splitlines()[1] + "\n")

    ready, young = settled([f], clock=lambda: written, sleep=sleep_and_write)
    assert (ready, young) == ([], [f])


def test_a_file_renamed_or_moved_in_after_its_last_write_is_settled_at_once(folder, tmp_path):
    part = folder / "renamed.csv.part"
    part.write_text(_csv("I1"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(_csv("I2"), encoding="utf-8")
    in_place = folder / "in_place.csv"
    in_place.write_text(_csv("I3"), encoding="utf-8")
    time.sleep(0.05)  # later than the writes on any clock tick
    part.rename(folder / "renamed.csv")
    shutil.move(elsewhere, folder / "moved.csv")
    copied = folder / "copied.csv"
    shutil.copy2(in_place, copied)  # `cp -p`: written now, its times set to the source's after
    files = {name: LandingFile.at(folder / name) for name in ("renamed.csv", "moved.csv")}
    files |= {"in_place.csv": LandingFile.at(in_place), "copied.csv": LandingFile.at(copied)}
    assert {n for n, f in files.items() if f.moved_in_whole} == {
        "renamed.csv",
        "moved.csv",
        "copied.csv",
    }
    # Looked at at once (0.1 s after the last write): the three are taken, in_place.csv waits.
    last_write = max(f.mtime_ns for f in files.values())
    ready, young = settled(files.values(), wait=False, clock=lambda: last_write + 10**8)
    assert sorted(f.name for f in ready) == ["copied.csv", "moved.csv", "renamed.csv"]
    assert [f.name for f in young] == ["in_place.csv"]
    # Written to after the rename: a write again, no longer taken at once.
    with (folder / "renamed.csv").open("a", encoding="utf-8") as out:
        out.write(_csv("I4").splitlines()[1] + "\n")
    assert not LandingFile.at(folder / "renamed.csv").moved_in_whole


def test_a_file_replaced_after_listing_or_written_while_read_is_not_read(folder, tmp_path):
    path = folder / "items.csv"
    path.write_text(_csv("I1"), encoding="utf-8")
    listed = LandingFile.at(path)
    # Swapped for a link to a file outside the folder between listing and opening.
    outside = tmp_path / "secret.csv"
    outside.write_text(_csv("SECRET"), encoding="utf-8")
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(FileChanged), opened(listed):
        pass
    # Appended to while it was being read.
    path.unlink()
    path.write_text(_csv("I1"), encoding="utf-8")
    listed = LandingFile.at(path)
    with pytest.raises(FileChanged), opened(listed) as readable:
        assert readable.read_text(encoding="utf-8") == _csv("I1")
        with path.open("a", encoding="utf-8") as out:
            out.write("more\n")


def test_a_file_that_changed_since_listing_is_left_for_a_later_run(folder):
    path = folder / "items.csv"
    path.write_text(_csv("I1"), encoding="utf-8")
    _old(path)
    listed = LandingFile.at(path)
    path.write_text(_csv("I1") + _csv("I2").splitlines()[1] + "\n", encoding="utf-8")
    con = duckdb.connect()
    left = []
    results = load_pending(
        con,
        folder.parent,
        SERVICE_ITEMS,
        pii_key=KEY,
        files=[listed],
        skipped=lambda f, why: left.append((f.name, why)),
    )
    assert results == [] and left == [("items.csv", "changed since it was listed")]
    assert con.execute("select count(*) from audit.file_loads").fetchone() == (0,)
    # The next run lists it afresh and loads both rows.
    [result] = load_pending(con, folder.parent, SERVICE_ITEMS, pii_key=KEY)
    assert (result.status, result.rows_loaded) == ("loaded", 2)
