"""Writing demo landing files the way the source systems export them.

A `LandingFile` holds typed rows named by the contract's columns and says how the exporting
system renders them: format, encoding, header language, time format, flag words, blanks, an
extra or a missing column, rule-breaking rows, arrival time. `write_landing_file` turns it
into bytes; headers always come from `sources.contracts`, never from a list kept here.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import polars as pl
import xlsxwriter

from sources.contracts import SOURCES

LOCAL = timezone(timedelta(hours=8))
# xlsx files carry a creation time; a fixed one keeps the bytes reproducible.
XLSX_CREATED = datetime(2023, 7, 1, 8, 0, 0)

Format = Literal["csv", "xlsx", "parquet", "jsonl"]


@dataclass
class LandingFile:
    source: str
    name: str
    # Typed rows with contract column names: Datetime, Date, Float64, Int64, Boolean, String.
    rows: pl.DataFrame
    # Local wall-clock time the file reaches the landing folder (its modification time).
    arrives: datetime
    fmt: Format = "csv"
    encoding: Literal["utf-8", "utf-8-sig", "gb18030"] = "utf-8"
    english_headers: bool = False
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    date_format: str = "%Y-%m-%d"
    flag_words: tuple[str, str] = ("是", "否")
    # Surrounding blanks around every header and value.
    padded: bool = False
    # xlsx only: times and dates as Excel date-time cells, numbers as number cells.
    excel_cells: bool = False
    # Columns a system adds that the contract does not know: header -> one value per row.
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    # Contract columns the export leaves out (a broken export).
    drop_columns: tuple[str, ...] = ()
    # Rows as text (contract column names, all String), appended after the good rows.
    broken: pl.DataFrame | None = None
    # xlsx only: columns whose all-digit values in broken rows are typed as Excel numbers.
    excel_number_columns: tuple[str, ...] = ()
    # A byte-identical re-delivery of another file of the same source (by name).
    copy_of: str | None = None

    @property
    def row_count(self) -> int:
        broken = 0 if self.broken is None else self.broken.height
        return self.rows.height + broken


def text_rows(f: LandingFile, rows: pl.DataFrame) -> pl.DataFrame:
    """Typed rows rendered as `f`'s exporting system prints them; null stays null."""
    true_word, false_word = f.flag_words
    exprs = []
    for name, dtype in rows.schema.items():
        col = pl.col(name)
        if dtype == pl.Datetime:
            expr = col.dt.strftime(f.timestamp_format)
        elif dtype == pl.Date:
            expr = col.dt.strftime(f.date_format)
        elif dtype == pl.Boolean:
            expr = pl.when(col.is_null()).then(None).when(col).then(pl.lit(true_word))
            expr = expr.otherwise(pl.lit(false_word))
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.alias(name))
    return rows.select(exprs)


def _text_frame(f: LandingFile) -> pl.DataFrame:
    text = text_rows(f, f.rows)
    if f.broken is not None:
        text = pl.concat([text, f.broken.select(text.columns)], how="vertical")
    return text


def _ordered_columns(f: LandingFile) -> list[tuple[str, str]]:
    """(contract column, header as printed) in the contract's order."""
    source = SOURCES[f.source]
    return [
        (c.name, c.name if f.english_headers else c.header_zh)
        for c in source.columns
        if c.name not in f.drop_columns
    ]


def _with_headers(f: LandingFile, text: pl.DataFrame) -> pl.DataFrame:
    cols = _ordered_columns(f)
    out = text.select([pl.col(name).alias(header) for name, header in cols])
    for header, values in f.extra_columns.items():
        out = out.with_columns(pl.Series(header, values, dtype=pl.String))
    if f.padded:
        out = out.select(
            pl.when(pl.col(c).is_null()).then(None).otherwise(" " + pl.col(c) + " ").alias(f" {c} ")
            for c in out.columns
        )
    return out


def _csv_bytes(f: LandingFile, table: pl.DataFrame) -> bytes:
    # Windows-era exports (GB18030) end lines with CRLF.
    terminator = "\r\n" if f.encoding == "gb18030" else "\n"
    text = table.write_csv(line_terminator=terminator)
    if f.encoding == "gb18030":
        return text.encode("gb18030")
    if f.encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


def _xlsx_bytes(f: LandingFile, text: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": XLSX_CREATED, "author": "export"})
    ws = wb.add_worksheet("Sheet1")
    datetime_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    cols = _ordered_columns(f)
    headers = [h for _, h in cols] + list(f.extra_columns)
    for j, h in enumerate(headers):
        ws.write_string(0, j, h)
    typed = f.rows
    n_good = typed.height
    for j, (name, _) in enumerate(cols):
        dtype = typed.schema[name]
        native = f.excel_cells and dtype in (pl.Datetime, pl.Date, pl.Float64, pl.Int64)
        values = typed.get_column(name).to_list() if native else None
        shown = text.get_column(name).to_list()
        for i, v in enumerate(shown):
            row = i + 1
            if v is None:
                continue
            if values is not None and i < n_good:
                raw = values[i]
                if dtype == pl.Datetime:
                    ws.write_datetime(row, j, raw, datetime_fmt)
                elif dtype == pl.Date:
                    ws.write_datetime(row, j, datetime.combine(raw, datetime.min.time()), date_fmt)
                else:
                    ws.write_number(row, j, raw)
            elif i >= n_good and name in f.excel_number_columns and v.isdigit():
                # The export let Excel type a long code as a number: 15 significant digits.
                ws.write_number(row, j, float(v))
            else:
                ws.write_string(row, j, v)
    for k, (_, values) in enumerate(f.extra_columns.items()):
        for i, v in enumerate(values):
            if v is not None:
                ws.write_string(i + 1, len(cols) + k, v)
    wb.close()
    return buf.getvalue()


def render(f: LandingFile) -> bytes:
    text = _text_frame(f)
    if f.fmt == "xlsx":
        return _xlsx_bytes(f, text)
    table = _with_headers(f, text)
    if f.fmt == "csv":
        return _csv_bytes(f, table)
    buf = io.BytesIO()
    if f.fmt == "parquet":
        table.write_parquet(buf, compression="zstd", statistics=False)
    else:
        table.write_ndjson(buf)
    return buf.getvalue()


def arrival_timestamp(local: datetime) -> float:
    return local.replace(tzinfo=LOCAL).timestamp()


def write_landing_file(f: LandingFile, folder: Path) -> Path:
    """Write one file and set its modification time to its arrival. A re-delivery copies the
    bytes of its original, which must have been written before it."""
    data = (folder / f.copy_of).read_bytes() if f.copy_of else render(f)
    path = folder / f.name
    path.write_bytes(data)
    ts = arrival_timestamp(f.arrives)
    os.utime(path, (ts, ts))
    return path
