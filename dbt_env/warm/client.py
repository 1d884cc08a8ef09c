"""`dbt`, run by the warm dbt server when one serves this process's environment, else dbt
itself: the same arguments, environment, folder, input and output either way, and the same
exit status.

Started by `dbt_env/warm/dbt` under dbt's Python with only the standard library (`-I -S`).
The server's socket is named by KZDW_WARM_DBT_SOCKET, which kzdw sets for the processes it
starts itself (`orchestration/lib/warm_dbt.py`); it is not a setting. Without it, or when the
server cannot be reached, this process becomes dbt (`exec`). With it, the client hands its
command and its own standard input, output and error to the server, forwards the signals it
gets (SIGINT, SIGTERM, SIGHUP; those it was started ignoring, the command ignores too) to the
command, and exits as the command did: with its exit code, or killed by the same signal.
"""

import json
import os
import signal
import socket
import struct
import sys

SOCKET = "KZDW_WARM_DBT_SOCKET"
_LENGTH = struct.Struct("!I")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _dbt_itself(args: list[str]) -> None:
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    os.execv(dbt, ["dbt", *args])


def _connect(path: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


def main() -> None:
    args = sys.argv[1:]
    path = os.environ.get(SOCKET)
    conn = _connect(path) if path else None
    if conn is None:
        _dbt_itself(args)
    # Signals this process was started ignoring: the command ignores them too.
    ignored = [s for s in _FORWARDED if signal.getsignal(s) == signal.SIG_IGN]
    command = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ), "ignored": ignored}
    body = json.dumps(command).encode()
    pid = None
    received = []

    def forward(signum: int, _frame: object) -> None:
        if pid is not None:
            os.kill(pid, signum)
        else:
            received.append(signum)

    for signum in _FORWARDED:
        if signum not in ignored:
            signal.signal(signum, forward)
    try:
        socket.send_fds(conn, [_LENGTH.pack(len(body))], [0, 1, 2])
        conn.sendall(body)
        replies = conn.makefile("r", encoding="ascii")
        for line in replies:
            word, _, value = line.strip().partition(" ")
            if word == "pid":
                pid = int(value)
                for signum in received:
                    os.kill(pid, signum)
            elif word == "exit":
                sys.exit(int(value))
            elif word == "signal":
                killed_by = int(value)
                signal.signal(killed_by, signal.SIG_DFL)
                os.kill(os.getpid(), killed_by)
                sys.exit(128 + killed_by)
    except OSError:
        pass
    if pid is None:
        # The server went away before it started the command: dbt itself, as if it had not
        # been there.
        _dbt_itself(args)
    print(
        "dbt 进程未报告退出状态（预热的 dbt 服务已停止）；请重新运行。 / the dbt command ended "
        "without reporting its exit status (the warm dbt server stopped): run it again",
        file=sys.stderr,
    )
    sys.exit(1)


if __name__ == "__main__":
    main()
