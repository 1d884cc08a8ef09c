"""Read a landing file of any contract format into a frame of strings keyed by contract names.

Every format ends in the same shape: one Utf8 column per contract column (missing optional
columns as nulls), values trimmed, empty cells null, rows with nothing in them left out. Typing
and rules happen afterwards, once, in `sources.validate`, whatever the format was. A file that
cannot be read at all raises FileSetAside, whose reason tells the people who fix the data what
is wrong and what to do, in Chinese, then English.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import json
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import polars as pl

from sources.contracts import Column, RuleText, Source
from sources.validate import trimmed_here

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl"}
# Contract times are local: a typed time that carries a zone is read as the clock here shows it.
LOCAL_TZ = "Asia/Shanghai"
# The most of a file's own content a reason quotes: enough to recognise it, never a screenful.
QUOTE_CHARS = 40
_BOM = b"\xef\xbb\xbf"
# Large files are decoded and scanned in blocks of this size: what a reader holds beside the
# frame it builds is a few blocks, whatever the size of the file.
BLOCK_BYTES = 1 << 24
# A disk that is full is the machine's fault, not the file's: such a failure while a file is
# read passes as it is, and the file is not set aside.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# Exports people commonly drop by mistake, and how to make one the landing folder takes.
_CONVERT = {
    ".xls": ("请在 Excel 中另存为 .xlsx", "save it as .xlsx in Excel"),
    ".json": ("请改为每行一个 JSON 对象的 .jsonl", "write it as .jsonl, one JSON object a line"),
    ".txt": ("请另存为逗号分隔的 .csv", "save it as comma-separated .csv"),
    ".tsv": ("请另存为逗号分隔的 .csv", "save it as comma-separated .csv"),
}


class FileSetAside(Exception):
    """The whole file cannot be loaded; `reason` says what is wrong and what to do, Chinese
    first, then English; `text` holds the same in parts."""

    def __init__(self, text: RuleText | str) -> None:
        reason = text.message if isinstance(text, RuleText) else text
        super().__init__(reason)
        self.reason = reason
        self.text = text if isinstance(text, RuleText) else None


def _aside(problem_zh: str, fix_zh: str, problem_en: str, fix_en: str) -> FileSetAside:
    return FileSetAside(RuleText(problem_zh, fix_zh, problem_en, fix_en))


def brief(text: str, limit: int = QUOTE_CHARS) -> str:
    """File content fit to quote in a reason: at most `limit` characters, blanks as one space,
    each run of control, format, undecodable or unassigned characters as one U+FFFD."""
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            ch = " "
        elif ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            ch = "\ufffd"
        if out and ch in (" ", "\ufffd") and out[-1] == ch:
            continue
        out.append(ch)
        if len(out) > limit:
            return "".join(out[: limit - 1]) + "…"
    return "".join(out)


@dataclass
class ReadResult:
    frame: pl.DataFrame
    file_format: str
    encoding: str | None
    header_language: str
    extra_columns: list[str] = field(default_factory=list)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        shown = brief(path.suffix, 20)
        zh, en = _CONVERT.get(
            suffix,
            (
                "请导出为 .csv、.xlsx、.parquet 或 .jsonl",
                "export it as .csv, .xlsx, .parquet or .jsonl",
            ),
        )
        raise _aside(
            f"不支持的文件类型“{shown or '无扩展名'}”",
            f"{zh}，再重新放入",
            f"unsupported file type {shown or '(none)'!r}",
            f"{en} and drop it again",
        )
    return fmt


def _empty() -> FileSetAside:
    return _aside(
        "文件是空的，没有表头行",
        "请重新导出",
        "the file is empty (no header row)",
        "export it again",
    )


def _truncated() -> FileSetAside:
    return _aside(
        "文件在一个字符中间结束，可能没有传完",
        "请重新导出并完整传送",
        "the file ends in the middle of a character: it was probably cut off",
        "export it again and send the whole file",
    )


def _read_csv(path: Path) -> tuple[pl.DataFrame, str]:
    # UTF-8 (with or without BOM) is tried first straight from the file, which is fastest;
    # anything that is not valid UTF-8 is taken as GB18030 (a superset of GBK and GB2312).
    with path.open("rb") as fh:
        head = fh.read(3)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _aside(
            "文件是 UTF-16 编码",
            "请另存为 UTF-8 或 GB18030 编码的 CSV 后重新放入",
            "the file is UTF-16 text",
            "save it as UTF-8 or GB18030 CSV and drop it again",
        )
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        return frame, "utf-8-sig" if head == _BOM else "utf-8"
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
            with path.open(encoding="utf-8", errors="replace", newline="") as text:
                raise _csv_unparsable(text, exc) from exc
    encoding = _text_encoding(path)
    with tempfile.TemporaryDirectory(prefix="kzdw-read-") as folder:
        utf8 = path
        if encoding == "gb18030":
            # Decoded a block at a time into a UTF-8 copy that polars reads as it reads any
            # file: the text is never in memory whole, as bytes or as a string.
            utf8 = Path(folder) / "utf-8.csv"
            _gb18030_to_utf8(path, utf8)
        try:
            return pl.read_csv(utf8, infer_schema=False), encoding
        except pl.exceptions.ComputeError as exc:
            with utf8.open(encoding="utf-8", newline="") as text:
                raise _csv_unparsable(text, exc) from exc


def _blocks(path: Path, start: int = 0) -> Iterator[bytes]:
    """The file's bytes from `start`, a block at a time, then one empty block."""
    with path.open("rb") as fh:
        fh.seek(start)
        while block := fh.read(BLOCK_BYTES):
            yield block
    yield b""


def _text_encoding(path: Path) -> str:
    """How a CSV that polars found not to be UTF-8 is encoded: GB18030, unless the bytes show
    a UTF-8 file that is cut off or has a bad stretch (read as GB18030 it would load mojibake).
    The file is decoded up to its first byte that is not UTF-8 only, a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    extra = lines = 0  # bytes more than characters, and newlines, in the valid text so far
    for block in _blocks(path):
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data":
                raise _truncated() from exc
            good = (pending + block)[: exc.start]
            extra += len(good) - len(good.decode("utf-8"))
            lines += good.count(b"\n")
            break
        extra += len(pending) + len(block) - len(decoder.getstate()[0]) - len(text)
        lines += text.count("\n")
    else:
        with path.open("rb") as fh:
            return "utf-8-sig" if fh.read(3) == _BOM else "utf-8"
    # Eight multi-byte characters before the first bad byte: GB18030 text is not valid UTF-8
    # that long by chance, so this is a UTF-8 file with a few bytes that are not.
    if extra >= 16:
        line = lines + 1
        raise _aside(
            f"第 {line} 行有不是 UTF-8 编码的字节（文件其余部分是 UTF-8）",
            "请检查该行，重新导出为 UTF-8 编码的 CSV",
            f"line {line} holds bytes that are not UTF-8, though the rest of the file is",
            "check that line and export the file again as UTF-8 CSV",
        )
    return "gb18030"


def _gb18030_to_utf8(path: Path, target: Path) -> None:
    """Write the GB18030 text of `path` to `target` as UTF-8; FileSetAside where it is not
    GB18030 text (the offset named is the file's own)."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    fed = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        for block in _blocks(path):
            # The decoder reports where it failed in what it held back from the last block
            # and this one.
            start = fed - len(decoder.getstate()[0])
            try:
                out.write(decoder.decode(block, final=not block))
            except UnicodeDecodeError as exc:
                if exc.reason.startswith("incomplete"):
                    raise _truncated() from exc
                at = start + exc.start
                raise _aside(
                    f"文件既不是 UTF-8 也不是 GB18030 编码（第 {at} 字节无法识别）",
                    "请重新导出为 UTF-8 或 GB18030 编码的 CSV",
                    f"the file is neither UTF-8 nor GB18030 text (undecodable byte at offset {at})",
                    "export it again as UTF-8 or GB18030 CSV",
                ) from exc
            fed += len(block)


def _csv_unparsable(text: Iterable[str], exc: Exception) -> FileSetAside:
    """Why polars could not split the file into rows; a row with more values than the header
    is found again with the csv module, to name its line. `text` is the file opened as text
    with newline="", read a line at a time."""
    width = None
    try:
        records = csv.reader(text)
        for record in records:
            if not record:
                continue
            if width is None:
                width = len(record)
            elif len(record) > width:
                line = records.line_num
                return _aside(
                    f"第 {line} 行有 {len(record)} 个值，比表头的 {width} 列多",
                    "含逗号的值请用英文双引号括起来，再重新导出",
                    f"line {line} has {len(record)} fields, more than the {width} of the header",
                    "put values that contain commas in double quotes and export again",
                )
    except csv.Error:
        pass
    return _aside(
        "该 CSV 文件无法按行拆开（多为引号不成对）",
        "请检查引号后重新导出",
        f"the csv file cannot be read ({_detail(exc)})",
        "check the quotes and export again",
    )


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return brief(text.splitlines()[0] if text else type(exc).__name__, 60)


# polars renames a header met again to '<header>_duplicated_<n>'; the file says <header>.
_DUPLICATED = re.compile(r"(.*)_duplicated_\d+", re.DOTALL)


def _csv_headers(names: list[str]) -> list[str]:
    present = set(names)
    out = []
    for name in names:
        again = _DUPLICATED.fullmatch(name)
        out.append(again.group(1) if again and again.group(1) in present else name)
    return out


def _read_xlsx(path: Path) -> tuple[pl.DataFrame, list[str]]:
    # Header in row 1 of the first sheet, read as a row of data so that a header written twice
    # or left empty stays as it is (as a header row polars renames it). Every cell is read as
    # text: dates arrive as 'YYYY-MM-DD HH:MM:SS', numbers as their shortest decimal form.
    sheet = pl.read_excel(
        path, sheet_id=1, engine="calamine", has_header=False, infer_schema_length=0
    )
    if sheet.height == 0:
        raise pl.exceptions.NoDataError("empty Excel sheet")
    headers = ["" if h is None else str(h) for h in sheet.row(0)]
    return sheet.slice(1), headers


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# A \uD800-\uDFFF escape; paired it is one character, alone it is none.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _line_runs(path: Path, start: int) -> Iterator[bytes]:
    """The file's bytes from `start` in runs of whole lines, a block or so at a time (the last
    run may lack its newline)."""
    rest = b""
    for block in _blocks(path, start):
        data = rest + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if cut:
            yield data[:cut]
        rest = data[cut:]


def _lines(path: Path, start: int) -> Iterator[bytes]:
    """The file's lines from `start`, as `bytes.split(b"\n")` of the whole would give them."""
    rest = b""
    for run in _line_runs(path, start):
        *lines, rest = (rest + run).split(b"\n")
        yield from lines
    yield rest


def _lone_surrogate_line(path: Path, start: int) -> int | None:
    before = 0  # lines in the runs before this one
    for run in _line_runs(path, start):
        if _SURROGATE_ESCAPE.search(run):
            for number, line in enumerate(run.split(b"\n"), start=before + 1):
                if not _SURROGATE_ESCAPE.search(line):
                    continue
                try:
                    json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")
                except UnicodeEncodeError:
                    return number
                except ValueError:
                    continue
        before += run.count(b"\n")
    return None


@contextlib.contextmanager
def _after_bom(path: Path, bom: bool) -> Iterator[Path]:
    """A path to the file's lines: the file itself, or, when it begins with a byte-order mark
    (which polars does not take), a copy of what follows it in a temporary folder."""
    if not bom:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="kzdw-read-") as folder:
        copy = Path(folder) / "lines.jsonl"
        with path.open("rb") as src, copy.open("wb") as out:
            src.seek(len(_BOM))
            shutil.copyfileobj(src, out, BLOCK_BYTES)
        yield copy


def _read_jsonl(path: Path) -> tuple[pl.DataFrame, str]:
    # Polars reads the file itself; the checks around it go through it a block or a line at a
    # time, so no reading holds the whole text in memory.
    with path.open("rb") as fh:
        bom = fh.read(len(_BOM)) == _BOM
    start, encoding = (len(_BOM), "utf-8-sig") if bom else (0, "utf-8")
    # polars reads a lone surrogate as NUL or fails on it: like an undecodable byte in a CSV,
    # it is text that is not there, so the file goes back with the line named.
    lone = _lone_surrogate_line(path, start)
    if lone is not None:
        raise _aside(
            f"第 {lone} 行有不成对的 \\u 代理项转义，不是有效字符",
            "请检查该行的转义后重新导出",
            f"line {lone} holds a lone \\u surrogate escape, which is no character",
            "check the escapes on that line and export again",
        )
    with _after_bom(path, bom) as lines:
        try:
            frame = pl.read_ndjson(lines, infer_schema_length=None)
            if not any(dtype.is_nested() for dtype in frame.dtypes):
                return frame, encoding
            keys = frame.columns
        except (Exception, pl.exceptions.PanicException):
            # polars cannot type a key that holds a list on one line and an object on another;
            # the lines themselves say whether the file is sound.
            keys = _jsonl_keys(_lines(path, start))
        # A nested value becomes its JSON text, as a CSV export of it would hold; the rules
        # then judge it like any other text.
        try:
            frame = pl.read_ndjson(lines, schema=dict.fromkeys(keys, pl.String))
        except (Exception, pl.exceptions.PanicException) as exc:
            raise _unreadable("jsonl", exc) from exc
    return frame, encoding


def _jsonl_keys(lines: Iterable[bytes]) -> list[str]:
    """The keys of every line, in order of appearance; FileSetAside naming the first line that
    is not one JSON object of UTF-8 text."""
    keys: dict[str, None] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
        except UnicodeDecodeError:
            raise _aside(
                f"第 {number} 行不是 UTF-8 编码",
                "请导出为 UTF-8 编码的 JSON Lines",
                f"line {number} is not UTF-8 text",
                "export the JSON lines as UTF-8",
            ) from None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise _aside(
                f"第 {number} 行不是一个 JSON 对象",
                "请每行写一个 JSON 对象（键为表头）后重新导出",
                f"line {number} is not one JSON object",
                "write one JSON object a line, keys = header names, and export again",
            )
        keys.update(dict.fromkeys(value))
    return list(keys)


_UNREADABLE = {
    "csv": ("该 CSV 文件无法读取", "请确认导出已完成后重新放入", "check the export finished"),
    "xlsx": (
        "无法作为 xlsx 工作簿打开，文件可能不完整、已损坏或只是改了扩展名",
        "请用 Excel 打开后另存为 .xlsx，再重新放入",
        "open it in Excel and save it as .xlsx",
    ),
    "parquet": (
        "无法读取该 parquet 文件，文件可能不完整或已损坏",
        "请确认导出已完成后重新放入",
        "check the export finished",
    ),
    "jsonl": (
        "无法读取该 JSON Lines 文件",
        "请确认每行是一个 JSON 对象后重新导出",
        "check that each line is one JSON object",
    ),
}


def _unreadable(fmt: str, exc: BaseException) -> FileSetAside:
    if isinstance(exc, pl.exceptions.NoDataError):
        if fmt != "xlsx":
            return _empty()
        return _aside(
            "第一个工作表是空的",
            "请把数据放在第一个工作表（第 1 行为表头）后重新导出",
            "the first sheet is empty",
            "put the data on the first sheet, header in row 1, and export again",
        )
    problem_zh, fix_zh, fix_en = _UNREADABLE[fmt]
    return _aside(
        problem_zh,
        fix_zh,
        f"the {fmt} file cannot be read ({_detail(exc)})",
        f"{fix_en}, then drop it again",
    )


def _as_text(values: pl.Series, header: str, target: Column) -> pl.Series:
    """Typed values (Parquet, JSON) as the strings a CSV export would hold."""
    dtype = values.dtype
    if dtype == pl.String:
        return values
    v = pl.col(values.name)
    if isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype == pl.Null:
        expr = v.cast(pl.String)
    elif isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            v = v.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
        expr = v.dt.strftime("%Y-%m-%d %H:%M:%S")
        if target.dtype == "date":
            # pandas has no date type: the dates of a frame written from it are midnights.
            expr = pl.when(v.dt.time() == time(0)).then(v.dt.strftime("%Y-%m-%d")).otherwise(expr)
    elif dtype == pl.Date:
        expr = v.dt.strftime("%Y-%m-%d")
    elif dtype == pl.Boolean:
        expr = pl.when(v).then(pl.lit("true")).when(~v).then(pl.lit("false"))
    elif dtype.is_float():
        # NaN is how pandas writes a missing number: an empty cell, not the text 'NaN'.
        expr = pl.when(~v.is_nan()).then(v.cast(pl.String))
    elif dtype.is_numeric():
        expr = v.cast(pl.String)
    elif dtype == pl.Binary:
        try:
            return values.cast(pl.String)
        except pl.exceptions.PolarsError:
            shown = brief(header, 30)
            raise _aside(
                f"列“{shown}”是二进制数据，不是 UTF-8 文本",
                "请把该列导出为文本",
                f"column {shown!r} holds bytes that are not UTF-8 text",
                "export the column as text",
            ) from None
    else:
        shown, kind = brief(header, 30), brief(str(dtype), 30)
        raise _aside(
            f"列“{shown}”的值是 {kind} 类型，合同中没有哪一列取这种值",
            "请导出为文本、数字、日期或时间",
            f"column {shown!r} holds {kind} values, which no contract column takes",
            "export plain text, number, date or time values",
        )
    return values.to_frame().select(expr).to_series()


def _read_raw(path: Path, fmt: str) -> tuple[pl.DataFrame, str | None, list[str]]:
    """The file as read, its encoding, and its header texts as written (one per column)."""
    if path.stat().st_size == 0:
        raise _empty()
    try:
        if fmt == "csv":
            frame, encoding = _read_csv(path)
            return frame, encoding, _csv_headers(frame.columns)
        if fmt == "xlsx":
            frame, headers = _read_xlsx(path)
            return frame, None, headers
        if fmt == "parquet":
            frame = pl.read_parquet(path)
            return frame, None, frame.columns
        if fmt == "jsonl":
            frame, encoding = _read_jsonl(path)
            return frame, encoding, frame.columns
    except FileSetAside:
        raise
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise
        raise _unreadable(fmt, exc) from exc
    # Any parser failure, a panic included, means the file itself is unreadable.
    except (Exception, pl.exceptions.PanicException) as exc:
        raise _unreadable(fmt, exc) from exc
    raise AssertionError(fmt)


def _clean_header(name: str) -> str:
    return name.replace("\ufeff", "").strip()


def _missing(missing: list[Column], headers: list[str]) -> FileSetAside:
    # A header quite unlike the contract's misses most columns: naming three is enough.
    shown = missing if len(missing) <= 4 else missing[:3]
    zh = "、".join(c.header_zh for c in shown)
    en = ", ".join(c.name for c in shown)
    if len(shown) < len(missing):
        zh += f"等 {len(missing)} 列"
        en += f" and {len(missing) - len(shown)} more"
    fix_zh = "请确认首行是表头并含有这些列（中文表头或英文列名均可），再重新导出"
    fix_en = (
        "make sure the first row is the header and has these columns (Chinese or English), "
        "then export again"
    )
    if len(headers) == 1 and any(sep in headers[0] for sep in (";", "\t", "|")):
        fix_zh = "各列之间请用英文逗号分隔，再重新导出"
        fix_en = "separate the columns with commas and export again"
    header = brief(",".join(_clean_header(h) for h in headers))
    return _aside(
        f"缺少必填列：{zh}（表头为“{header}”）" if header else f"缺少必填列：{zh}（没有表头）",
        fix_zh,
        f"missing required column(s): {en}",
        fix_en,
    )


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
            extras.append(brief(clean))
            continue
        if target in seen:
            col = source.column(target)
            first, again = brief(seen[target], 30), brief(clean, 30)
            raise _aside(
                f"表头“{first}”和“{again}”是同一列（{col.header_zh}，{col.name}）",
                "请只保留其中一列后重新放入",
                f"column {target} appears twice (headers {first!r} and {again!r})",
                "keep one of them and drop the file again",
            )
        seen[target] = clean
        mapping[header] = target
        langs.add(lang)
    missing = [c for c in source.required_columns if c.name not in seen]
    if missing:
        raise _missing(missing, headers)
    language = langs.pop() if len(langs) == 1 else ("mixed" if langs else "none")
    return mapping, extras, language


def read_file(path: Path, source: Source, *, name: str | None = None) -> ReadResult:
    """Read one landing file into Utf8 columns named as the contract. Free text is trimmed,
    '' as null; the other columns are as read, for `validate` trims the few of their values
    that need it (`trimmed_here`). `name` is the file's own name when `path` is another way
    to it (/proc/self/fd/N): the format is taken from the name."""
    fmt = file_format(Path(name) if name else Path(path))
    raw, encoding, headers = _read_raw(Path(path), fmt)
    mapping, extras, language = map_headers(source, headers)
    text = {
        mapping[h]: _as_text(raw.to_series(i), h, source.column(mapping[h])).alias(mapping[h])
        for i, h in enumerate(headers)
        if h in mapping
    }
    frame = pl.DataFrame(list(text.values())).select(
        pl.col(c.name) if c.name in text else pl.lit(None, dtype=pl.Utf8).alias(c.name)
        for c in source.columns
    )
    free = [c.name for c in source.columns if c.name in text and not trimmed_here(c)]
    # Free text is trimmed in the columns that have a value with blanks around it only (\s
    # and strip_chars both mean Unicode White_Space): most exports have none, and a trimmed
    # copy of a column of millions of values is a hundred megabytes or more.
    padded = {}
    if free:
        padded = frame.select(pl.col(free).str.contains(r"^\s|\s$").any()).row(0, named=True)
    if any(padded.values()):
        frame = frame.with_columns(
            pl.col(name).str.strip_chars() for name, found in padded.items() if found
        )
    # A cell of blanks only is empty: rare, so looked for once per column, fixed where found.
    blank = frame.select(pl.col(free).eq("").any()).row(0, named=True) if free else {}
    if any(blank.values()):
        frame = frame.with_columns(
            pl.when(pl.col(name) != "").then(pl.col(name)).alias(name)
            for name, found in blank.items()
            if found
        )
    unmapped = [i for i, h in enumerate(headers) if h not in mapping]
    # A row with nothing in it (a blank line, an empty row of a sheet) is not a row: neither
    # counted nor numbered, as the workbook reader already skips empty rows. Blanks only are
    # nothing in the columns not trimmed yet too; those are looked at in the rows that have
    # no free text only.
    if free:
        empty = frame.select(pl.all_horizontal(pl.col(free).is_null())).to_series()
    else:
        empty = pl.repeat(True, frame.height, eager=True)
    loose = [c.name for c in source.columns if c.name not in free]
    if empty.any() and loose:
        rows = empty.arg_true()
        blank_only = frame[rows].select(
            pl.all_horizontal(pl.col(loose).str.strip_chars().fill_null("") == "")
        )
        empty = empty.scatter(rows.filter(~blank_only.to_series()), False)
    if empty.any():
        for i in unmapped:
            empty = empty & ~_has_value(raw.to_series(i))
        frame = frame.filter(~empty)
    reported = []
    for i, extra in zip(unmapped, extras, strict=True):
        if extra:
            reported.append(extra)
        elif _has_value(raw.to_series(i)).any():
            reported.append(f"#{i + 1}")  # a column without a header, by its position
    return ReadResult(frame, fmt, encoding, language, reported)


def _has_value(values: pl.Series) -> pl.Series:
    if values.dtype == pl.String:
        return values.str.strip_chars().fill_null("") != ""
    return values.is_not_null()
