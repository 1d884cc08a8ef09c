"""dbt invocations one after another in this one process, asked for on stdin.

Started by `spark_lake.DbtHost`. Each request is one JSON line: the dbt arguments, the
environment's KZDW_/DBT_ variables, the folder to run from; each answer one JSON line: dbt's
return code (0 success, 1 failure, 2 an exception) and what it printed. A local Spark session
lives as long as the process that started it, so every invocation after the first finds the JVM
started and its code compiled: on this machine the first Spark build of the hand-made rows
spends about half its CPU compiling Spark's own code, which later builds need not repeat."""

from __future__ import annotations

import io
import json
import os
import sys
import traceback
from contextlib import redirect_stdout


def main() -> None:
    # Answers go through a copy of stdout; whatever else writes to file descriptor 1 (the JVM,
    # pyspark) goes to stderr, which the caller keeps in a log file.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DBT_"))}
    from dbt.cli.main import dbtRunner

    for line in sys.stdin:
        request = json.loads(line)
        os.environ.clear()
        os.environ.update(base)
        os.environ.update(request["env"])
        os.chdir(request["workdir"])
        printed = io.StringIO()
        with redirect_stdout(printed):
            try:
                returncode = 0 if dbtRunner().invoke(request["args"]).success else 1
            except BaseException:  # noqa: BLE001 - reported to the caller, who fails the test
                printed.write(traceback.format_exc())
                returncode = 2
        answers.write(json.dumps({"returncode": returncode, "stdout": printed.getvalue()}) + "\n")
        answers.flush()
    # Asked for nothing more: end now. Spark's own ending (pyspark's exit handler stops the
    # context, the metastore shuts down) takes half a minute here and leaves nothing anyone
    # reads; the JVM ends by itself when this process's pipe to it closes.
    os._exit(0)


if __name__ == "__main__":
    main()
