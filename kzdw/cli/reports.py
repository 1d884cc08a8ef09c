"""What goes to people: `kzdw report` (the leadership report) and `kzdw rejects` (the 退回清单
to send back to the source systems)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from kzdw.cli.common import Refused, iso_date, serving_or_refuse, writable_folder
from kzdw.settings import Settings
from sources.warehouse import open_warehouse


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The leadership report from the serving copy (never the live warehouse)."""
    from kzdw.report import ChromiumNotFound, ReportDataError, build_report

    serving = serving_or_refuse(settings)
    out = writable_folder(Path(args.out), "--out") if args.out else None
    try:
        if out is None:
            writable_folder(settings.reports_dir, "the reports folder (KZDW_REPORTS_DIR)")
            files = build_report(serving, reports_dir=settings.reports_dir)
        else:
            files = build_report(serving, out_dir=out)
    except ReportDataError as exc:
        raise Refused(str(exc)) from None
    except ChromiumNotFound as exc:
        print(f"report.html and report.xlsx are written, the PDF is not: {exc}", file=sys.stderr)
        return 1
    for path in files.paths:
        print(path)
    return 0


def cmd_rejects(args: argparse.Namespace, settings: Settings) -> int:
    """The 退回清单 workbooks: every rejected row and set-aside file, per source system."""
    from kzdw.rejects import write_rejects_workbooks

    serving = serving_or_refuse(settings)
    out = writable_folder(Path(args.out) if args.out else settings.reports_dir / "rejects", "--out")
    con = open_warehouse(serving, read_only=True)
    try:
        paths = write_rejects_workbooks(
            con,
            out,
            source=args.source,
            since=date.fromisoformat(args.since) if args.since else None,
        )
    finally:
        con.close()
    if not paths:
        print("no rejected rows or set-aside files in that range: nothing to send back")
        return 0
    for path in paths:
        print(path)
    return 0


def register(sub) -> None:
    from sources.contracts import SOURCES

    report = sub.add_parser("report", help="write the leadership report for the as-of date")
    report.add_argument(
        "--out", help="folder for report.html/.xlsx/.pdf (default <reports>/<as-of>/)"
    )
    report.set_defaults(func=cmd_report)

    rejects = sub.add_parser(
        "rejects", help="write the 退回清单 workbooks to send back to the source systems"
    )
    rejects.add_argument("--source", choices=sorted(SOURCES), help="one source system only")
    rejects.add_argument("--since", type=iso_date, help="files loaded on or after YYYY-MM-DD")
    rejects.add_argument("--out", help="folder for the workbooks (default <reports>/rejects/)")
    rejects.set_defaults(func=cmd_rejects)
