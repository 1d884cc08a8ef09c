"""Loader and staging together: a newer version that breaks a rule is rejected and must not
replace the good version it would have superseded."""

import os

import duckdb
import pytest

from sources.contracts import PERMIT_CASES
from sources.loader import load_pending
from tests.dbt.test_dbt_build import _dbt_build
from tests.sources.test_validate import GOOD

pytestmark = pytest.mark.slow


def _csv(path, rows, mtime):
    header = ",".join(c.header_zh for c in PERMIT_CASES.columns)
    lines = [header]
    for change in rows:
        row = {**GOOD["permit_cases"], **change}
        lines.append(
            ",".join("" if row[c.name] is None else row[c.name] for c in PERMIT_CASES.columns)
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_rejected_newer_version_does_not_replace_the_good_one(tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    _csv(
        folder / "1.csv",
        [{"case_id": "A", "channel": "全程网办"}, {"case_id": "B", "channel": "全程网办"}],
        1_000,
    )
    # Both newer (later 更新时间); A's channel breaks its rule, B's is a valid correction.
    _csv(
        folder / "2.csv",
        [
            {"case_id": "A", "channel": "线下", "updated_at": "2022-02-01 00:00:00"},
            {"case_id": "B", "channel": "窗口办理", "updated_at": "2022-02-01 00:00:00"},
        ],
        2_000,
    )
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    results = load_pending(con, tmp_path / "landing", PERMIT_CASES, pii_key="k")
    con.close()
    assert [(r.rows_loaded, r.rows_rejected) for r in results] == [(2, 0), (1, 1)]

    built = _dbt_build(
        tmp_path, warehouse, "--select", "+stg_permit_cases__cases", "--resource-type", "model"
    )
    assert built.returncode == 0, built.stdout[-4000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    current = con.execute(
        "select case_id, channel, _file_name from staging.stg_permit_cases__cases order by 1"
    ).fetchall()
    con.close()
    assert current == [("A", "全程网办", "1.csv"), ("B", "窗口办理", "2.csv")]
