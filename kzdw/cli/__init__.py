"""`kzdw`: the warehouse from a terminal.

    kzdw demo [--scale N]      write the demo landing set
    kzdw run [--as-of DATE]    load pending files, build and check everything (the Dagster job)
    kzdw kpis [--year YYYY]    print the KPI table for a year
    kzdw replay [--into FILE]  rebuild a fresh warehouse from the archived files
    kzdw dev [--port 3000]     start the Dagster UI and daemon (dg dev) on 127.0.0.1
    kzdw report [--out DIR]    write the leadership report (HTML, Excel, PDF) for the as-of date
    kzdw rejects [--source S]  write the 退回清单 workbooks to send back to the source systems
    kzdw sql [-c SQL]          SQL, read only, on the analysts' serving copy
    kzdw docs [--port 8080]    build the dbt docs site (catalogue, lineage), serve on 127.0.0.1
    kzdw settings              print the deployment's settings, derived locations included
    kzdw prepare               prepare the dbt manifest the code location loads (make setup)

One module per group of commands: `operate` (run, replay, dev, settings, prepare), `demo`,
`analysts` (kpis, sql, docs), `reports` (report, rejects); `common` holds what they share.
Settings come from the `KZDW_*` environment variables, then from a `.env` file in the working
directory for those the environment does not set (`kzdw.settings`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from kzdw.cli import analysts, demo, operate, reports
from kzdw.cli.common import Parser, Refused, settings_from
from kzdw.settings import SettingsError
from sources.warehouse import WarehouseUnreadable


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="kzdw", description=__doc__.split("\n")[0])
    parser.add_argument("--landing", help="landing folder (default $KZDW_LANDING_DIR)")
    parser.add_argument("--warehouse", help="DuckDB file (default $KZDW_WAREHOUSE)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (demo, operate, analysts, reports):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # A process that ignores SIGTERM passes the ignoring on to what it starts: `kzdw dev`, `kzdw
    # docs` and `kzdw spark-server` (and the daemon, servers and JVM they start) could then
    # only be killed, leaving their own children running. Stopping is asked with SIGTERM.
    for name in ("SIGTERM", "SIGQUIT"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args) if getattr(args, "needs_settings", True) else None
        return args.func(args, settings)
    except (Refused, SettingsError, WarehouseUnreadable) as exc:
        print(f"kzdw {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of the output went away (`kzdw kpis | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
