"""What every command shares: refusals, the settings, argument types, folders and ports
checked before any work, progress lines."""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

from kzdw.settings import Settings
from kzdw.terminal import inert

MAX_DEMO_SCALE = 1000.0


class Refused(Exception):
    """An argument or setting that cannot work: said in one line, exit status 2."""


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of a `.env` file (comments, blank lines and quotes as usual)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        values[key] = value.strip("'\"")
    return values


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """The deployment's settings: the environment, then `./.env` for what it leaves unset,
    then the command line's --landing, --warehouse and --as-of over both."""
    env = dict(os.environ if environ is None else environ)
    env = {**read_dotenv(Path.cwd() / ".env"), **{k: v for k, v in env.items() if v != ""}}
    return Settings.from_env(
        env,
        KZDW_LANDING_DIR=getattr(args, "landing", None),
        KZDW_WAREHOUSE=getattr(args, "warehouse", None),
        KZDW_AS_OF=getattr(args, "as_of", None),
    )


# Arguments, each checked before anything is done.


# Arguments, each checked before anything is done.
def scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= MAX_DEMO_SCALE:
        raise argparse.ArgumentTypeError(
            f"{text} is out of range: give a number above 0 and at most {MAX_DEMO_SCALE:g} "
            "(1 = the district's own volume)"
        )
    return value


def natural(what: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: {what} must be from {low} to {high}"
            )
        return value

    parse.__name__ = what
    return parse


def iso_date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give it as YYYY-MM-DD") from None
    return text


def writable_folder(path: Path, what: str) -> Path:
    """Make the folder (and its parents) and prove a file can be written there, or Refused."""
    path = path.expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".kzdw-probe-"):
            pass
    except OSError as exc:
        raise Refused(
            f"{what} {inert(str(path))} cannot be written ({exc.strerror or exc}): give a "
            "folder you can write to"
        ) from None
    return path


def free_port(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:port, or Refused when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise Refused(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror}): give another with --port"
        ) from None
    return sock


def pad(text: str, width: int) -> str:
    """Left-align text whose CJK characters take two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def serving_or_refuse(settings: Settings) -> Path:
    if not settings.serving.exists():
        raise Refused(
            f"no serving copy at {settings.serving} yet: run `kzdw run` (it builds the "
            "warehouse and publishes this read-only copy once the blocking checks pass), or "
            "set KZDW_SERVING to a copy"
        )
    return settings.serving


class Parser(argparse.ArgumentParser):
    """Refusals in one line: what was wrong and what is allowed (usage is one -h away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} -h`)\n")
