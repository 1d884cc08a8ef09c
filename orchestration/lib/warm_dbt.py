"""dbt commands started from a process that has already imported dbt.

Every dbt command spends its first ≈1.6 s importing dbt-core and its adapter before it reads
the project (measured on a 2-core machine: a build of 80 nodes on a 5M-case warehouse took
6.9 s as its own process, 5.1 s forked from a process that had imported dbt). The warm dbt
server (`dbt_env/warm/server.py`, under dbt's own Python) imports dbt once and forks each
command from itself; `dbt_env/warm/dbt`, the dbt executable of kzdw's dbt resource, hands the
command to it (arguments, environment, folder, standard input and output) and exits as the
command did. Where there is no server, that executable is dbt itself.

A process that runs dbt commands starts a server (`WarmDbt`) and names its socket in
KZDW_WARM_DBT_SOCKET for the processes it starts (kzdw's run launcher, for every run it
launches; `kzdw run`, for its own). KZDW_WARM_DBT_SOCKET is not a setting: kzdw sets it for
its own processes. The server ends with the process that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from kzdw.settings import DBT_ENVIRONMENT, dbt_command

SOCKET_VARIABLE = "KZDW_WARM_DBT_SOCKET"
WARM = Path(__file__).resolve().parents[2] / "dbt_env" / "warm"
CLIENT = WARM / "dbt"
SERVER = WARM / "server.py"
SOCKET_DIR, PREFIX, SOCKET_NAME = "/tmp", "kzdw-dbt-", "dbt.sock"


def remove_dead_sockets() -> None:
    """Removes the socket folders of this user's servers that were killed (SIGKILL, as to a
    whole process group) before they could remove them: those whose socket nobody listens on.
    A live server's folder, or one whose server has not yet made its socket, is left."""
    for folder in Path(SOCKET_DIR).glob(f"{PREFIX}*"):
        path = folder / SOCKET_NAME
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if folder.stat().st_uid != os.getuid() or not path.is_socket():
                continue
            probe.settimeout(1)
            probe.connect(str(path))
        except ConnectionRefusedError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass
        finally:
            probe.close()


def available() -> bool:
    """True where dbt has its own environment (dbt_env/.venv) for the server and the client,
    and the system can pass open files between processes (a Unix socket)."""
    return (
        (DBT_ENVIRONMENT / "bin" / "dbt").exists()
        and CLIENT.exists()
        and hasattr(os, "fork")
        and sys.platform != "win32"
    )


def dbt_executable() -> str:
    """The dbt executable for dagster-dbt: the warm client where there can be a server
    (dbt itself whenever no server is named), else dbt."""
    return str(CLIENT) if available() else dbt_command("dbt")


class WarmDbt:
    """One warm dbt server: `start()` starts it (once) and returns its socket; it stops with
    `stop()` or when this process ends (its standard input, a pipe from this process, closes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None
        self.socket: str | None = None

    def start(self) -> str | None:
        """The socket of this process's server, started if need be; None where there can be
        no server."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self.socket
            if not available():
                return None
            self._cleanup()
            remove_dead_sockets()
            # A short path: a Unix socket's name holds at most 107 bytes.
            self._folder = tempfile.mkdtemp(prefix=PREFIX, dir=SOCKET_DIR)
            self.socket = os.path.join(self._folder, SOCKET_NAME)
            self._process = subprocess.Popen(
                [dbt_command("python"), "-I", str(SERVER), self.socket],
                stdin=subprocess.PIPE,
            )
            return self.socket

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                if self._process.stdin is not None:
                    self._process.stdin.close()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                self._process = None
            self._cleanup()

    def _cleanup(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = self.socket = None


_shared = WarmDbt()
atexit.register(_shared.stop)


def shared_socket() -> str | None:
    """The socket of the server this process keeps for the runs it starts (started on first
    use; None where there can be none)."""
    return _shared.start()


@contextlib.contextmanager
def warm_dbt() -> Iterator[None]:
    """A server for the dbt commands this process starts meanwhile (`kzdw run`)."""
    if SOCKET_VARIABLE in os.environ or not available():
        yield
        return
    server = WarmDbt()
    os.environ[SOCKET_VARIABLE] = server.start()
    try:
        yield
    finally:
        os.environ.pop(SOCKET_VARIABLE, None)
        server.stop()
