"""退回清单: one workbook per source system from a hand-made audit layer.

permit_cases: 办件_20230515.csv (one rejected row, two rules broken), 办件_20230601.csv (two
rejected rows, one of them `=1+1`), 办件_补报.xlsx set aside, plus a duplicate and a clean file.
market_entities: 市场主体_202306.csv (a masked ID number, a time before its start).
service_items: one clean file. investment_projects: one duplicate.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from xml.etree import ElementTree

import duckdb
import fastexcel
import pytest

from kzdw.rejects import NoAuditTables, write_rejects_workbooks
from sources.warehouse import ensure_schema

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
SET_ASIDE = "missing required column(s): case_id. The header row has: 办件编码, 事项编码"

# load_id, source, file, status, read, loaded, rejected, reason, loaded_at
PC, ME = "permit_cases", "market_entities"
LOADS = [
    (1, PC, "办件_20230515.csv", "loaded", 5, 4, 1, None, datetime(2023, 5, 15, 9)),
    (2, PC, "办件_20230601.csv", "loaded", 10, 8, 2, None, datetime(2023, 6, 1, 9)),
    (3, PC, "办件_补报.xlsx", "set_aside", 0, 0, 0, SET_ASIDE, datetime(2023, 6, 20, 10)),
    (4, PC, "办件_重复.csv", "duplicate", 0, 0, 0, "same bytes", datetime(2023, 6, 21)),
    (5, PC, "办件_20230622.csv", "loaded", 3, 3, 0, None, datetime(2023, 6, 22)),
    (6, ME, "市场主体_202306.csv", "loaded", 9, 7, 2, None, datetime(2023, 6, 10, 8, 30)),
    (7, "service_items", "事项.csv", "loaded", 4, 4, 0, None, datetime(2023, 6, 2)),
    (8, "investment_projects", "项目.csv", "duplicate", 0, 0, 0, "same", datetime(2023, 6, 3)),
]  # fmt: skip
ALLOWED = "已申请 / 已受理 / 已办结 / 不予受理 / 已撤回"
# load_id, source, file, row, column, rule, value, message, rules_broken
REJECTED = [
    (1, "permit_cases", "办件_20230515.csv", 1, "status", "not_allowed_value", "已完成",
     f"办件状态 (status): not one of the allowed values ({ALLOWED})", 2),
    (2, "permit_cases", "办件_20230601.csv", 7, "trips", "invalid_integer", "=1+1",
     "跑动次数 (trips): not a whole number", 1),
    (2, "permit_cases", "办件_20230601.csv", 3, "accepted_at", "accepted_before_submitted",
     "2023-05-31 08:00:00", "受理时间 (accepted_at): 受理时间 is earlier than 申请时间", 1),
    (6, "market_entities", "市场主体_202306.csv", 2, "legal_rep_id", "cn_id_check_digit",
     "500234********1235",
     "法定代表人证件号码 (legal_rep_id): the GB 11643 check digit of the ID number is wrong", 1),
    (6, "market_entities", "市场主体_202306.csv", 5, "completed_at", "completed_before_submitted",
     "2023-06-01 09:00:00", "办结时间 (completed_at): 办结时间 is earlier than 申请时间", 1),
]  # fmt: skip

PERMITS = "退回清单_政务服务办件_permit_cases_20230515-20230620.xlsx"
ENTITIES = "退回清单_市场主体登记事件_market_entities_20230610-20230610.xlsx"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("rejects") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    ensure_schema(con)
    con.executemany(
        "insert into audit.file_loads (load_id, source, file_name, file_path, file_hash, status, "
        "rows_read, rows_loaded, rows_rejected, reason, loaded_at) "
        "values (?, ?, ?, '/landing/' || ?, 'h' || ?, ?, ?, ?, ?, ?, ?)",
        [(i, s, f, f, i, *rest) for i, s, f, *rest in LOADS],
    )
    con.executemany("insert into audit.rejected_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?)", REJECTED)
    con.close()
    return path


@pytest.fixture
def con(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def _table(path, sheet):
    return fastexcel.read_excel(str(path)).load_sheet_by_name(sheet, header_row=4).to_polars()


def _cells(path, sheet_index: int) -> dict[str, tuple[str, str, int]]:
    """cell ref -> (type, text, style) from the package's XML."""
    with zipfile.ZipFile(path) as z:
        sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
        strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in sst]
        sheet = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{sheet_index}.xml"))
    out = {}
    for c in sheet.iter(f"{{{NS['m']}}}c"):
        kind, v = c.get("t", "n"), c.find("m:v", NS)
        text = "" if v is None else v.text
        out[c.get("r")] = (kind, strings[int(text)] if kind == "s" else text, int(c.get("s", 0)))
    return out


def _sheet_xml(path, index: int) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def test_one_workbook_per_system_with_something_to_send_back(con, tmp_path):
    written = write_rejects_workbooks(con, tmp_path)
    assert [p.name for p in written] == [ENTITIES, PERMITS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ENTITIES, PERMITS])
    for path in written:
        assert fastexcel.read_excel(str(path)).sheet_names == ["逐行退回", "整文件退回"]


def test_rows_sent_back_one_by_one(con, tmp_path):
    path = tmp_path / PERMITS
    write_rejects_workbooks(con, tmp_path, source="permit_cases")
    df = _table(path, "逐行退回")
    assert df.columns == ["文件", "行号", "列", "规则", "值", "问题", "怎么改", "载入时间"]
    # In order of loading, then of row.
    assert df["文件"].to_list() == ["办件_20230515.csv", "办件_20230601.csv", "办件_20230601.csv"]
    assert df["行号"].to_list() == [1, 3, 7]
    assert df["列"].to_list() == [
        "办件状态（status）",
        "受理时间（accepted_at）",
        "跑动次数（trips）",
    ]
    assert df["规则"].to_list() == [
        "not_allowed_value",
        "accepted_before_submitted",
        "invalid_integer",
    ]
    assert df["值"].to_list() == ["已完成", "2023-05-31 08:00:00", "=1+1"]
    # The contract's own texts for each rule (sources/contracts.py), not the stored sentence.
    assert df["问题"].to_list() == [
        "不是规定的取值（该行共有2处不符合约定，此处列出第一处，请一并核对整行。）",
        "早于申请时间",
        "不是整数",
    ]
    assert df["怎么改"].to_list() == [
        "请改为以下之一：已申请、已受理、已办结、不予受理、已撤回",
        "请核对申请时间和受理时间后重新导出",
        "请填写整数",
    ]
    assert df["载入时间"].to_list()[0] == datetime(2023, 5, 15, 9)


def test_files_set_aside_whole(con, tmp_path):
    write_rejects_workbooks(con, tmp_path, source="permit_cases")
    df = _table(tmp_path / PERMITS, "整文件退回")
    assert df.columns == ["文件", "原因", "载入时间"]
    assert df.rows() == [("办件_补报.xlsx", SET_ASIDE, datetime(2023, 6, 20, 10))]


def test_the_header_block_says_who_what_and_when(con, tmp_path):
    write_rejects_workbooks(con, tmp_path)
    cells = _cells(tmp_path / PERMITS, 1)
    assert [cells[f"A{i}"][1] for i in (1, 2, 3)] == [
        "退回清单：政务服务办件（政务服务平台）",
        "时段：2023-05-15 至 2023-06-20（按载入时间）。涉及文件3个：逐行退回2个文件共3行，"
        "整文件退回1个。",
        "请退回政务服务平台：按“怎么改”更正后重新导出，放回落地文件夹 permit_cases/。"
        "行号从第一行数据起算（表头不计）；个人信息已按规定遮蔽。",
    ]
    assert _cells(tmp_path / ENTITIES, 2)["A1"][1] == "退回清单：市场主体登记事件（市场监管）"


def test_a_masked_value_stays_masked(con, tmp_path):
    write_rejects_workbooks(con, tmp_path, source="market_entities")
    df = _table(tmp_path / ENTITIES, "逐行退回")
    assert df["值"].to_list() == ["500234********1235", "2023-06-01 09:00:00"]
    assert df["列"].to_list()[0] == "法定代表人证件号码（legal_rep_id）"
    assert df["问题"].to_list()[0] == "校验码不对（GB 11643）"
    assert _table(tmp_path / ENTITIES, "整文件退回").height == 0


def test_a_value_like_a_formula_is_text(con, tmp_path):
    write_rejects_workbooks(con, tmp_path, source="permit_cases")
    path = tmp_path / PERMITS
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            assert not re.search(r"<f[ >]", z.read(name).decode("utf-8")), name
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
    cells = _cells(path, 1)
    assert cells["E5"][1] == "值"
    kind, text, style = cells["E8"]  # the third row: 跑动次数 "=1+1"
    assert (kind, text) == ("s", "=1+1")
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    assert xfs[style].get("quotePrefix") == "1"
    assert cells["B8"][0] == "n"  # 行号 is a number


def test_header_row_is_bold_and_frozen_and_widths_fit(con, tmp_path):
    write_rejects_workbooks(con, tmp_path, source="permit_cases")
    path = tmp_path / PERMITS
    xml = _sheet_xml(path, 1)
    assert 'ySplit="5"' in xml and 'state="frozen"' in xml
    assert '<autoFilter ref="A5:H8"/>' in xml
    with zipfile.ZipFile(path) as z:
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
    fonts = styles.find("m:fonts", NS).findall("m:font", NS)
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    header_font = fonts[int(xfs[_cells(path, 1)["A5"][2]].get("fontId"))]
    assert header_font.find("m:b", NS) is not None
    widths = [float(w) for w in re.findall(r'<col [^>]*width="([\d.]+)"', xml)]
    # 文件: "办件_20230515.csv" is 17 columns wide (a Chinese character counts two), plus 2.
    assert 19 <= widths[0] < 20
    # 问题: the longest text is capped at 60 and wraps.
    assert 60 <= widths[5] < 61


def test_since_keeps_what_was_loaded_on_or_after_the_day(con, tmp_path):
    written = write_rejects_workbooks(con, tmp_path, since=date(2023, 6, 1))
    assert [p.name for p in written] == [
        "退回清单_市场主体登记事件_market_entities_20230601-20230610.xlsx",
        "退回清单_政务服务办件_permit_cases_20230601-20230620.xlsx",
    ]
    df = _table(written[1], "逐行退回")
    assert df["行号"].to_list() == [3, 7]
    assert _cells(written[1], 1)["A2"][1] == (
        "时段：2023-06-01 至 2023-06-20（按载入时间）。涉及文件2个：逐行退回1个文件共2行，"
        "整文件退回1个。"
    )
    # Only the set-aside file is left after the 15th.
    later = write_rejects_workbooks(con, tmp_path / "later", since=date(2023, 6, 15))
    assert [p.name for p in later] == ["退回清单_政务服务办件_permit_cases_20230615-20230620.xlsx"]
    assert _table(later[0], "逐行退回").height == 0
    assert _table(later[0], "整文件退回").height == 1


def test_source_picks_one_system(con, tmp_path):
    assert [p.name for p in write_rejects_workbooks(con, tmp_path, source="market_entities")] == [
        ENTITIES
    ]
    assert write_rejects_workbooks(con, tmp_path / "none", source="service_items") == []
    assert not (tmp_path / "none").exists()
    assert (
        write_rejects_workbooks(
            con, tmp_path / "none", source="market_entities", since=date(2023, 6, 11)
        )
        == []
    )
    with pytest.raises(ValueError, match="unknown source 'permits'"):
        write_rejects_workbooks(con, tmp_path, source="permits")


def test_a_rule_the_contract_no_longer_has_shows_the_stored_message(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    ensure_schema(con)
    con.execute(
        "insert into audit.file_loads (load_id, source, file_name, file_path, file_hash, "
        "status, rows_read, rows_loaded, rows_rejected, loaded_at) values "
        "(1, 'permit_cases', 'a.csv', '/a.csv', 'h', 'loaded', 2, 1, 1, '2023-06-01 09:00')"
    )
    con.execute(
        "insert into audit.rejected_rows values (1, 'permit_cases', 'a.csv', 2, 'trips', "
        "'retired_rule', '9', 'an old sentence', 1)"
    )
    [written] = write_rejects_workbooks(con, tmp_path / "out")
    con.close()
    df = _table(written, "逐行退回")
    assert df["问题"].to_list() == ["an old sentence"]
    assert df["怎么改"].to_list() == ["在源系统中核对并更正该行的“跑动次数”，重新导出后报送"]


def test_a_database_without_the_audit_layer(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    with pytest.raises(NoAuditTables, match="audit.file_loads"):
        write_rejects_workbooks(con, tmp_path)
    con.close()
