"""A job for test_run_launcher: its one step writes what its process looks like, then waits
as long as it is told. In-process, as the project's runs: the step runs in the run's process."""

import json
import os
import sys
import time
from pathlib import Path

import dagster as dg


class Report(dg.Config):
    path: str
    # Seconds to wait after writing the report (a run to terminate meanwhile).
    wait: float = 0.0


@dg.op
def report_process(config: Report) -> None:
    Path(config.path).write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "imported": sorted(
                    m for m in ("great_expectations", "dagster_dbt", "polars") if m in sys.modules
                ),
                "dbt_socket": os.environ.get("KZDW_WARM_DBT_SOCKET"),
            }
        ),
        encoding="utf-8",
    )
    deadline = time.monotonic() + config.wait
    while time.monotonic() < deadline:
        time.sleep(0.1)


@dg.job(executor_def=dg.in_process_executor)
def report_job() -> None:
    report_process()
