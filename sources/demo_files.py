"""Writing demo landing files the way the source systems export them.

A `LandingFile` holds typed rows named by the contract's columns and says how the exporting
system renders them: format, encoding, header language, time format, flag words, blanks, an
extra or a missing column, rule-breaking rows, arrival time. `write_landing_file` writes it
(CSV and JSONL a slice of rows at a time, so a big month never exists as text all at once);
headers always come from `sources.contracts`, never from a list kept here.
"""

from __future__ import annotations

import codecs
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl
import xlsxwriter

from sources.contracts import SOURCES

LOCAL = timezone(timedelta(hours=8))
# xlsx files carry a creation time; a fixed one keeps the bytes reproducible.
XLSX_CREATED = datetime(2023, 7, 1, 8, 0, 0)

Format = Literal["csv", "xlsx", "parquet", "jsonl"]
# Rows rendered to text at once when a CSV or JSONL file is written.
BATCH_ROWS = 200_000


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


def _text_batches(f: LandingFile) -> Iterator[tuple[int, pl.DataFrame]]:
    """`_text_frame` in slices of at most BATCH_ROWS rows, each with the number of rows
    before it: text takes several times the memory of typed rows, so a big month is rendered
    a slice at a time (at least one slice, so an empty file still gets its header)."""
    n = f.rows.height
    for start in range(0, max(n, 1), BATCH_ROWS):
        yield start, text_rows(f, f.rows.slice(start, BATCH_ROWS))
    if f.broken is not None:
        yield n, f.broken.select(f.rows.columns)


def _ordered_columns(f: LandingFile) -> list[tuple[str, str]]:
    """(contract column, header as printed) in the contract's order."""
    source = SOURCES[f.source]
    return [
        (c.name, c.name if f.english_headers else c.header_zh)
        for c in source.columns
        if c.name not in f.drop_columns
    ]


def _with_headers(f: LandingFile, text: pl.DataFrame, offset: int = 0) -> pl.DataFrame:
    """Rows as printed, `text` being the rows from `offset` on."""
    cols = _ordered_columns(f)
    out = text.select([pl.col(name).alias(header) for name, header in cols])
    for header, values in f.extra_columns.items():
        part = values[offset : offset + text.height]
        out = out.with_columns(pl.Series(header, part, dtype=pl.String))
    if f.padded:
        out = out.select(
            pl.when(pl.col(c).is_null()).then(None).otherwise(" " + pl.col(c) + " ").alias(f" {c} ")
            for c in out.columns
        )
    return out


def _write_csv(f: LandingFile, out: BinaryIO) -> None:
    # Windows-era exports (GB18030) end lines with CRLF.
    terminator = "\r\n" if f.encoding == "gb18030" else "\n"
    if f.encoding == "utf-8-sig":
        out.write(codecs.BOM_UTF8)
    for i, (offset, text) in enumerate(_text_batches(f)):
        table = _with_headers(f, text, offset)
        if f.encoding == "gb18030":
            csv = table.write_csv(include_header=i == 0, line_terminator=terminator)
            out.write(csv.encode("gb18030"))
        else:
            table.write_csv(out, include_header=i == 0, line_terminator=terminator)


def _write_jsonl(f: LandingFile, out: BinaryIO) -> None:
    # One object per line: the slices' lines are the whole file's.
    for offset, text in _text_batches(f):
        _with_headers(f, text, offset).write_ndjson(out)


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


def arrival_timestamp(local: datetime) -> float:
    return local.replace(tzinfo=LOCAL).timestamp()


def _write(f: LandingFile, path: Path, folder: Path) -> None:
    if f.copy_of:
        shutil.copyfile(folder / f.copy_of, path)
    elif f.fmt == "xlsx":
        path.write_bytes(_xlsx_bytes(f, _text_frame(f)))
    elif f.fmt == "parquet":
        # Polars writes a Parquet file from one frame, so this one is rendered whole: a single
        # case month (2021-06) and the entity history, about 2M rows at scale 200.
        _with_headers(f, _text_frame(f)).write_parquet(path, compression="zstd", statistics=False)
    else:
        with path.open("wb") as out:
            (_write_csv if f.fmt == "csv" else _write_jsonl)(f, out)


def write_landing_file(f: LandingFile, folder: Path) -> Path:
    """Write one file and set its modification time to its arrival. A re-delivery copies the
    bytes of its original, which must have been written before it.

    The file is written under a name the loader ignores (landing.IGNORED_PREFIXES) and
    renamed into place once complete, so a watching sensor never takes half a file."""
    path = folder / f.name
    part = folder / f".{f.name}.part"
    try:
        _write(f, part, folder)
        ts = arrival_timestamp(f.arrives)
        os.utime(part, (ts, ts))
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return path
