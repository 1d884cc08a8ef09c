"""The demo landing set: deterministic, contract-following, and calibrated to FIGURES.md.

The calibration check reads the written files back on its own (Polars; headers and rules from
`sources.contracts`), rejects what the contract rejects, keeps the current version per key and
applies the KPIS.md definitions for 2022 literally. It never looks at the generator's internals.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from stdnum.cn import ric, uscc

from sources.contracts import COLUMN_RULES, FLAG_FALSE, FLAG_TRUE, SOURCES, Column, Source
from sources.demo import write_demo
from sources.demo_cases import CaseFiles
from sources.demo_items import build_catalogue
from sources.demo_reference import credit_codes

SMALL = 0.05
Y2022 = (date(2022, 1, 1), date(2022, 12, 31))
H1_2023 = (date(2023, 1, 1), date(2023, 6, 30))
CROSS_REGION = ("跨省通办", "川渝通办", "五省通办")


# --- reading a landing folder back -----------------------------------------------------------


@dataclass
class Read:
    """Accepted rows per source (typed, with load order and row number), and what was not."""

    rows: dict[str, pl.DataFrame]
    rejected: list[tuple[str, str, int, str]]  # source, file, row number, rule
    set_aside: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    formats: dict[str, set[str]] = field(default_factory=dict)


def _arrival_order(folder: Path) -> list[Path]:
    return sorted(folder.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))


def _excel_number_rows(path: Path, headers: list[str]) -> dict[str, set[int]]:
    """Data row numbers, per header, of cells typed as Excel numbers."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    out: dict[str, set[int]] = {}
    for col, row, attrs in re.findall(r'<c r="([A-Z]+)(\d+)"([^>]*)>', xml):
        if 't="' in attrs and 't="n"' not in attrs:
            continue
        j = functools.reduce(lambda a, ch: a * 26 + ord(ch) - 64, col, 0) - 1
        if int(row) > 1 and j < len(headers):
            out.setdefault(headers[j], set()).add(int(row) - 1)
    return out


def _read_table(path: Path, formats: dict[str, set[str]]) -> tuple[pl.DataFrame, dict]:
    data = path.read_bytes()
    suffix = path.suffix
    numbers: dict[str, set[int]] = {}
    if suffix == ".csv":
        if data.startswith(b"\xef\xbb\xbf"):
            text, kind = data[3:].decode("utf-8"), "csv-utf-8-sig"
        else:
            try:
                text, kind = data.decode("utf-8"), "csv-utf-8"
            except UnicodeDecodeError:
                text, kind = data.decode("gb18030"), "csv-gb18030"
        frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    elif suffix == ".xlsx":
        frame, kind = pl.read_excel(path, infer_schema_length=0), "xlsx"
        numbers = _excel_number_rows(path, frame.columns)
    elif suffix == ".parquet":
        frame, kind = pl.read_parquet(path), "parquet"
    else:
        frame, kind = pl.read_ndjson(path, infer_schema_length=None), "jsonl"
    formats.setdefault(kind, set()).add(path.name)
    frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    return frame, numbers


TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


def _parse(c: Column, raw: pl.Expr) -> pl.Expr:
    if c.dtype == "timestamp":
        return pl.coalesce(
            raw.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in TS_FORMATS
        )
    if c.dtype == "date":
        # An Excel date cell reads back as a midnight date-time.
        return pl.coalesce(
            *(raw.str.strptime(pl.Date, f, strict=False, exact=True) for f in DATE_FORMATS),
            raw.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False).dt.date(),
        )
    if c.dtype == "decimal":
        return raw.cast(pl.Float64, strict=False)
    if c.dtype == "integer":
        return raw.cast(pl.Int64, strict=False)
    if c.dtype == "flag":
        low = raw.str.to_lowercase()
        return pl.when(low.is_in(FLAG_TRUE)).then(True).when(low.is_in(FLAG_FALSE)).then(False)
    return raw.str.to_uppercase() if c.upper else raw


_TYPE_RULE = {
    "timestamp": "invalid_timestamp",
    "date": "invalid_date",
    "decimal": "invalid_number",
    "integer": "invalid_integer",
    "flag": "invalid_flag",
}


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_codes(values: pl.Series, check: str) -> pl.Series:
    """python-stdnum's verdict (uscc.is_valid / ric.is_valid), vectorised: stdnum's ric check
    looks the birthplace up per value and takes minutes on the demo's 200,000 ID numbers, so
    the digits are checked here and stdnum is asked once per (birthplace, birth year)."""
    s = values.to_frame("s")
    chars = [pl.col("s").str.slice(i, 1) for i in range(18)]
    if check == "uscc":
        value = {c: i for i, c in enumerate(USCC_ALPHABET)}
        v = [ch.replace_strict(value, default=None, return_dtype=pl.Int64) for ch in chars]
        total = pl.sum_horizontal(v[i] * w for i, w in enumerate(USCC_WEIGHTS))
        expected = ((31 - total % 31) % 31).replace_strict(dict(enumerate(USCC_ALPHABET)))
        ok = (
            (pl.col("s").str.len_chars() == 18)
            & pl.col("s").str.slice(0, 8).str.contains(r"^\d{8}$")
            & pl.all_horizontal(x.is_not_null() for x in v)
            & (chars[17] == expected)
        )
        return s.select(ok.fill_null(False)).to_series()
    digits = [ch.cast(pl.Int64, strict=False) for ch in chars[:17]]
    total = pl.sum_horizontal(d * w for d, w in zip(digits, RIC_WEIGHTS, strict=True))
    expected = (total % 11).replace_strict(dict(enumerate("10X98765432")))
    born = pl.col("s").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    s = s.with_columns(
        (
            (pl.col("s").str.len_chars() == 18)
            & pl.col("s").str.contains(r"^\d{17}[\dX]$")
            & (chars[17] == expected)
            & born.is_not_null()
        )
        .fill_null(False)
        .alias("ok"),
        (pl.col("s").str.slice(0, 6) + pl.col("s").str.slice(6, 4)).alias("place_year"),
    )

    def place_ok(py: str) -> bool:
        # A valid ID of that birthplace and year, with stdnum's full check.
        first17 = f"{py}0101001"
        return ric.is_valid(first17 + ric.calc_check_digit(first17 + "0"))

    places = {py: place_ok(py) for py in s.filter("ok").get_column("place_year").unique()}
    return s.select(
        pl.col("ok")
        & pl.col("place_year").replace_strict(places, default=False, return_dtype=pl.Boolean)
    ).to_series()


def _check(source: Source, frame: pl.DataFrame, numbers: dict[str, set[int]]):
    """Typed frame and, per row, the list of rules it breaks."""
    n = frame.height
    raw = frame.select(
        pl.col(c.name).str.strip_chars().replace("", None).alias(c.name) for c in source.columns
    )
    typed = raw.select(_parse(c, pl.col(c.name)).alias(c.name) for c in source.columns)
    broken: dict[str, pl.Series] = {}

    def flag(rule: str, mask: pl.Series) -> None:
        mask = mask.fill_null(False)
        broken[rule] = broken[rule] | mask if rule in broken else mask

    rows = pl.Series(range(1, n + 1))
    for c in source.columns:
        r, t = raw.get_column(c.name), typed.get_column(c.name)
        if c.required:
            flag("required", r.is_null())
        if c.dtype in _TYPE_RULE:
            flag(_TYPE_RULE[c.dtype], r.is_not_null() & t.is_null())
        if c.allowed:
            flag("not_allowed_value", t.is_not_null() & ~t.is_in(c.allowed))
        if c.minimum is not None:
            flag("below_minimum", t < c.minimum)
        if c.maximum is not None:
            flag("above_maximum", t > c.maximum)
        lost = rows.is_in(list(numbers.get(c.header_zh, set()) | numbers.get(c.name, set())))
        if c.length:
            flag("excel_number_lost_digits", lost & (c.dtype == "text"))
            flag("wrong_length", ~lost & (t.str.len_chars() != c.length))
        if c.check:
            valid = _valid_codes(t, c.check) | t.is_null()
            rule = "uscc_check_character" if c.check == "uscc" else "cn_id_check_digit"
            flag("excel_number_lost_digits", lost)
            flag(rule, ~lost & (t.str.len_chars() == 18) & ~valid)
    for rule in source.row_rules:
        flag(rule.name, typed.select(rule.broken().alias("x")).to_series())
    return typed, pl.DataFrame(broken)


def read_landing(landing: Path) -> Read:
    out = Read(rows={}, rejected=[])
    seen: set[str] = set()
    load = 0
    for name, source in SOURCES.items():
        header_map = {c.header_zh: c.name for c in source.columns}
        header_map.update({c.name: c.name for c in source.columns})
        parts = []
        for path in _arrival_order(landing / name):
            load += 1
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                out.duplicates.append(path.name)
                continue
            seen.add(digest)
            frame, numbers = _read_table(path, out.formats)
            stripped = {c: c.strip() for c in frame.columns}
            if any(c != s for c, s in stripped.items()):
                out.formats.setdefault("padded", set()).add(path.name)
            known = {s: header_map[s] for s in stripped.values() if s in header_map}
            if set(known) - {c.header_zh for c in source.columns}:
                out.formats.setdefault("english", set()).add(path.name)
            if len(known) < len(stripped):
                out.formats.setdefault("extra_column", set()).add(path.name)
            if any(c.name not in known.values() for c in source.required_columns):
                out.set_aside.append(path.name)
                continue
            frame = frame.rename(stripped).select(pl.col(h).alias(n) for h, n in known.items())
            numbers = {c.strip(): rows for c, rows in numbers.items()}
            typed, broken = _check(source, frame, numbers)
            bad = broken.select(pl.any_horizontal(pl.all())).to_series()
            for i in bad.arg_true().to_list():
                for rule in [r for r in broken.columns if broken.get_column(r)[i]]:
                    out.rejected.append((name, path.name, i + 1, rule))
            parts.append(
                typed.with_columns(
                    pl.lit(load).alias("_load"), pl.int_range(1, typed.height + 1).alias("_row")
                ).filter(~bad)
            )
        out.rows[name] = pl.concat(parts)
    return out


# --- KPIS.md, read literally, for one period -------------------------------------------------


def current(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Latest updated_at; on a tie the later-loaded file, then the later row."""
    return frame.sort("updated_at", "_load", "_row").group_by(key).last()


def _in(col: str, period: tuple[date, date]) -> pl.Expr:
    d = pl.col(col).cast(pl.Date)
    return (d >= period[0]) & (d <= period[1])


def entities_existing(events: pl.DataFrame, day: date) -> int:
    end = datetime.combine(day + timedelta(days=1), datetime.min.time())
    latest = (
        events.filter(
            pl.col("event_type").is_in(("设立", "注销", "吊销")) & (pl.col("completed_at") < end)
        )
        .sort("completed_at", "event_id")
        .group_by("uscc")
        .last()
    )
    return latest.filter(pl.col("event_type") == "设立").height


def kpis(read: Read, period: tuple[date, date]) -> dict[str, float | int | None]:
    cases = current(read.rows["permit_cases"], "case_id")
    done = cases.filter((pl.col("status") == "已办结") & _in("completed_at", period))
    end = datetime.combine(period[1] + timedelta(days=1), datetime.min.time())
    items = current(read.rows["service_items"].filter(pl.col("updated_at") < end), "item_code")
    in_use = items.filter(pl.col("item_status") == "在用")
    licences = in_use.filter(pl.col("item_type") == "行政许可")
    one_window = in_use.filter(pl.col("one_window"))
    events = current(read.rows["market_entities"], "event_id")
    new = events.filter((pl.col("event_type") == "设立") & _in("completed_at", period))
    company = new.filter(pl.col("entity_type") == "企业")
    projects = current(read.rows["investment_projects"], "project_id")
    signed = projects.filter(_in("signed_date", period))
    industrial = signed.filter(pl.col("is_industrial"))
    started = projects.filter(_in("started_date", period))
    before = period[0] - timedelta(days=1)
    total = entities_existing(events, period[1])
    return {
        "cases_completed": done.height,
        "avg_trips_per_case": done.get_column("trips").mean(),
        "online_case_rate": (done.get_column("channel") == "全程网办").mean(),
        "one_window_cases": done.filter(pl.col("intake") == "一窗综办").height,
        "cross_region_cases": done.filter(pl.col("intake").is_in(CROSS_REGION)).height,
        "online_licensing_item_rate": licences.get_column("online_enabled").mean(),
        "high_frequency_items": in_use.filter(pl.col("high_frequency")).height,
        "one_window_items": one_window.height,
        "one_window_departments": one_window.get_column("department").n_unique(),
        **{
            code: items.filter(pl.col("reform") == reform).height
            for code, reform in (
                ("items_approval_cancelled", "直接取消审批"),
                ("items_approval_to_filing", "审批改为备案"),
                ("items_notification_commitment", "实行告知承诺"),
                ("items_approval_optimized", "优化审批服务"),
            )
        },
        "entities_total": total,
        "entities_total_before": entities_existing(events, before),
        "entities_new": new.height,
        "enterprise_registration_2h_rate": (
            (company.get_column("completed_at") - company.get_column("submitted_at"))
            <= timedelta(hours=2)
        ).mean(),
        "returnee_entities_new": new.filter(pl.col("is_returnee").fill_null(False)).height,
        "projects_signed": signed.height,
        "contract_investment_signed": signed.get_column("contract_investment").sum(),
        "industrial_projects_signed": industrial.height,
        "industrial_investment_signed": industrial.get_column("planned_investment").sum(),
        "industrial_amounts": industrial.get_column("planned_investment").drop_nulls().to_list(),
        "projects_started": started.height,
        "industrial_projects_started": started.filter(pl.col("is_industrial")).height,
        "projects_in_production": projects.filter(_in("production_date", period)).height,
    }


def coverage(read: Read, period: tuple[date, date]) -> dict[str, float]:
    projects = current(read.rows["investment_projects"], "project_id")
    leads = set(projects.get_column("lead_date").to_list())
    talks = {(d.year, d.month) for d in projects.get_column("first_talk_date").drop_nulls()}
    signs = {(d.year, (d.month - 1) // 3) for d in projects.get_column("signed_date").drop_nulls()}
    starts = {
        (d.year, (d.month - 1) // 3) for d in projects.get_column("started_date").drop_nulls()
    }
    monday = period[0] + timedelta(days=(7 - period[0].weekday()) % 7)
    weeks = []
    while monday <= period[1]:
        weeks.append(any(monday + timedelta(days=i) in leads for i in range(7)))
        monday += timedelta(days=7)
    months = [
        (y, m)
        for y in range(period[0].year, period[1].year + 1)
        for m in range(1, 13)
        if period[0] <= date(y, m, 1) <= period[1]
    ]
    quarters = [
        (y, q)
        for y in range(period[0].year, period[1].year + 1)
        for q in range(4)
        if period[0] <= date(y, 3 * q + 1, 1) and date(y, 3 * q + 3, 28) <= period[1]
    ]
    return {
        "lead_week_coverage": sum(weeks) / len(weeks),
        "talk_month_coverage": sum(m in talks for m in months) / len(months),
        "sign_start_quarter_coverage": sum(q in signs and q in starts for q in quarters)
        / len(quarters),
    }


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    landing = tmp_path_factory.mktemp("demo_full")
    started = time.perf_counter()
    summary = write_demo(landing)
    return landing, summary, time.perf_counter() - started


@pytest.fixture(scope="module")
def full_read(full: tuple[Path, dict, float]) -> Read:
    return read_landing(full[0])


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a, b = tmp_path_factory.mktemp("small_a"), tmp_path_factory.mktemp("small_b")
    write_demo(a, scale=SMALL)
    write_demo(b, scale=SMALL)
    return a, b


# --- tests -----------------------------------------------------------------------------------


def _fingerprint(landing: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(landing)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(small: tuple[Path, Path]) -> None:
    a, b = small
    fa, fb = _fingerprint(a), _fingerprint(b)
    assert len(fa) > 150
    assert fa == fb


@pytest.mark.parametrize("months_per_batch", [6, 100])
def test_drawing_more_months_at_a_time_gives_the_same_files(
    small: tuple[Path, Path], tmp_path: Path, months_per_batch: int
) -> None:
    # `small` draws one submission month at a time; 100 draws all 66 before writing any.
    write_demo(tmp_path, scale=SMALL, months_per_batch=months_per_batch)
    written = _fingerprint(tmp_path)
    assert written == _fingerprint(small[0])
    # Written under a temporary name, then renamed: nothing half-written is left behind.
    assert not [name for name in written if Path(name).name.startswith(".")]


@pytest.mark.parametrize("months_per_batch", [1, 6])
def test_case_files_hold_a_few_months_at_a_time(months_per_batch: int) -> None:
    """Memory does not grow with the number of months: the generator holds only the update
    months a later submission can still reach."""
    firms = credit_codes(np.array(["1"] * 3), np.arange(3), np.ones(3, dtype=bool))
    cases = CaseFiles(build_catalogue(2022).items, firms, SMALL, 2022, months_per_batch)
    # The longest promise is 20 working days, a late case 1 to 3 more, counted from an
    # acceptance by the next working day, then a rating up to 3 days later: a case filed on
    # 31 January can still be rated in March, never in April.
    assert cases.lag == 2
    months = [f.name for f in cases if re.fullmatch(r"cases_\d{4}-\d\d\.\w+", f.name)]
    assert len(months) == len(cases.months) == 66
    assert months == sorted(months)
    # The months just drawn and the two after them that their cases can reach, at most.
    assert cases.most_months_held <= cases.lag + months_per_batch


def test_another_seed_gives_other_files(small: tuple[Path, Path], tmp_path: Path) -> None:
    write_demo(tmp_path, scale=SMALL, seed=7)
    assert _fingerprint(tmp_path) != _fingerprint(small[0])


def test_ratios_hold_at_a_small_scale(small: tuple[Path, Path]) -> None:
    figures = kpis(read_landing(small[0]), Y2022)
    assert figures["avg_trips_per_case"] == pytest.approx(0.11, abs=0.005)
    # Dealt month by month against the year's running total: the year's trips are exactly
    # its completed cases times 0.11, rounded, at any scale.
    completed = figures["cases_completed"]
    assert round(figures["avg_trips_per_case"] * completed) == round(0.11 * completed)
    assert figures["enterprise_registration_2h_rate"] >= 0.99
    assert figures["entities_total"] == 100_425
    assert figures["industrial_investment_signed"] == 289.9


@pytest.mark.slow
def test_reports_what_it_wrote(full: tuple[Path, dict, float]) -> None:
    # How long it takes is measured by benchmarks/demo.py, not asserted here.
    landing, summary, seconds = full
    files = {s: len(list((landing / s).iterdir())) for s in SOURCES}
    print(f"\ndemo at scale 1: {seconds:.1f} s, files {files}, rows {summary['rows']}")
    assert summary["files"] == files
    assert 600_000 <= summary["rows"]["permit_cases"] <= 800_000


@pytest.mark.slow
def test_files_exercise_the_landing_contract(full_read: Read) -> None:
    f = full_read.formats
    for kind in (
        "csv-utf-8",
        "csv-utf-8-sig",
        "csv-gb18030",
        "xlsx",
        "parquet",
        "jsonl",
        "english",
        "padded",
        "extra_column",
    ):
        assert f.get(kind), kind
    assert full_read.duplicates == ["cases_2022-03_resend.csv"]
    assert full_read.set_aside == ["cases_2020-05_supplement.csv"]


@pytest.mark.slow
def test_every_contract_rule_is_broken_and_nothing_else(full_read: Read) -> None:
    rules = {r for _, _, _, r in full_read.rejected}
    row_rules = {r.name for s in SOURCES.values() for r in s.row_rules}
    assert rules == set(COLUMN_RULES) | row_rules
    rows = {(s, f, n) for s, f, n, _ in full_read.rejected}
    per_source = {s: sum(1 for r in rows if r[0] == s) for s in SOURCES}
    # The rows demo_faults plants, counted by hand: 13 + 3 cases, 12 + 3 entity events,
    # 6 items, 13 projects. Any other rejection would be a good row the contract refuses.
    assert per_source == {
        "permit_cases": 16,
        "market_entities": 15,
        "service_items": 6,
        "investment_projects": 13,
    }


@pytest.mark.slow
def test_versions_arrive_in_order(full_read: Read) -> None:
    """Within a key, a later-arriving version is never older: corrections follow what they
    correct (ties allowed: the later file wins them)."""
    for name, source in SOURCES.items():
        rows = full_read.rows[name].sort("_load", "_row")
        back = rows.with_columns(
            (pl.col("updated_at") < pl.col("updated_at").shift(1).over(source.key)).alias("b")
        ).filter(pl.col("b"))
        assert back.height == 0, name


@pytest.mark.slow
def test_cases_cross_the_year_end(full_read: Read) -> None:
    """Filed in December 2022 and exported as 已受理, finished and exported again in January;
    and online cases finished at 00:00:30 on New Year's Day, which belong to the new year."""
    rows = full_read.rows["permit_cases"]
    accepted_in_december = rows.filter(
        (pl.col("status") == "已受理") & _in("updated_at", (date(2022, 12, 1), date(2022, 12, 31)))
    ).get_column("case_id")
    done = current(rows, "case_id").filter(pl.col("status") == "已办结")
    crossing = done.filter(
        pl.col("case_id").is_in(accepted_in_december.implode())
        & _in("completed_at", (date(2023, 1, 1), date(2023, 1, 31)))
    )
    assert crossing.height > 100
    midnight = done.filter(pl.col("completed_at").dt.strftime("%m-%d %H:%M:%S") == "01-01 00:00:30")
    assert sorted(midnight.get_column("completed_at").dt.year().to_list()) == [
        2022,
        2022,
        2023,
        2023,
    ]


@pytest.mark.slow
def test_2022_reproduces_the_published_figures(full_read: Read) -> None:
    k = kpis(full_read, Y2022)
    print("\n2022 figures:", {c: v for c, v in k.items() if c != "industrial_amounts"})
    assert k["avg_trips_per_case"] == pytest.approx(0.11, abs=0.005)
    assert k["online_licensing_item_rate"] >= 0.94
    assert k["high_frequency_items"] == 169
    assert 480 <= k["one_window_items"] <= 500
    assert k["one_window_departments"] == 18
    assert k["items_approval_cancelled"] == 27
    assert k["items_approval_to_filing"] == 8
    assert k["items_notification_commitment"] == 22
    assert k["items_approval_optimized"] == 184
    assert 10_000 <= k["one_window_cases"] <= 11_000
    assert 43_000 <= k["cross_region_cases"] <= 44_000
    assert 55_000 <= k["cases_completed"] <= 60_000
    assert k["enterprise_registration_2h_rate"] >= 0.99
    assert k["entities_total"] == 100_425
    assert k["entities_total"] / k["entities_total_before"] - 1 == pytest.approx(0.063, abs=5e-4)
    assert k["entities_new"] == pytest.approx(12_000, rel=0.01)
    assert k["industrial_projects_signed"] == 53
    assert k["industrial_investment_signed"] == 289.9
    assert k["industrial_projects_started"] == 31
    # Summed in any order (a database adds in whatever order its threads meet), still 289.9.
    amounts = k["industrial_amounts"]
    rng = random.Random(0)
    for _ in range(200):
        rng.shuffle(amounts)
        assert functools.reduce(lambda a, b: a + b, amounts) == 289.9


@pytest.mark.slow
def test_2023_revision_leaves_2022_alone_but_changes_2023(full_read: Read) -> None:
    k = kpis(full_read, H1_2023)
    assert k["one_window_departments"] > 18
    assert k["high_frequency_items"] != 169


@pytest.mark.slow
def test_first_half_of_2023_is_on_the_way_to_the_targets(full_read: Read) -> None:
    k = kpis(full_read, H1_2023)
    print("\n2023 H1:", {c: v for c, v in k.items() if c != "industrial_amounts"})
    for code, target in (
        ("projects_signed", 70),
        ("contract_investment_signed", 400),
        ("projects_started", 50),
        ("projects_in_production", 40),
    ):
        assert 0.35 <= k[code] / target <= 0.45, code
    assert 2_000 <= k["returnee_entities_new"] <= 6_000
    latest = max(f.get_column("updated_at").max() for f in full_read.rows.values())
    assert latest.date() == date(2023, 6, 30)


@pytest.mark.slow
def test_cadence_leads_weekly_talks_monthly_signings_quarterly(full_read: Read) -> None:
    for year in range(2018, 2024):
        c = coverage(full_read, (date(year, 1, 1), min(date(year, 12, 31), date(2023, 6, 30))))
        print(year, c)
        assert c["lead_week_coverage"] >= 0.9
        assert c["talk_month_coverage"] >= 0.9
        if year >= 2019:
            # 2018 starts from nothing: its first quarters have leads but no contract yet.
            assert c["sign_start_quarter_coverage"] >= 0.75
    assert coverage(full_read, Y2022)["sign_start_quarter_coverage"] == 1.0


def test_stdnum_agrees_with_the_vectorised_check() -> None:
    rng = random.Random(1)
    ids = [
        f"{p}{y}{m:02d}{d:02d}{rng.randrange(1000):03d}"
        for p, y in (("512222", 1970), ("500234", 1999), ("500234", 1980), ("500154", 2018))
        for m, d in ((1, 31), (2, 29), (6, 15))
    ]
    ids = [i + ric.calc_check_digit(i + "0") for i in ids] + ["51222219700131001X"]
    codes = [f"9{k}500154{rng.randrange(10**9):09d}" for k in "123" for _ in range(5)]
    codes = [c + uscc.calc_check_digit(c) for c in codes] + ["91500154MA5U000000"]
    for values, check, test in ((ids, "cn_id", ric.is_valid), (codes, "uscc", uscc.is_valid)):
        got = _valid_codes(pl.Series(values), check).to_list()
        assert got == [test(v) for v in values]
        assert any(got) and not all(got)
