"""Read a landing file of any contract format into a frame of strings keyed by contract names.

Every format ends in the same shape: one Utf8 column per contract column (missing optional
columns as nulls), values trimmed, empty cells null. Typing and rules happen afterwards, once,
in `sources.validate`, whatever the format was.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.contracts import Source

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl"}


class FileSetAside(Exception):
    """The whole file cannot be loaded; `reason` says what is wrong and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ReadResult:
    frame: pl.DataFrame
    file_format: str
    encoding: str | None
    header_language: str
    extra_columns: list[str] = field(default_factory=list)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileSetAside(
            f"unsupported file type {path.suffix or '(none)'!r}: the landing folder takes "
            f".csv, .xlsx, .parquet or .jsonl; convert the export to one of these and drop it again"
        )
    return fmt


def _read_csv(path: Path) -> tuple[pl.DataFrame, str]:
    # UTF-8 (with or without BOM) is tried first straight from the file, which is fastest;
    # anything that is not valid UTF-8 is taken as GB18030 (a superset of GBK and GB2312).
    with path.open("rb") as fh:
        bom = fh.read(3) == b"\xef\xbb\xbf"
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        return frame, "utf-8-sig" if bom else "utf-8"
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
            raise
    try:
        text = path.read_bytes().decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileSetAside(
            f"the file is neither UTF-8 nor GB18030 text (undecodable byte at offset {exc.start}); "
            "export it again as UTF-8 or GB18030 CSV"
        ) from exc
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False), "gb18030"


def _stringify(frame: pl.DataFrame) -> pl.DataFrame:
    """Typed columns (Parquet, JSON) become the same strings a CSV export would hold."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Utf8:
            exprs.append(col)
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")))
        elif dtype.is_numeric():
            exprs.append(col.cast(pl.Utf8))
        elif dtype == pl.Null:
            exprs.append(col.cast(pl.Utf8))
        else:
            raise FileSetAside(
                f"column {name!r} holds {dtype} values, which no contract column takes; "
                "export plain text, number, date or time values"
            )
    return frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))


def _read_raw(path: Path, fmt: str) -> tuple[pl.DataFrame, str | None]:
    if path.stat().st_size == 0:
        raise FileSetAside("the file is empty (no header row); export it again")
    try:
        if fmt == "csv":
            return _read_csv(path)
        if fmt == "xlsx":
            # Header in row 1 of the first sheet; every cell read as text (dates arrive as
            # 'YYYY-MM-DD HH:MM:SS', numbers as their shortest decimal form).
            return pl.read_excel(path, sheet_id=1, engine="calamine", infer_schema_length=0), None
        if fmt == "parquet":
            return _stringify(pl.read_parquet(path)), None
        if fmt == "jsonl":
            return _stringify(pl.read_ndjson(path, infer_schema_length=None)), "utf-8"
    except FileSetAside:
        raise
    except Exception as exc:  # any parser failure means the file itself is unreadable
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileSetAside(
            f"the {fmt} file cannot be read ({first[:300]}); check that the export finished "
            "and is a valid file of that type, then drop it again"
        ) from exc
    raise AssertionError(fmt)


def _clean_header(name: str) -> str:
    return name.replace("\ufeff", "").strip()


def map_headers(source: Source, headers: list[str]) -> tuple[dict[str, str], list[str], str]:
    """Map file headers to contract names. Returns (file header -> column), extras, language."""
    by_zh = {c.header_zh: c.name for c in source.columns}
    by_en = {c.name: c.name for c in source.columns}
    mapping: dict[str, str] = {}
    extras: list[str] = []
    seen: dict[str, str] = {}
    langs: set[str] = set()
    for header in headers:
        clean = _clean_header(header)
        if clean in by_zh:
            target, lang = by_zh[clean], "zh"
        elif clean.lower() in by_en:
            target, lang = by_en[clean.lower()], "en"
        else:
            extras.append(clean)
            continue
        if target in seen:
            raise FileSetAside(
                f"column {target} appears twice (headers {seen[target]!r} and {clean!r}); "
                "keep one of them and drop the file again"
            )
        seen[target] = clean
        mapping[header] = target
        langs.add(lang)
    missing = [c for c in source.required_columns if c.name not in seen]
    if missing:
        names = ", ".join(f"{c.header_zh} ({c.name})" for c in missing)
        raise FileSetAside(
            f"missing required column(s): {names}. The header row has: "
            f"{', '.join(_clean_header(h) for h in headers)[:500]}. Export the file again with "
            "these columns (Chinese or English header names) and drop it into the landing folder"
        )
    language = langs.pop() if len(langs) == 1 else ("mixed" if langs else "none")
    return mapping, extras, language


def read_file(path: Path, source: Source) -> ReadResult:
    """Read one landing file into Utf8 columns named as the contract, trimmed, '' as null."""
    fmt = file_format(path)
    raw, encoding = _read_raw(path, fmt)
    mapping, extras, language = map_headers(source, raw.columns)
    exprs = []
    for col in source.columns:
        header = next((h for h, t in mapping.items() if t == col.name), None)
        if header is None:
            exprs.append(pl.lit(None, dtype=pl.Utf8).alias(col.name))
            continue
        exprs.append(pl.col(header).cast(pl.Utf8).str.strip_chars().alias(col.name))
    frame = raw.select(exprs)
    # A cell of blanks only is empty: rare, so looked for once per column, fixed where found.
    blank = frame.select(pl.all().eq("").any()).row(0, named=True)
    if any(blank.values()):
        frame = frame.with_columns(
            pl.when(pl.col(name) != "").then(pl.col(name)).alias(name)
            for name, found in blank.items()
            if found
        )
    return ReadResult(frame, fmt, encoding, language, extras)
