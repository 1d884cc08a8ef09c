"""Watching landing folders for files that arrive, so that a file is seen the moment it lands
instead of on the next look, and a file renamed in is known to have arrived whole.

On Linux the folders are watched with inotify: a name created in a folder, or moved into it,
ends a wait at once, and a name moved in (a `.part` renamed, a file moved from elsewhere on the
same disk) is remembered with the version that arrived, so that exactly that version counts as
moved in whole even when the rename fell on the same clock tick as the last write (where
`LandingFile.moved_in_whole` cannot tell). Elsewhere, or where a folder cannot be watched (it
does not exist yet, the system's watch limit is reached), a wait ends every POLL_SECONDS and
the caller looks again: slower to notice, never wrong.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from sources.landing import LandingFile

# How often a wait ends to look again where a folder is not watched.
POLL_SECONDS = 0.5

# From <sys/inotify.h>.
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_Q_OVERFLOW = 0x00004000
_IN_ONLYDIR = 0x01000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch  # noqa: B018 (both must exist)
    except (OSError, AttributeError):
        return None
    return libc


class FolderWatch:
    """Arrivals in some folders while the watch is open (a context manager)."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self._folders = [Path(f) for f in folders]
        self._fd = -1
        self._by_wd: dict[int, Path] = {}
        # (folder, name's bytes) -> (inode, size, mtime_ns) of the version that was moved in.
        self._moved_in: dict[tuple[Path, bytes], tuple[int, int, int]] = {}
        self.watched: set[Path] = set()

    def __enter__(self) -> FolderWatch:
        libc = _libc()
        if libc is None:
            return self
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return self
        self._fd = fd
        for folder in self._folders:
            wd = libc.inotify_add_watch(
                fd, os.fsencode(folder), _IN_CREATE | _IN_MOVED_TO | _IN_ONLYDIR
            )
            if wd >= 0:
                self._by_wd[wd] = folder
                self.watched.add(folder)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def wait(self, timeout: float) -> bool:
        """Returns when a file arrives in a watched folder (True), or after `timeout` seconds
        (False); after at most POLL_SECONDS when a folder is not watched (False: whether a
        file arrived there is for a look to tell)."""
        if len(self.watched) < len(self._folders):
            timeout = min(timeout, POLL_SECONDS)
        if self._fd < 0:
            time.sleep(max(0.0, timeout))
            return False
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready and self._read():
                return True
            if time.monotonic() >= deadline:
                return False

    def moved_in(self, f: LandingFile) -> bool:
        """True when this very version of the file (same inode, size and modification time) was
        moved into its folder while watched."""
        self._read()
        seen = self._moved_in.get((f.path.parent, os.fsencode(f.name)))
        return seen == (f.inode, f.size, f.mtime_ns)

    def _read(self) -> bool:
        """Takes the events waiting; True when a file arrived (or events were lost)."""
        if self._fd < 0:
            return False
        arrived = False
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                return arrived
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            at = 0
            while at + _EVENT.size <= len(data):
                wd, mask, _, length = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size : at + _EVENT.size + length].rstrip(b"\0")
                at += _EVENT.size + length
                arrived = arrived or bool(mask & (_IN_CREATE | _IN_MOVED_TO | _IN_Q_OVERFLOW))
                folder = self._by_wd.get(wd)
                if mask & _IN_MOVED_TO and folder is not None and name:
                    self._remember(folder, name)

    def _remember(self, folder: Path, name: bytes) -> None:
        try:
            info = os.lstat(folder / os.fsdecode(name))
        except OSError:  # moved on already
            return
        self._moved_in[(folder, name)] = (info.st_ino, info.st_size, info.st_mtime_ns)
