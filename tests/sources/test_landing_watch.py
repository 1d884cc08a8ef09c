"""A watch of landing folders wakes when a file arrives and knows which versions were renamed
in, where the file's own times cannot tell."""

import os
import sys
import time

import pytest

from sources.landing import LandingFile
from sources.landing_watch import POLL_SECONDS, FolderWatch
from tests.waiting import later as _later

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


def test_a_wait_ends_when_a_file_is_renamed_in_and_knows_that_version(tmp_path):
    part, final = tmp_path / "cases.csv.part", tmp_path / "cases.csv"
    with FolderWatch([tmp_path]) as watch:
        assert watch.watched == {tmp_path}
        started = time.monotonic()
        thread = _later(0.5, lambda: (part.write_bytes(b"x" * 100_000), part.rename(final)))
        while not final.exists() and time.monotonic() - started < 5:
            watch.wait(5)
        woke = time.monotonic() - started
        thread.join()
        assert 0.4 < woke < 1.5
        assert watch.moved_in(LandingFile.at(final))
        # Written to after the rename: another version, no longer the one moved in.
        with final.open("ab") as f:
            f.write(b"more")
        assert not watch.moved_in(LandingFile.at(final))


def test_a_file_written_in_place_wakes_a_wait_but_was_not_moved_in(tmp_path):
    with FolderWatch([tmp_path]) as watch:
        started = time.monotonic()
        thread = _later(0.3, lambda: (tmp_path / "items.csv").write_bytes(b"x"))
        watch.wait(5)
        thread.join()
        assert time.monotonic() - started < 1.5
        assert not watch.moved_in(LandingFile.at(tmp_path / "items.csv"))


def test_a_file_renamed_in_before_the_watch_began_is_not_taken_for_moved_in(tmp_path):
    (tmp_path / "a.csv.part").write_bytes(b"x")
    (tmp_path / "a.csv.part").rename(tmp_path / "a.csv")
    with FolderWatch([tmp_path]) as watch:
        watch.wait(0.2)
        assert not watch.moved_in(LandingFile.at(tmp_path / "a.csv"))


def _inotify_descriptors() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify"
        except OSError:  # closed meanwhile
            pass
    return count


def test_a_wait_times_out_and_polls_where_a_folder_cannot_be_watched(tmp_path):
    before = _inotify_descriptors()
    with FolderWatch([tmp_path]) as watch:
        assert _inotify_descriptors() == before + 1
        started = time.monotonic()
        watch.wait(0.6)
        assert 0.55 < time.monotonic() - started < 1.2
    assert _inotify_descriptors() == before  # closed on leaving
    missing = tmp_path / "not_yet"
    with FolderWatch([tmp_path, missing]) as watch:
        assert watch.watched == {tmp_path}
        started = time.monotonic()
        watch.wait(5)
        assert POLL_SECONDS - 0.05 < time.monotonic() - started < POLL_SECONDS + 0.5
