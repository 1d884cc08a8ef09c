"""Freshness against each source's submission calendar: the rule, and the checks as Dagster
runs them on a warehouse's audit table."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from orchestration.lib.freshness import freshness
from sources.warehouse import ensure_schema


@pytest.mark.parametrize(
    ("source", "last", "now", "late", "due", "days"),
    [
        # Friday 2026-11-20 10:00 meets Monday's 09:00 deadline; Tuesday's is missed, and
        # by Friday 2026-11-27 12:00 that is 3 days and 3 hours.
        ("permit_cases", "2026-11-20 10:00", "2026-11-27 12:00", True, "2026-11-24 09:00", 3.1),
        # Thursday 10:00 meets Friday 09:00; the next is Monday: on time on Friday evening.
        ("permit_cases", "2026-11-26 10:00", "2026-11-27 20:00", False, "2026-11-30 09:00", 0.0),
        # National Day 2026: 1-7 October are holidays, 8 October is a working day: a file on
        # 30 September meets the 8 October deadline, and 9 October's is missed.
        ("market_entities", "2026-09-30 10:00", "2026-10-09 21:00", True, "2026-10-09 09:00", 0.5),
        # Saturday 10 October 2026 is a make-up working day: a file on 8 October meets 9
        # October, and the Saturday deadline is missed by Sunday morning (1 day).
        ("market_entities", "2026-10-08 10:00", "2026-10-11 09:00", True, "2026-10-10 09:00", 1.0),
        # The catalogue is due by the 5th of each month at 18:00: a file on 3 October met
        # 5 October; 5 November was missed, 21.75 days before 27 November 12:00.
        ("service_items", "2026-10-03 10:00", "2026-11-27 12:00", True, "2026-11-05 18:00", 21.8),
        # Projects weekly by Monday 12:00: Monday 11:00 meets that day's deadline.
        (
            "investment_projects",
            "2026-11-23 11:00",
            "2026-11-30 11:59",
            False,
            "2026-11-30 12:00",
            0.0,
        ),
    ],
)
def test_deadlines_follow_the_submission_calendar(source, last, now, late, due, days):
    parse = datetime.fromisoformat
    state = freshness(source, parse(last), parse(now))
    assert state.late is late
    assert (state.missed_deadline if late else state.next_deadline) == parse(due)
    assert state.days_overdue == days
    if late:
        assert f"{days} days overdue" in state.describe()
        assert source in state.describe()


def test_a_source_never_delivered_is_late():
    state = freshness("permit_cases", None, datetime(2026, 11, 27))
    assert state.late
    assert "no file has ever been loaded" in state.describe()


def test_freshness_checks_fail_for_a_late_source_in_a_dagster_run(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    for name, value in {
        "KZDW_LANDING_DIR": tmp_path / "landing",
        "KZDW_WAREHOUSE": warehouse,
        "KZDW_SERVING": tmp_path / "serving" / "warehouse.duckdb",
        "KZDW_ARCHIVE_DIR": tmp_path / "archive",
        "KZDW_QUARANTINE_DIR": tmp_path / "quarantine",
        "KZDW_AS_OF": "",
        "KZDW_PII_KEY": "test-key",
    }.items():
        monkeypatch.setenv(name, str(value))
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    con = duckdb.connect(str(warehouse))
    ensure_schema(con)
    deliveries = [
        (1, "permit_cases", "loaded", now - timedelta(days=40)),
        (2, "permit_cases", "set_aside", now),  # a bad file is not a delivery
        (3, "market_entities", "loaded", now),
        (4, "service_items", "loaded", now - timedelta(hours=1)),
    ]
    for load_id, source, status, at in deliveries:
        con.execute(
            "insert into audit.file_loads (load_id, source, file_name, file_path, file_hash, "
            "status, rows_read, rows_loaded, rows_rejected, loaded_at) "
            "values (?, ?, 'f.csv', 'f.csv', 'h', ?, 0, 0, 0, ?)",
            [load_id, source, status, at],
        )
    con.close()

    from orchestration.definitions import defs

    result = defs.resolve_job_def("freshness_checks_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success  # a late source is a failed check, not a failed run
    checks = {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert {name: c.passed for name, c in checks.items()} == {
        "permit_cases_is_fresh": False,
        "market_entities_is_fresh": True,
        "service_items_is_fresh": True,
        "investment_projects_is_fresh": False,
    }
    late = checks["permit_cases_is_fresh"]
    # 40 days ago: the missed deadline is one or two working days after it, so well over
    # 25 days overdue whatever holidays fall in between.
    days = late.metadata["days_overdue"].value
    assert 25 < days < 40
    assert late.metadata["source"].value == "permit_cases"
    assert f"{days} days overdue" in late.description
    assert "no file has ever been loaded" in checks["investment_projects_is_fresh"].description
