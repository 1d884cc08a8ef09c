"""For analysts: `kzdw kpis`, `kzdw sql` and `kzdw docs`, all on the serving copy.

The serving copy is written in DuckDB's v1.5 storage format, so the standard tools read it:
`kzdw sql` is the DuckDB CLI (the `duckdb-cli` package, 1.x) opened read only on it, with file
access off; DBeaver, Python's duckdb and any 1.x driver open it as well. None of them ever
waits on, or blocks, a build holding the live warehouse.

`kzdw docs` runs `dbt docs generate` with the profile's `serving` target, which opens the
serving copy with DuckDB's READ_ONLY access mode, into docs/ beside the serving copy, and
serves the site on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import socket
import subprocess
import sys
import unicodedata
from pathlib import Path

from kzdw.cli.common import (
    Refused,
    free_port,
    natural,
    pad,
    serving_or_refuse,
    writable_folder,
)
from kzdw.settings import DBT_PROJECT_DIR, Settings, dbt_command, installed_command
from kzdw.terminal import inert
from sources.warehouse import open_when_free


def kpi_years(con) -> list[int]:
    return [
        r[0]
        for r in con.execute(
            "select distinct year(period_start) from marts.kpi_values "
            "where period_type = 'year' order by 1"
        ).fetchall()
    ]


def _rjust(text: str, width: int) -> str:
    """Right-align text whose CJK characters take two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return " " * max(width - used, 0) + text


def print_kpis(database: Path, year: int | None, headline_only: bool = True) -> int:
    """A year's KPIs as the report prints them (kzdw.report.formatting.format_value, from the
    serving copy's seeds.kpi_definitions): the headline ones in headline_rank order, or every
    KPI by domain in display_order."""
    from kzdw.report.data import ReportDataError, read_kpi_facts
    from kzdw.report.formatting import format_value

    con = open_when_free(database)
    try:
        if year is None:
            year = con.execute("select year(max(as_of)) from marts.kpi_values").fetchone()[0]
        rows = con.execute(
            "select kpi_code, value, target, as_of from marts.kpi_values "
            "where period_type = 'year' and year(period_start) = ? order by kpi_code",
            [year],
        ).fetchall()
        years = kpi_years(con)
        try:
            facts = read_kpi_facts(con, database) if rows else {}
        except ReportDataError as exc:
            raise Refused(str(exc)) from None
    finally:
        con.close()
    if not rows:
        held = f"{years[0]}–{years[-1]}" if years else "none yet (run `kzdw run`)"
        print(f"no KPI values for {year}: the warehouse holds years {held}", file=sys.stderr)
        return 1
    rows = [r for r in rows if r[0] in facts]
    if headline_only:
        rows = [r for r in rows if facts[r[0]].headline_rank is not None]
        rows.sort(key=lambda r: facts[r[0]].headline_rank)
    else:
        rows.sort(key=lambda r: facts[r[0]].display_key)
    print(f"\n{year} 年度指标 (as of {rows[0][3] if rows else '—'})")
    for code, value, target, _ in rows:
        f = facts[code]
        tgt = f"   目标 {format_value(target, f)}" if target is not None else ""
        print(f"  {pad(inert(f.name), 30)}{_rjust(format_value(value, f), 14)}   {code}{tgt}")
    return 0


def cmd_kpis(args: argparse.Namespace, settings: Settings) -> int:
    """From the serving copy: never waits on a build holding the live warehouse."""
    serving = serving_or_refuse(settings)
    return print_kpis(serving, args.year, headline_only=not args.all)


DEFAULT_MAX_ROWS = 40


def sql_command(path: Path, *, sql: str | None, csv: bool, max_rows: int) -> list[str]:
    """The DuckDB CLI, read only on the serving copy, with file access switched off and the
    setting locked: a session can query the copy and nothing else, so it cannot attach the
    live warehouse (nor read any other file)."""
    cmd = [
        installed_command("duckdb"),
        "-readonly",
        "-cmd",
        f".maxrows {max_rows}",
        "-cmd",
        "SET enable_external_access = false",
        "-cmd",
        "SET lock_configuration = true",
    ]
    if csv:
        cmd.append("-csv")
    cmd.append(str(path))
    if sql is not None:
        cmd += ["-c", sql]
    return cmd


def cmd_sql(args, settings: Settings) -> int:
    """`kzdw sql [-c SQL] [--csv] [--max-rows N]`: the standard DuckDB CLI on the serving copy.
    Interactive, it is the CLI itself (its history, completion, dot commands); with -c or
    statements piped in, its output on a terminal is shown inert."""
    path = serving_or_refuse(settings)
    # A damaged copy is refused in words here, before the CLI starts.
    open_when_free(path, wait_seconds=10).close()
    cmd = sql_command(path, sql=args.sql, csv=args.csv, max_rows=args.max_rows)
    if args.sql is None and sys.stdin.isatty():
        os.execv(cmd[0], cmd)
    proc = subprocess.run(
        cmd,
        stdin=sys.stdin if args.sql is None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    out = proc.stdout
    if sys.stdout.isatty():
        out = "\n".join(inert(line) for line in out.split("\n"))
    sys.stdout.write(out)
    sys.stderr.write("\n".join(inert(line) for line in proc.stderr.split("\n")))
    return proc.returncode


def generate_docs(settings: Settings, target: Path) -> subprocess.CompletedProcess:
    """`dbt docs generate` from the serving copy, read only, into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    cmd = [
        dbt_command("dbt"),
        "docs",
        "generate",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        "serving",
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    return subprocess.run(
        cmd,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env()},
        capture_output=True,
        text=True,
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def docs_server(directory: Path, sock: socket.socket) -> http.server.ThreadingHTTPServer:
    """A static server of the docs site on a socket already bound to 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(sock.getsockname(), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_activate()
    return server


def cmd_docs(args, settings: Settings) -> int:
    """`kzdw docs [--port 8080] [--out DIR]`: generate the dbt docs site and serve it. The
    port is taken before the site is generated, so a busy port is refused at once."""
    path = serving_or_refuse(settings)
    target = writable_folder(Path(args.out) if args.out else settings.docs_dir, "--out")
    sock = free_port(args.port)
    print(f"dbt docs generate on {path} (read only) into {target}", flush=True)
    result = generate_docs(settings, target)
    if result.returncode != 0:
        sock.close()
        print(inert(result.stdout[-4000:] + result.stderr[-4000:]), file=sys.stderr)
        print("dbt docs generate failed: see the output above", file=sys.stderr)
        return 1
    server = docs_server(target, sock)
    print(f"dbt docs on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    finally:
        server.server_close()
    return 0


def register(sub) -> None:
    kpis = sub.add_parser("kpis", help="print a year's KPIs from marts.kpi_values")
    kpis.add_argument(
        "--year", type=natural("--year", 1900, 2999), help="year (default: the as-of year)"
    )
    kpis.add_argument("--all", action="store_true", help="every KPI, not only the headline ones")
    kpis.set_defaults(func=cmd_kpis)

    sql = sub.add_parser("sql", help="SQL, read only, on the serving copy")
    sql.add_argument("-c", dest="sql", metavar="SQL", help="run these statements and exit")
    sql.add_argument("--csv", action="store_true", help="print results as CSV, every row")
    sql.add_argument(
        "--max-rows",
        type=natural("--max-rows", 1, 10_000_000),
        default=DEFAULT_MAX_ROWS,
        help="rows shown per result",
    )
    sql.set_defaults(func=cmd_sql)

    docs = sub.add_parser("docs", help="build the dbt docs site and serve it on 127.0.0.1")
    docs.add_argument(
        "--port", type=natural("--port", 1, 65535), default=8080, help="port on 127.0.0.1"
    )
    docs.add_argument("--out", help="site folder (default docs/ beside the serving copy)")
    docs.set_defaults(func=cmd_docs)
