"""Files that readers must never see half-written: written beside their final name under a
`.<name>.<pid>.partial` name, then renamed over it in one step."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


def replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """`write(partial)`, then rename the partial file over `target`: a reader opens either the
    old file or the new one, and a process killed meanwhile leaves the old one in place."""
    remove_stale_partials(target)
    partial = partial_path(target)
    try:
        write(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_stale_partials(target: Path) -> list[Path]:
    """Half-written files left by a process that was killed while writing `target`: the file
    being replaced was never touched, so they are only litter (and may be gigabytes)."""
    removed = []
    prefix = f".{target.name}."
    for partial in target.parent.glob(f"{glob.escape(prefix)}*.partial"):
        pid = partial.name.removeprefix(prefix).removesuffix(".partial")
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            partial.unlink(missing_ok=True)
            removed.append(partial)
    return removed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
