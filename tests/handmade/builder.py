"""A small, seeded, contract-following landing folder for end-to-end tests.

`make_landing(tmp_path, seed)` writes a few hundred rows per source, June 2021 to December
2022, as CSV files with the awkward things the contract allows (Chinese, English and mixed
headers; UTF-8, UTF-8 with BOM and GB18030; padded cells; the three time formats; every flag
spelling), the rows it forbids (each recorded with the rule it breaks), and the histories that
KPI definitions turn on: cases that move on across files and across year ends and National
Day, corrections and ties on `updated_at` across files, stale re-exports, items that change,
retire and appear over time, entities that exit and come back, projects at every stage.

Arrival order is fixed by setting each file's modification time to its export time.
"""

from __future__ import annotations

import calendar
import csv
import io
import os
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from stdnum.cn import ric, uscc

from sources.contracts import SOURCES

Row = dict[str, Any]

START = datetime(2021, 6, 1)
END = datetime(2022, 12, 31, 20, 0)

DEPARTMENTS = (
    "区发展改革委", "区教委", "区公安局", "区民政局", "区司法局", "区财政局", "区人力社保局",
    "区规划自然资源局", "区生态环境局", "区住房城乡建委", "区交通局", "区水利局",
    "区农业农村委", "区商务委", "区文化旅游委", "区卫生健康委", "区应急局", "区市场监管局",
    "区医保局", "区林业局", "区城市管理局",
)  # fmt: skip
ITEM_TYPES = ("行政许可", "行政确认", "行政给付", "公共服务", "其他")
ITEM_VERBS = ("审批", "登记", "备案", "核发", "补贴")
REFORMS = ("直接取消审批", "审批改为备案", "实行告知承诺", "优化审批服务")
TOWNSHIPS = (
    "汉丰街道", "文峰街道", "云枫街道", "镇东街道", "丰乐街道", "白鹤街道", "赵家街道",
    "大德镇", "镇安镇", "厚坝镇", "金峰镇", "温泉镇", "郭家镇", "白桥镇", "和谦镇", "河堰镇",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗谭向冉"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰"
INDUSTRY = "ACEFGHIKLMOR"
CLUSTERS = ("能源建材", "食品医药", "电子信息", "装备制造", "其他")
TEAMS = ("绿色工业", "绿色农业", "商贸物流", "文旅融合", "城市提升", "乡镇街道")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
FLAG_SPELLINGS = (("是", "否"), ("是", "否"), ("Y", "N"), ("1", "0"), ("true", "false"))


@dataclass
class Bad:
    """A row that breaks one rule: the valid row, the cells written instead, the rule."""

    row: Row
    cells: dict[str, str]
    rule: str


@dataclass
class _File:
    source: str
    name: str
    export_at: datetime
    rows: list[Row | Bad]
    language: str = "zh"  # zh | en | mixed
    encoding: str = "utf-8"
    extra_column: bool = False
    drop: tuple[str, ...] = ()
    shuffle: bool = False
    copy_of: str | None = None  # name of an earlier file of the same source: same bytes


@dataclass
class HandmadeLanding:
    """Where the landing folder is and what a correct loader must make of it."""

    root: Path
    # (source, file_name, row_number, rule) of every row that must be rejected.
    rejects: list[tuple[str, str, int, str]] = field(default_factory=list)
    # (source, file_name) of files that repeat earlier bytes, and of files to set aside.
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    set_aside: list[tuple[str, str]] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    # Every row a loader must accept, typed, with `_file_name` and `_row_number`.
    accepted: dict[str, list[Row]] = field(default_factory=dict)

    def __fspath__(self) -> str:
        return str(self.root)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.files: list[_File] = []

    # -- values ------------------------------------------------------------------------------

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A random office-hours moment between two times, to the second."""
        span = int((end - start).total_seconds())
        t = start + timedelta(seconds=self.rng.randrange(max(span, 1)))
        if not 8 <= t.hour < 18:
            t = t.replace(hour=self.rng.randrange(9, 17))
        return min(max(t, start), end)

    def uscc(self, prefix: str = "91") -> str:
        body = prefix + "500154" + "".join(self.rng.choice(uscc._alphabet) for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def person_id(self) -> str:
        # 510229 (Kai County, Sichuan) was the code for births in these years.
        birth = date(self.rng.randrange(1983, 1993), self.rng.randrange(1, 13), 1)
        birth += timedelta(days=self.rng.randrange(28))
        body = f"510229{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        assert ric.is_valid(number)
        return number

    def person_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    def cell(self, value: Any) -> str:
        """How a source system might print a typed value."""
        rng = self.rng
        if value is None:
            return rng.choice(("", "", "", " "))
        if isinstance(value, bool):
            true, false = rng.choice(FLAG_SPELLINGS)
            return true if value else false
        if isinstance(value, datetime):
            formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"]
            if value.second == 0:
                formats.append("%Y-%m-%d %H:%M")
            return value.strftime(rng.choice(formats))
        if isinstance(value, date):
            return value.strftime(rng.choice(("%Y-%m-%d", "%Y-%m-%d", "%Y/%m/%d")))
        text = str(value)
        if rng.random() < 0.03:
            text = f" {text}  "
        return text

    # -- files -------------------------------------------------------------------------------

    def add(self, source: str, name: str, export_at: datetime, rows: list[Row | Bad], **kw: Any):
        f = _File(source, name, export_at, rows, **kw)
        if "encoding" not in kw:
            f.encoding = self.rng.choice(ENCODINGS)
        if "language" not in kw:
            f.language = self.rng.choice(("zh", "zh", "en", "mixed"))
        self.files.append(f)
        return f

    def render(self, f: _File) -> bytes:
        columns = [c for c in SOURCES[f.source].columns if c.name not in f.drop]
        if f.shuffle:
            self.rng.shuffle(columns)
        headers = []
        for c in columns:
            zh = f.language == "zh" or (f.language == "mixed" and self.rng.random() < 0.5)
            header = c.header_zh if zh else c.name
            headers.append(f"{header} " if self.rng.random() < 0.05 else header)
        if f.extra_column:
            headers.append("备注")
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator=self.rng.choice(("\n", "\r\n")))
        writer.writerow(headers)
        for entry in f.rows:
            row, cells = (entry.row, entry.cells) if isinstance(entry, Bad) else (entry, {})
            line = []
            for c in columns:
                text = cells[c.name] if c.name in cells else self.cell(row.get(c.name))
                # Codes are case-insensitive on paper; some systems print them in lower case.
                if c.upper and self.rng.random() < 0.05:
                    text = text.lower()
                line.append(text)
            if f.extra_column:
                line.append(self.rng.choice(("", "已核", "补录")))
            writer.writerow(line)
        return buffer.getvalue().encode(f.encoding)


# --------------------------------------------------------------------------------------------
# service_items


def _items(b: _Builder) -> list[str]:
    rng = b.rng
    versions: dict[str, Row] = {}
    counter = iter(range(1, 10_000))

    def new_item(stamp: datetime) -> Row:
        n = next(counter)
        department = rng.choice(DEPARTMENTS)
        item = {
            "item_code": f"500154{rng.choice('ABCDE')}{n:05d}",
            "item_name": f"{department[1:]}{rng.choice(ITEM_VERBS)}{n}",
            "item_type": rng.choices(ITEM_TYPES, weights=(40, 15, 10, 30, 5))[0],
            "department": department,
            "online_enabled": rng.random() < 0.85,
            "high_frequency": rng.random() < 0.3,
            "one_window": rng.random() < 0.5,
            "reform": rng.choices((None, *REFORMS), weights=(60, 4, 2, 5, 29))[0],
            "item_status": "在用",
            "updated_at": stamp,
        }
        versions[item["item_code"]] = item
        return item

    def change(code: str, stamp: datetime) -> Row:
        item = dict(versions[code], updated_at=stamp)
        what = rng.choice(("online", "window", "high", "reform", "retire", "department"))
        if what == "online":
            item["online_enabled"] = not item["online_enabled"]
        elif what == "window":
            item["one_window"] = not item["one_window"]
        elif what == "high":
            item["high_frequency"] = not item["high_frequency"]
        elif what == "reform":
            item["reform"] = rng.choice(REFORMS)
        elif what == "retire":
            item["item_status"] = "停用" if item["item_status"] == "在用" else "在用"
        else:
            item["department"] = rng.choice(DEPARTMENTS)
        versions[code] = item
        return item

    def changes(n: int, stamp: datetime) -> list[Row | Bad]:
        return [change(code, stamp) for code in rng.sample(sorted(versions), n)]

    first = datetime(2021, 6, 1, 9, 0)
    catalogue: list[Row | Bad] = [new_item(first) for _ in range(110)]
    b.add("service_items", "事项目录_202106.csv", datetime(2021, 6, 1, 12), catalogue)

    oct21 = datetime(2021, 10, 15, 10, 30)
    rows = changes(20, oct21) + [new_item(oct21) for _ in range(12)]
    bad_type = dict(new_item(oct21))
    del versions[bad_type["item_code"]]
    rows.insert(5, Bad(bad_type, {"item_type": "行政审批"}, "not_allowed_value"))
    bad_flag = dict(rows[0], updated_at=oct21 + timedelta(hours=1))
    rows.insert(9, Bad(bad_flag, {"one_window": "部分"}, "invalid_flag"))
    b.add("service_items", "service_items_2021Q4.csv", datetime(2021, 10, 16, 1), rows)

    # The last second of a quarter, and the first second of the next one.
    q1_end = datetime(2022, 3, 31, 23, 59, 59)
    q2_start = datetime(2022, 4, 1, 0, 0, 0)
    rows = changes(10, q1_end)
    b.add("service_items", "事项目录变更_20220331.csv", datetime(2022, 4, 1, 0, 30), rows)
    q2_rows = changes(10, q2_start) + [new_item(q2_start) for _ in range(15)]
    missing_department = dict(new_item(q2_start), department=None)
    del versions[missing_department["item_code"]]
    q2_rows.append(Bad(missing_department, {}, "required"))
    b.add("service_items", "事项目录变更_20220401.csv", datetime(2022, 4, 2, 1), q2_rows)

    # A correction with the same updated_at as its version in the earlier file: this one wins.
    tied = []
    for entry in q2_rows[:5]:
        assert isinstance(entry, dict)
        item = dict(entry, high_frequency=not entry["high_frequency"], one_window=True)
        versions[item["item_code"]] = item
        tied.append(item)
    jul22 = datetime(2022, 7, 20, 15, 0)
    rows = tied + changes(12, jul22)
    b.add("service_items", "事项目录更正_202207.csv", datetime(2022, 7, 21, 1), rows)

    dec22 = datetime(2022, 12, 31, 18, 0)
    rows = changes(15, dec22) + [new_item(dec22) for _ in range(8)]
    # The same item twice in one file with the same updated_at: the later row wins.
    twice = rows[3]
    assert isinstance(twice, dict)
    again = dict(twice, reform="实行告知承诺", item_status="在用")
    versions[again["item_code"]] = again
    rows.insert(len(rows) - 2, again)
    # An old version delivered late: it rewrites the catalogue's history from December 2021.
    late = catalogue[7]
    assert isinstance(late, dict)
    rows.append(
        dict(late, online_enabled=not late["online_enabled"], updated_at=datetime(2021, 12, 1, 9))
    )
    b.add("service_items", "service_items_2022-12.csv", datetime(2023, 1, 1, 2), rows,
          extra_column=True)  # fmt: skip
    return sorted(versions)


# --------------------------------------------------------------------------------------------
# market_entities


def _entities(b: _Builder) -> None:
    rng = b.rng
    events: list[Row] = []
    counter = iter(range(1, 100_000))

    def event(entity: Row, kind: str, completed: datetime, seconds: int | None = None) -> Row:
        if seconds is None:
            seconds = 60 * rng.choice((30, 45, 60, 90, 110, 119, 240, 1440, 2880))
        submitted = completed - timedelta(seconds=seconds)
        e = {
            **entity,
            "event_id": f"SJ{completed:%Y%m%d}{next(counter):05d}",
            "event_type": kind,
            "submitted_at": submitted,
            "completed_at": completed,
            "updated_at": completed + timedelta(minutes=rng.randrange(5, 180)),
        }
        events.append(e)
        return e

    def new_entity() -> Row:
        kind = rng.choices(("企业", "个体工商户", "农民专业合作社"), weights=(40, 55, 5))[0]
        prefix = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}[kind]
        name = b.person_name()
        has_rep = rng.random() < 0.8
        return {
            "uscc": b.uscc(prefix),
            "entity_name": f"开州区{name}{rng.choice(('商贸', '建材', '食品', '农业', '科技'))}"
            + ("有限公司" if kind == "企业" else "店" if kind == "个体工商户" else "合作社"),
            "entity_type": kind,
            "industry_section": rng.choice((*INDUSTRY, None)),
            "township": rng.choice((*TOWNSHIPS, None)),
            "registered_capital": round(rng.uniform(1, 500), 2) if rng.random() < 0.8 else None,
            "is_returnee": rng.choice((True, False, False, None)),
            "legal_rep_name": name if has_rep else None,
            "legal_rep_id": b.person_id() if has_rep else None,
        }

    last = END - timedelta(days=3)
    for _ in range(150):
        entity = new_entity()
        established = b.moment(START, last)
        # Enterprise set-up is meant to finish within two hours; test both sides of the line.
        seconds = rng.choice((35 * 60, 80 * 60, 7199, 7200, 7201, 150 * 60, 1500 * 60))
        event(entity, "设立", established, seconds if entity["entity_type"] == "企业" else None)
        when = established
        if rng.random() < 0.3:
            when = b.moment(when + timedelta(days=1), max(last, when + timedelta(days=2)))
            if when < last:
                event(dict(entity, township=rng.choice(TOWNSHIPS)), "变更", when)
        if rng.random() < 0.25 and when + timedelta(days=20) < last:
            when = b.moment(when + timedelta(days=10), last)
            event(entity, rng.choice(("注销", "注销", "吊销")), when)
            if rng.random() < 0.4 and when + timedelta(days=20) < last:
                event(entity, "设立", b.moment(when + timedelta(days=5), last), 3600)

    # Deregistered and re-established at the same moment: the later event_id decides.
    same = new_entity()
    event(same, "设立", datetime(2021, 8, 2, 10))
    both = datetime(2022, 5, 16, 15, 30)
    event(same, "注销", both)
    event(same, "设立", both)
    # The last second of 2021 belongs to 2021.
    event(new_entity(), "设立", datetime(2021, 12, 31, 23, 59, 59), 7140)

    by_quarter: dict[tuple[int, int], list[Row | Bad]] = {}
    for e in sorted(events, key=lambda e: e["updated_at"]):
        u = e["updated_at"]
        by_quarter.setdefault((u.year, (u.month - 1) // 3 + 1), []).append(e)
    quarter_files = []
    for (year, quarter), rows in sorted(by_quarter.items()):
        export = datetime(year + quarter // 4, quarter % 4 * 3 + 1, 1, 3)
        quarter_files.append(
            b.add(
                "market_entities",
                f"登记事件_{year}Q{quarter}.csv",
                export,
                rows,
                shuffle=quarter == 2,
            )  # fmt: skip
        )

    def bad(**cells: str) -> tuple[Row, dict[str, str]]:
        entity = new_entity()
        completed = b.moment(START, last)
        row = {
            **entity,
            "event_id": f"SJ{completed:%Y%m%d}{next(counter):05d}",
            "event_type": "设立",
            "submitted_at": completed - timedelta(hours=1),
            "completed_at": completed,
            "updated_at": completed + timedelta(minutes=10),
        }
        return row, cells

    wrong_uscc = bad()
    code = wrong_uscc[0]["uscc"]
    wrong_char = next(c for c in "0123456789" if c != code[-1])
    rejects = [
        Bad(*bad(uscc=code[:-1] + wrong_char), "uscc_check_character"),
        Bad(*bad(uscc=code[:-1]), "wrong_length"),
        Bad(*bad(event_type="迁入"), "not_allowed_value"),
        Bad(*bad(registered_capital="-10"), "below_minimum"),
        Bad(*bad(industry_section="Z"), "not_allowed_value"),
        Bad(*bad(submitted_at="2022-03-08 10:00:00", completed_at="2022-03-08 09:59:59"),
            "completed_before_submitted"),
        Bad(*bad(completed_at="2022-02-29 10:00:00"), "invalid_timestamp"),
        Bad(*bad(entity_name=""), "required"),
    ]  # fmt: skip
    person = bad()
    pid = person[0]["legal_rep_id"] or b.person_id()
    wrong_digit = next(c for c in "0123456789X" if c != pid[-1])
    rejects.append(Bad(person[0], {"legal_rep_id": pid[:-1] + wrong_digit}, "cn_id_check_digit"))
    target = quarter_files[2].rows
    for entry in rejects:
        target.insert(rng.randrange(len(target) + 1), entry)

    # Corrections exported at the end of 2022: later versions, a tie, a broken correction.
    old = [e for e in events if e["updated_at"] < datetime(2022, 11, 1)]
    fixes: list[Row | Bad] = []
    for e in rng.sample(old, 10):
        fixes.append(dict(e, is_returnee=not e["is_returnee"],
                          updated_at=datetime(2022, 12, 30, rng.randrange(9, 17))))  # fmt: skip
    for e in rng.sample(old, 4):
        fixes.append(dict(e, township=rng.choice(TOWNSHIPS), registered_capital=88.0))
    broken = rng.choice(old)
    fixes.append(Bad(dict(broken, updated_at=datetime(2022, 12, 30, 11)),
                     {"entity_type": "公司"}, "not_allowed_value"))  # fmt: skip
    moved = rng.choice([e for e in old if e["event_type"] in ("注销", "吊销")] or old)
    fixes.append(dict(moved, completed_at=moved["completed_at"] + timedelta(days=3),
                      updated_at=datetime(2022, 12, 30, 16, 45)))  # fmt: skip
    # An optional column left out: its values are empty, the file still loads.
    b.add("market_entities", "market_entities_corrections.csv", datetime(2023, 1, 2, 9), fixes,
          language="en", drop=("industry_section",))  # fmt: skip


# --------------------------------------------------------------------------------------------
# permit_cases


def _cases(b: _Builder, item_codes: list[str]) -> None:
    rng = b.rng
    rows: list[Row] = []
    counter = iter(range(1, 100_000))

    def versions(
        submitted: datetime,
        accepted: datetime | None,
        completed: datetime | None,
        status: str,
        promised: int,
        **fields: Any,
    ) -> list[Row]:
        online = rng.random() < 0.6
        applicant = rng.choice(("自然人", "法人"))
        base = {
            "case_id": f"BJ{submitted:%Y%m%d}{next(counter):05d}",
            "item_code": rng.choice(item_codes),
            "channel": "全程网办" if online else "窗口办理",
            "intake": "网上申报"
            if online
            else rng.choice(
                ("一窗综办", "一窗综办", "部门窗口", "跨省通办", "川渝通办", "五省通办")
            ),
            "applicant_type": applicant,
            "applicant_id": b.person_id() if applicant == "自然人" else b.uscc(),
            "submitted_at": submitted,
            "trips": 0 if online else rng.choice((0, 1, 1, 1, 2)),
            "promised_days": promised,
            "rating": None,
        }
        base.update(fields)
        out = []
        if rng.random() < 0.5 or status == "已申请":
            out.append(dict(base, status="已申请", updated_at=submitted + timedelta(minutes=2)))
        if accepted is not None and (rng.random() < 0.5 or status == "已受理"):
            out.append(dict(base, status="已受理", accepted_at=accepted, updated_at=accepted))
        if status not in ("已申请", "已受理"):
            last = completed or (accepted or submitted) + timedelta(hours=3)
            rating = base["rating"]
            if status == "已办结" and rating is None and rng.random() < 0.7:
                rating = rng.choices(("非常满意", "满意", "基本满意", "不满意", "非常不满意"),
                                     weights=(60, 25, 8, 5, 2))[0]  # fmt: skip
            out.append(dict(base, status=status, accepted_at=accepted, completed_at=completed,
                            rating=rating, updated_at=last))  # fmt: skip
        for v in out:
            v.setdefault("accepted_at", None)
            v.setdefault("completed_at", None)
        rows.extend(out)
        return out

    for _ in range(170):
        # Early enough that every version of the case is exported by the end of 2022.
        submitted = b.moment(START, END - timedelta(days=30))
        promised = rng.choice((0, 1, 3, 5, 5, 10, 15, 20))
        accepted = submitted + timedelta(minutes=rng.randrange(5, 1500))
        completed = accepted + timedelta(
            days=rng.randrange(promised + 4), seconds=rng.randrange(3600)
        )
        status = rng.choices(("已办结", "不予受理", "已撤回", "已受理", "已申请"),
                             weights=(82, 5, 5, 5, 3))[0]  # fmt: skip
        if completed > END and status == "已办结":
            status, completed = "已受理", None
        if status in ("已受理", "已申请", "已撤回") or (
            status == "不予受理" and rng.random() < 0.5
        ):
            completed = None
        if status == "已申请":
            accepted = None
        versions(submitted, accepted, completed, status, promised)

    # Across the new year: a working day's deadline over the New Year holiday.
    versions(datetime(2021, 12, 30, 10), datetime(2021, 12, 30, 11), datetime(2022, 1, 4, 16),
             "已办结", 3)  # fmt: skip
    # Completed 30 seconds into 2022.
    versions(datetime(2021, 12, 31, 23, 50), datetime(2021, 12, 31, 23, 55),
             datetime(2022, 1, 1, 0, 0, 30), "已办结", 0)  # fmt: skip
    # National Day 2022: one working day after 30 September is Saturday 8 October (调休).
    versions(datetime(2022, 9, 30, 9), datetime(2022, 9, 30, 10), datetime(2022, 10, 8, 15),
             "已办结", 1)  # fmt: skip
    versions(datetime(2022, 9, 30, 9, 5), datetime(2022, 9, 30, 10), datetime(2022, 10, 9, 9),
             "已办结", 1)  # fmt: skip
    versions(datetime(2021, 9, 30, 14), datetime(2021, 9, 30, 15), datetime(2021, 10, 8, 11),
             "已办结", 2)  # fmt: skip
    # Completed without a recorded acceptance: outside the on-time denominator.
    versions(datetime(2022, 6, 6, 9), None, datetime(2022, 6, 6, 11), "已办结", 0)
    # Refused but with a completion time: not "completed".
    versions(datetime(2022, 8, 3, 9), datetime(2022, 8, 3, 10), datetime(2022, 8, 4, 10),
             "不予受理", 5)  # fmt: skip
    # An item code the catalogue does not know: reported, not rejected.
    versions(datetime(2022, 2, 14, 9), datetime(2022, 2, 14, 10), datetime(2022, 2, 15, 10),
             "已办结", 3, item_code="UNKNOWN-0001")  # fmt: skip

    by_quarter: dict[tuple[int, int], list[Row | Bad]] = {}
    for r in sorted(rows, key=lambda r: r["updated_at"]):
        u = r["updated_at"]
        by_quarter.setdefault((u.year, (u.month - 1) // 3 + 1), []).append(r)
    files = []
    for (year, quarter), quarter_rows in sorted(by_quarter.items()):
        export = datetime(year + quarter // 4, quarter % 4 * 3 + 1, 1, 4)
        files.append(b.add("permit_cases", f"办件_{year}_Q{quarter}.csv", export, quarter_rows))

    def bad(status: str = "已办结", **cells: str) -> tuple[Row, dict[str, str]]:
        submitted = b.moment(START, END - timedelta(days=10))
        accepted = submitted + timedelta(hours=1)
        row = {
            "case_id": f"BJ{submitted:%Y%m%d}{next(counter):05d}",
            "item_code": rng.choice(item_codes),
            "channel": "窗口办理",
            "intake": "一窗综办",
            "applicant_type": "法人",
            "applicant_id": b.uscc(),
            "submitted_at": submitted,
            "accepted_at": accepted,
            "completed_at": accepted + timedelta(days=2),
            "status": status,
            "trips": 1,
            "promised_days": 5,
            "rating": "满意",
            "updated_at": accepted + timedelta(days=2),
        }
        return row, cells

    rejects = [
        Bad(*bad(accepted_at="2022-05-09 08:00:00", submitted_at="2022-05-09 09:00:00",
                 completed_at="2022-05-10 09:00:00"), "accepted_before_submitted"),
        Bad(*bad(accepted_at="2022-05-09 10:00:00", submitted_at="2022-05-09 09:00:00",
                 completed_at="2022-05-09 09:30:00"), "completed_before_accepted"),
        Bad(*bad(completed_at=""), "completed_at_required_when_completed"),
        Bad(*bad(trips="25"), "above_maximum"),
        Bad(*bad(promised_days="三"), "invalid_integer"),
        Bad(*bad(promised_days="2.5"), "invalid_integer"),
        Bad(*bad(channel="自助终端"), "not_allowed_value"),
        Bad(*bad(updated_at="2022-13-01 10:00:00"), "invalid_timestamp"),
        Bad(*bad(submitted_at="2022年5月9日"), "invalid_timestamp"),
        Bad(*bad(rating="好"), "not_allowed_value"),
    ]  # fmt: skip
    for i, entry in enumerate(rejects):
        target = files[(i * 3) % len(files)].rows
        target.insert(rng.randrange(len(target) + 1), entry)

    # A later file: ties on updated_at (this file wins), and stale versions (never current).
    finished = [
        r for r in rows if r["status"] == "已办结" and r["updated_at"] < datetime(2022, 11, 1)
    ]
    late: list[Row | Bad] = [dict(r, rating="基本满意", trips=2) for r in rng.sample(finished, 6)]
    accepted_versions = [r for r in rows if r["status"] == "已受理"]
    late += [dict(r) for r in rng.sample(accepted_versions, min(5, len(accepted_versions)))]
    b.add(
        "permit_cases", "办件补传_20221231.csv", datetime(2023, 1, 2, 10), late, extra_column=True
    )
    # The same bytes again under another name: not loaded twice.
    b.add("permit_cases", "办件_2022_Q1_重发.csv", datetime(2023, 1, 2, 11), [],
          copy_of=files[3].name)  # fmt: skip


# --------------------------------------------------------------------------------------------
# investment_projects


def _projects(b: _Builder) -> None:
    rng = b.rng
    rows: list[Row] = []
    n = 0
    last = END.date() - timedelta(days=1)

    def stamp(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, rng.randrange(9, 18), rng.randrange(60))

    monday = date(2021, 5, 31)
    while monday <= last:
        # Most weeks bring a lead, some bring two, a few none: weekly coverage below 1.
        for _ in range(rng.choices((0, 1, 2), weights=(12, 70, 18))[0]):
            n += 1
            lead = monday + timedelta(days=rng.randrange(7))
            if lead < START.date() or lead > last:
                continue
            industrial = rng.random() < 0.6
            p: Row = {
                "project_id": f"ZS{lead:%Y}{n:04d}",
                "project_name": f"{rng.choice(('年产', '新建', '扩建'))}项目{n}",
                "investor": f"{b.person_name()}{rng.choice(('集团', '实业', '科技'))}有限公司",
                "cluster": rng.choice(CLUSTERS) if industrial else "其他",
                "team": "绿色工业" if industrial else rng.choice(TEAMS),
                "is_industrial": industrial,
                "stage": "线索",
                "planned_investment": round(rng.uniform(0.5, 30), 2)
                if rng.random() < 0.9
                else None,
                "contract_investment": None,
                "land_mu": rng.choices(
                    (None, 0.0, round(rng.uniform(20, 300), 1)), weights=(1, 1, 4)
                )[0]
                if industrial
                else None,
                "lead_date": lead,
                "first_talk_date": None,
                "signed_date": None,
                "started_date": None,
                "production_date": None,
            }
            history = [dict(p, updated_at=stamp(lead))]
            steps = (
                ("洽谈", "first_talk_date", 3, 45, 0.8),
                ("签约", "signed_date", 10, 120, 0.65),
                ("开工", "started_date", 15, 150, 0.6),
                ("投产", "production_date", 60, 300, 0.45),
            )
            day = lead
            for stage, column, lo, hi, chance in steps:
                if rng.random() > chance:
                    break
                day = day + timedelta(days=rng.randrange(lo, hi))
                if day > last:
                    break
                p = dict(p, stage=stage, **{column: day})
                if stage == "签约":
                    p["contract_investment"] = round((p["planned_investment"] or 5) * 0.8, 2)
                history.append(dict(p, updated_at=stamp(day)))
            if rng.random() < 0.1 and day + timedelta(days=30) < last:
                day = day + timedelta(days=rng.randrange(10, 30))
                history.append(dict(p, stage="终止", updated_at=stamp(day)))
            # Not every stage change is exported on its own.
            kept = [h for h in history[:-1] if rng.random() < 0.7] + history[-1:]
            rows.extend(kept)
        monday += timedelta(days=7)

    by_half: dict[tuple[int, int], list[Row | Bad]] = {}
    for r in sorted(rows, key=lambda r: r["updated_at"]):
        u = r["updated_at"]
        by_half.setdefault((u.year, 1 if u.month <= 6 else 2), []).append(r)
    files = []
    for (year, half), half_rows in sorted(by_half.items()):
        export = datetime(year, 7, 1, 5) if half == 1 else datetime(year + 1, 1, 1, 5)
        files.append(b.add("investment_projects", f"项目库_{year}H{half}.csv", export, half_rows))

    def bad(**cells: str) -> tuple[Row, dict[str, str]]:
        base = dict(rng.choice(rows))
        return dict(base, project_id=base["project_id"] + "X"), cells

    signed = [r for r in rows if r["signed_date"] is not None]
    started = [r for r in rows if r["started_date"] is not None]
    rejects = [
        Bad(*bad(team="招商局"), "not_allowed_value"),
        Bad(*bad(lead_date="2022/02/30"), "invalid_date"),
        Bad(*bad(land_mu="-5"), "below_minimum"),
        Bad(*bad(planned_investment="约5亿"), "invalid_number"),
        Bad(*bad(is_industrial="maybe"), "invalid_flag"),
        Bad(dict(rng.choice(rows)), {"first_talk_date": "2021-01-01"}, "first_talk_before_lead"),
        Bad(dict(rng.choice(signed)), {"contract_investment": ""},
            "contract_investment_required_when_signed"),
        Bad(dict(rng.choice(signed)), {"signed_date": "2021-05-01"}, "signed_before_lead"),
        Bad(dict(rng.choice(started)), {"started_date": "", "production_date": ""},
            "started_date_required_for_stage"),
    ]  # fmt: skip
    for i, entry in enumerate(rejects):
        if entry.rule == "started_date_required_for_stage":
            entry.row = dict(entry.row, stage="开工")
        target = files[i % len(files)].rows
        target.insert(rng.randrange(len(target) + 1), entry)

    # Two corrections with the same modification time: the name decides which is later, and
    # the later one wins the tie on updated_at.
    pick = rng.sample([r for r in rows if r["updated_at"] < datetime(2022, 12, 1)], 3)
    first = [dict(r, land_mu=11.0, planned_investment=1.0) for r in pick]
    second = [dict(r, land_mu=22.0, planned_investment=2.0) for r in pick]
    at = datetime(2023, 1, 2, 12)
    b.add("investment_projects", "a_项目库更正.csv", at, first)
    b.add("investment_projects", "b_项目库更正.csv", at, second)
    # A file without the key column: set aside whole.
    b.add("investment_projects", "项目库_缺列.csv", datetime(2023, 1, 2, 13),
          [dict(r) for r in rng.sample(rows, 4)], drop=("project_id",))  # fmt: skip


# --------------------------------------------------------------------------------------------


def make_landing(tmp_path: str | os.PathLike[str], seed: int = 0) -> HandmadeLanding:
    """Write a seeded landing folder under `tmp_path/landing` and say what a loader must make
    of it (rows to reject, files that repeat earlier bytes, files to set aside)."""
    b = _Builder(seed)
    item_codes = _items(b)
    _entities(b)
    _cases(b, item_codes)
    _projects(b)

    root = Path(tmp_path) / "landing"
    if root.exists():
        shutil.rmtree(root)
    landing = HandmadeLanding(root)
    written: dict[tuple[str, str], bytes] = {}
    for f in b.files:
        folder = root / f.source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f.name
        data = written[(f.source, f.copy_of)] if f.copy_of else b.render(f)
        written[(f.source, f.name)] = data
        path.write_bytes(data)
        # Local export time, read as UTC: only the order matters, and it must not drift.
        mtime = calendar.timegm(f.export_at.timetuple())
        os.utime(path, (mtime, mtime))
        if f.copy_of:
            landing.duplicates.append((f.source, f.name))
            continue
        if any(SOURCES[f.source].column(c).required for c in f.drop):
            landing.set_aside.append((f.source, f.name))
            continue
        landing.rows_written[f.source] = landing.rows_written.get(f.source, 0) + len(f.rows)
        for number, entry in enumerate(f.rows, start=1):
            if isinstance(entry, Bad):
                landing.rejects.append((f.source, f.name, number, entry.rule))
                continue
            row = {c.name: entry.get(c.name) for c in SOURCES[f.source].columns}
            row.update({c: None for c in f.drop})
            row.update(_file_name=f.name, _row_number=number)
            landing.accepted.setdefault(f.source, []).append(row)
    return landing
