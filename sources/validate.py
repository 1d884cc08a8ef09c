"""Type and check a frame of strings against its source contract, all in vectorised Polars.

`validate(frame, source)` returns the typed good rows and one rejected row per bad row (the
first rule it broke, in column order then row-rule order, and how many it broke in all). No
rule runs Python per value: the check characters are expressions too, since an export of real
cases holds nearly as many distinct ID numbers as rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import polars as pl
from stdnum.util import _char_map, clean

from sources.contracts import FLAG_FALSE, FLAG_TRUE, Column, Source, rule_text

TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
# An Excel date cell reads as midnight of its day: dates in workbooks may carry that time.
XLSX_DATE_FORMATS = (*DATE_FORMATS, "%Y-%m-%d 00:00:00")
# strptime takes "2022-1-5", "2022-01-01  9:00:00", a sign before the year and a leap second
# ("23:59:60" becomes the next day); the contract's shapes are four-digit years and two-digit
# fields of ASCII digits, so each value must have the shape of its format before it is parsed.
# Year 0000 has the shape but no calendar day (Python and the oracle refuse it).
_FIELDS = {
    "%Y": "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])",
    "%m": "[0-9]{2}",
    "%d": "[0-9]{2}",
    "%H": "[0-9]{2}",
    "%M": "[0-9]{2}",
    "%S": "[0-5][0-9]",
}


def _shape(fmt: str) -> str:
    for field_, pattern in _FIELDS.items():
        fmt = fmt.replace(field_, pattern)
    return f"^{fmt}$"


_FORMAT_SHAPE = {f: _shape(f) for f in (*TIMESTAMP_FORMATS, *XLSX_DATE_FORMATS)}

# GB 32100-2015: the 31 characters of a credit code, by value, and the weights 3^i mod 31 of
# the first 17; the 18th is the check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# The contract's rule is python-stdnum's verdict (`uscc.is_valid`), which judges the code as
# `uscc.compact` leaves it: characters that look like a digit, a dash, a space or punctuation
# read as their ASCII form (a full-width ９ is a 9), spaces and dashes dropped, then upper-cased
# and stripped of what Python calls whitespace. The same steps here, from stdnum's own table,
# so that a code is valid exactly when stdnum says it is.
_USCC_CLEAN = {ch: clean(ch, " -") for ch in _char_map if clean(ch, " -") != ch}
# str.isspace(): Unicode White_Space and the four information separators \x1c-\x1f.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# GB 11643-1999: the check digit's value, X for 10.
_RIC_VALUE = {**{str(d): d for d in range(10)}, "X": 10}

ROW_NUMBER = "_row_number"
_FIRST = "__first_rule"
_BROKEN = "__rules_broken"


@dataclass
class Validated:
    good: pl.DataFrame  # typed contract columns + _row_number (1 = first data row)
    rejected: pl.DataFrame  # _row_number, column_name, rule, value, message, rules_broken

    @property
    def rows_read(self) -> int:
        return self.good.height + self.rejected.height


_STARS = "*" * 64


def mask_expr(expr: pl.Expr, kind: str) -> pl.Expr:
    """Display mask for personal data: an ID keeps its first 6 and last 4 characters, a name
    keeps the surname (first character); the rest becomes '*'."""
    n = expr.str.len_chars()
    stars = pl.lit(_STARS)
    if kind == "name":
        return pl.when(n > 0).then(expr.str.head(1) + stars.str.slice(0, n - 1))
    return (
        pl.when(n > 10)
        .then(expr.str.head(6) + stars.str.slice(0, n - 10) + expr.str.tail(4))
        .when(n > 0)
        .then(stars.str.slice(0, n))
    )


def _formats(col: Column, file_format: str) -> tuple[str, ...]:
    if col.dtype == "timestamp":
        return TIMESTAMP_FORMATS
    return XLSX_DATE_FORMATS if file_format == "xlsx" else DATE_FORMATS


def _typed_expr(col: Column, formats: tuple[str, ...] = ()) -> pl.Expr:
    """Typed value of a column; null where the text does not parse. Timestamps and dates try
    the given formats in turn (`validate` tries the first alone, then all on the rows it did
    not fit: the first nearly always fits, and parsing is where typing time goes)."""
    s = pl.col(col.name)
    if col.dtype == "text":
        return s.str.to_uppercase() if col.upper else s
    if col.dtype in ("timestamp", "date"):
        # strptime's cache of distinct texts pays where they repeat (dates), not for export
        # times, nearly every one of which is distinct.
        cache = col.dtype == "date"
        parsed = [
            pl.when(s.str.contains(_FORMAT_SHAPE[f])).then(
                s.str.strptime(pl.Datetime("us"), f, strict=False, cache=cache)
            )
            for f in formats
        ]
        out = parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)
        return out.dt.date() if col.dtype == "date" else out
    if col.dtype in ("decimal", "integer"):
        c = s.cast(pl.Float64, strict=False)
        num = pl.when(c.is_finite()).then(c)
        if col.dtype == "integer":
            # A whole number stays a number however large, so 1e10 trips is above the maximum
            # rather than "not a whole number"; `validate` casts what passes to Int32.
            whole = num == num.floor()
            if col.minimum is None or col.maximum is None:
                whole = whole & (num.abs() < 2**31)
            num = pl.when(whole).then(num)
        return num
    if col.dtype == "flag":
        low = s.str.to_lowercase()
        return pl.when(low.is_in(FLAG_TRUE)).then(True).when(low.is_in(FLAG_FALSE)).then(False)
    raise AssertionError(col.dtype)


def uscc_valid(code: pl.Expr) -> pl.Expr:
    """True where a credit code's GB 32100 check character is right, as python-stdnum's
    `uscc.is_valid` judges it (its compacting included); null where the code is null."""
    c = code.str.replace_many(_USCC_CLEAN).str.to_uppercase().str.strip_chars(PY_WHITESPACE)
    # stdnum takes eight digits, then ten characters of the alphabet. (It raises instead of
    # answering for seven digits and a newline, an isdigits quirk: that is not valid either.)
    shape = c.str.contains(r"^[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}$")
    values = [
        c.str.slice(i, 1).replace_strict(_USCC_VALUE, default=None, return_dtype=pl.Int32)
        for i in range(18)
    ]
    total = pl.sum_horizontal(v * w for v, w in zip(values[:17], _USCC_WEIGHTS, strict=True))
    return shape & ((31 - total % 31) % 31 == values[17])


def cn_id_valid(number: pl.Expr) -> pl.Expr:
    """True where an ID number's GB 11643 check digit is right; null where it is null. The
    contract asks for the check digit only, not a plausible birth date or place; the 17 digits
    before it must be ASCII (a full-width digit is not one)."""
    # The weights are 2^(17-i) mod 11 and 13 = 2 (mod 11): the 17 digits read in base 13, times
    # two, are the weighted sum mod 11 (stdnum's own reckoning; 13^17 still fits an Int64).
    body = number.str.slice(0, 17).str.to_integer(base=13, strict=False)
    check = (23 - 2 * (body % 11)) % 11
    last = number.str.slice(17, 1).replace_strict(_RIC_VALUE, default=None, return_dtype=pl.Int64)
    return number.str.contains(r"^[0-9]{17}[0-9X]$") & (check == last)


_CHECKS = {"uscc": uscc_valid, "cn_id": cn_id_valid}


def _lost_digits(raw: pl.Expr) -> pl.Expr:
    """True where a code looks like what Excel makes of an 18-digit number: scientific
    notation, a decimal point, or a long integer that a float64 holds exactly (an 18-digit
    code typed as text is exactly representable only by chance, and then also fails its
    check character, which is required before this rule applies)."""
    sci = raw.str.contains(r"^\d(\.\d+)?[eE]\+?\d+$") | raw.str.contains(r"^\d{15,}\.\d+$")
    digits = raw.str.contains(r"^\d{16,}$").fill_null(False)
    as_int = raw.cast(pl.Int64, strict=False)
    exact = (as_int.cast(pl.Float64).cast(pl.Int64) == as_int).fill_null(False)
    return (sci.fill_null(False) | (digits & exact)).fill_null(False)


_TYPE_RULES = {
    "timestamp": "invalid_timestamp",
    "date": "invalid_date",
    "decimal": "invalid_number",
    "integer": "invalid_integer",
    "flag": "invalid_flag",
}


def _raw(name: str) -> str:
    return f"__raw__{name}"


def trimmed_here(col: Column) -> bool:
    """Whether `validate` trims the column's text itself, so that the reader need not. A
    time, a date, a number, a flag or one of a list of values fits as it stands only when no
    blanks surround it (Polars reads no number with blanks around it either), so only the
    few values that do not fit are trimmed and typed again: trimming every value of these
    columns took a third of the time of reading a file. Free text is stored as it stands,
    so the reader trims it."""
    return col.dtype != "text" or col.allowed is not None


def _misfits(frame: pl.DataFrame, typed: pl.DataFrame, source: Source) -> pl.DataFrame:
    """For each column `validate` trims itself, true where its text did not fit as it stood
    (one select: Polars looks at the columns in parallel)."""
    names = [c.name for c in source.columns if trimmed_here(c)]
    both = pl.concat(
        [typed.select(names), frame.select(pl.col(n).alias(_raw(n)) for n in names)],
        how="horizontal",
    )
    misfit = []
    for col in source.columns:
        if trimmed_here(col):
            value = pl.col(col.name)
            fits = value.is_in(col.allowed) if col.allowed is not None else value.is_not_null()
            misfit.append(
                (pl.col(_raw(col.name)).is_not_null() & ~fits.fill_null(False)).alias(col.name)
            )
    return both.lazy().select(misfit).collect()


def _retype(
    frame: pl.DataFrame,
    typed: pl.DataFrame,
    col: Column,
    formats: tuple[str, ...],
    rows: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The text and the typed frame with the values of `col` at `rows` trimmed (blanks only:
    empty) and typed again, every format tried; the rest untouched."""
    again = (
        frame.select(pl.col(col.name).gather(rows).str.strip_chars())
        .select(pl.when(pl.col(col.name) != "").then(pl.col(col.name)).alias(col.name))
        .with_columns(_typed_expr(col, formats).alias("__typed"))
    )
    text = frame.get_column(col.name).clone().scatter(rows, again.get_column(col.name))
    value = typed.get_column(col.name).clone().scatter(rows, again.get_column("__typed"))
    lengths = frame.get_column(ROW_NUMBER).chunk_lengths()
    frame = frame.with_columns(_chunked_like(text, lengths))
    lengths = typed.get_column(ROW_NUMBER).chunk_lengths()
    return frame, typed.with_columns(_chunked_like(value, lengths))


def _chunked_like(values: pl.Series, lengths: list[int]) -> pl.Series:
    """`values` in chunks of the given lengths (slices, no copy). Polars copies a frame whose
    columns are chunked differently into one chunk per column before most eager operations
    and before export to Arrow: for millions of rows that costs as much as typing them."""
    if len(lengths) < 2 or values.chunk_lengths() == lengths:
        return values
    starts = itertools.accumulate(lengths[:-1], initial=0)
    pieces = [values.slice(a, n) for a, n in zip(starts, lengths, strict=True)]
    return pl.concat(pieces, rechunk=False)


def _checks(source: Source, file_format: str) -> list[tuple[str, str, pl.Expr]]:
    """(rule, column, broken) for every rule, in the order a row's first broken rule is
    reported; `broken` reads the typed value by the column's name and the text as _raw()."""
    checks: list[tuple[str, str, pl.Expr]] = []
    for col in source.columns:
        raw, val = pl.col(_raw(col.name)), pl.col(col.name)
        present = raw.is_not_null()
        if col.required:
            checks.append(("required", col.name, ~present))
        if col.dtype != "text":
            checks.append((_TYPE_RULES[col.dtype], col.name, present & val.is_null()))
        if col.allowed is not None:
            checks.append(("not_allowed_value", col.name, present & ~val.is_in(col.allowed)))
        if col.minimum is not None:
            checks.append(("below_minimum", col.name, val < col.minimum))
        if col.maximum is not None:
            checks.append(("above_maximum", col.name, val > col.maximum))
        if col.check is not None:
            invalid = ~_CHECKS[col.check](val).fill_null(True)
            if file_format == "xlsx":
                checks.append(("excel_number_lost_digits", col.name, _lost_digits(raw) & invalid))
        if col.length is not None:
            checks.append(("wrong_length", col.name, val.str.len_chars() != col.length))
        if col.check is not None:
            rule = "uscc_check_character" if col.check == "uscc" else "cn_id_check_digit"
            checks.append((rule, col.name, invalid))
    for rule in source.row_rules:
        checks.append((rule.name, rule.column, rule.broken()))
    return [(rule, column, broken.fill_null(False)) for rule, column, broken in checks]


def validate(frame: pl.DataFrame, source: Source, *, file_format: str = "csv") -> Validated:
    """Type every column and apply every rule of the contract; split good from rejected rows."""
    frame = frame.select(pl.col(c.name).cast(pl.Utf8) for c in source.columns)
    lengths = frame.to_series(0).chunk_lengths()
    numbers = pl.int_range(1, frame.height + 1, dtype=pl.Int32, eager=True).alias(ROW_NUMBER)
    frame = frame.with_columns(_chunked_like(numbers, lengths))
    # One select: Polars types the columns in parallel.
    typed = (
        frame.lazy()
        .select(
            pl.col(ROW_NUMBER),
            *(_typed_expr(c, _formats(c, file_format)[:1]).alias(c.name) for c in source.columns),
        )
        .collect()
    )
    for name, misfit in _misfits(frame, typed, source).to_dict().items():
        if misfit.any():
            col = source.column(name)
            rows = misfit.arg_true()
            frame, typed = _retype(frame, typed, col, _formats(col, file_format), rows)
    both = pl.concat(
        [typed, frame.select(pl.col(c.name).alias(_raw(c.name)) for c in source.columns)],
        how="horizontal",
    )
    checks = _checks(source, file_format)
    bad_mask = (
        both.lazy().select(pl.any_horizontal(broken for _, _, broken in checks)).collect()
    ).to_series()
    # Which rule each bad row broke first, and how many, only for the rows that broke one.
    flags = both.filter(bad_mask).select(
        pl.col(ROW_NUMBER), *(broken.alias(f"c{i}") for i, (_, _, broken) in enumerate(checks))
    )
    bad = flags.select(
        pl.col(ROW_NUMBER),
        pl.coalesce(
            [pl.when(pl.col(f"c{i}")).then(pl.lit(i, pl.Int32)) for i in range(len(checks))]
        ).alias(_FIRST),
        pl.sum_horizontal(pl.exclude(ROW_NUMBER).cast(pl.Int32)).alias(_BROKEN),
    )
    good = typed.filter(~bad_mask) if bad.height else typed
    good = good.with_columns(
        pl.col(c.name).cast(pl.Int32) for c in source.columns if c.dtype == "integer"
    )
    rejected = _describe_rejects(frame, source, checks, bad)
    return Validated(good=good, rejected=rejected)


def _describe_rejects(
    frame: pl.DataFrame, source: Source, checks, bad: pl.DataFrame
) -> pl.DataFrame:
    schema = {
        ROW_NUMBER: pl.Int32,
        "column_name": pl.Utf8,
        "rule": pl.Utf8,
        "value": pl.Utf8,
        "message": pl.Utf8,
        "rules_broken": pl.Int32,
    }
    if bad.height == 0:
        return pl.DataFrame(schema=schema)
    rule_names = pl.Series([c[0] for c in checks])
    col_names = pl.Series([c[1] for c in checks])
    messages = [rule_text(source, rule, column).message for rule, column, _ in checks]
    idx = bad.get_column(_FIRST)
    out = pl.DataFrame(
        {
            ROW_NUMBER: bad.get_column(ROW_NUMBER),
            "column_name": col_names.gather(idx),
            "rule": rule_names.gather(idx),
            "message": pl.Series(messages).gather(idx),
            "rules_broken": bad.get_column(_BROKEN),
        }
    )
    # The offending value as it stood in the file, masked where the column is personal data.
    rows = frame[bad.get_column(ROW_NUMBER) - 1]  # row n is at position n - 1
    values = pl.Series("value", [None] * out.height, dtype=pl.Utf8)
    for col in source.columns:
        if not (out.get_column("column_name") == col.name).any():
            continue
        v = rows.get_column(col.name)
        if col.personal:
            v = rows.select(mask_expr(pl.col(col.name), col.personal)).to_series()
        values = values.zip_with(out.get_column("column_name") != col.name, v)
    return out.with_columns(values.alias("value")).select(list(schema))
