"""The code location: every Dagster object found in orchestration/defs/, one folder per
domain (`dg.load_from_defs_folder`), run in one process."""

from __future__ import annotations

import dagster as dg

from kzdw.settings import CODE_ROOT

# One process writes the DuckDB file at a time, and in-process runs start in a fraction of
# the multiprocess executor's time: every run (a job, or assets materialised from the UI)
# executes its steps one after another in one process.
defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=CODE_ROOT),
    dg.Definitions(executor=dg.in_process_executor),
)
