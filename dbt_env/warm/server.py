"""A process of dbt's environment that has imported dbt once and starts each dbt command
forked from itself, so that a command does not spend its first ≈1.6 s importing dbt.

    dbt_env/.venv/bin/python -I dbt_env/warm/server.py SOCKET

It listens on the Unix socket SOCKET (in a folder only its user can enter), imports dbt-core
and the DuckDB adapter, then serves `client.py`: for each command it receives the command's
arguments, working folder and environment, and its standard input, output and error (the
client's own file descriptors), forks, and the child runs dbt's command line as the `dbt`
executable would, with exactly that environment, folder and those descriptors. The child
writes its exit status to the client; a child killed by a signal is reported by this process.
A child whose client has gone (killed) is killed. Nothing of the server's state reaches a
command but the imported modules: each child starts from the server as it was before its
first command. What a Python reads only when it starts (PYTHONPATH, PYTHONHASHSEED and the
other PYTHON* variables), the process's limits and its umask are the server's: kzdw gives dbt
none of those.

The server stops when its standard input closes (the process that started it ended), or on
SIGTERM or SIGHUP, and takes its socket with it; commands already started run to their end. It
runs one thread, so that forking it is safe. Only the standard library and dbt are used: it
runs under dbt's own Python, which has none of kzdw's packages.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

# What every dbt command imports before its first model (about 1.6 s on a 2-core machine).
PRELOAD = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.task.build", "dbt.parser.manifest")

_LENGTH = struct.Struct("!I")


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One command: its header with the client's three descriptors, then its JSON."""
    header, fds, _, _ = socket.recv_fds(conn, _LENGTH.size, 3)
    if len(header) < _LENGTH.size or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ConnectionError("incomplete command")
    (length,) = _LENGTH.unpack(header)
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError("incomplete command")
        body += chunk
    return json.loads(body), fds


def _say(conn: socket.socket, line: str) -> None:
    try:
        conn.sendall(line.encode() + b"\n")
    except OSError:  # the client has gone
        pass


def _end_when_client_leaves(conn: socket.socket) -> None:
    """A child's watch: the client sends nothing after its command and passes on every signal
    it can catch, so the connection's end means the client was killed (SIGKILL), and the
    command is killed with it, as dbt itself would have been. SIGKILL, because a SIGTERM
    could be ignored: a client started ignoring it has the command ignore it too."""
    try:
        while conn.recv(1024):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _run_command(conn: socket.socket, command: dict, fds: list[int]) -> None:
    """In the child: become the dbt command, run it, report its exit status, and exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # The signals as Python sets them when it starts as the client did: SIGPIPE ignored,
    # SIGINT raising KeyboardInterrupt unless the client's was ignored (as under `nohup`).
    for handled in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(handled, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for ignored in command.get("ignored", []):
        signal.signal(ignored, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    os.environ.clear()
    os.environ.update(command["env"])
    time.tzset()
    os.chdir(command["cwd"])
    encoding = command["env"].get("PYTHONIOENCODING", "utf-8").split(":")[0] or "utf-8"
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False),
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.argv = ["dbt", *command["args"]]
    threading.Thread(target=_end_when_client_leaves, args=(conn,), daemon=True).start()
    code = 1
    try:
        from dbt.cli.main import cli

        cli.main(args=command["args"], prog_name="dbt")
        code = 0
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        # What the interpreter does on exit: dbt-duckdb closes its connections here.
        try:
            atexit._run_exitfuncs()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 (the output's reader may have gone)
                    pass
            _say(conn, f"exit {code}")
            os._exit(code)


def _end(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(path: str) -> None:
    # A terminal's Ctrl-C reaches the whole process group: the commands end by it, as dbt
    # would; the server ends when its parent does. Asked to end (SIGTERM, as to a whole
    # process group, or SIGHUP), it removes its socket first: set before the socket exists,
    # so that whoever sees the socket can stop the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end)
    signal.signal(signal.SIGHUP, _end)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(64)
        # Listening before importing: a client that comes meanwhile waits for the imports
        # instead of starting a dbt of its own, which would import the same.
        for module in PRELOAD:
            __import__(module)
        _serve(listener)
    finally:
        listener.close()
        try:
            os.unlink(path)
            os.rmdir(os.path.dirname(path))
        except OSError:
            pass


def _serve(listener: socket.socket) -> None:
    """Accepts commands until standard input closes."""
    read_signal, write_signal = os.pipe()
    os.set_blocking(write_signal, False)
    signal.set_wakeup_fd(write_signal)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, socket.socket] = {}
    uid = os.getuid()
    while True:
        readable, _, _ = select.select([listener, sys.stdin, read_signal], [], [])
        if read_signal in readable:
            os.read(read_signal, 4096)
            _reap(children)
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 4096):
            break
        if listener not in readable:
            continue
        conn, _ = listener.accept()
        peer = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", peer)[1] != uid:
            conn.close()
            continue
        # A client sends its command as soon as it connects: one that does not is not
        # waited for longer than this, so it cannot hold up the others.
        conn.settimeout(10)
        try:
            command, fds = _receive(conn)
        except (ConnectionError, OSError, ValueError):
            conn.close()
            continue
        conn.settimeout(None)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            listener.close()
            for other in children.values():
                other.close()
            os.close(read_signal)
            os.close(write_signal)
            try:
                _run_command(conn, command, fds)
            finally:  # never back into the server's loop, nor its clean-up
                os._exit(1)
        for fd in fds:
            os.close(fd)
        _say(conn, f"pid {pid}")
        children[pid] = conn
        _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    """Children that ended: one killed by a signal could not say so itself."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        if os.WIFSIGNALED(status):
            _say(conn, f"signal {os.WTERMSIG(status)}")
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
