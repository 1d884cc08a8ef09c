"""Bad and awkward landing files, one kind per case, through the real loading path.

Each case is a file, and what SOURCES.md says must become of it, worked out by hand: loaded or
set aside, how many rows loaded and rejected, and for every rejected row its (row_number,
column_name, rule). Where the contract is silent the reading taken is written beside the case.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import xlsxwriter

from sources.contracts import SOURCES, rule_text
from sources.landing import scan
from sources.loader import load_file
from sources.warehouse import ensure_schema
from tests.handmade import make_landing
from tests.oracle import read_landing
from tests.sources.cells import TypedCells
from tests.sources.test_validate import GOOD, RIC, USCC

FULL_WIDTH_SPACE = "\u3000"
PC, ME, SI, IP = "permit_cases", "market_entities", "service_items", "investment_projects"
ITEM_ZH = [c.header_zh for c in SOURCES[SI].columns]
ITEM_GOOD = ["I1", "x", "行政许可", "区民政局", "是", "否", "1", "", "在用", "2022-01-01 00:00:00"]
ITEM_CSV = (",".join(ITEM_ZH) + "\n" + ",".join(ITEM_GOOD) + "\n").encode()
LOSSY_ID = "500234199001011232"  # valid check digit; as a float64 it becomes ...011200


def _rows(source: str, *changes: dict[str, Any]) -> list[dict[str, Any]]:
    """One good row of the source per change, the change applied."""
    return [{**GOOD[source], **change} for change in changes]


def _table(
    source: str,
    rows: list[dict[str, Any]],
    header: str | list[str] = "zh",
    columns: list[str] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    names = columns or [c.name for c in SOURCES[source].columns]
    if header == "zh":
        heads = [SOURCES[source].column(n).header_zh for n in names]
    elif header == "en":
        heads = list(names)
    else:
        heads = list(header)
    return heads, [[r.get(n) for n in names] for r in rows]


def csv_bytes(source: str, rows: list[dict[str, Any]], encoding: str = "utf-8", **kw) -> bytes:
    heads, values = _table(source, rows, **kw)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(heads)
    writer.writerows(["" if v is None else v for v in r] for r in values)
    return out.getvalue().encode(encoding)


def jsonl_bytes(objects: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode()


def jsonl_rows(source: str, rows: list[dict[str, Any]], header: str = "zh") -> bytes:
    heads, values = _table(source, rows, header=header)
    return jsonl_bytes(
        [{h: v for h, v in zip(heads, r, strict=True) if v is not None} for r in values]
    )


def xlsx_writer(build: Callable[[xlsxwriter.Workbook], None]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        book = xlsxwriter.Workbook(path)
        build(book)
        book.close()

    return write


def xlsx_rows(source: str, rows: list[dict[str, Any]], **kw) -> Callable[[Path], None]:
    """A workbook of text cells, except values given as numbers, dates or booleans, which are
    written as cells of that kind (dates in a date format, as Excel shows them)."""
    heads, values = _table(source, rows, **kw)

    def build(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet()
        cells = TypedCells(book)
        sheet.write_row(0, 0, heads)
        for r, row in enumerate(values, start=1):
            for c, v in enumerate(row):
                cells.write(sheet, r, c, v)

    return xlsx_writer(build)


def parquet_frame(frame: pl.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.write_parquet(path)


def _typed_cases(**change: Any) -> pl.DataFrame:
    """A permit_cases row in Parquet's own types: times as timestamps, counts as integers."""
    row = {
        "case_id": "C1",
        "item_code": "I1",
        "channel": "全程网办",
        "intake": "网上申报",
        "applicant_type": "自然人",
        "applicant_id": RIC,
        "submitted_at": datetime(2022, 1, 1, 9, 0),
        "accepted_at": datetime(2022, 1, 1, 10, 0),
        "completed_at": datetime(2022, 1, 3, 10, 0),
        "status": "已办结",
        "trips": 0,
        "promised_days": 5,
        "rating": "满意",
        "updated_at": datetime(2022, 1, 4),
    }
    return pl.DataFrame([{**row, **change}])


def _zip_of_text(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data.csv", "事项编码\nI1\n")


def _one_bad_byte() -> bytes:
    """Three good market_entities rows in UTF-8, one byte of the third row's name broken."""
    data = csv_bytes(ME, _rows(ME, {}, {}, {}))
    cut = data.rindex("开州".encode())
    return data[:cut] + b"\xff" + data[cut + 1 :]


def _one_bad_byte_gb18030() -> bytes:
    """Three service_items rows in UTF-8 with English headers, every Chinese value of an even
    length; one byte of the last 设立 made 0x81, which is no UTF-8 but keeps GB18030 aligned."""
    change = {
        "item_name": "设立登记",
        "department": "区民政局",
        "online_enabled": "Y",
        "high_frequency": "N",
    }
    rows = _rows(SI, change, {**change, "item_code": "I2"}, {**change, "item_code": "I3"})
    data = csv_bytes(SI, rows, header="en")
    cut = data.rindex("设立".encode())
    bad = data[:cut] + b"\x81" + data[cut + 1 :]
    assert "鍖烘皯鏀垮眬" in bad.decode("gb18030")
    return bad


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    name: str
    content: bytes | Callable[[Path], None]
    status: str  # loaded | set_aside
    loaded: int = 0
    rejected: int = 0
    # (row_number, column_name, rule) of every rejected row, by row number.
    rejects: tuple[tuple[int, str, str], ...] = ()
    # Values of raw rows to check: {row_number: {column: value}}.
    raw: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Text the set-aside reason must hold (either language).
    reason_has: str | None = None
    extra_columns: str | None = None


CASES = [
    # --- whole files ------------------------------------------------------------------
    Case("empty_file", PC, "a.csv", b"", "set_aside", reason_has="empty"),
    Case("header_only", PC, "a.csv", csv_bytes(PC, []), "loaded"),
    Case(
        "bom_and_chinese_headers",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {}, {"case_id": "C2"}), encoding="utf-8-sig"),
        "loaded",
        loaded=2,
    ),
    Case(
        "gb18030",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {}), encoding="gb18030"),
        "loaded",
        loaded=1,
        raw={1: {"entity_name": "开州某某公司", "township": "汉丰街道"}},
    ),
    Case(
        "utf16_is_not_a_contract_encoding",
        SI,
        "a.csv",
        b"\xff\xfe" + ITEM_CSV.decode().encode("utf-16-le"),
        "set_aside",
        reason_has="UTF-16",
    ),
    Case(
        "mixed_chinese_and_english_headers",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            _rows(SI, {}),
            header=[
                "事项编码",
                "item_name",
                "事项类型",
                "department",
                "全程网办",
                "high_frequency",
                "一窗综办",
                "reform",
                "状态",
                "updated_at",
            ],
        ),
        "loaded",
        loaded=1,
    ),
    Case(
        "missing_required_column",
        SI,
        "a.csv",
        csv_bytes(SI, _rows(SI, {}), columns=[c.name for c in SOURCES[SI].columns][:-1]),
        "set_aside",
        reason_has="updated_at",
    ),
    # Which of two columns for one field holds the value cannot be told: the file goes back.
    Case(
        "same_column_in_chinese_and_english",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            [{**GOOD[SI], "x": "I2"}],
            header=[*ITEM_ZH, "item_code"],
            columns=[*[c.name for c in SOURCES[SI].columns], "x"],
        ),
        "set_aside",
        reason_has="appears twice",
    ),
    Case(
        "same_chinese_header_twice",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            [{**GOOD[SI], "x": "I2"}],
            header=[*ITEM_ZH, "事项编码"],
            columns=[*[c.name for c in SOURCES[SI].columns], "x"],
        ),
        "set_aside",
        reason_has="appears twice",
    ),
    Case(
        "extra_columns_are_loaded_and_reported",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            [{**GOOD[SI], "n": "备注内容", "m": "1"}],
            header=[*ITEM_ZH, "备注", "序号"],
            columns=[*[c.name for c in SOURCES[SI].columns], "n", "m"],
        ),
        "loaded",
        loaded=1,
        extra_columns="备注, 序号",
    ),
    # The contract's header is exact: ASCII brackets make another header, ignored and reported
    # (the optional capital is then empty).
    Case(
        "ascii_brackets_in_a_chinese_header",
        ME,
        "a.csv",
        csv_bytes(
            ME,
            _rows(ME, {}),
            header=[
                "注册资本(万元)" if c.name == "registered_capital" else c.header_zh
                for c in SOURCES[ME].columns
            ],
        ),
        "loaded",
        loaded=1,
        raw={1: {"registered_capital": None}},
        extra_columns="注册资本(万元)",
    ),
    # U+3000 is the blank a Chinese input method types: the contract's "surrounding blanks" in
    # an export made by Chinese clerks include it (Unicode White_Space, as str.strip has it).
    Case(
        "headers_with_surrounding_blanks",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            _rows(SI, {}),
            header=[
                f" {h}\t" if i % 2 else f"{FULL_WIDTH_SPACE}{h} " for i, h in enumerate(ITEM_ZH)
            ],
        ),
        "loaded",
        loaded=1,
    ),
    Case(
        "values_with_blanks_and_full_width_spaces",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            _rows(
                SI,
                {
                    "item_code": "  I1 ",
                    "item_type": f"{FULL_WIDTH_SPACE}行政许可{FULL_WIDTH_SPACE}",
                    "online_enabled": " 是",
                    "updated_at": " 2022-01-01 00:00:00 ",
                },
            ),
        ),
        "loaded",
        loaded=1,
        raw={1: {"item_code": "I1", "item_type": "行政许可", "online_enabled": True}},
    ),
    Case(
        "crlf_line_ends",
        SI,
        "a.csv",
        ITEM_CSV.replace(b"\n", b"\r\n"),
        "loaded",
        loaded=1,
    ),
    # A line with nothing on it is not a row: not counted, not numbered (as a workbook's empty
    # row is not), so the rejected row after two blank lines is data row 2.
    Case(
        "blank_lines_are_not_rows",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {}, {"trips": "x"})).replace(b"\n", b"\n\n\n", 1) + b"\n\n",
        "loaded",
        loaded=1,
        rejected=1,
        rejects=((2, "trips", "invalid_integer"),),
    ),
    # Values that do not fit the header cannot be placed: the whole file goes back with the
    # line named, rather than load values shifted into the wrong columns.
    Case(
        "row_with_too_many_fields",
        SI,
        "a.csv",
        ITEM_CSV + ",".join(["I2", *ITEM_GOOD[1:], "多出的值"]).encode() + b"\n",
        "set_aside",
        reason_has="line 3",
    ),
    Case(
        "quoted_field_with_newline_and_comma",
        SI,
        "a.csv",
        csv_bytes(SI, _rows(SI, {"item_name": "开办企业,一件事\n第二行"})),
        "loaded",
        loaded=1,
        raw={1: {"item_name": "开办企业,一件事\n第二行"}},
    ),
    # NUL is a character like any other in the contract; no rule forbids it in text, and a
    # number holding it is not a number.
    Case(
        "nul_bytes",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"item_code": "I\x001"}, {"trips": "1\x00"})),
        "loaded",
        loaded=1,
        rejected=1,
        rejects=((2, "trips", "invalid_integer"),),
        raw={1: {"item_code": "I\x001"}},
    ),
    Case(
        "random_bytes_named_csv",
        PC,
        "a.csv",
        random.Random(7).randbytes(600),
        "set_aside",
    ),
    Case(
        "utf8_cut_in_the_middle_of_a_character",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {}))[: csv_bytes(ME, _rows(ME, {})).index("开州".encode()) + 4],
        "set_aside",
        reason_has="cut off",
    ),
    # One bad byte in a UTF-8 file must not turn the whole file into GB18030 mojibake.
    Case(
        "utf8_with_one_bad_byte",
        ME,
        "a.csv",
        _one_bad_byte(),
        "set_aside",
        reason_has="line 4",
    ),
    # The same with English headers and even-length Chinese values: the whole file decodes as
    # GB18030, and would load (or reject row by row) as mojibake such as 鍖烘皯鏀垮眬.
    Case(
        "utf8_with_one_bad_byte_that_reads_as_gb18030",
        SI,
        "a.csv",
        _one_bad_byte_gb18030(),
        "set_aside",
        reason_has="line 4",
    ),
    Case(
        "semicolon_separated",
        SI,
        "a.csv",
        ITEM_CSV.replace(b",", b";"),
        "set_aside",
        reason_has="commas",
    ),
    Case("txt_extension", SI, "a.txt", ITEM_CSV, "set_aside", reason_has="unsupported"),
    Case("xls_extension", SI, "a.xls", b"\xd0\xcf\x11\xe0", "set_aside", reason_has=".xlsx"),
    Case("no_extension", SI, "items", ITEM_CSV, "set_aside", reason_has="unsupported"),
    # --- single values ----------------------------------------------------------------
    Case(
        "required_value_empty",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {}, {"case_id": None})),
        "loaded",
        loaded=1,
        rejected=1,
        rejects=((2, "case_id", "required"),),
    ),
    Case(
        "required_value_only_blanks",
        SI,
        "a.csv",
        csv_bytes(SI, _rows(SI, {"department": f" {FULL_WIDTH_SPACE} "})),
        "loaded",
        rejected=1,
        rejects=((1, "department", "required"),),
    ),
    Case(
        "enum_value_not_allowed",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"channel": "线下"})),
        "loaded",
        rejected=1,
        rejects=((1, "channel", "not_allowed_value"),),
    ),
    Case(
        "enum_value_with_trailing_space",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"channel": "全程网办 ", "rating": "满意\u3000"})),
        "loaded",
        loaded=1,
        raw={1: {"channel": "全程网办", "rating": "满意"}},
    ),
    # A zero-width space is not a blank (not White_Space): the value is not in the list.
    Case(
        "enum_value_with_zero_width_space",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"channel": "全程网办\u200b"})),
        "loaded",
        rejected=1,
        rejects=((1, "channel", "not_allowed_value"),),
    ),
    Case(
        "industry_letter_lower_case",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"industry_section": "c"})),
        "loaded",
        loaded=1,
        raw={1: {"industry_section": "C"}},
    ),
    Case(
        "every_timestamp_shape_of_the_contract",
        PC,
        "a.csv",
        csv_bytes(
            PC,
            _rows(
                PC,
                {
                    "submitted_at": "2022/01/01 09:00:00",
                    "accepted_at": "2022-01-01 10:00",
                    "completed_at": "2022-01-03 10:00:00",
                },
            ),
        ),
        "loaded",
        loaded=1,
        raw={
            1: {
                "submitted_at": datetime(2022, 1, 1, 9),
                "accepted_at": datetime(2022, 1, 1, 10),
            }
        },
    ),
    Case(
        "timestamp_single_digit_month",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"submitted_at": "2022-1-01 09:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "submitted_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_single_digit_hour_padded_to_length",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"submitted_at": "2022-01-01  9:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "submitted_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_iso_t",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"updated_at": "2022-01-04T00:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "updated_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_with_time_zone",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"updated_at": "2022-01-04 00:00:00+08:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "updated_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_24_00_00",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"updated_at": "2022-01-04 24:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "updated_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_leap_second",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"updated_at": "2022-01-04 23:59:60"})),
        "loaded",
        rejected=1,
        rejects=((1, "updated_at", "invalid_timestamp"),),
    ),
    Case(
        "timestamp_date_only",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"updated_at": "2022-01-04"})),
        "loaded",
        rejected=1,
        rejects=((1, "updated_at", "invalid_timestamp"),),
    ),
    Case(
        "date_february_30",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"lead_date": "2022-02-30"})),
        "loaded",
        rejected=1,
        rejects=((1, "lead_date", "invalid_date"),),
    ),
    Case(
        "date_year_zero",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"lead_date": "0000-01-01"})),
        "loaded",
        rejected=1,
        rejects=((1, "lead_date", "invalid_date"),),
    ),
    # Outside a workbook a date column takes a date, not a time at midnight.
    Case(
        "date_written_as_midnight_in_csv",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"lead_date": "2022-01-01 00:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "lead_date", "invalid_date"),),
    ),
    Case(
        "completed_before_submitted",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"completed_at": "2022-01-01 08:59:59"})),
        "loaded",
        rejected=1,
        rejects=((1, "completed_at", "completed_before_submitted"),),
    ),
    Case(
        "accepted_before_submitted",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"accepted_at": "2022-01-01 08:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "accepted_at", "accepted_before_submitted"),),
    ),
    # Not accepted: 办结时间 is held against 申请时间.
    Case(
        "completed_before_submitted_when_not_accepted",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"accepted_at": None, "completed_at": "2022-01-01 08:00:00"})),
        "loaded",
        rejected=1,
        rejects=((1, "completed_at", "completed_before_accepted"),),
    ),
    Case(
        "completed_status_without_completed_at",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"completed_at": None})),
        "loaded",
        rejected=1,
        rejects=((1, "completed_at", "completed_at_required_when_completed"),),
    ),
    Case(
        "signed_before_lead",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"signed_date": "2021-12-31"})),
        "loaded",
        rejected=1,
        rejects=((1, "signed_date", "signed_before_lead"),),
    ),
    # Stage 签约 with neither 签约日期 nor 合同引资 breaks two rules; the first in contract
    # order (合同引资 required once signed) is the one reported.
    Case(
        "signed_stage_without_date_or_amount",
        IP,
        "a.csv",
        csv_bytes(
            IP,
            _rows(
                IP,
                {
                    "stage": "签约",
                    "signed_date": None,
                    "contract_investment": None,
                    "started_date": None,
                    "production_date": None,
                },
            ),
        ),
        "loaded",
        rejected=1,
        rejects=((1, "contract_investment", "contract_investment_required_when_signed"),),
    ),
    Case(
        "trips_21",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "21"})),
        "loaded",
        rejected=1,
        rejects=((1, "trips", "above_maximum"),),
    ),
    Case(
        "trips_minus_1",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "-1"})),
        "loaded",
        rejected=1,
        rejects=((1, "trips", "below_minimum"),),
    ),
    Case(
        "trips_2_5",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "2.5"})),
        "loaded",
        rejected=1,
        rejects=((1, "trips", "invalid_integer"),),
    ),
    # A whole number, however written, is a whole number: 2.0 (as Excel prints it) is 2, and
    # 1e10 is above the maximum, not "not a whole number".
    Case(
        "trips_2_point_0",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "2.0"})),
        "loaded",
        loaded=1,
        raw={1: {"trips": 2}},
    ),
    Case(
        "trips_1e10",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "1e10"})),
        "loaded",
        rejected=1,
        rejects=((1, "trips", "above_maximum"),),
    ),
    Case(
        "promised_days_366",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"promised_days": "366"})),
        "loaded",
        rejected=1,
        rejects=((1, "promised_days", "above_maximum"),),
    ),
    Case(
        "full_width_digits_as_a_number",
        PC,
        "a.csv",
        csv_bytes(PC, _rows(PC, {"trips": "２"})),
        "loaded",
        rejected=1,
        rejects=((1, "trips", "invalid_integer"),),
    ),
    Case(
        "flags_in_every_accepted_spelling",
        SI,
        "a.csv",
        csv_bytes(
            SI,
            _rows(
                SI,
                *(
                    {"online_enabled": v}
                    for v in ("是", "否", "Y", "N", "1", "0", "true", "false", "TRUE", "y")
                ),
            ),
        ),
        "loaded",
        loaded=10,
        raw={
            n: {"online_enabled": v}
            for n, v in enumerate((True, False) * 4 + (True, True), start=1)
        },
    ),
    Case(
        "flag_not_a_flag",
        SI,
        "a.csv",
        csv_bytes(SI, _rows(SI, {"high_frequency": "不详"})),
        "loaded",
        rejected=1,
        rejects=((1, "high_frequency", "invalid_flag"),),
    ),
    Case(
        "optional_flag_empty_is_null",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"is_returnee": None})),
        "loaded",
        loaded=1,
        raw={1: {"is_returnee": None}},
    ),
    Case(
        "credit_code_wrong_check_character",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"uscc": USCC[:-1] + "4"})),
        "loaded",
        rejected=1,
        rejects=((1, "uscc", "uscc_check_character"),),
    ),
    Case(
        "credit_code_lower_case",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"uscc": USCC.lower()})),
        "loaded",
        loaded=1,
        raw={1: {"uscc": USCC}},
    ),
    Case(
        "credit_code_17_characters",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"uscc": USCC[:-1]})),
        "loaded",
        rejected=1,
        rejects=((1, "uscc", "wrong_length"),),
    ),
    Case(
        "id_number_wrong_check_digit",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"legal_rep_id": RIC[:-1] + "1"})),
        "loaded",
        rejected=1,
        rejects=((1, "legal_rep_id", "cn_id_check_digit"),),
    ),
    Case(
        "id_number_lower_case_x",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"legal_rep_id": RIC.lower()})),
        "loaded",
        loaded=1,
        raw={1: {"legal_rep_id_masked": "110105********002X"}},
    ),
    # GB 11643 digits are ASCII; full-width digits are another character that int() reads.
    Case(
        "id_number_in_full_width_digits",
        ME,
        "a.csv",
        csv_bytes(
            ME,
            _rows(
                ME,
                {"legal_rep_id": "".join(chr(ord(c) + 0xFEE0) for c in RIC[:-1]) + RIC[-1]},
            ),
        ),
        "loaded",
        rejected=1,
        rejects=((1, "legal_rep_id", "cn_id_check_digit"),),
    ),
    # A thousands separator is not part of a decimal (and "1,000" is 1.000 in other locales):
    # rejected rather than guessed.
    Case(
        "decimal_with_thousands_separator",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"registered_capital": "1,000"})),
        "loaded",
        rejected=1,
        rejects=((1, "registered_capital", "invalid_number"),),
    ),
    Case(
        "negative_registered_capital",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"registered_capital": "-1"})),
        "loaded",
        rejected=1,
        rejects=((1, "registered_capital", "below_minimum"),),
    ),
    Case(
        "nan_as_a_number",
        ME,
        "a.csv",
        csv_bytes(ME, _rows(ME, {"registered_capital": "NaN"})),
        "loaded",
        rejected=1,
        rejects=((1, "registered_capital", "invalid_number"),),
    ),
    Case(
        "inf_as_a_number",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"land_mu": "inf"})),
        "loaded",
        rejected=1,
        rejects=((1, "land_mu", "invalid_number"),),
    ),
    Case(
        "number_with_unit",
        IP,
        "a.csv",
        csv_bytes(IP, _rows(IP, {"planned_investment": "10亿元"})),
        "loaded",
        rejected=1,
        rejects=((1, "planned_investment", "invalid_number"),),
    ),
    # --- workbooks --------------------------------------------------------------------
    Case(
        "xlsx_text_cells",
        SI,
        "a.xlsx",
        xlsx_rows(SI, _rows(SI, {}, {"item_code": "I2"})),
        "loaded",
        loaded=2,
    ),
    Case(
        "xlsx_real_date_and_number_cells",
        IP,
        "a.xlsx",
        xlsx_rows(
            IP,
            _rows(
                IP,
                {
                    "lead_date": date(2022, 1, 1),
                    "first_talk_date": date(2022, 1, 5),
                    "signed_date": date(2022, 2, 1),
                    "started_date": date(2022, 3, 1),
                    "production_date": date(2022, 12, 1),
                    "updated_at": datetime(2022, 12, 2, 8, 0),
                    "planned_investment": 10,
                    "contract_investment": 8.5,
                    "land_mu": 100,
                    "is_industrial": True,
                },
            ),
        ),
        "loaded",
        loaded=1,
        raw={
            1: {
                "lead_date": date(2022, 1, 1),
                "production_date": date(2022, 12, 1),
                "updated_at": datetime(2022, 12, 2, 8, 0),
                "contract_investment": 8.5,
                "is_industrial": True,
            }
        },
    ),
    Case(
        "xlsx_18_digit_code_as_a_number",
        ME,
        "a.xlsx",
        xlsx_rows(ME, _rows(ME, {"legal_rep_id": int(LOSSY_ID)})),
        "loaded",
        rejected=1,
        rejects=((1, "legal_rep_id", "excel_number_lost_digits"),),
    ),
    Case(
        "xlsx_first_sheet_empty",
        SI,
        "a.xlsx",
        xlsx_writer(
            lambda book: (
                book.add_worksheet("空"),
                book.add_worksheet("数据").write_row(0, 0, ITEM_ZH),
            )
        ),
        "set_aside",
        reason_has="first sheet",
    ),
    Case(
        "xlsx_title_row_above_the_header",
        SI,
        "a.xlsx",
        xlsx_writer(
            lambda book: (
                sheet := book.add_worksheet(),
                sheet.write(0, 0, "开州区政务服务事项目录"),
                sheet.write_row(1, 0, ITEM_ZH),
                sheet.write_row(2, 0, ITEM_GOOD),
            )
        ),
        "set_aside",
        reason_has="first row",
    ),
    Case(
        "xlsx_header_twice",
        SI,
        "a.xlsx",
        xlsx_writer(
            lambda book: (
                sheet := book.add_worksheet(),
                sheet.write_row(0, 0, [*ITEM_ZH, "事项名称"]),
                sheet.write_row(1, 0, [*ITEM_GOOD, "y"]),
            )
        ),
        "set_aside",
        reason_has="appears twice",
    ),
    # The sheet reader skips a row with no cell at all; a row of blank strings is skipped too.
    Case(
        "xlsx_empty_rows_between_data",
        SI,
        "a.xlsx",
        xlsx_writer(
            lambda book: (
                sheet := book.add_worksheet(),
                sheet.write_row(0, 0, ITEM_ZH),
                sheet.write_row(1, 0, ITEM_GOOD),
                sheet.write_row(3, 0, [" "] * 3),
                sheet.write_row(4, 0, ["I2", *ITEM_GOOD[1:]]),
                sheet.write_row(5, 0, ["I3", *ITEM_GOOD[1:3]]),
            )
        ),
        "loaded",
        loaded=2,
        rejected=1,
        rejects=((3, "department", "required"),),
        raw={2: {"item_code": "I2"}},
    ),
    Case("xlsx_that_is_a_zip_of_text", SI, "a.xlsx", _zip_of_text, "set_aside"),
    Case("xlsx_that_is_csv", SI, "a.xlsx", ITEM_CSV, "set_aside", reason_has="cannot be read"),
    # --- parquet ----------------------------------------------------------------------
    Case(
        "parquet_typed_columns",
        PC,
        "a.parquet",
        parquet_frame(_typed_cases()),
        "loaded",
        loaded=1,
        raw={1: {"submitted_at": datetime(2022, 1, 1, 9), "trips": 0, "promised_days": 5}},
    ),
    Case(
        "parquet_booleans",
        SI,
        "a.parquet",
        parquet_frame(
            pl.DataFrame(
                [
                    {
                        **GOOD[SI],
                        "online_enabled": True,
                        "high_frequency": False,
                        "one_window": True,
                    }
                ]
            )
        ),
        "loaded",
        loaded=1,
        raw={1: {"online_enabled": True, "high_frequency": False}},
    ),
    # Contract times are local: a UTC instant is read as Asia/Shanghai shows it (+8 h).
    Case(
        "parquet_timestamps_with_a_zone",
        PC,
        "a.parquet",
        parquet_frame(
            _typed_cases().with_columns(
                pl.col(c).dt.offset_by("-8h").dt.replace_time_zone("UTC")
                for c in ("submitted_at", "accepted_at", "completed_at", "updated_at")
            )
        ),
        "loaded",
        loaded=1,
        raw={1: {"submitted_at": datetime(2022, 1, 1, 9), "updated_at": datetime(2022, 1, 4)}},
    ),
    # pandas has no date type: its date columns reach Parquet as midnight timestamps.
    Case(
        "parquet_dates_as_midnight_timestamps",
        IP,
        "a.parquet",
        parquet_frame(
            pl.DataFrame([GOOD[IP]]).with_columns(
                pl.col(c).str.replace_all("/", "-").str.to_datetime("%Y-%m-%d")
                for c in ("lead_date", "first_talk_date", "signed_date", "started_date")
            )
        ),
        "loaded",
        loaded=1,
        raw={1: {"lead_date": date(2022, 1, 1), "signed_date": date(2022, 2, 1)}},
    ),
    Case(
        "parquet_integer_and_float_counts",
        PC,
        "a.parquet",
        parquet_frame(
            pl.concat([_typed_cases(), _typed_cases(case_id="C2")]).with_columns(
                pl.Series("trips", [2.0, float("nan")]), pl.Series("promised_days", [5, 366])
            )
        ),
        "loaded",
        loaded=1,
        rejected=1,
        # NaN is how pandas writes a missing number: an empty cell (required), not 'NaN'.
        rejects=((2, "trips", "required"),),
        raw={1: {"trips": 2}},
    ),
    Case(
        "parquet_categorical_text",
        PC,
        "a.parquet",
        parquet_frame(_typed_cases().with_columns(pl.col("channel").cast(pl.Categorical))),
        "loaded",
        loaded=1,
        raw={1: {"channel": "全程网办"}},
    ),
    Case(
        "parquet_list_in_a_contract_column",
        PC,
        "a.parquet",
        parquet_frame(_typed_cases().with_columns(pl.lit([1, 2]).alias("trips"))),
        "set_aside",
        reason_has="no contract column takes",
    ),
    Case(
        "parquet_list_in_an_extra_column",
        PC,
        "a.parquet",
        parquet_frame(_typed_cases().with_columns(pl.lit([1, 2]).alias("tags"))),
        "loaded",
        loaded=1,
        extra_columns="tags",
    ),
    Case(
        "parquet_truncated",
        PC,
        "a.parquet",
        lambda path: (
            _typed_cases().write_parquet(path),
            path.write_bytes(path.read_bytes()[:-20]),
        ),
        "set_aside",
        reason_has="cannot be read",
    ),
    # --- JSON lines -------------------------------------------------------------------
    Case(
        "jsonl_chinese_keys_typed_values",
        PC,
        "a.jsonl",
        jsonl_rows(PC, _rows(PC, {"trips": 1, "promised_days": 3})),
        "loaded",
        loaded=1,
        raw={1: {"trips": 1, "promised_days": 3}},
    ),
    Case(
        "jsonl_english_keys",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {"online_enabled": True, "high_frequency": False}), header="en"),
        "loaded",
        loaded=1,
        raw={1: {"online_enabled": True, "high_frequency": False}},
    ),
    Case(
        "jsonl_key_missing_on_one_line",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {}, {"department": None})),
        "loaded",
        loaded=1,
        rejected=1,
        rejects=((2, "department", "required"),),
    ),
    Case(
        "jsonl_line_not_json",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {})) + b"{not json\n",
        "set_aside",
        reason_has="line 2",
    ),
    Case(
        "jsonl_line_an_array",
        SI,
        "a.jsonl",
        b'["I1", "x"]\n' + jsonl_rows(SI, _rows(SI, {})),
        "set_aside",
        reason_has="line 1",
    ),
    # A nested value is held as its JSON text, as a CSV of it would hold it: in a number
    # column that is not a number; under a key the contract does not know it is ignored.
    Case(
        "jsonl_nested_object",
        PC,
        "a.jsonl",
        jsonl_bytes(
            [
                {**json.loads(jsonl_rows(PC, _rows(PC, {}))), "附件": {"a": [1]}},
                {**json.loads(jsonl_rows(PC, _rows(PC, {}))), "跑动次数": {"n": 1}},
            ]
        ),
        "loaded",
        loaded=1,
        rejected=1,
        rejects=((2, "trips", "invalid_integer"),),
        extra_columns="附件",
    ),
    # polars cannot type a key holding a list on one line and an object on the next; the
    # lines are sound JSON objects, so the file loads and the unknown key is ignored.
    Case(
        "jsonl_key_with_a_list_then_an_object",
        SI,
        "a.jsonl",
        jsonl_bytes(
            [
                {**json.loads(jsonl_rows(SI, _rows(SI, {}))), "附件": [1]},
                {**json.loads(jsonl_rows(SI, _rows(SI, {}))), "附件": {"a": 1}},
            ]
        ),
        "loaded",
        loaded=2,
        extra_columns="附件",
    ),
    # JSON escapes an emoji as a surrogate pair, which is one character; a lone surrogate is
    # no character at all, as an undecodable byte is none in a CSV.
    Case(
        "jsonl_escaped_emoji",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {"item_name": "x"})).replace(b'"x"', b'"\\ud83d\\ude00"'),
        "loaded",
        loaded=1,
        raw={1: {"item_name": "😀"}},
    ),
    Case(
        "jsonl_lone_surrogate",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {}, {})) + json.dumps({"事项编码": "\ud800"}).encode() + b"\n",
        "set_aside",
        reason_has="line 3",
    ),
    Case(
        "jsonl_with_bom",
        SI,
        "a.jsonl",
        b"\xef\xbb\xbf" + jsonl_rows(SI, _rows(SI, {})),
        "loaded",
        loaded=1,
    ),
    Case(
        "jsonl_blank_lines",
        SI,
        "a.jsonl",
        b"\n" + jsonl_rows(SI, _rows(SI, {}, {"item_code": "I2"})).replace(b"\n", b"\n  \n", 1),
        "loaded",
        loaded=2,
        raw={2: {"item_code": "I2"}},
    ),
    Case(
        "jsonl_in_gb18030",
        SI,
        "a.jsonl",
        jsonl_rows(SI, _rows(SI, {})).decode().encode("gb18030"),
        "set_aside",
        reason_has="UTF-8",
    ),
]


def _cjk(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema(con)
    yield con
    con.close()


def test_there_are_fifty_kinds_across_every_source_and_format():
    assert len({c.id for c in CASES}) == len(CASES) >= 50
    assert {c.source for c in CASES} == set(SOURCES)
    assert {Path(c.name).suffix for c in CASES} >= {".csv", ".xlsx", ".parquet", ".jsonl"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, con, tmp_path):
    source = SOURCES[case.source]
    path = tmp_path / case.name
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        case.content(path)

    result = load_file(con, source, path, pii_key="x" * 32)

    assert (result.status, result.rows_loaded, result.rows_rejected) == (
        case.status,
        case.loaded,
        case.rejected,
    ), result.reason
    assert result.rows_read == case.loaded + case.rejected
    rejects = con.execute(
        "select row_number, column_name, rule, message from audit.rejected_rows "
        "where load_id = ? order by row_number",
        [result.load_id],
    ).fetchall()
    assert tuple(r[:3] for r in rejects) == case.rejects
    for _, column, rule, message in rejects:
        assert message == rule_text(source, rule, column).message
        assert message.startswith(f"{source.column(column).header_zh}（{column}）：")
    cursor = con.execute(
        f"select * from {source.raw_table} where _load_id = ? order by _row_number",
        [result.load_id],
    )
    names = [d[0] for d in cursor.description]
    raw = {
        r["_row_number"]: r for r in (dict(zip(names, t, strict=True)) for t in cursor.fetchall())
    }
    assert len(raw) == case.loaded
    for row_number, expected in case.raw.items():
        assert {k: raw[row_number][k] for k in expected} == expected
    extras = con.execute(
        "select extra_columns from audit.file_loads where load_id = ?", [result.load_id]
    ).fetchone()[0]
    assert extras == case.extra_columns
    if case.status == "set_aside":
        assert result.reason and _cjk(result.reason[0]) and len(result.reason) <= 300
        zh, en = result.reason.split(" / ", 1)
        assert zh.endswith("。") and en.endswith(".")
        if case.reason_has:
            assert case.reason_has in result.reason, result.reason


@pytest.mark.parametrize("seed", [3, 7])
def test_a_handmade_landing_set_loads_as_the_oracle_reads_it(seed, con, tmp_path):
    """The same bad and awkward things in realistic files (tests/handmade): every file's fate
    and every rejected row as the independent reading of SOURCES.md has them."""
    make_landing(tmp_path, seed=seed)
    root = tmp_path / "landing"
    oracle = read_landing(root)
    arrivals = sorted(
        (f.mtime_ns, f.name, name, f) for name in SOURCES for f in scan(root, SOURCES[name]).files
    )
    got = {}
    for _, file_name, name, f in arrivals:
        r = load_file(con, SOURCES[name], f, pii_key="x" * 32)
        got[(name, file_name)] = (r.status, r.rows_read, r.rows_loaded, r.rows_rejected)
    assert got == {
        (f.source, f.file_name): (f.status, f.rows_read, f.rows_loaded, f.rows_rejected)
        for f in oracle.files
    }
    # (rules_broken is left out: the oracle stops at a column's first broken rule.)
    rejected = con.execute(
        "select source, file_name, row_number, column_name, rule from audit.rejected_rows "
        "order by all"
    ).fetchall()
    assert rejected == sorted(
        (r.source, r.file_name, r.row_number, r.column, r.rule) for r in oracle.rejected
    )
