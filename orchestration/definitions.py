"""The code location: every Dagster object found in orchestration/defs/, one folder per
domain (`dg.load_from_defs_folder`), run in one process."""

from __future__ import annotations

import sys

# The code location runs dbt only as a command of its own (dagster-dbt's resource, the parse
# ahead, `kzdw prepare`), never in this process. dagster-dbt imports dbt-core, when it finds
# it, for a few of its types and nothing else; without it, it uses stand-ins of its own. So
# a process that starts by loading the code location (each run the daemon starts, the code
# server) does without dbt-core's 143 modules: ≈2.5 CPU seconds less to start (5.9-6.1 s of
# CPU to load these definitions with them, 3.2-3.9 s without, the same 41 assets and 124
# checks). `None` in sys.modules makes `import dbt.version` fail as if dbt-core were not
# installed. A process that imported dagster-dbt already keeps what it has: `kzdw run` does,
# checking the manifest (orchestration.lib.dbt) before it loads the definitions.
if "dagster_dbt" not in sys.modules:
    sys.modules.setdefault("dbt.version", None)

import dagster as dg  # noqa: E402

from kzdw.settings import CODE_ROOT

# One process writes the DuckDB file at a time, and in-process runs start in a fraction of
# the multiprocess executor's time: every run (a job, or assets materialised from the UI)
# executes its steps one after another in one process.
defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=CODE_ROOT),
    dg.Definitions(executor=dg.in_process_executor),
)
