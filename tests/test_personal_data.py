"""No ID number reaches what analysts and leaders read: every VARCHAR column of the demo's
serving copy, and every report file, holds no 18-character resident ID number (GB 11643) with
a valid check digit in clear. The detector is checked first on the archived landing files,
where the demo's ID numbers are in clear."""

import re
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

# Six-digit area, a birth date 1900-2099, three digits of sequence, the check character; on
# its own, not inside a longer run of letters and digits (a 20-digit case number, a hash).
ID = r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
ID_PATTERN = rf"(?<![0-9A-Za-z])({ID})(?![0-9A-Za-z])"
# The same for DuckDB's regular expressions, which have no look-behind: a cheap first sieve.
SQL_PATTERN = rf"(^|[^0-9A-Za-z]){ID}([^0-9A-Za-z]|$)"
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def valid_check_digit(candidate: str) -> bool:
    """GB 11643-1999: sum of digit × 2^(17-i) mod 11 gives the check character."""
    total = sum(int(d) * w for d, w in zip(candidate[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == candidate[17].upper()


def ids_in(text: str) -> set[str]:
    return {m for m in re.findall(ID_PATTERN, text) if valid_check_digit(m)}


def test_the_detector_works_on_known_numbers():
    # 11010519491231002X is the standard's own example; one digit changed breaks the check.
    assert ids_in("法定代表人 11010519491231002X 在此") == {"11010519491231002X"}
    assert ids_in("11010519491231002Y 110105194912310021") == set()


def _archived_ids(root: Path) -> set[str]:
    found = set()
    for path in (root / "archive").rglob("*"):
        if path.suffix in (".csv", ".jsonl"):
            found |= ids_in(path.read_bytes().decode("utf-8", errors="ignore"))
    return found


def test_no_id_number_in_clear_in_the_serving_copy_or_the_reports(demo):
    deployment, _ = demo
    in_landing = _archived_ids(deployment.root)
    assert len(in_landing) > 1000  # the demo's registrations carry ID numbers in clear

    con = duckdb.connect(str(deployment.serving), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and data_type = 'VARCHAR'"
        ).fetchall()
        leaks = {}
        for schema, table, column in columns:
            rows = con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" '
                f'where regexp_matches("{column}", ?)',
                [SQL_PATTERN],
            ).fetchall()
            found = set().union(*(ids_in(value) for (value,) in rows)) if rows else set()
            if found:
                leaks[f"{schema}.{table}.{column}"] = sorted(found)[:3]
    finally:
        con.close()
    assert len(columns) > 50
    assert leaks == {}

    reports = list((deployment.root / "reports").rglob("report.*"))
    assert {p.suffix for p in reports} == {".html", ".xlsx", ".pdf"}
    for path in reports:
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                text = "".join(book.read(n).decode("utf-8") for n in book.namelist())
        else:
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
        assert ids_in(text) == set(), path
