"""Readers: every format and encoding ends as the same strings under contract names."""

import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sources.contracts import PERMIT_CASES, SERVICE_ITEMS
from sources.readers import FileSetAside, read_file

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
