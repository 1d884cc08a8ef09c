"""The warm dbt server and its client: a dbt command handed to the server prints, reads and
exits exactly as dbt itself does, in the client's folder and environment, runs forked from
the server, takes the signals sent to the client, and ends when its client is killed; without
a server, the client is dbt itself; the server ends with the process that started it."""

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from kzdw.settings import dbt_command
from orchestration.lib import warm_dbt
from orchestration.lib.warm_dbt import CLIENT, SOCKET_VARIABLE, WarmDbt
from tests.waiting import until as _until

pytestmark = pytest.mark.skipif(not warm_dbt.available(), reason="no dbt environment of its own")

PROMPT = b"Enter a name for your project"
DATABASE_PROMPT = b"Which database would you like to use?"


@pytest.fixture(scope="module")
def server():
    warm = WarmDbt()
    socket = warm.start()
    _until(lambda: os.path.exists(socket), 30, "the server listens")
    yield warm
    warm.stop()


def _env(home: Path, socket: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_VARIABLE}
    env.update(HOME=str(home), DBT_SEND_ANONYMOUS_USAGE_STATS="false", **extra)
    if socket is not None:
        env[SOCKET_VARIABLE] = socket
    return env


def _without_clock(text: str) -> str:
    """dbt's lines start with the time of day (and a colour reset): not part of the output."""
    return re.sub(r"(\x1b\[0m)?\d\d:\d\d:\d\d  ", "", text)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Output:
    """What a process has printed so far, read as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process, self.text = process, b""
        os.set_blocking(process.stdout.fileno(), False)

    def shows(self, what: bytes) -> bool:
        chunk = self.process.stdout.read()
        if chunk:
            self.text += chunk
        return what in self.text


@pytest.mark.parametrize(
    ("args", "code"),
    [(["debug", "--config-dir"], 0), (["build", "--no-such-flag"], 2)],
)
def test_a_command_prints_and_exits_as_dbt_itself_does(server, tmp_path, args, code):
    profiles = tmp_path / "profiles of this test"
    ran = {
        how: subprocess.run(
            [executable, *args],
            env=_env(tmp_path, socket, DBT_PROFILES_DIR=str(profiles)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for how, executable, socket in (
            ("dbt itself", dbt_command("dbt"), None),
            ("through the server", str(CLIENT), server.socket),
            ("no server there", str(CLIENT), str(tmp_path / "gone.sock")),
        )
    }
    for how, done in ran.items():
        assert done.returncode == code, how
        assert _without_clock(done.stdout) == _without_clock(ran["dbt itself"].stdout), how
        assert _without_clock(done.stderr) == _without_clock(ran["dbt itself"].stderr), how
    if code == 0:
        assert str(profiles) in ran["through the server"].stdout  # the client's environment
    else:
        assert "No such option '--no-such-flag'" in ran["through the server"].stderr


def _interrupted_at_the_database_prompt(
    executable: str, home: Path, socket=None, server=None, sigint=signal.SIG_DFL
) -> dict:
    """`dbt init` in `home`, started with SIGINT's disposition `sigint`, answered a project
    name on its input, then sent SIGINT at the next prompt, and its input closed a second
    later if it was still waiting: its exit status, its folder at the prompt, whether SIGINT
    ended it, what it printed."""
    process = subprocess.Popen(
        [executable, "init"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=_env(home, socket), cwd=home,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )  # fmt: skip
    out = Output(process)
    try:
        _until(lambda: out.shows(PROMPT), 60, "dbt asks for a project name")
        process.stdin.write(b"warm_test\n")
        process.stdin.flush()
        _until(lambda: out.shows(DATABASE_PROMPT), 30, "dbt reads the name, asks for a database")
        command = _children(server.pid)[0] if server is not None else process.pid
        folder = Path(os.readlink(f"/proc/{command}/cwd"))
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        ended_by_sigint = process.poll() is not None
        process.stdin.close()
        code = process.wait(timeout=30)
        out.shows(b"")
        return {
            "code": code,
            "folder": folder,
            "ended by SIGINT": ended_by_sigint,
            "printed": out.text.decode(),
        }
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("sigint", [signal.SIG_DFL, signal.SIG_IGN], ids=["sigint", "nohup"])
def test_the_command_runs_forked_from_the_server_with_the_clients_input_and_signals(
    server, tmp_path, sigint
):
    (tmp_path / "itself").mkdir()
    (tmp_path / "warm").mkdir()
    itself = _interrupted_at_the_database_prompt(
        dbt_command("dbt"), tmp_path / "itself", sigint=sigint
    )
    warm = _interrupted_at_the_database_prompt(
        str(CLIENT), tmp_path / "warm", server.socket, server._process, sigint=sigint
    )
    # The command was the server's child. It started in the client's folder with the
    # client's environment (HOME: where dbt makes its configuration folder) and read the
    # client's input (the project it made and moved into).
    assert itself["folder"] == tmp_path / "itself" / "warm_test"
    assert warm["folder"] == tmp_path / "warm" / "warm_test"
    assert f"Creating dbt configuration folder at {tmp_path / 'warm' / '.dbt'}" in warm["printed"]
    # The client's SIGINT ended it as it ends dbt itself, or not at all where the client was
    # started ignoring SIGINT; then the end of its input did, as for dbt itself.
    assert warm["ended by SIGINT"] == itself["ended by SIGINT"] == (sigint == signal.SIG_DFL)
    assert warm["code"] == itself["code"] != 0
    _until(lambda: not _children(server._process.pid), 10, "the command has ended")


@pytest.mark.parametrize("sigterm", [signal.SIG_DFL, signal.SIG_IGN], ids=["", "ignoring SIGTERM"])
def test_a_command_whose_client_is_killed_ends(server, tmp_path, sigterm):
    process = subprocess.Popen(
        [str(CLIENT), "init"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=_env(tmp_path, server.socket), cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, sigterm),
    )  # fmt: skip
    out = Output(process)
    _until(lambda: out.shows(PROMPT), 60, "dbt asks for a project name")
    [command] = _children(server._process.pid)
    process.kill()
    process.wait()
    _until(lambda: command not in _children(server._process.pid), 10, "the command ends")


@pytest.mark.parametrize("how", ["its parent ends", "SIGTERM"])
def test_the_server_ends_with_the_process_that_started_it_and_takes_its_socket(tmp_path, how):
    warm = WarmDbt()
    socket = warm.start()
    _until(lambda: os.path.exists(socket), 30, "the server listens")
    process = warm._process
    if how == "SIGTERM":  # as to a whole process group
        process.send_signal(signal.SIGTERM)
        expected = 128 + signal.SIGTERM
    else:
        # Its standard input is this process's pipe: closing it is what this process's end
        # does.
        process.stdin.close()
        expected = 0
    assert process.wait(timeout=30) == expected
    assert not os.path.exists(os.path.dirname(socket))
    warm.stop()


def test_a_new_server_removes_the_sockets_of_killed_servers_only(server, tmp_path):
    """A server killed with SIGKILL (as to a whole process group) leaves its socket folder;
    the next server to start removes it, and leaves a live server's."""
    killed = WarmDbt()
    killed_socket = killed.start()
    _until(lambda: os.path.exists(killed_socket), 30, "the server listens")
    killed._process.kill()
    killed._process.wait()
    killed._process = killed._folder = None  # as if its parent had been killed too
    assert os.path.exists(killed_socket)
    fresh = WarmDbt()
    try:
        fresh.start()
        assert not os.path.exists(os.path.dirname(killed_socket))
        assert os.path.exists(server.socket)
    finally:
        fresh.stop()
