"""Freshness against each source's submission calendar: the rule, and the checks as Dagster
runs them on a warehouse's audit table."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from orchestration.lib.freshness import Delivery, deliveries, freshness
from sources.warehouse import ensure_schema


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def met(source: str, files: list[str], now: str) -> dict[str, str | None]:
    """Each deadline up to the first at or after `now`, with the file that met it."""
    return {
        f"{d.deadline:%Y-%m-%d %H:%M}": d.arrival and f"{d.arrival:%Y-%m-%d %H:%M}"
        for d in deliveries(source, [t(f) for f in files], t(now))
    }


# November 2026 has no holidays: Monday 23 to Friday 27 are working days, deadlines 09:00.


def test_a_file_after_wednesdays_deadline_is_wednesdays_not_thursdays():
    # Tuesday 08:30 is 30 min before Tuesday's deadline, the nearest one: the calendar starts
    # there. Wednesday 09:52 falls in the windows of Wednesday (Tue 09:00, Thu 09:00] and of
    # Thursday (Wed 09:00, Fri 09:00]; Wednesday is the earlier and still open, so it is
    # Wednesday's, 52 min late. Thursday 09:00 then passes with no file: at 09:30 the source
    # is late by 30 min, 0.0 days. (The old rule gave Wednesday's file to Thursday.)
    files = ["2026-11-24 08:30", "2026-11-25 09:52"]
    assert met("permit_cases", files, "2026-11-26 09:30") == {
        "2026-11-24 09:00": "2026-11-24 08:30",
        "2026-11-25 09:00": "2026-11-25 09:52",
        "2026-11-26 09:00": None,
        "2026-11-27 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-26 09:30"))
    assert state.late
    assert state.missed_deadline == t("2026-11-26 09:00")
    assert state.days_overdue == 0.0
    assert "the file due by 2026-11-26 09:00" in state.describe()
    assert "the file due by 2026-11-25 09:00 came 2026-11-25 09:52, 52 min late" in (
        state.describe()
    )
    # On Wednesday at 10:00 Wednesday's deadline is met, late: the check passes and says so,
    # and Thursday 09:00 is the next deadline needing a file.
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-25 10:00"))
    assert not state.late
    assert state.next_deadline == t("2026-11-26 09:00")
    assert state.last_delivery.deadline == t("2026-11-25 09:00")
    assert state.last_delivery.minutes_late == 52
    assert "up to date" in state.describe()
    assert "52 min late" in state.describe()


def test_a_file_every_day_at_0952_is_late_every_day():
    # Monday 09:52 is 52 min after Monday's deadline and 23 h 08 min before Tuesday's: the
    # calendar starts on Monday. Each day's 09:52 file finds that day's deadline the earliest
    # open one (its window runs to the next day's 09:00), so each day is 52 min late and none
    # is on time. Every deadline so far has its file: on Friday at 10:00 nothing is missing.
    files = [f"2026-11-{day} 09:52" for day in range(23, 28)]
    history = deliveries("permit_cases", [t(f) for f in files], t("2026-11-27 10:00"))
    assert [(f"{d.deadline:%d %H:%M}", d.minutes_late) for d in history] == [
        ("23 09:00", 52),
        ("24 09:00", 52),
        ("25 09:00", 52),
        ("26 09:00", 52),
        ("27 09:00", 52),
        ("30 09:00", None),
    ]
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-27 10:00"))
    assert not state.late
    assert state.next_deadline == t("2026-11-30 09:00")


def test_an_early_file_meets_its_own_day_only():
    # A single file Wednesday 08:00: the nearest deadline is Wednesday 09:00, met on time.
    # Thursday's window (Wed 09:00, Fri 09:00] gets no file: missed, and at Friday 08:00 it is
    # 23 h overdue, 0.96 days, shown as 1.0.
    assert met("permit_cases", ["2026-11-25 08:00"], "2026-11-27 08:00") == {
        "2026-11-25 09:00": "2026-11-25 08:00",
        "2026-11-26 09:00": None,
        "2026-11-27 09:00": None,
    }
    state = freshness("permit_cases", [t("2026-11-25 08:00")], t("2026-11-27 08:00"))
    assert state.late
    assert state.missed_deadline == t("2026-11-26 09:00")
    assert state.days_overdue == 1.0


def test_two_files_before_wednesdays_deadline_do_not_meet_thursdays():
    # Tuesday 08:00 meets Tuesday. Wednesday 07:00 meets Wednesday on time. Wednesday 08:30:
    # Wednesday is met, and Thursday's window opens only after Wednesday 09:00, so it is
    # spare. At Thursday 12:00 Thursday is 3 h overdue, 0.1 days.
    files = ["2026-11-24 08:00", "2026-11-25 07:00", "2026-11-25 08:30"]
    assert met("permit_cases", files, "2026-11-26 12:00") == {
        "2026-11-24 09:00": "2026-11-24 08:00",
        "2026-11-25 09:00": "2026-11-25 07:00",
        "2026-11-26 09:00": None,
        "2026-11-27 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-26 12:00"))
    assert state.late
    assert state.missed_deadline == t("2026-11-26 09:00")
    assert state.days_overdue == 0.1
    assert state.last_arrival == t("2026-11-25 08:30")


def test_a_missed_day_takes_the_next_file():
    # Monday 08:00 meets Monday. No file on Tuesday: Wednesday 08:00 is in Tuesday's window
    # (Mon 09:00, Wed 09:00], and Tuesday is the earliest open deadline, so it is Tuesday's,
    # 23 h late. Wednesday needs another file: at Wednesday 10:00 it is 1 h overdue (0.0).
    files = ["2026-11-23 08:00", "2026-11-25 08:00"]
    assert met("permit_cases", files, "2026-11-25 10:00") == {
        "2026-11-23 09:00": "2026-11-23 08:00",
        "2026-11-24 09:00": "2026-11-25 08:00",
        "2026-11-25 09:00": None,
        "2026-11-26 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-25 10:00"))
    assert state.late
    assert state.missed_deadline == t("2026-11-25 09:00")
    assert "the file due by 2026-11-24 09:00 came 2026-11-25 08:00, 23 h 0 min late" in (
        state.describe()
    )


def test_after_an_outage_the_next_file_counts_for_the_current_deadline():
    # Monday 08:00 meets Monday. Then nothing until Friday 15:00: Tuesday's window closes at
    # Wednesday 09:00, Wednesday's at Thursday 09:00, Thursday's at Friday 09:00, all empty:
    # missed. Friday 15:00 is in Friday's window (Thu 09:00, Mon 30 09:00]: Friday's, 6 h
    # late. At Friday 16:00 the latest deadline has its file: not late.
    files = ["2026-11-23 08:00", "2026-11-27 15:00"]
    assert met("permit_cases", files, "2026-11-27 16:00") == {
        "2026-11-23 09:00": "2026-11-23 08:00",
        "2026-11-24 09:00": None,
        "2026-11-25 09:00": None,
        "2026-11-26 09:00": None,
        "2026-11-27 09:00": "2026-11-27 15:00",
        "2026-11-30 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-27 16:00"))
    assert not state.late
    assert state.last_delivery.minutes_late == 6 * 60
    assert state.next_deadline == t("2026-11-30 09:00")


def test_a_file_exactly_at_the_deadline_is_on_time():
    # Tuesday 08:00 meets Tuesday; Wednesday 09:00:00 is not after Wednesday 09:00: on time.
    # Thursday's deadline is not passed at Thursday 09:00 itself, only after it.
    files = [t("2026-11-24 08:00"), t("2026-11-25 09:00")]
    state = freshness("permit_cases", files, t("2026-11-26 09:00"))
    assert not state.late
    assert state.last_delivery == Delivery(t("2026-11-25 09:00"), t("2026-11-25 09:00"))
    assert state.last_delivery.minutes_late == 0
    assert "came 2026-11-25 09:00, on time" in state.describe()
    assert state.next_deadline == t("2026-11-26 09:00")
    state = freshness("permit_cases", files, t("2026-11-26 09:01"))
    assert state.late
    assert state.missed_deadline == t("2026-11-26 09:00")
    # Thirty seconds after the deadline is late, by a minute (rounded up, not to "on time").
    assert Delivery(t("2026-11-25 09:00"), t("2026-11-25 09:00:30")).minutes_late == 1


def test_a_file_over_the_weekend_meets_monday():
    # Friday 20 November 08:00 meets Friday. Saturday 14:00: Friday is met, and Monday's
    # window is (Fri 09:00, Tue 09:00]: Monday's, on time. At Monday 10:00 nothing is missing
    # and Tuesday 09:00 is next.
    files = ["2026-11-20 08:00", "2026-11-21 14:00"]
    assert met("permit_cases", files, "2026-11-23 10:00") == {
        "2026-11-20 09:00": "2026-11-20 08:00",
        "2026-11-23 09:00": "2026-11-21 14:00",
        "2026-11-24 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-23 10:00"))
    assert not state.late
    assert state.next_deadline == t("2026-11-24 09:00")


def test_fridays_file_sent_on_saturday_does_not_meet_monday():
    # Thursday 19 November 08:00 meets Thursday. Nothing on Friday by 09:00; Saturday 14:00
    # is in Friday's window (Thu 09:00, Mon 09:00]: Friday's, 29 h late (1.2 days). Monday
    # needs its own file: at Monday 10:00 it is 1 h overdue. (The old rule gave Saturday's
    # file to Monday.)
    files = ["2026-11-19 08:00", "2026-11-21 14:00"]
    assert met("permit_cases", files, "2026-11-23 10:00") == {
        "2026-11-19 09:00": "2026-11-19 08:00",
        "2026-11-20 09:00": "2026-11-21 14:00",
        "2026-11-23 09:00": None,
        "2026-11-24 09:00": None,
    }
    state = freshness("permit_cases", [t(f) for f in files], t("2026-11-23 10:00"))
    assert state.late
    assert state.missed_deadline == t("2026-11-23 09:00")
    assert state.last_delivery.minutes_late == 29 * 60
    assert "29 h" not in state.describe() and "1.2 days late" in state.describe()


# National Day 2026 (cn_calendar_days): 1, 2 and 5-7 October are holidays, 3-4 the weekend;
# Thursday 8 and Friday 9 are working days and Saturday 10 October a make-up working day.


def test_a_holiday_week_has_no_deadlines():
    # Tuesday 29 September 08:00 meets 29 September; Wednesday 30 September 10:00 meets 30
    # September, 1 h late. The next deadline is 8 October 09:00, so Saturday 3 October 11:00
    # is in its window (Sep 30 09:00, Oct 9 09:00] and meets it, on time. On 8 October at
    # 08:30 nothing is missing; 9 October 09:00 is the next deadline needing a file.
    files = ["2026-09-29 08:00", "2026-09-30 10:00", "2026-10-03 11:00"]
    assert met("market_entities", files, "2026-10-08 08:30") == {
        "2026-09-29 09:00": "2026-09-29 08:00",
        "2026-09-30 09:00": "2026-09-30 10:00",
        "2026-10-08 09:00": "2026-10-03 11:00",
    }
    state = freshness("market_entities", [t(f) for f in files], t("2026-10-08 08:30"))
    assert not state.late
    assert state.next_deadline == t("2026-10-09 09:00")


def test_a_file_late_for_the_eve_of_a_holiday_does_not_meet_the_day_after_it():
    # 29 September 08:00 meets 29 September. 30 September's file comes on 1 October (a
    # holiday) at 10:00: in 30 September's window (Sep 29 09:00, Oct 8 09:00], 25 h late.
    # 8 October needs its own: at 8 October 10:00 it is 1 h overdue.
    files = ["2026-09-29 08:00", "2026-10-01 10:00"]
    assert met("market_entities", files, "2026-10-08 10:00") == {
        "2026-09-29 09:00": "2026-09-29 08:00",
        "2026-09-30 09:00": "2026-10-01 10:00",
        "2026-10-08 09:00": None,
        "2026-10-09 09:00": None,
    }
    state = freshness("market_entities", [t(f) for f in files], t("2026-10-08 10:00"))
    assert state.late
    assert state.missed_deadline == t("2026-10-08 09:00")
    assert state.days_overdue == 0.0


def test_a_make_up_saturday_has_a_deadline():
    # 8 October 08:00 and 9 October 08:00 meet their days. Saturday 10 October is a working
    # day: its deadline passes with no file, 1.0 day overdue on Sunday 11 October 09:00.
    files = ["2026-10-08 08:00", "2026-10-09 08:00"]
    state = freshness("market_entities", [t(f) for f in files], t("2026-10-11 09:00"))
    assert state.late
    assert state.missed_deadline == t("2026-10-10 09:00")
    assert state.days_overdue == 1.0
    assert "1.0 days overdue" in state.describe()


def test_a_year_the_calendar_does_not_cover_is_monday_to_friday_and_says_so():
    # No State Council notice for 2099 in the seeds: Tuesday 2 June 2099 08:00 meets its day,
    # Wednesday 3 June is assumed a working day, missed by 10:00, and the check says the
    # calendar was guessed. A covered year (November 2026) carries no such note.
    state = freshness("permit_cases", [t("2099-06-02 08:00")], t("2099-06-03 10:00"))
    assert state.missed_deadline == t("2099-06-03 09:00")
    assert "does not cover 2099: Monday to Friday assumed" in state.describe()
    state = freshness("permit_cases", [t("2026-11-25 08:00")], t("2026-11-26 10:00"))
    assert state.late
    assert "does not cover" not in state.describe()


def test_the_weekly_register():
    # Due every Monday by 12:00. Monday 16 November 11:00 meets 16 November on time. Monday
    # 23 November 12:40 is in the window of 23 November (Nov 16 12:00, Nov 30 12:00]: 40 min
    # late. 30 November needs its own file: not passed at 11:59, missed at 12:01. (The old
    # rule gave 12:40 on the 23rd to the 30th.)
    files = [t("2026-11-16 11:00"), t("2026-11-23 12:40")]
    state = freshness("investment_projects", files, t("2026-11-30 11:59"))
    assert not state.late
    assert state.next_deadline == t("2026-11-30 12:00")
    assert state.last_delivery.deadline == t("2026-11-23 12:00")
    assert state.last_delivery.minutes_late == 40
    state = freshness("investment_projects", files, t("2026-11-30 12:01"))
    assert state.late
    assert state.missed_deadline == t("2026-11-30 12:00")


def test_the_monthly_catalogue():
    # Due by the 5th at 18:00. 3 October 10:00: the nearest deadline is 5 October (2 days
    # on, against 28 days since 5 September): met on time. 6 November 09:00 is in the window
    # of 5 November (Oct 5 18:00, Dec 5 18:00]: 15 h late. On 1 December nothing is missing;
    # on 5 December at 18:30 December's file is 30 min overdue, 0.0 days. (The old rule gave
    # 6 November's file to December.)
    files = ["2026-10-03 10:00", "2026-11-06 09:00"]
    assert met("service_items", files, "2026-12-05 18:30") == {
        "2026-10-05 18:00": "2026-10-03 10:00",
        "2026-11-05 18:00": "2026-11-06 09:00",
        "2026-12-05 18:00": None,
        "2027-01-05 18:00": None,
    }
    state = freshness("service_items", [t(f) for f in files], t("2026-12-01 00:00"))
    assert not state.late
    assert state.next_deadline == t("2026-12-05 18:00")
    assert "15 h 0 min late" in state.describe()
    state = freshness("service_items", [t(f) for f in files], t("2026-12-05 18:30"))
    assert state.late
    assert state.missed_deadline == t("2026-12-05 18:00")
    assert state.days_overdue == 0.0


def test_days_overdue_count_from_the_first_deadline_missed():
    # Friday 20 November 10:00 is 1 h after Friday's deadline (the nearest): Friday's, late.
    # Monday 23 onwards have no file; at Friday 27 November 12:00 the source is overdue since
    # Monday 09:00: 4 days 3 h, 4.1 days.
    state = freshness("permit_cases", [t("2026-11-20 10:00")], t("2026-11-27 12:00"))
    assert state.late
    assert state.missed_deadline == t("2026-11-23 09:00")
    assert state.days_overdue == 4.1
    assert "4.1 days overdue" in state.describe()
    assert "permit_cases" in state.describe()


def test_files_after_now_do_not_count():
    state = freshness("permit_cases", [t("2026-11-25 08:00")], t("2026-11-24 10:00"))
    assert state.late
    assert state.last_arrival is None


def test_a_source_never_delivered_is_late():
    state = freshness("permit_cases", [], datetime(2026, 11, 27))
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
        "KZDW_PII_KEY": "freshness-test-key",
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
    assert late.metadata["last_deadline_met"].value  # the deadline that 40-day-old file met
    assert f"{days} days overdue" in late.description
    assert "no file has ever been loaded" in checks["investment_projects_is_fresh"].description
