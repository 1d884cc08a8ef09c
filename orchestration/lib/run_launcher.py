"""Runs started from a process that has already imported the libraries every run needs.

Dagster's own launcher asks the code server to start each run, and the code server starts it
in a new Python (multiprocessing "spawn"): every run imports Dagster and dagster-dbt before it
can load the code location, and every load then imports Great Expectations for its suite.
That is ≈1 s of CPU before a run's first step and ≈2.7 s inside its first load, on every run.

This launcher starts a run's process the way Dagster's multiprocess executor can start a
step's: forked from a server process (multiprocessing "forkserver") that imported those
libraries once (`PRELOAD`). The child runs `dagster api execute_run`'s own code on the run, so
the run, its events and its failures are Dagster's as before. Only third-party libraries are
preloaded: each run imports the code location as it is when the run starts, so a reloaded
code location's runs run its new code, as with Dagster's launcher. Polars and DuckDB are
imported by each run, not preloaded: Polars warns that a process forked after it started its
threads may deadlock.

A run whose code location runs under another Python than this process's goes to Dagster's
launcher unchanged, as does every run where multiprocessing has no forkserver (Windows).
Terminating a run sends its process SIGINT, as Dagster's code server does to the runs it
started; the process's id is in the run's tag `kzdw/run_worker_pid`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

from dagster import DefaultRunLauncher
from dagster._core.launcher.base import LaunchRunContext
from dagster._serdes import ConfigurableClassData

from orchestration.lib import warm_dbt

WORKER_PID_TAG = "kzdw/run_worker_pid"

# Imported once by the server that forks the runs. `expectations` first: it sets what Great
# Expectations reads when it is imported (no usage reports, no Spark Connect probe).
PRELOAD = ["dagster", "dagster_dbt", "expectations", "great_expectations"]

_forkserver_lock = threading.Lock()


def _forkserver() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    with _forkserver_lock:
        context.set_forkserver_preload(PRELOAD)
    return context


def _execute_run(serialized_args: str, dbt_socket: str | None) -> None:
    """The run's process: what `dagster api execute_run` does with its argument, its dbt
    commands started by the launcher's warm dbt server."""
    from dagster._cli.api import execute_run_command

    if dbt_socket is not None:
        os.environ[warm_dbt.SOCKET_VARIABLE] = dbt_socket

    execute_run_command.callback(input_json=serialized_args, compressed_input_json=None)


def _is_run_worker(pid: int) -> bool:
    """True when `pid` is a process forked by a multiprocessing forkserver (a run this
    launcher started, not a process that has since taken its id); without /proc, when a
    process `pid` exists."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                return b"multiprocessing.forkserver" in cmdline.read()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


class PreloadedRunLauncher(DefaultRunLauncher):
    """Dagster's DefaultRunLauncher, except that runs of a code location on this Python start
    from a forkserver with the libraries every run needs already imported (see the module)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(inst_data=inst_data)
        self._workers: dict[str, multiprocessing.process.BaseProcess] = {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> PreloadedRunLauncher:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        from dagster._grpc.types import ExecuteRunArgs
        from dagster._serdes import serialize_value

        run = context.dagster_run
        origin = run.job_code_origin
        if (
            origin is None
            or os.path.abspath(origin.executable_path) != os.path.abspath(sys.executable)
            or "forkserver" not in multiprocessing.get_all_start_methods()
        ):
            super().launch_run(context)
            return
        self._reap()
        args = ExecuteRunArgs(
            job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
        )
        worker = _forkserver().Process(
            target=_execute_run,
            args=(serialize_value(args), warm_dbt.shared_socket()),
            name=f"dagster-run-{run.run_id}",
        )
        worker.start()
        self._instance.add_run_tags(run.run_id, {WORKER_PID_TAG: str(worker.pid)})
        self._workers[run.run_id] = worker
        self._run_ids.add(run.run_id)

    def _reap(self) -> None:
        # Processes of runs that ended, joined (the daemon may launch from several threads).
        for run_id, worker in list(self._workers.items()):
            if not worker.is_alive() and self._workers.pop(run_id, None) is not None:
                worker.join()

    def terminate(self, run_id: str) -> bool:
        if not self.has_instance:
            return False
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        pid = run.tags.get(WORKER_PID_TAG)
        if pid is None:
            return super().terminate(run_id)
        self._instance.report_run_canceling(run)
        if not _is_run_worker(int(pid)):
            self._instance.report_run_canceled(
                run, message=f"The run's process (pid {pid}) had already ended."
            )
            return False
        os.kill(int(pid), signal.SIGINT)
        return True
