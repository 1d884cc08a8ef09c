"""A late correction, end to end: the hand-made set built by `kzdw run` (a copy of the shared
run's deployment, tests/conftest.py), then a landing file with a later version of one project
that moves its signing into the next month and raises its contracted amount, then `kzdw run`
again. `marts.kpi_revisions` must hold exactly one row per (KPI, period) whose value changed
among the periods already closed, with the file named."""

from __future__ import annotations

import csv
import math
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from sources.contracts import SOURCES

pytestmark = pytest.mark.slow

CORRECTION = "项目库更正_补报.csv"
PROJECTS = SOURCES["investment_projects"]

Key = tuple[str, str, date]


def _kpi_values(deployment) -> dict[Key, tuple[float | None, date, date]]:
    rows = deployment.query(
        "select kpi_code, period_type, period_start, value, period_end, as_of from marts.kpi_values"
    )
    return {
        (code, ptype, start): (value, end, as_of) for code, ptype, start, value, end, as_of in rows
    }


def _changed(new: float | None, old: float | None) -> bool:
    # The same reading of "changed" as the history model's: NULL to a number, or a difference
    # beyond the last bits of a double.
    if new is None or old is None:
        return (new is None) != (old is None)
    return abs(new - old) > 1e-9 * max(1.0, abs(old))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _write_correction(path: Path, row: dict[str, Any], export_at: datetime) -> None:
    """As the hand-made builder writes a file: the contract's Chinese headers, one line per
    row, and the export time as the modification time (arrival order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.header_zh for c in PROJECTS.columns])
        writer.writerow([_cell(row[c.name]) for c in PROJECTS.columns])
    stamp = export_at.timestamp()
    os.utime(path, (stamp, stamp))


def _corrected_project(deployment, as_of: date) -> dict[str, Any]:
    """A project signed in a month that has closed, with no start soon after: its signing
    moves to the first day of the next month, its contracted amount grows; the version is
    stamped on the as-of day itself, so the as-of date does not move. An industrial project
    signed in a quarter's last month, where there is one, so that more KPIs and a quarter
    change."""
    names = [c.name for c in PROJECTS.columns]
    rows = deployment.query(
        f"select {', '.join(names)} from marts.dim_investment_projects "
        "where signed_date between date '2022-02-01' and date '2022-10-31' "
        "and (started_date is null or started_date > signed_date + 31) "
        "and updated_at < ? "
        "order by coalesce(is_industrial and land_mu > 0, false) desc, "
        "month(signed_date) % 3 = 0 desc, "
        "project_id limit 1",
        [as_of],
    )
    assert rows, "the hand-made set has no project to correct"
    project = dict(zip(names, rows[0], strict=True))
    signed = project["signed_date"]
    next_month = (signed.replace(day=1) + timedelta(days=32)).replace(day=1)
    return dict(
        project,
        signed_date=next_month,
        contract_investment=round(project["contract_investment"] * 2 + 1, 2),
        updated_at=datetime.combine(as_of, time(0, 0, 0)),
    )


def test_a_correction_of_a_closed_month_is_recorded_once_per_changed_kpi_value(handmade_copy):
    deployment = handmade_copy
    before = _kpi_values(deployment)
    (as_of,) = {a for _, _, a in before.values()}
    assert deployment.query("select count(*) from marts.kpi_revisions") == [(0,)]

    project = _corrected_project(deployment, as_of)
    _write_correction(
        deployment.landing / "investment_projects" / CORRECTION, project, datetime.now()
    )
    run = deployment.kzdw("run")
    assert run.returncode == 0, run.output
    after = _kpi_values(deployment)
    assert {a for _, _, a in after.values()} == {as_of}

    # Worked out by diffing the two tables: values that changed in periods closed at both
    # builds (period_end before the as-of date).
    expected = {
        key: (old, after[key][0])
        for key, (old, period_end, old_as_of) in before.items()
        if key in after
        and period_end < old_as_of
        and period_end < after[key][2]
        and _changed(after[key][0], old)
    }
    moved_from = project["signed_date"] - timedelta(days=1)
    assert ("projects_signed", "month", moved_from.replace(day=1)) in expected
    assert ("projects_signed", "month", project["signed_date"]) in expected

    rows = deployment.query(
        "select kpi_code, period_type, period_start, old_value, new_value, old_as_of, "
        "new_as_of, caused_by_files, caused_by_load_ids from marts.kpi_revisions"
    )
    got = {(code, ptype, start): rest for code, ptype, start, *rest in rows}
    assert len(got) == len(rows), "more than one row for a (KPI, period)"
    assert set(got) == set(expected)
    (load_id,) = deployment.query(
        "select load_id from audit.file_loads where file_name = ? and status = 'loaded'",
        [CORRECTION],
    )[0]
    for key, (old, new) in expected.items():
        old_value, new_value, old_as_of, new_as_of, files, load_ids = got[key]
        for value, want in ((old_value, old), (new_value, new)):
            assert (value is None and want is None) or math.isclose(value, want), key
        assert (old_as_of, new_as_of) == (as_of, as_of), key
        # Only the correction was loaded between the two builds, and only projects changed.
        assert (files, load_ids) == (CORRECTION, str(load_id)), key
