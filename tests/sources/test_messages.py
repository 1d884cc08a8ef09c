"""What the people who fix the data read: Chinese first, then English, the problem and the fix
kept apart, one line, short."""

import re
import unicodedata

import pytest

from sources.contracts import COLUMN_RULES, SOURCES, RuleText, rule_text
from sources.readers import FileSetAside, brief, file_format, map_headers

# Every (source, rule, column) the validator can report.
APPLIES = {
    "required": lambda c: c.required,
    "invalid_timestamp": lambda c: c.dtype == "timestamp",
    "invalid_date": lambda c: c.dtype == "date",
    "invalid_number": lambda c: c.dtype == "decimal",
    "invalid_integer": lambda c: c.dtype == "integer",
    "invalid_flag": lambda c: c.dtype == "flag",
    "not_allowed_value": lambda c: c.allowed is not None,
    "below_minimum": lambda c: c.minimum is not None,
    "above_maximum": lambda c: c.maximum is not None,
    "wrong_length": lambda c: c.length is not None,
    "uscc_check_character": lambda c: c.check == "uscc",
    "cn_id_check_digit": lambda c: c.check == "cn_id",
    "excel_number_lost_digits": lambda c: c.check is not None,
}
REPORTABLE = [
    (s.name, rule, c.name)
    for s in SOURCES.values()
    for c in s.columns
    for rule, applies in APPLIES.items()
    if applies(c)
] + [(s.name, r.name, r.column) for s in SOURCES.values() for r in s.row_rules]


def _cjk(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


def test_the_example_reads_as_a_clerk_would_write_it():
    text = rule_text(SOURCES["permit_cases"], "accepted_before_submitted", "accepted_at")
    assert text.message == (
        "受理时间（accepted_at）：早于申请时间；请核对申请时间和受理时间后重新导出。 / "
        "accepted_at: earlier than submitted_at; check both times and export again."
    )
    assert (text.problem_zh, text.fix_zh) == ("早于申请时间", "请核对申请时间和受理时间后重新导出")


def test_every_rule_is_in_the_table_above():
    rules = {r for _, r, _ in REPORTABLE}
    assert rules == set(COLUMN_RULES) | {r.name for s in SOURCES.values() for r in s.row_rules}


@pytest.mark.parametrize(("source", "rule", "column"), REPORTABLE)
def test_every_message_is_one_line_chinese_then_english(source, rule, column):
    col = SOURCES[source].column(column)
    text = rule_text(SOURCES[source], rule, column)
    zh, en = text.message.split(" / ", 1)
    assert zh == f"{col.header_zh}（{column}）：{text.problem_zh}；{text.fix_zh}。"
    assert en == f"{column}: {text.problem_en}; {text.fix_en}."
    assert "\n" not in text.message and "{" not in text.message
    assert len(text.message) <= 300
    for part in (text.problem_zh, text.fix_zh):
        assert part and any(_cjk(ch) for ch in part) and part[-1] not in "。；，"
    for part in (text.problem_en, text.fix_en):
        assert part and part.isascii() or re.search(r"[\u4e00-\u9fff]", part)
        assert part[-1] not in ".;,"


def test_allowed_values_bounds_and_lengths_are_in_both_languages():
    cases = SOURCES["permit_cases"]
    allowed = rule_text(cases, "not_allowed_value", "channel")
    assert allowed.fix_zh == "请改为以下之一：全程网办、窗口办理"
    assert allowed.fix_en == "use one of: 全程网办 / 窗口办理"
    above = rule_text(cases, "above_maximum", "trips")
    assert "20" in above.problem_zh and "20" in above.problem_en
    below = rule_text(cases, "below_minimum", "promised_days")
    assert "0" in below.problem_zh and "at least 0" in below.fix_en
    length = rule_text(SOURCES["market_entities"], "wrong_length", "uscc")
    assert "18 位" in length.problem_zh and "18 characters" in length.problem_en


def test_the_source_may_be_given_by_name():
    assert rule_text("service_items", "required", "department") == rule_text(
        SOURCES["service_items"], "required", "department"
    )


def test_an_unknown_rule_is_an_error():
    with pytest.raises(KeyError):
        rule_text(SOURCES["permit_cases"], "no_such_rule", "trips")


def test_a_file_reason_has_no_column_part():
    assert RuleText("文件是空的", "请重新导出", "empty", "export again").message == (
        "文件是空的；请重新导出。 / empty; export again."
    )


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("事项编码,事项名称", "事项编码,事项名称"),
        ("\x00\x01\x02abc\ufffd\ufffd\ufffd", "\ufffdabc\ufffd"),
        ("a\t\n  b", "a b"),
        ("\u202eevil", "\ufffdevil"),  # a right-to-left override would reorder the reason
        ("\ufffd" * 500, "\ufffd"),
        ("长" * 500, "长" * 39 + "…"),
    ],
)
def test_file_content_is_quoted_in_a_few_characters(text, quoted):
    assert brief(text) == quoted


def test_a_header_of_binary_garbage_is_quoted_briefly():
    garbage = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + "\ufffd" * 300 + "x" * 300
    with pytest.raises(FileSetAside) as err:
        map_headers(SOURCES["permit_cases"], [garbage])
    reason = err.value.reason
    assert _cjk(reason[0]) and len(reason) <= 300
    # C1 and C0 controls each a U+FFFD, line ends a blank, the run of U+FFFD one of them.
    assert "（表头为“\ufffdPNG \ufffd \ufffd IHDR\ufffdxxxxxxxxxxxxxxxxxxxxxxxxx…”）" in reason
    assert err.value.text.fix_en.startswith("make sure the first row is the header")


def test_a_missing_column_list_names_the_first_three_when_many_are_missing():
    with pytest.raises(FileSetAside) as err:
        map_headers(SOURCES["market_entities"], ["事件编号"])
    assert err.value.reason.startswith(
        "缺少必填列：统一社会信用代码、主体名称、主体类型等 7 列（表头为“事件编号”）；"
    )
    assert "missing required column(s): uscc, entity_name, entity_type and 4 more;" in (
        err.value.reason
    )


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("a.xls", "请在 Excel 中另存为 .xlsx"),
        ("a.json", ".jsonl"),
        ("a.tsv", "逗号分隔"),
        ("a.exe", "请导出为 .csv、.xlsx、.parquet 或 .jsonl"),
        ("no_extension", "无扩展名"),
    ],
)
def test_an_unsupported_file_type_says_what_to_export(name, hint):
    from pathlib import Path

    with pytest.raises(FileSetAside) as err:
        file_format(Path(name))
    assert err.value.reason.startswith("不支持的文件类型") and hint in err.value.reason
