"""Tools for analysts: `kzdw sql` and `kzdw docs`, both on the serving copy.

`kzdw sql` is a SQL shell opened read only on the serving copy (`$KZDW_SERVING`). It runs on the
project's own `duckdb` package rather than the DuckDB CLI: the warehouse file is written by
DuckDB 2.0 (storage version v2.0.0+), and the newest `duckdb-cli` on PyPI (1.5.6) refuses to
open it ("can only read versions between 64 and 68"). The shell reads with the same engine
that writes, so the two cannot drift apart.

`kzdw docs` runs `dbt docs generate` with the profile's `serving` target, which opens the
serving copy with DuckDB's READ_ONLY access mode: the catalogue never waits for, nor blocks, a
build holding the live warehouse. The site goes to its own target folder, so the manifests that
Dagster loads from `dbt_project/target/<warehouse>-<hash>/` are left alone, and is served on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import http.server
import io
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import duckdb

from kzdw.cli.common import (
    Refused,
    connect_read_only,
    free_port,
    natural,
    pad,
    serving_or_refuse,
    writable_folder,
)
from kzdw.settings import DBT_PROJECT_DIR, Settings
from kzdw.terminal import inert
from sources.warehouse import open_warehouse

HEADLINE_KPIS = (
    "avg_trips_per_case",
    "online_case_rate",
    "online_licensing_item_rate",
    "high_frequency_items",
    "one_window_items",
    "one_window_departments",
    "one_window_cases",
    "cross_region_cases",
    "enterprise_registration_2h_rate",
    "items_approval_cancelled",
    "items_approval_to_filing",
    "items_notification_commitment",
    "items_approval_optimized",
    "entities_total",
    "entities_net_growth_rate",
    "entities_new",
    "returnee_entities_new",
    "industrial_projects_signed",
    "industrial_investment_signed",
    "industrial_projects_started",
    "projects_signed",
    "contract_investment_signed",
    "projects_started",
    "projects_in_production",
)


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def kpi_years(con) -> list[int]:
    return [
        r[0]
        for r in con.execute(
            "select distinct year(period_start) from marts.kpi_values "
            "where period_type = 'year' order by 1"
        ).fetchall()
    ]


def print_kpis(database: Path, year: int | None, codes: tuple[str, ...] | None = None) -> int:
    con = connect_read_only(database)
    try:
        if year is None:
            year = con.execute("select year(max(as_of)) from marts.kpi_values").fetchone()[0]
        rows = con.execute(
            "select kpi_code, kpi_name_zh, value, unit, target, as_of from marts.kpi_values "
            "where period_type = 'year' and year(period_start) = ? order by kpi_code",
            [year],
        ).fetchall()
        years = kpi_years(con)
    finally:
        con.close()
    if codes:
        order = {c: i for i, c in enumerate(codes)}
        rows = sorted((r for r in rows if r[0] in order), key=lambda r: order[r[0]])
    if not rows:
        held = f"{years[0]}–{years[-1]}" if years else "none yet (run `kzdw run`)"
        print(f"no KPI values for {year}: the warehouse holds years {held}", file=sys.stderr)
        return 1
    print(f"\n{year} 年度指标 (as of {rows[0][5]})")
    for code, name, value, unit, target, _ in rows:
        tgt = f"   目标 {_format_value(target, unit)}" if target is not None else ""
        print(f"  {pad(inert(name), 30)}{_format_value(value, unit):>12}   {code}{tgt}")
    return 0


def cmd_kpis(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.warehouse.exists():
        raise Refused(f"no warehouse at {settings.warehouse}: run `kzdw run` first")
    return print_kpis(settings.warehouse, args.year, None if args.all else HEADLINE_KPIS)


HISTORY_FILE = Path.home() / ".kzdw_sql_history"
DEFAULT_MAX_ROWS = 40

# Statements whose result is rows to show; the others (SET, ATTACH, CREATE TEMP ...) print
# nothing when they succeed, as in the DuckDB CLI.
ROW_STATEMENTS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.CALL,
    duckdb.StatementType.EXECUTE,
}

HELP = """\
Statements end with ';' and may span several lines. Commands:
  .tables [PATTERN]   tables and views, schema-qualified (PATTERN as in ILIKE, e.g. %kpi%)
  .schema TABLE       the columns of a table or view
  .maxrows N          rows shown per result (now {max_rows})
  .help               this text
  .quit / .exit       leave (or Ctrl-D)
The serving copy is read only. Scratch tables: `create temp table t as ...`, or
`attach 'scratch.duckdb' as scratch (read_write);`. Examples: docs/analysts.md."""


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return open_warehouse(path, read_only=True)


def statement_complete(text: str) -> bool:
    """True when the text ends with a ';' outside quotes and comments (the shell then runs
    it); a ';' inside a string or a comment does not end a statement."""
    ended = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            close = text.find(ch, i + 1)
            # Doubled quotes inside a literal are found as the end and the start of another.
            if close < 0:
                return False
            i = close + 1
            ended = False
            continue
        if text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return False
            i = close + 2
            continue
        if ch == ";":
            ended = True
        elif not ch.isspace():
            ended = False
        i += 1
    return ended


def _terminal_width() -> int:
    return shutil.get_terminal_size((160, 24)).columns


def write_csv(rel: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    """Every row as CSV. On a terminal, text from the data is shown inert (an escape sequence
    in a value must not drive the terminal); into a file or a pipe, as it is."""
    writer = csv.writer(out, lineterminator="\n")
    rows = rel.fetchall()
    if out.isatty():
        rows = [[inert(v) if isinstance(v, str) else v for v in row] for row in rows]
    writer.writerow(rel.columns)
    writer.writerows(rows)


def run_statements(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    as_csv: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> bool:
    """Run every statement of `sql` in order, printing each result; stop at the first error
    (printed to `err`). Returns whether all of them ran."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        statements = con.extract_statements(sql)
        for statement in statements:
            if statement.type not in ROW_STATEMENTS:
                con.execute(statement.query)
                continue
            rel = con.sql(statement.query)
            if as_csv:
                write_csv(rel, out)
            else:
                show(rel, max_rows, out)
    except duckdb.Error as exc:
        print(f"Error: {exc}", file=err)
        return False
    return True


def show(rel: duckdb.DuckDBPyRelation, max_rows: int, out: TextIO | None = None) -> None:
    """DuckDB's own table rendering, as its CLI draws it, as wide as the terminal. DuckDB
    escapes C0 controls in values itself; what it leaves (C1 controls, bidi overrides) is
    made inert line by line."""
    drawn = io.StringIO()
    with contextlib.redirect_stdout(drawn):
        rel.show(max_rows=max_rows, max_width=_terminal_width())
    target = out or sys.stdout
    for line in drawn.getvalue().splitlines():
        print(inert(line), file=target)


class Shell:
    """The interactive loop: statements until ';', dot commands, history and Tab completion."""

    prompt = "kzdw> "
    continuation = "  ...> "

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path
        self.max_rows = DEFAULT_MAX_ROWS
        self.commands: dict[str, Callable[[str], bool]] = {
            ".help": self._help,
            ".tables": self._tables,
            ".schema": self._schema,
            ".maxrows": self._maxrows,
            ".quit": lambda _: False,
            ".exit": lambda _: False,
        }

    def banner(self) -> str:
        published = datetime.fromtimestamp(self.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        lines = [
            f"kzdw sql: DuckDB {duckdb.__version__}, read only on {self.path}",
            f"published {published}" + self._as_of_note(),
            "End each statement with ';'. .help for commands, .quit or Ctrl-D to leave.",
        ]
        return "\n".join(lines)

    def _as_of_note(self) -> str:
        try:
            as_of = self.con.execute("select max(as_of) from marts.kpi_values").fetchone()[0]
        except duckdb.Error:
            return ""
        return f", KPIs as of {as_of}" if as_of else ""

    def _help(self, _: str) -> bool:
        print(HELP.format(max_rows=self.max_rows))
        return True

    def _tables(self, pattern: str) -> bool:
        rel = self.con.sql(
            "select table_schema || '.' || table_name as name, lower(table_type) as type "
            "from information_schema.tables "
            "where table_catalog = current_database() and (table_schema || '.' || table_name) "
            "ilike ? order by table_schema, table_name",
            params=[pattern.strip() or "%"],
        )
        show(rel, 10_000)
        return True

    def _schema(self, table: str) -> bool:
        if not table.strip():
            print("usage: .schema TABLE   (e.g. .schema marts.kpi_values)")
            return True
        run_statements(self.con, f"describe {table.strip()}", max_rows=10_000)
        return True

    def _maxrows(self, value: str) -> bool:
        try:
            self.max_rows = max(int(value), 1)
        except ValueError:
            print(f"usage: .maxrows N   (now {self.max_rows})")
        return True

    def command(self, line: str) -> bool:
        """Run a dot command; False when the shell should end."""
        name, _, rest = line.strip().partition(" ")
        handler = self.commands.get(name)
        if handler is None:
            print(f"unknown command {name}: .help lists them")
            return True
        return handler(rest)

    def _names(self) -> list[str]:
        rows = self.con.execute(
            "select table_schema || '.' || table_name, table_name, column_name "
            "from information_schema.columns where table_catalog = current_database()"
        ).fetchall()
        return sorted({name for row in rows for name in row} | set(self.commands))

    def _setup_readline(self) -> Callable[[], None]:
        try:
            import readline
        except ImportError:  # not every Python has it; the shell works without
            return lambda: None
        names = self._names()

        def complete(text: str, state: int) -> str | None:
            matches = [n for n in names if n.lower().startswith(text.lower())]
            return matches[state] if state < len(matches) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" \t\n(),;=<>'\"")
        readline.parse_and_bind("tab: complete")
        if HISTORY_FILE.exists():
            try:
                readline.read_history_file(HISTORY_FILE)
            except OSError:
                pass

        def save() -> None:
            try:
                readline.set_history_length(2000)
                readline.write_history_file(HISTORY_FILE)
            except OSError:
                pass

        return save

    def loop(self) -> int:
        print(self.banner())
        save_history = self._setup_readline()
        buffer: list[str] = []
        try:
            while True:
                try:
                    line = input(self.continuation if buffer else self.prompt)
                except KeyboardInterrupt:  # Ctrl-C while typing drops the statement
                    print()
                    buffer.clear()
                    continue
                except EOFError:
                    print()
                    return 0
                if not buffer and line.strip().startswith("."):
                    if not self.command(line):
                        return 0
                    continue
                buffer.append(line)
                text = "\n".join(buffer)
                if not text.strip():
                    buffer.clear()
                elif statement_complete(text):
                    buffer.clear()
                    try:
                        run_statements(self.con, text, max_rows=self.max_rows)
                    except KeyboardInterrupt:
                        self.con.interrupt()
                        print("interrupted")
        finally:
            save_history()


def cmd_sql(args, settings: Settings) -> int:
    """`kzdw sql [-c SQL] [--csv] [--max-rows N]`."""
    path = serving_or_refuse(settings)
    con = open_warehouse(path, read_only=True)
    try:
        if args.sql is not None:
            ok = run_statements(con, args.sql, as_csv=args.csv, max_rows=args.max_rows)
            return 0 if ok else 1
        if not sys.stdin.isatty():
            # Statements piped in (`kzdw sql < query.sql`) run as a script.
            ok = run_statements(con, sys.stdin.read(), as_csv=args.csv, max_rows=args.max_rows)
            return 0 if ok else 1
        return Shell(con, path).loop()
    finally:
        con.close()


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so that no activated venv is needed."""
    return shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


def generate_docs(settings: Settings, target: Path) -> subprocess.CompletedProcess:
    """`dbt docs generate` from the serving copy, read only, into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    cmd = [
        dbt_executable(),
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
