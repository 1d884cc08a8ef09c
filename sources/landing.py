"""The landing folder is the boundary: which of its entries may be read, and how.

Only regular files directly in `<landing>/<source>/` are candidates. Symbolic links are never
followed or opened, and named pipes, sockets, devices and folders are skipped, each with a
line saying so; a file is opened without following links and checked to be the same regular
file that was listed, so nothing can be swapped in between. A file is taken only once it has
settled: nobody has written to it for SETTLE_SECONDS, or it was moved in whole (its last
change was a rename or a setting of its times, after its last write). File names may hold any
bytes: what is stored and shown is `display_name`, with control characters and undecodable
bytes escaped.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sources.contracts import Source

# Seconds without a write after which a file is taken as complete.
SETTLE_SECONDS = 3
# Names that mark a file still being written, or not meant for loading: never read, no line.
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")
IGNORED_PREFIXES = (".", "~$")

_PROC_FD = Path("/proc/self/fd")


def display_name(name: str) -> str:
    """A file name as text that can be stored, printed and compared: bytes that are not
    UTF-8 as \\xNN, control and bidirectional-override characters as escapes, the rest as is."""
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode gives it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}"))
        elif 0xD800 <= code <= 0xDFFF or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class LandingFile:
    """One regular file of a landing folder, as it was when listed."""

    path: Path
    size: int
    mtime_ns: int
    device: int
    inode: int
    # The inode's last change (st_ctime_ns): a write, or a change of name or attributes. Not
    # part of the file's identity.
    ctime_ns: int = field(compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def display_name(self) -> str:
        return display_name(self.path.name)

    @property
    def display_path(self) -> str:
        return display_name(str(self.path))

    @property
    def signature(self) -> tuple[int, int]:
        return self.size, self.mtime_ns

    @property
    def moved_in_whole(self) -> bool:
        """True when the file's last change came after its last write and was not one: it was
        renamed or moved into the folder (a `.part` renamed, a file moved from elsewhere on
        the disk, `mv` from another disk, which sets the times last) or had its times set
        (`cp -p`, `rsync`). Every write moves the change time (ctime) and the modification
        time together, so a file still being written in place is not taken for one. The
        kernel stamps both from a clock that moves in ticks of a few milliseconds: a rename in
        the same tick as the last write leaves the times equal, and the file then settles as
        any other. A writer that renames a file mid-write and then writes on defeats this; such
        a writer keeps a `.part` name until the end."""
        return self.ctime_ns > self.mtime_ns

    @property
    def key(self) -> str:
        """The name's exact bytes, as hex: a file's identity in run configuration and cursors,
        whatever the name holds."""
        return os.fsencode(self.path.name).hex()

    @classmethod
    def at(cls, path: Path) -> LandingFile:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise FileChanged(f"{display_name(str(path))} is not a regular file")
        return cls(
            Path(path),
            info.st_size,
            info.st_mtime_ns,
            info.st_dev,
            info.st_ino,
            info.st_ctime_ns,
        )


@dataclass(frozen=True)
class Skipped:
    """An entry of a landing folder that is not loaded, and why (Chinese, then English)."""

    name: str
    why: str

    def line(self, source: Source) -> str:
        return f"{source.name}/{self.name}: {self.why}"


@dataclass
class Scan:
    files: list[LandingFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class FileChanged(Exception):
    """The file is not what was listed (replaced, still being written, gone)."""


_KINDS = {
    stat.S_IFIFO: ("命名管道", "a named pipe"),
    stat.S_IFSOCK: ("套接字", "a socket"),
    stat.S_IFCHR: ("字符设备", "a character device"),
    stat.S_IFBLK: ("块设备", "a block device"),
    stat.S_IFDIR: ("文件夹", "a folder"),
}


def scan(landing_dir: Path, source: Source) -> Scan:
    """The candidate files of one source in order of arrival (modification time, then name),
    and the entries skipped, with why. Nothing is opened."""
    folder = Path(landing_dir) / source.name
    result = Scan()
    try:
        if folder.is_symlink():
            result.skipped.append(
                Skipped(
                    display_name(str(folder)),
                    "落地子文件夹是符号链接，不跟随；请改为真实文件夹。 / the source folder is a "
                    "symbolic link, which is never followed: make it a real folder",
                )
            )
            return result
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return result
    for entry in entries:
        name = entry.name
        if name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # gone between listing and looking
            continue
        if stat.S_ISREG(info.st_mode):
            result.files.append(
                LandingFile(
                    Path(entry.path),
                    info.st_size,
                    info.st_mtime_ns,
                    info.st_dev,
                    info.st_ino,
                    info.st_ctime_ns,
                )
            )
        elif stat.S_ISLNK(info.st_mode):
            result.skipped.append(
                Skipped(
                    display_name(name),
                    "符号链接，不读取；请把文件本身放入落地文件夹。 / a symbolic link, never "
                    "followed: put the file itself into the landing folder",
                )
            )
        else:
            zh, en = _KINDS.get(stat.S_IFMT(info.st_mode), ("特殊文件", "a special file"))
            result.skipped.append(
                Skipped(
                    display_name(name),
                    f"是{zh}，不是普通文件，已跳过。 / {en}, not a regular file: skipped",
                )
            )
    result.files.sort(key=lambda f: (f.mtime_ns, f.name))
    return result


def settled(
    files: Iterable[LandingFile],
    *,
    wait: bool = True,
    clock: Callable[[], int] = time.time_ns,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[LandingFile], list[LandingFile]]:
    """(settled, still being written): a file is settled when nothing has written to it for
    SETTLE_SECONDS, or when it was moved in whole (`LandingFile.moved_in_whole`). With
    `wait`, a younger file is looked at again once it would be old
    enough, and taken when it has not changed meanwhile (the landing sensor's rule: same size
    and time on two looks SETTLE_SECONDS apart)."""
    files = list(files)
    now = clock()
    young = [f for f in files if now - f.mtime_ns < SETTLE_SECONDS * 10**9 and not f.moved_in_whole]
    if young and wait:
        newest = max(f.mtime_ns for f in young)
        sleep(max(0.0, (newest + SETTLE_SECONDS * 10**9 - now) / 1e9))
        still = []
        for f in young:
            try:
                if LandingFile.at(f.path) != f:
                    still.append(f)
            except (OSError, FileChanged):
                still.append(f)
        young = still
    ready = [f for f in files if f not in young]
    return ready, young


@contextlib.contextmanager
def opened(f: LandingFile) -> Iterator[Path]:
    """The file opened without following links and checked to be the one listed, as a path
    that reads exactly that open file (/proc/self/fd/N on Linux). On leaving, the file must
    still be unchanged: a file written to while it was read is not loaded half."""
    try:
        fd = os.open(f.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FileChanged(f"cannot be opened ({exc.strerror})") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or _identity(before) != _identity_of(f):
            raise FileChanged("changed since it was listed")
        yield _PROC_FD / str(fd) if _PROC_FD.is_dir() else f.path
        if _identity(os.fstat(fd)) != _identity_of(f):
            raise FileChanged("was written to while it was read")
    finally:
        os.close(fd)


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _identity_of(f: LandingFile) -> tuple[int, int, int, int]:
    return f.device, f.inode, f.size, f.mtime_ns


@dataclass(frozen=True)
class FileVersion:
    """One version of one landing file as somebody saw it settle (the landing sensor): the
    name's bytes as hex (`key`), the name as shown, its size and modification time."""

    key: str
    name: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, f: LandingFile) -> FileVersion:
        return cls(f.key, f.display_name, f.size, f.mtime_ns)


def choose(
    listed: list[LandingFile], versions: list[FileVersion] | None
) -> tuple[list[LandingFile], list[str]]:
    """(files to load, lines about files not taken): with no versions given, every file that
    has settled; else exactly the versions given that are still there as they were seen."""
    if versions is None:
        ready, young = settled(listed)
        return ready, [
            f"{f.display_name}: 仍在写入，下次运行再载入。 / still being written: left for the "
            "next run"
            for f in young
        ]
    wanted = {(v.key, v.size, v.mtime_ns): v for v in versions}
    chosen = [f for f in listed if (f.key, f.size, f.mtime_ns) in wanted]
    found = {(f.key, f.size, f.mtime_ns) for f in chosen}
    gone = [
        f"{v.name}: 已不在落地文件夹或已改变（可能已由另一运行载入）。 / no longer in the landing "
        "folder as it was seen (loaded by another run, or changed): not loaded by this run"
        for k, v in wanted.items()
        if k not in found
    ]
    return chosen, gone
