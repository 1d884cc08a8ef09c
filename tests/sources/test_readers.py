"""Readers: every format and encoding ends as the same strings under contract names."""

import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sources import readers
from sources.contracts import PERMIT_CASES, SERVICE_ITEMS
from sources.readers import FileSetAside, read_file
from sources.validate import PY_WHITESPACE

ITEM_ZH = [
    "事项编码",
    "事项名称",
    "事项类型",
    "实施部门",
    "全程网办",
    "高频事项",
    "一窗综办",
    "状态",
    "更新时间",
]
ITEM_ROW = [
    "11500154A001",
    "个体工商户设立登记",
    "行政许可",
    "区市场监管局",
    "是",
    "否",
    "是",
    "在用",
    "2022-03-01 09:00:00",
]


def _csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")],
)
def test_csv_encodings_read_the_same(tmp_path, encoding, detected):
    path = _csv(tmp_path / "items.csv", ITEM_ZH, [ITEM_ROW], encoding)
    read = read_file(path, SERVICE_ITEMS)
    assert read.encoding == detected
    row = read.frame.row(0, named=True)
    assert row["department"] == "区市场监管局"
    assert row["item_name"] == "个体工商户设立登记"
    assert row["reform"] is None  # optional column absent from the file
    assert read.header_language == "zh"


def test_english_headers_blanks_and_extra_columns(tmp_path):
    header = [
        " item_code ",
        "item_name",
        "item_type",
        "department",
        "online_enabled",
        "high_frequency",
        "one_window",
        "item_status",
        "updated_at",
        "备注",
    ]
    row = [
        "  11500154A001 ",
        "名称",
        "行政许可",
        "区民政局",
        "Y",
        "N",
        "1",
        "在用",
        "2022-03-01 09:00",
        "x",
    ]
    read = read_file(_csv(tmp_path / "e.csv", header, [row], "utf-8"), SERVICE_ITEMS)
    assert read.header_language == "en"
    assert read.extra_columns == ["备注"]
    assert read.frame.row(0, named=True)["item_code"] == "11500154A001"


def test_empty_cells_and_blank_only_cells_are_null(tmp_path):
    row = list(ITEM_ROW)
    row[1] = "   "
    read = read_file(_csv(tmp_path / "b.csv", ITEM_ZH, [row], "utf-8"), SERVICE_ITEMS)
    assert read.frame.row(0, named=True)["item_name"] is None


def test_missing_required_column_names_it_in_both_languages(tmp_path):
    header = [h for h in ITEM_ZH if h != "实施部门"]
    row = [v for h, v in zip(ITEM_ZH, ITEM_ROW, strict=True) if h != "实施部门"]
    with pytest.raises(FileSetAside) as err:
        read_file(_csv(tmp_path / "m.csv", header, [row], "utf-8"), SERVICE_ITEMS)
    assert err.value.reason == (
        "缺少必填列：实施部门（表头为“事项编码,事项名称,事项类型,全程网办,高频事项,一窗综办,状态,更新时间”）；"
        "请确认首行是表头并含有这些列（中文表头或英文列名均可），再重新导出。 / "
        "missing required column(s): department; make sure the first row is the header and has "
        "these columns (Chinese or English), then export again."
    )
    assert err.value.text.fix_en.startswith("make sure the first row is the header")


def test_same_column_twice_is_set_aside(tmp_path):
    header = [*ITEM_ZH, "department"]
    with pytest.raises(FileSetAside, match="appears twice"):
        read_file(_csv(tmp_path / "d.csv", header, [[*ITEM_ROW, "x"]], "utf-8"), SERVICE_ITEMS)


def test_unknown_extension_and_empty_file_are_set_aside(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(FileSetAside, match="unsupported file type"):
        read_file(tmp_path / "a.txt", SERVICE_ITEMS)
    (tmp_path / "b.csv").write_bytes(b"")
    with pytest.raises(FileSetAside, match="empty"):
        read_file(tmp_path / "b.csv", SERVICE_ITEMS)


def test_corrupt_xlsx_is_set_aside_with_a_reason(tmp_path):
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileSetAside, match="cannot be read"):
        read_file(tmp_path / "bad.xlsx", SERVICE_ITEMS)


def test_xlsx_cells_become_contract_strings(tmp_path):
    import datetime as dt

    path = tmp_path / "items.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ITEM_ZH)
    ws.write_row(1, 0, ITEM_ROW[:8])
    ws.write_datetime(
        1, 8, dt.datetime(2022, 3, 1, 9, 0), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    )
    wb.close()
    row = read_file(path, SERVICE_ITEMS).frame.row(0, named=True)
    assert row["updated_at"] == "2022-03-01 09:00:00"
    assert row["online_enabled"] == "是"


def test_parquet_and_jsonl_typed_values_become_strings(tmp_path):
    import datetime as dt

    frame = pl.DataFrame(
        {
            "case_id": ["C1"],
            "item_code": ["I1"],
            "channel": ["全程网办"],
            "intake": ["网上申报"],
            "applicant_type": ["自然人"],
            "submitted_at": [dt.datetime(2022, 1, 2, 3, 4, 5)],
            "status": ["已申请"],
            "trips": [0],
            "promised_days": [5],
            "updated_at": [dt.datetime(2022, 1, 3)],
        }
    )
    frame.write_parquet(tmp_path / "c.parquet")
    row = read_file(tmp_path / "c.parquet", PERMIT_CASES).frame.row(0, named=True)
    assert row["submitted_at"] == "2022-01-02 03:04:05"
    assert row["trips"] == "0"
    lines = [
        json.dumps(
            {
                "办件编号": "C2",
                "事项编码": "I1",
                "办理渠道": "窗口办理",
                "受理方式": "一窗综办",
                "申请人类型": "法人",
                "申请时间": "2022-01-02 03:04:05",
                "办件状态": "已申请",
                "跑动次数": 1,
                "承诺时限（工作日）": 3,
                "更新时间": "2022-01-03 00:00:00",
            },
            ensure_ascii=False,
        )
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    row = read_file(tmp_path / "c.jsonl", PERMIT_CASES).frame.row(0, named=True)
    assert (row["case_id"], row["trips"], row["promised_days"]) == ("C2", "1", "3")


# --- large files are read a block at a time -----------------------------------------------


@pytest.fixture
def small_blocks(monkeypatch, tmp_path):
    """Blocks of a few bytes, so that every character, line and error can fall across two;
    the temporary folder where a reader puts its copies, to see it emptied again."""
    monkeypatch.setattr(readers, "BLOCK_BYTES", 5)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield
    assert list(temp.iterdir()) == []


ROWS = [[*ITEM_ROW[:1], f"事项{i}号", *ITEM_ROW[2:]] for i in range(20)]


def test_gb18030_read_in_blocks_reads_as_utf_8_does(tmp_path, small_blocks):
    gb = read_file(_csv(tmp_path / "gb.csv", ITEM_ZH, ROWS, "gb18030"), SERVICE_ITEMS)
    utf8 = read_file(_csv(tmp_path / "u8.csv", ITEM_ZH, ROWS, "utf-8"), SERVICE_ITEMS)
    assert gb.encoding == "gb18030" and utf8.encoding == "utf-8"
    assert gb.frame.equals(utf8.frame) and gb.frame.height == 20


def test_a_byte_that_is_not_gb18030_is_named_by_its_offset_in_the_file(tmp_path, small_blocks):
    good = "\n".join(",".join(r) for r in [ITEM_ZH, *ROWS]).encode("gb18030")
    at = good.index(b"\n", 100) + 1  # the start of the second data row, byte 154
    data = good[:at] + b"\x81\x20" + good[at:]
    with pytest.raises(UnicodeDecodeError) as whole:
        data.decode("gb18030")
    assert whole.value.start == at == 154
    (tmp_path / "bad.csv").write_bytes(data)
    with pytest.raises(FileSetAside) as err:
        read_file(tmp_path / "bad.csv", SERVICE_ITEMS)
    assert "(undecodable byte at offset 154)" in err.value.reason


def test_a_gb18030_file_cut_in_a_character_is_said_to_be_cut_off(tmp_path, small_blocks):
    data = "\n".join(",".join(r) for r in [ITEM_ZH, *ROWS]).encode("gb18030")
    (tmp_path / "cut.csv").write_bytes(data + "办".encode("gb18030")[:1])
    with pytest.raises(FileSetAside, match="cut off"):
        read_file(tmp_path / "cut.csv", SERVICE_ITEMS)


def test_a_utf_8_file_with_a_bad_byte_names_its_line(tmp_path, small_blocks):
    data = "\n".join(",".join(r) for r in [ITEM_ZH, *ROWS]).encode("utf-8")
    at = data.index("事项7号".encode())
    (tmp_path / "bad.csv").write_bytes(data[:at] + b"\xff" + data[at:])
    with pytest.raises(FileSetAside) as err:
        read_file(tmp_path / "bad.csv", SERVICE_ITEMS)
    # The header is line 1: 事项7号 is in the eighth data row.
    assert "line 9 holds bytes that are not UTF-8" in err.value.reason


def test_a_row_with_more_values_than_the_header_is_named_in_a_gb18030_file(tmp_path, small_blocks):
    rows = [*ROWS[:5], [*ROWS[5], "多余"], *ROWS[6:]]
    with pytest.raises(FileSetAside) as err:
        read_file(_csv(tmp_path / "wide.csv", ITEM_ZH, rows, "gb18030"), SERVICE_ITEMS)
    assert "line 7 has 10 fields, more than the 9 of the header" in err.value.reason


def _jsonl_rows(n: int) -> list[dict]:
    return [
        dict(zip(ITEM_ZH, [*ITEM_ROW[:1], f"事项{i}号", *ITEM_ROW[2:]], strict=True))
        for i in range(n)
    ]


def test_jsonl_with_a_byte_order_mark_read_in_blocks(tmp_path, small_blocks):
    lines = [json.dumps(r, ensure_ascii=False) for r in _jsonl_rows(12)]
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    read = read_file(path, SERVICE_ITEMS)
    assert (read.encoding, read.frame.height) == ("utf-8-sig", 12)
    assert read.frame.get_column("item_name").to_list()[-1] == "事项11号"


def test_jsonl_nested_values_after_a_byte_order_mark_become_their_json_text(tmp_path, small_blocks):
    rows = _jsonl_rows(3)
    rows[0]["备注"], rows[1]["备注"] = [1, 2], {"a": 1}  # a list on one line, an object on the next
    path = tmp_path / "nested.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(r) for r in rows).encode())
    read = read_file(path, SERVICE_ITEMS)
    assert read.frame.height == 3 and read.extra_columns == ["备注"]


def test_a_lone_surrogate_is_named_by_its_line_across_blocks(tmp_path, small_blocks):
    lines = [json.dumps(r, ensure_ascii=False) for r in _jsonl_rows(12)]
    lines[8] = lines[8].replace("事项8号", "\\ud800x")
    (tmp_path / "lone.jsonl").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FileSetAside, match="line 9 holds a lone"):
        read_file(tmp_path / "lone.jsonl", SERVICE_ITEMS)


def test_free_text_is_trimmed_of_every_unicode_white_space(tmp_path):
    white = [ch for ch in PY_WHITESPACE if ch not in "\x1c\x1d\x1e\x1f"]
    rows = [[f"{ch}I{i}{ch}", f"{ch}名称", *ITEM_ROW[2:]] for i, ch in enumerate(white)]
    frame = pl.DataFrame([dict(zip(ITEM_ZH, r, strict=True)) for r in rows])
    frame.write_parquet(tmp_path / "white.parquet")
    read = read_file(tmp_path / "white.parquet", SERVICE_ITEMS).frame
    assert read.get_column("item_code").to_list() == [f"I{i}" for i in range(len(white))]
    assert set(read.get_column("item_name")) == {"名称"}
