"""Type and check a frame of strings against its source contract, all in vectorised Polars.

`validate(frame, source)` returns the typed good rows and one rejected row per bad row (the
first rule it broke, in column order then row-rule order, and how many it broke in all). The
only per-value Python is the check-character test, run once per distinct code.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from stdnum.cn import ric, uscc

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
    the given formats in turn (`validate` tries the first alone, then all on what is left:
    the first nearly always fits, and strptime is where loading time goes)."""
    s = pl.col(col.name)
    if col.dtype == "text":
        return s.str.to_uppercase() if col.upper else s
    if col.dtype in ("timestamp", "date"):
        parsed = [
            pl.when(s.str.contains(_FORMAT_SHAPE[f])).then(
                s.str.strptime(pl.Datetime("us"), f, strict=False)
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


def _check_valid(values: pl.Series, kind: str) -> pl.Series:
    """True where the check character is right; evaluated once per distinct value."""
    test = uscc.is_valid if kind == "uscc" else _cn_id_check_ok
    distinct = values.drop_nulls().unique()
    ok = {v: bool(test(v)) for v in distinct.to_list()}
    return values.replace_strict(ok, default=None, return_dtype=pl.Boolean)


def _cn_id_check_ok(value: str) -> bool:
    # The contract asks for the GB 11643 check digit only, not a plausible birth date. isdigit
    # alone would take full-width and other Unicode digits, which int() reads as 0-9.
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):
        return False
    try:
        return ric.calc_check_digit(value) == value[17]
    except Exception:
        return False


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


def validate(frame: pl.DataFrame, source: Source, *, file_format: str = "csv") -> Validated:
    """Type every column and apply every rule of the contract; split good from rejected rows."""
    frame = frame.select(pl.col(c.name).cast(pl.Utf8) for c in source.columns)
    frame = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int32)
    )
    # One select: Polars types the columns in parallel.
    typed = (
        frame.lazy()
        .select(
            pl.col(ROW_NUMBER),
            *(_typed_expr(c, _formats(c, file_format)[:1]).alias(c.name) for c in source.columns),
        )
        .collect()
    )
    for col in source.columns:
        if col.dtype not in ("timestamp", "date"):
            continue
        unparsed = typed.get_column(col.name).is_null() & frame.get_column(col.name).is_not_null()
        if unparsed.any():
            typed = typed.with_columns(
                frame.select(
                    _typed_expr(col, _formats(col, file_format)).alias(col.name)
                ).to_series()
            )
    both = pl.concat(
        [typed, frame.select(pl.col(c.name).alias(_raw(c.name)) for c in source.columns)],
        how="horizontal",
    )
    checks: list[tuple[str, str, pl.Expr]] = []  # (rule, column, broken)
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
            ok_name = f"__ok__{col.name}"
            both = both.with_columns(
                _check_valid(both.get_column(col.name), col.check).alias(ok_name)
            )
            invalid = ~pl.col(ok_name).fill_null(True)
            if file_format == "xlsx":
                checks.append(("excel_number_lost_digits", col.name, _lost_digits(raw) & invalid))
        if col.length is not None:
            checks.append(("wrong_length", col.name, val.str.len_chars() != col.length))
        if col.check is not None:
            rule = "uscc_check_character" if col.check == "uscc" else "cn_id_check_digit"
            checks.append((rule, col.name, invalid))
    for rule in source.row_rules:
        checks.append((rule.name, rule.column, rule.broken()))

    flags = (
        both.lazy()
        .select(
            pl.col(ROW_NUMBER),
            *(expr.fill_null(False).alias(f"c{i}") for i, (_, _, expr) in enumerate(checks)),
        )
        .collect()
    )
    bad_mask = flags.select(pl.any_horizontal(pl.exclude(ROW_NUMBER))).to_series()
    bad = flags.filter(bad_mask).select(
        pl.col(ROW_NUMBER),
        pl.coalesce(
            [pl.when(pl.col(f"c{i}")).then(pl.lit(i, pl.Int32)) for i in range(len(checks))]
        ).alias(_FIRST),
        pl.sum_horizontal(pl.exclude(ROW_NUMBER).cast(pl.Int32)).alias(_BROKEN),
    )
    good = typed.filter(~bad_mask).with_columns(
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
    rows = frame.join(bad.select(ROW_NUMBER), on=ROW_NUMBER, how="semi")
    values = pl.Series("value", [None] * out.height, dtype=pl.Utf8)
    for col in source.columns:
        if not (out.get_column("column_name") == col.name).any():
            continue
        v = rows.get_column(col.name)
        if col.personal:
            v = rows.select(mask_expr(pl.col(col.name), col.personal)).to_series()
        values = values.zip_with(out.get_column("column_name") != col.name, v)
    return out.with_columns(values.alias("value")).select(list(schema))
