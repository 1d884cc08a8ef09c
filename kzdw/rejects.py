"""退回清单: for each source system, one workbook of what it has to correct and send again.

Read from the audit layer of the warehouse (audit.file_loads, audit.rejected_rows): the rows
rejected one by one (逐行退回) and the files set aside whole (整文件退回), with what is wrong and
what to change, for the system's own staff. Values are shown as the audit recorded them,
masked where the column holds personal data; nothing here can unmask them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from kzdw.report.excel import FONT, SafeWorkbook
from kzdw.report.formatting import display_width
from sources.contracts import SOURCES, rule_text

ROW_SHEET = "逐行退回"
FILE_SHEET = "整文件退回"
ROW_HEADERS = ("文件", "行号", "列", "规则", "值", "问题", "怎么改", "载入时间")
FILE_HEADERS = ("文件", "原因", "载入时间")
# Where the tables start: a title and two lines above, one blank row, then the header row.
HEADER_ROW = 4
# The widest a column grows (display columns, a Chinese character being two); longer text wraps.
MAX_WIDTH = {"文件": 44, "列": 34, "规则": 34, "值": 30, "问题": 60, "怎么改": 56, "原因": 90}
WRAPPED = {"问题", "怎么改", "原因"}


class NoAuditTables(RuntimeError):
    """The database holds no audit.file_loads or audit.rejected_rows."""


@dataclass
class _Rejects:
    """What one source has to correct in the period."""

    source: str
    rows: list[tuple] = field(default_factory=list)  # file, row, column, rule, value, ..., at
    files: list[tuple] = field(default_factory=list)  # file, reason, loaded_at

    def loaded_dates(self) -> list[date]:
        return [r[-1].date() for r in self.rows] + [f[-1].date() for f in self.files]


def _source_names(source: str) -> tuple[str, str]:
    """(title, system) in Chinese, from the contract; a name the contract lacks stands as is."""
    contract = SOURCES.get(source)
    if contract is None:
        return source, source
    return contract.title_zh, contract.system_zh


def _header_zh(source: str, column: str) -> str | None:
    contract = SOURCES.get(source)
    if contract is None:
        return None
    try:
        return contract.column(column).header_zh
    except KeyError:
        return None


def _column_label(source: str, column: str) -> str:
    """受理时间（accepted_at）: the header the system exports, and the contract's name."""
    header = _header_zh(source, column)
    return f"{header}（{column}）" if header else column


def _explain(
    source: str, rule: str, column: str, message: str | None, rules_broken: int | None
) -> tuple[str, str]:
    """问题 and 怎么改 of a rejected row, from the contract's own texts for the rule; a rule the
    contract no longer has (a row rejected by an older version) shows the message stored with
    it."""
    try:
        text = rule_text(source, rule, column)
        problem, fix = text.problem_zh, text.fix_zh
    except KeyError:
        problem = message or rule
        named = f"“{_header_zh(source, column) or column}”"
        fix = f"在源系统中核对并更正该行的{named}，重新导出后报送"
    if rules_broken and rules_broken > 1:
        problem += f"（该行共有{rules_broken}处不符合约定，此处列出第一处，请一并核对整行。）"
    return problem, fix


def _has_audit(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' "
        "and table_name in ('file_loads', 'rejected_rows')"
    ).fetchone()
    return bool(found and found[0] == 2)


def _where(source: str | None, since: date | None) -> tuple[str, list]:
    clauses, params = [], []
    if source is not None:
        clauses.append("f.source = ?")
        params.append(source)
    if since is not None:
        clauses.append("cast(f.loaded_at as date) >= ?")
        params.append(since)
    return (" and " + " and ".join(clauses) if clauses else ""), params


def read_rejects(
    con: duckdb.DuckDBPyConnection, *, source: str | None = None, since: date | None = None
) -> dict[str, _Rejects]:
    """Rejected rows and set-aside files by source, in order of loading."""
    if not _has_audit(con):
        raise NoAuditTables(
            "数据库中没有审计表 audit.file_loads、audit.rejected_rows。 / the database has no "
            "audit.file_loads and audit.rejected_rows: open the warehouse that `kzdw run` loads "
            "(KZDW_WAREHOUSE), not a copy without its audit layer"
        )
    where, params = _where(source, since)
    out: dict[str, _Rejects] = {}
    rows = con.execute(
        "select f.source, f.file_name, r.row_number, r.column_name, r.rule, r.value, r.message, "
        "r.rules_broken, f.loaded_at "
        "from audit.rejected_rows r join audit.file_loads f using (load_id) "
        f"where true{where} order by f.source, f.loaded_at, f.load_id, r.row_number",
        params,
    ).fetchall()
    for src, file_name, row, column, rule, value, message, broken, loaded_at in rows:
        problem, fix = _explain(src, rule, column, message, broken)
        out.setdefault(src, _Rejects(src)).rows.append(
            (
                file_name,
                row,
                _column_label(src, column),
                rule,
                value,
                problem,
                fix,
                loaded_at,
            )
        )
    files = con.execute(
        "select f.source, f.file_name, f.reason, f.loaded_at from audit.file_loads f "
        f"where f.status = 'set_aside'{where} order by f.source, f.loaded_at, f.load_id",
        params,
    ).fetchall()
    for src, file_name, reason, loaded_at in files:
        out.setdefault(src, _Rejects(src)).files.append((file_name, reason, loaded_at))
    return out


def workbook_name(source: str, start: date, end: date) -> str:
    """退回清单_<中文名>_<source>_<from>-<to>.xlsx, from the contract's names (a name the
    contract lacks keeps its letters, digits, _ and - only)."""
    title, _ = _source_names(source)
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", source)
    if source not in SOURCES:
        title = safe
    return f"退回清单_{title}_{safe}_{start:%Y%m%d}-{end:%Y%m%d}.xlsx"


class _RejectsBook(SafeWorkbook):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.title = self.add_format({**FONT, "bold": True, "font_size": 14})
        self.note = self.add_format(dict(FONT))
        self.header = self.add_format(
            {**FONT, "bold": True, "bg_color": "#DCE6F1", "border": 1, "valign": "vcenter"}
        )
        self.text = self.add_format({**FONT, "border": 1, "valign": "top"})
        self.wrap = self.add_format({**FONT, "border": 1, "valign": "top", "text_wrap": True})
        self.integer = self.add_format({**FONT, "border": 1, "valign": "top", "num_format": "0"})
        self.stamp = self.add_format(
            {**FONT, "border": 1, "valign": "top", "num_format": "yyyy-mm-dd hh:mm:ss"}
        )

    def sheet(self, name: str, block: list[str], headers: tuple[str, ...], rows: list[tuple]):
        ws = self.add_worksheet(name)
        for i, line in enumerate(block):
            self.write_text(ws, i, 0, line, self.title if i == 0 else self.note)
        widths = [max(display_width(h) + 4, 8) for h in headers]
        for c, h in enumerate(headers):
            self.write_text(ws, HEADER_ROW, c, h, self.header)
        for r, row in enumerate(rows, start=HEADER_ROW + 1):
            for c, value in enumerate(row):
                name = headers[c]
                if isinstance(value, datetime):
                    fmt, shown = self.stamp, "0000-00-00 00:00:00"
                elif isinstance(value, int):
                    fmt, shown = self.integer, str(value)
                else:
                    fmt = self.wrap if name in WRAPPED else self.text
                    shown = "" if value is None else str(value)
                self.write(ws, r, c, value, fmt)
                longest = max((display_width(part) for part in shown.splitlines()), default=0)
                widths[c] = max(widths[c], min(longest + 2, MAX_WIDTH.get(name, 24)))
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.autofilter(HEADER_ROW, 0, HEADER_ROW + max(len(rows), 1), len(headers) - 1)
        return ws


def _block(rejects: _Rejects, start: date, end: date) -> list[str]:
    title, system = _source_names(rejects.source)
    files_with_rows = len({(r[0], r[-1]) for r in rejects.rows})
    return [
        f"退回清单：{title}（{system}）",
        f"时段：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（按载入时间）。涉及文件"
        f"{files_with_rows + len(rejects.files)}个：逐行退回{files_with_rows}个文件共"
        f"{len(rejects.rows)}行，整文件退回{len(rejects.files)}个。",
        f"请退回{system}：按“怎么改”更正后重新导出，放回落地文件夹 {rejects.source}/。"
        "行号从第一行数据起算（表头不计）；个人信息已按规定遮蔽。",
    ]


def write_rejects_workbooks(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    source: str | None = None,
    since: date | None = None,
) -> list[Path]:
    """One 退回清单 workbook per source system with rejected rows or set-aside files loaded on
    or after `since` (all, without it), in `out_dir`; returns their paths in contract order.
    The period in a workbook's name runs from `since` (or its first load) to its last load."""
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
    found = read_rejects(con, source=source, since=since)
    order = [s for s in SOURCES if s in found] + sorted(s for s in found if s not in SOURCES)
    out_dir = Path(out_dir)
    written = []
    for name in order:
        rejects = found[name]
        dates = rejects.loaded_dates()
        start, end = since or min(dates), max(dates)
        path = out_dir / workbook_name(name, start, end)
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        book = _RejectsBook(partial)
        block = _block(rejects, start, end)
        book.sheet(ROW_SHEET, block, ROW_HEADERS, rejects.rows)
        book.sheet(FILE_SHEET, block, FILE_HEADERS, rejects.files)
        book.close()
        # Renamed into place whole: a reader never opens half a workbook.
        partial.replace(path)
        written.append(path)
    return written
