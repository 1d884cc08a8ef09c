"""Waiting in tests: for a condition, with a limit that says what did not happen; and for an
action done later, from another thread."""

import threading
import time


def until(predicate, seconds: float, what: str):
    """The predicate's first true value, looked at every 0.05 s for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def later(seconds: float, act) -> threading.Thread:
    """`act()` in a thread of its own, `seconds` from now (join the thread returned)."""

    def run() -> None:
        time.sleep(seconds)
        act()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
