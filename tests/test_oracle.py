"""The KPI oracle on inputs small enough to work out by hand, and on the hand-made landing set.

Every expected value is derived in a comment from the contract's words (KPIS.md, SOURCES.md).
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest

from sources.contracts import COLUMN_RULES, SOURCES
from tests.handmade import make_landing
from tests.oracle import (
    KPI_CODES,
    BrokenRule,
    Rejected,
    compute_kpis,
    current_versions,
    due_date,
    entities_existing,
    entity_totals,
    parse_value,
    period_grid,
    read_landing,
)

D = date
KPIS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "contracts" / "KPIS.md"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def case(case_id: str, submitted: str, **kw: Any) -> dict[str, Any]:
    row = {
        "case_id": case_id,
        "item_code": "I1",
        "channel": "窗口办理",
        "intake": "部门窗口",
        "applicant_type": "自然人",
        "applicant_id": None,
        "submitted_at": ts(submitted),
        "accepted_at": None,
        "completed_at": None,
        "status": "已办结",
        "trips": 1,
        "promised_days": 0,
        "rating": None,
        "_load_order": 1,
        "_row_number": 1,
    }
    for k, v in kw.items():
        row[k] = ts(v) if k.endswith("_at") and isinstance(v, str) else v
    row.setdefault("updated_at", row["completed_at"] or row["submitted_at"])
    if row["updated_at"] is None:
        row["updated_at"] = row["submitted_at"]
    return row


def event(event_id: str, uscc: str, kind: str, completed: str, **kw: Any) -> dict[str, Any]:
    row = {
        "event_id": event_id,
        "uscc": uscc,
        "entity_name": "某公司",
        "entity_type": "个体工商户",
        "event_type": kind,
        "submitted_at": ts(completed),
        "completed_at": ts(completed),
        "is_returnee": None,
        "_load_order": 1,
        "_row_number": 1,
    }
    for k, v in kw.items():
        row[k] = ts(v) if k.endswith("_at") and isinstance(v, str) else v
    row.setdefault("updated_at", row["completed_at"])
    return row


def item(code: str, updated: str, **kw: Any) -> dict[str, Any]:
    row = {
        "item_code": code,
        "item_name": code,
        "item_type": "公共服务",
        "department": "区市场监管局",
        "online_enabled": True,
        "high_frequency": False,
        "one_window": False,
        "reform": None,
        "item_status": "在用",
        "updated_at": ts(updated),
        "_load_order": 1,
        "_row_number": 1,
    }
    row.update(kw)
    return row


def project(project_id: str, lead: date, **kw: Any) -> dict[str, Any]:
    row = {
        "project_id": project_id,
        "is_industrial": False,
        "stage": "线索",
        "planned_investment": None,
        "contract_investment": None,
        "land_mu": None,
        "lead_date": lead,
        "first_talk_date": None,
        "signed_date": None,
        "started_date": None,
        "production_date": None,
        "updated_at": datetime(lead.year, lead.month, lead.day, 9),
        "_load_order": 1,
        "_row_number": 1,
    }
    row.update(kw)
    return row


def only(source: str, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {source: rows}


# --------------------------------------------------------------------------------------------
# Shape


def test_kpi_codes_are_the_contracts():
    assert len(KPI_CODES) == len(set(KPI_CODES)) == 33
    if not KPIS_MD.exists():
        pytest.skip("shared/contracts/KPIS.md is not beside the repository")
    listed = re.findall(r"^\| ([a-z0-9_]+) \| [\u4e00-\u9fff]", KPIS_MD.read_text(), re.M)
    assert [c for c in listed if c != "kpi_code"] == list(KPI_CODES)


def test_period_grid_runs_from_the_first_month_with_data_to_as_of():
    # First data on 15 June 2021, as-of 10 February 2022: years 2021-2022, quarters 2021Q2 to
    # 2022Q1 (4), months June 2021 to February 2022 (9).
    grid = period_grid(D(2021, 6, 15), D(2022, 2, 10))
    assert [(p.type, p.start) for p in grid if p.type != "month"] == [
        ("year", D(2021, 1, 1)),
        ("year", D(2022, 1, 1)),
        ("quarter", D(2021, 4, 1)),
        ("quarter", D(2021, 7, 1)),
        ("quarter", D(2021, 10, 1)),
        ("quarter", D(2022, 1, 1)),
    ]
    months = [p for p in grid if p.type == "month"]
    assert (months[0].start, months[-1].start, len(months)) == (D(2021, 6, 1), D(2022, 2, 1), 9)
    assert months[-1].end == D(2022, 2, 28)

    # Every KPI for every period, whatever source the first month comes from.
    rows = only("investment_projects", [project("P1", D(2021, 6, 15))])
    values = compute_kpis(rows, as_of=D(2022, 2, 10))
    assert len(values) == 33 * 15
    assert compute_kpis({}) == {}


def test_as_of_defaults_to_the_latest_updated_at_date():
    rows = only("service_items", [item("A", "2022-03-01 09:00"), item("A", "2022-05-07 23:59:59")])
    months = sorted(
        s for (c, t, s) in compute_kpis(rows) if t == "month" and c == "cases_submitted"
    )
    assert months == [D(2022, 3, 1), D(2022, 4, 1), D(2022, 5, 1)]


# --------------------------------------------------------------------------------------------
# Cases


def test_completed_thirty_seconds_into_new_year_belongs_to_the_new_year():
    # Submitted 23:50 on 31 December 2021, completed 00:00:30 on 1 January 2022.
    rows = only(
        "permit_cases",
        [
            case(
                "C1",
                "2021-12-31 23:50:00",
                accepted_at="2021-12-31 23:55:00",
                completed_at="2022-01-01 00:00:30",
                promised_days=0,
            )
        ],
    )
    v = compute_kpis(rows)
    assert v[("cases_submitted", "month", D(2021, 12, 1))] == 1
    assert v[("cases_submitted", "month", D(2022, 1, 1))] == 0
    assert v[("cases_completed", "year", D(2021, 1, 1))] == 0
    assert v[("cases_completed", "year", D(2022, 1, 1))] == 1
    assert v[("cases_completed", "quarter", D(2022, 1, 1))] == 1
    # Nothing completed in December: averages and ratios are NULL, counts 0.
    assert v[("avg_trips_per_case", "month", D(2021, 12, 1))] is None
    assert v[("on_time_rate", "month", D(2021, 12, 1))] is None
    assert v[("one_window_cases", "month", D(2021, 12, 1))] == 0
    # promised_days 0: the deadline is the acceptance date, 31 December; 1 January is late.
    assert v[("on_time_rate", "month", D(2022, 1, 1))] == 0.0
    # Trips 1 over one completed case.
    assert v[("avg_trips_per_case", "month", D(2022, 1, 1))] == 1.0


def test_national_day_2022_deadline():
    # 1-7 October 2022 are holidays; Saturday 8 and Sunday 9 October are make-up working days.
    official = chinese_calendar.is_workday
    assert due_date(D(2022, 9, 30), 0, official) == D(2022, 9, 30)
    assert due_date(D(2022, 9, 30), 1, official) == D(2022, 10, 8)
    assert due_date(D(2022, 9, 30), 2, official) == D(2022, 10, 9)
    assert due_date(D(2022, 9, 30), 3, official) == D(2022, 10, 10)

    rows = only(
        "permit_cases",
        [
            # Accepted 30 Sep, 1 working day: due Sat 8 Oct; done 8 Oct -> on time.
            case("A", "2022-09-30 09:00", accepted_at="2022-09-30 10:00",
                 completed_at="2022-10-08 17:00", promised_days=1),
            # Same, done Sun 9 Oct -> late.
            case("B", "2022-09-30 09:00", accepted_at="2022-09-30 10:00",
                 completed_at="2022-10-09 09:00", promised_days=1),
            # 0 days: due 30 Sep itself; done that afternoon -> on time (in September).
            case("C", "2022-09-30 09:00", accepted_at="2022-09-30 10:00",
                 completed_at="2022-09-30 16:00", promised_days=0),
            # No acceptance time: not in the on-time denominator.
            case("D", "2022-09-30 09:00", completed_at="2022-10-08 10:00", promised_days=1),
        ],
    )  # fmt: skip
    v = compute_kpis(rows)
    # October: A on time, B late (D left out) -> 1/2.
    assert v[("on_time_rate", "month", D(2022, 10, 1))] == 0.5
    assert v[("on_time_rate", "quarter", D(2022, 10, 1))] == 0.5
    assert v[("on_time_rate", "month", D(2022, 9, 1))] == 1.0
    # The year: A, C on time, B late -> 2/3.
    assert v[("on_time_rate", "year", D(2022, 1, 1))] == pytest.approx(2 / 3)
    assert v[("cases_completed", "month", D(2022, 10, 1))] == 3

    # With a plain Monday-to-Friday calendar A would be due Monday 3 October: both late.
    weekdays = compute_kpis(rows, calendar=lambda d: d.weekday() < 5)
    assert weekdays[("on_time_rate", "month", D(2022, 10, 1))] == 0.0


def test_case_kpis_count_only_completed_cases_of_their_current_version():
    rows = only(
        "permit_cases",
        [
            # Online, one trip recorded, rated 满意.
            case("A", "2022-03-01 09:00", completed_at="2022-03-02 10:00", channel="全程网办",
                 intake="网上申报", trips=0, rating="满意"),
            # At a counter, one-window intake, 2 trips, rated 不满意.
            case("B", "2022-03-01 09:00", completed_at="2022-03-03 10:00", intake="一窗综办",
                 trips=2, rating="不满意"),
            # Cross-region, no rating.
            case("C", "2022-03-01 09:00", completed_at="2022-03-04 10:00", intake="川渝通办"),
            # Refused with a completion time: not completed.
            case("D", "2022-03-01 09:00", completed_at="2022-03-04 11:00", status="不予受理"),
            # Still open.
            case("E", "2022-03-05 09:00", status="已受理", accepted_at="2022-03-05 10:00"),
        ],
    )  # fmt: skip
    v = compute_kpis(rows)
    m = D(2022, 3, 1)
    assert v[("cases_submitted", "month", m)] == 5
    assert v[("cases_completed", "month", m)] == 3  # A, B, C
    assert v[("avg_trips_per_case", "month", m)] == 1.0  # (0 + 2 + 1) / 3
    assert v[("online_case_rate", "month", m)] == pytest.approx(1 / 3)
    assert v[("one_window_cases", "month", m)] == 1
    assert v[("cross_region_cases", "month", m)] == 1
    assert v[("satisfaction_rate", "month", m)] == 0.5  # A good, B not; C unrated
    assert v[("on_time_rate", "month", m)] is None  # none has accepted_at


def test_current_version_latest_update_then_later_file_then_later_row():
    at = "2022-05-01 10:00"
    versions = [
        case("K", "2022-04-01 09:00", completed_at=at, updated_at=at, channel="全程网办",
             _load_order=1, _row_number=5),
        case("K", "2022-04-01 09:00", completed_at=at, updated_at=at, intake="一窗综办",
             _load_order=2, _row_number=1),
        # Same time, same later file, later row: this one.
        case("K", "2022-04-01 09:00", completed_at=at, updated_at=at, intake="跨省通办",
             _load_order=2, _row_number=3),
        # Loaded last, but an older version: never current.
        case("K", "2022-04-01 09:00", status="已受理", updated_at="2022-04-01 09:30",
             _load_order=3, _row_number=9),
    ]  # fmt: skip
    current = current_versions(versions, "case_id")["K"]
    assert (current["_load_order"], current["_row_number"]) == (2, 3)
    v = compute_kpis(only("permit_cases", versions))
    assert v[("cross_region_cases", "month", D(2022, 5, 1))] == 1
    assert v[("one_window_cases", "month", D(2022, 5, 1))] == 0
    assert v[("online_case_rate", "month", D(2022, 5, 1))] == 0.0


# --------------------------------------------------------------------------------------------
# Market entities


def test_enterprise_registration_within_exactly_two_hours():
    rows = only(
        "market_entities",
        [
            # Exactly 2 hours: within.
            event("E1", "U1", "设立", "2022-03-01 12:00:00", submitted_at="2022-03-01 10:00:00",
                  entity_type="企业", is_returnee=True),
            # 2 hours and 1 second: not within.
            event("E2", "U2", "设立", "2022-03-01 12:00:01", submitted_at="2022-03-01 10:00:00",
                  entity_type="企业", is_returnee=False),
            # Not an enterprise: outside the denominator.
            event("E3", "U3", "设立", "2022-03-01 13:00:00", submitted_at="2022-03-01 10:00:00"),
            # A change, not a set-up: outside too.
            event("E4", "U1", "变更", "2022-03-02 11:00:00", submitted_at="2022-03-02 10:00:00",
                  entity_type="企业"),
        ],
    )  # fmt: skip
    v = compute_kpis(rows)
    m = D(2022, 3, 1)
    assert v[("enterprise_registration_2h_rate", "month", m)] == 0.5  # E1 of E1, E2
    assert v[("entities_new", "month", m)] == 3
    assert v[("returnee_entities_new", "month", m)] == 1
    assert v[("entities_total", "month", m)] == 3


def test_exited_and_re_established_entities():
    rows = only(
        "market_entities",
        [
            event("X1", "X", "设立", "2021-06-10 10:00"),
            event("X2", "X", "注销", "2021-09-05 10:00"),
            event("X3", "X", "设立", "2022-02-01 10:00"),
            event("Y1", "Y", "设立", "2021-07-01 10:00"),
            event("Y2", "Y", "变更", "2021-11-01 10:00"),  # ignored for existence
            event("Y3", "Y", "吊销", "2022-03-15 10:00"),
            event("Z1", "Z", "设立", "2021-06-20 10:00"),
            # Deregistered and re-established at the same moment: by event_id, Z-3 is last.
            event("Z-2", "Z", "注销", "2022-01-10 15:30"),
            event("Z-3", "Z", "设立", "2022-01-10 15:30"),
        ],
    )
    v = compute_kpis(rows, as_of=D(2022, 3, 31))
    # Existing at each month end: Jun X,Z=2; Jul +Y=3; Aug 3; Sep X gone=2; ... Jan Z back
    # at once=2; Feb X back=3; Mar Y revoked=2.
    totals = {
        (2021, 6): 2, (2021, 7): 3, (2021, 8): 3, (2021, 9): 2, (2021, 10): 2, (2021, 11): 2,
        (2021, 12): 2, (2022, 1): 2, (2022, 2): 3, (2022, 3): 2,
    }  # fmt: skip
    for (y, mo), n in totals.items():
        assert v[("entities_total", "month", D(y, mo, 1))] == n, (y, mo)
    # Net growth against the previous month's total; NULL against May 2021's 0.
    assert v[("entities_net_growth_rate", "month", D(2021, 6, 1))] is None
    assert v[("entities_net_growth_rate", "month", D(2021, 7, 1))] == 0.5  # 3/2 - 1
    assert v[("entities_net_growth_rate", "month", D(2021, 9, 1))] == pytest.approx(-1 / 3)
    assert v[("entities_net_growth_rate", "month", D(2022, 2, 1))] == 0.5
    # Years: 2021 ends with 2; 2022 up to as-of 31 March also 2 -> 2/2 - 1 = 0.
    assert v[("entities_total", "year", D(2021, 1, 1))] == 2
    assert v[("entities_net_growth_rate", "year", D(2021, 1, 1))] is None
    assert v[("entities_net_growth_rate", "year", D(2022, 1, 1))] == 0.0
    # Quarters: Q2 2021 ends with 2 (X, Z), Q3 with 2 (Y, Z).
    assert v[("entities_net_growth_rate", "quarter", D(2021, 7, 1))] == 0.0
    # New: 2021 X1, Y1, Z1; 2022 Z-3, X3. Exited: 2021 X2; 2022 Z-2, Y3.
    assert v[("entities_new", "year", D(2021, 1, 1))] == 3
    assert v[("entities_new", "year", D(2022, 1, 1))] == 2
    assert v[("entities_exited", "year", D(2021, 1, 1))] == 1
    assert v[("entities_exited", "year", D(2022, 1, 1))] == 2
    assert v[("entities_exited", "month", D(2022, 1, 1))] == 1

    # A later version of X2 moves the deregistration into October: September then has 3.
    moved = event("X2", "X", "注销", "2021-10-05 10:00", updated_at="2022-03-20 09:00")
    v = compute_kpis({"market_entities": [*rows["market_entities"], moved]})
    assert v[("entities_total", "month", D(2021, 9, 1))] == 3
    assert v[("entities_exited", "month", D(2021, 9, 1))] == 0


# --------------------------------------------------------------------------------------------
# Service items


def test_item_versions_after_the_end_of_the_period_are_ignored():
    rows = only(
        "service_items",
        [
            item("A", "2022-03-10 09:00", item_type="行政许可", high_frequency=True,
                 one_window=True, department="D1"),
            # First second of April: not valid at the end of March.
            item("A", "2022-04-01 00:00:00", item_type="行政许可", high_frequency=True,
                 one_window=True, department="D1", item_status="停用", reform="优化审批服务"),
            # Last second of March: valid at the end of March.
            item("B", "2022-03-31 23:59:59", item_type="行政许可", online_enabled=False,
                 high_frequency=True, one_window=True, department="D2", reform="实行告知承诺"),
            # Does not exist yet in March.
            item("C", "2022-04-15 11:00", high_frequency=True, reform="直接取消审批"),
        ],
    )  # fmt: skip
    v = compute_kpis(rows)  # as-of 15 April 2022
    for period in (("month", D(2022, 3, 1)), ("quarter", D(2022, 1, 1))):
        # A and B in use; licensing items A (online) and B (not).
        assert v[("high_frequency_items", *period)] == 2
        assert v[("one_window_items", *period)] == 2
        assert v[("one_window_departments", *period)] == 2
        assert v[("online_licensing_item_rate", *period)] == 0.5
        assert v[("items_notification_commitment", *period)] == 1
        assert v[("items_approval_optimized", *period)] == 0
        assert v[("items_approval_cancelled", *period)] == 0
    for period in (("month", D(2022, 4, 1)), ("quarter", D(2022, 4, 1)), ("year", D(2022, 1, 1))):
        # A retired: B and C in use; B the only licensing item in use, not online.
        assert v[("high_frequency_items", *period)] == 2
        assert v[("one_window_items", *period)] == 1
        assert v[("one_window_departments", *period)] == 1
        assert v[("online_licensing_item_rate", *period)] == 0.0
        # Reform counts take items of any status: A (retired) counts.
        assert v[("items_approval_optimized", *period)] == 1
        assert v[("items_approval_cancelled", *period)] == 1
    # Before any licensing item exists the rate is NULL and counts are 0: February is not in
    # the grid (the first item update is in March), so check an as-of before B and C.
    early = compute_kpis(rows, as_of=D(2022, 3, 9))
    assert early[("online_licensing_item_rate", "month", D(2022, 3, 1))] is None
    assert early[("high_frequency_items", "month", D(2022, 3, 1))] == 0


# --------------------------------------------------------------------------------------------
# Investment projects


def test_coverage_at_an_as_of_inside_a_quarter():
    as_of = D(2022, 5, 18)  # a Wednesday
    rows = only(
        "investment_projects",
        [
            project("P1", D(2022, 1, 5), first_talk_date=D(2022, 1, 20),
                    signed_date=D(2022, 2, 10), started_date=D(2022, 4, 11)),
            # First talks on 25 May, after as-of but in May.
            project("P2", D(2022, 4, 6), first_talk_date=D(2022, 5, 25)),
            # A Sunday lead; signed in Q2; started 1 June (after as-of, inside Q2).
            project("P3", D(2022, 4, 17), signed_date=D(2022, 4, 20),
                    started_date=D(2022, 6, 1)),
            # A Sunday lead after as-of, in the week of Monday 16 May.
            project("P4", D(2022, 5, 22)),
        ],
    )  # fmt: skip
    v = compute_kpis(rows, as_of=as_of)
    q2, y = ("quarter", D(2022, 4, 1)), ("year", D(2022, 1, 1))
    apr, may = ("month", D(2022, 4, 1)), ("month", D(2022, 5, 1))
    # Q2 Mondays up to 18 May: Apr 4, 11, 18, 25, May 2, 9, 16 = 7; with a lead: Apr 4 (P2),
    # Apr 11 (P3 on Sunday 17th), May 16 (P4 on Sunday 22nd) = 3.
    assert v[("lead_week_coverage", *q2)] == pytest.approx(3 / 7)
    # May: Mondays 2, 9, 16; only the 16th's week has a lead.
    assert v[("lead_week_coverage", *may)] == pytest.approx(1 / 3)
    # 2022: 20 Mondays (Jan 5, Feb 4, Mar 4, Apr 4, May 3); hit: Jan 3, Apr 4, Apr 11, May 16.
    assert v[("lead_week_coverage", *y)] == pytest.approx(4 / 20)
    # Months starting by as-of: Q2 April, May (June starts after as-of); talks only in May.
    assert v[("talk_month_coverage", *q2)] == 0.5
    assert v[("talk_month_coverage", *may)] == 1.0
    assert v[("talk_month_coverage", *apr)] == 0.0
    assert v[("talk_month_coverage", *y)] == pytest.approx(2 / 5)  # January, May of Jan-May
    # Quarters: Q1 signed (P1) but nothing started in Q1; Q2 signed (P3) and started (P1, and
    # P3 after as-of). Q3 starts after as-of and is not counted.
    assert v[("sign_start_quarter_coverage", *q2)] == 1.0
    assert v[("sign_start_quarter_coverage", "quarter", D(2022, 1, 1))] == 0.0
    assert v[("sign_start_quarter_coverage", *y)] == 0.5
    assert v[("sign_start_quarter_coverage", *may)] is None
    # "In P" stops at as-of: P3's start on 1 June is not a start in Q2 (yet).
    assert v[("projects_started", *q2)] == 1
    assert v[("projects_signed", *q2)] == 1
    assert ("lead_week_coverage", "month", D(2022, 6, 1)) not in v


def test_no_week_starts_in_the_period_gives_null():
    # As-of Sunday 1 May 2022: May has no Monday up to as-of, but one month starting in it.
    rows = only("investment_projects", [project("P1", D(2022, 4, 6))])
    v = compute_kpis(rows, as_of=D(2022, 5, 1))
    assert v[("lead_week_coverage", "month", D(2022, 5, 1))] is None
    assert v[("talk_month_coverage", "month", D(2022, 5, 1))] == 0.0


def test_investment_sums_and_per_mu():
    signed = D(2022, 3, 8)
    rows = only(
        "investment_projects",
        [
            project("A", D(2022, 3, 1), is_industrial=True, signed_date=signed,
                    planned_investment=10.0, contract_investment=8.0, land_mu=50.0),
            # Planned investment unknown: 0 in the per-mu sum, left out of the total.
            project("B", D(2022, 3, 1), is_industrial=True, signed_date=signed,
                    planned_investment=None, contract_investment=3.0, land_mu=25.0),
            # No land: outside the per-mu figure, inside the industrial total.
            project("C", D(2022, 3, 1), is_industrial=True, signed_date=signed,
                    planned_investment=5.0, contract_investment=2.0, land_mu=0.0),
            # Not industrial, and terminated after signing: still signed in March.
            project("D", D(2022, 3, 1), stage="终止", signed_date=signed,
                    planned_investment=100.0, contract_investment=40.0, land_mu=10.0),
            project("E", D(2022, 4, 2), production_date=None),
        ],
    )  # fmt: skip
    v = compute_kpis(rows)
    m = ("month", D(2022, 3, 1))
    assert v[("projects_signed", *m)] == 4
    assert v[("contract_investment_signed", *m)] == 53.0  # 8 + 3 + 2 + 40
    assert v[("industrial_projects_signed", *m)] == 3
    assert v[("industrial_investment_signed", *m)] == 15.0  # 10 + 5
    # (10 + 0) x 10000 / (50 + 25)
    assert v[("investment_per_mu", *m)] == pytest.approx(100000 / 75)
    april = ("month", D(2022, 4, 1))
    assert v[("contract_investment_signed", *april)] == 0.0
    assert v[("projects_signed", *april)] == 0
    assert v[("investment_per_mu", *april)] is None


# --------------------------------------------------------------------------------------------
# Landing reader


ITEM_HEADERS_ZH = (
    "事项编码 事项名称 事项类型 实施部门 全程网办 高频事项 一窗综办 改革方式 状态 更新时间"
)
ITEM_HEADERS_EN = (
    "item_code item_name item_type department online_enabled high_frequency one_window reform "
    "item_status updated_at"
)


CELLS = [
    # (source, column, cell as trimmed, typed value or the rule it breaks)
    ("permit_cases", "submitted_at", "2022-10-08 09:05:07", datetime(2022, 10, 8, 9, 5, 7)),
    ("permit_cases", "submitted_at", "2022-10-08 09:05", datetime(2022, 10, 8, 9, 5)),
    ("permit_cases", "submitted_at", "2022/10/08 09:05:07", datetime(2022, 10, 8, 9, 5, 7)),
    ("permit_cases", "submitted_at", "2022/10/08 09:05", "invalid_timestamp"),
    ("permit_cases", "submitted_at", "2022-10-8 09:05:07", "invalid_timestamp"),
    ("permit_cases", "submitted_at", "2022-10-08", "invalid_timestamp"),
    ("permit_cases", "submitted_at", "2022-10-08T09:05:07", "invalid_timestamp"),
    ("permit_cases", "submitted_at", "2022-02-29 09:05:07", "invalid_timestamp"),
    ("investment_projects", "lead_date", "2022/10/08", D(2022, 10, 8)),
    ("investment_projects", "lead_date", "2022-10-08 00:00:00", "invalid_date"),
    ("permit_cases", "trips", "+3", 3),
    ("permit_cases", "trips", "2.0", 2),
    ("permit_cases", "trips", "2.5", "invalid_integer"),
    ("permit_cases", "trips", "21", "above_maximum"),
    ("permit_cases", "promised_days", "-1", "below_minimum"),
    ("investment_projects", "land_mu", "1e2", 100.0),
    ("investment_projects", "land_mu", "1,200", "invalid_number"),
    ("investment_projects", "land_mu", "nan", "invalid_number"),
    ("service_items", "one_window", "TRUE", True),
    ("service_items", "one_window", "n", False),
    ("service_items", "one_window", "有", "invalid_flag"),
    ("market_entities", "industry_section", "c", "C"),
    ("market_entities", "uscc", "91110000600037341l", "91110000600037341L"),
    ("market_entities", "uscc", "91110000600037341M", "uscc_check_character"),
    ("market_entities", "uscc", "9111000060003734", "wrong_length"),
    ("market_entities", "legal_rep_id", "11010519491231002x", "11010519491231002X"),
    ("market_entities", "legal_rep_id", "110105194912310021", "cn_id_check_digit"),
    # An old 15-digit number has no check digit to be valid.
    ("market_entities", "legal_rep_id", "110105491231002", "cn_id_check_digit"),
]


@pytest.mark.parametrize(("source", "column", "cell", "expected"), CELLS)
def test_parse_value(source: str, column: str, cell: str, expected: Any):
    col = SOURCES[source].column(column)
    rules = set(COLUMN_RULES)
    if isinstance(expected, str) and expected in rules:
        with pytest.raises(BrokenRule) as raised:
            parse_value(col, cell)
        assert raised.value.rule == expected
    else:
        assert parse_value(col, cell) == expected


def _csv(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def test_read_landing_row_by_row(tmp_path: Path):
    folder = tmp_path / "service_items"
    folder.mkdir()
    files = {
        # GB18030, Chinese headers (one padded), an extra column; row 2 breaks a flag.
        "a.csv": _csv(
            [
                [*ITEM_HEADERS_ZH.split()[:-1], " 更新时间 ", "备注"],
                ["A1", "名称", "行政许可", "区市场监管局", " 是 ", "N", "1", "", "在用",
                 "2022-03-01 09:00", "x"],
                ["A2", "名称", "行政许可", "区市场监管局", "maybe", "N", "1", "", "在用",
                 "2022-03-01 09:00", ""],
                ["A3", "名称", "其他", "区市场监管局", "true", "false", "0", "实行告知承诺", "停用",
                 "2022/03/02 10:11:12", ""],
            ],
            "gb18030",
        ),
        # UTF-8 with BOM, English headers: the same A1 at the same time, later file -> wins.
        "b.csv": _csv(
            [
                ITEM_HEADERS_EN.split(),
                ["A1", "名称", "行政许可", "区市场监管局", "Y", "Y", "false", "", "在用",
                 "2022-03-01 09:00:00", ],
                ["A4", "名称", "行政许可", "区市场监管局", "是", "否", "否", "", "在用",
                 "2022-02-30 09:00:00"],
            ],
            "utf-8-sig",
        ),
        # No 状态 column: set aside whole.
        "c.csv": _csv(
            [
                [h for h in ITEM_HEADERS_ZH.split() if h != "状态"],
                ["A5", "n", "其他", "d", "是", "否", "否", "", "2022-03-01 09:00"],
            ],
            "utf-8",
        ),
    }  # fmt: skip
    files["d.csv"] = files["b.csv"]  # the same bytes again
    for i, name in enumerate(("a.csv", "b.csv", "c.csv", "d.csv")):
        path = folder / name
        path.write_bytes(files[name])
        os.utime(path, (1_000_000 + i, 1_000_000 + i))

    landing = read_landing(tmp_path)
    assert [(f.file_name, f.status, f.encoding) for f in landing.files] == [
        ("a.csv", "loaded", "gb18030"),
        ("b.csv", "loaded", "utf-8-sig"),
        ("c.csv", "set_aside", "utf-8"),
        ("d.csv", "duplicate", None),
    ]
    assert landing.files[0].extra_columns == ["备注"]
    assert landing.rejected == [
        Rejected("service_items", "a.csv", 2, "online_enabled", "invalid_flag", 1),
        Rejected("service_items", "b.csv", 2, "updated_at", "invalid_timestamp", 1),
    ]
    rows = landing["service_items"]
    assert [(r["item_code"], r["_load_order"], r["_row_number"]) for r in rows] == [
        ("A1", 1, 1),
        ("A3", 1, 3),
        ("A1", 2, 1),
    ]
    a3 = rows[1]
    assert a3["updated_at"] == datetime(2022, 3, 2, 10, 11, 12)
    assert (a3["online_enabled"], a3["high_frequency"], a3["one_window"]) == (True, False, False)
    assert a3["reform"] == "实行告知承诺"
    assert rows[0]["reform"] is None and rows[0]["online_enabled"] is True
    current = current_versions(rows, "item_code")
    assert current["A1"]["one_window"] is False and current["A1"]["_load_order"] == 2


def test_read_landing_applies_the_cross_column_rules(tmp_path: Path):
    folder = tmp_path / "investment_projects"
    folder.mkdir()
    # Optional columns left out (计划总投资, 用地面积, 首次洽谈日期) read as empty.
    header = (
        "项目编号 项目名称 投资方 产业集群 招商团 工业项目 项目阶段 合同引资（亿元） 线索日期 "
        "签约日期 开工日期 投产日期 更新时间"
    ).split()
    base = ["P", "n", "i", "其他", "商贸物流", "否"]
    lead, upd = "2022-01-01", "2022-04-01 10:00"
    rows = [
        header,
        [*base, "投产", "3", lead, "2022-02-01", "2022-03-01", "2022-04-01", upd],
        # A signed stage with neither a signing date nor a contracted amount.
        [*base, "签约", "", lead, "", "", "", upd],
        # Started before signed.
        [*base, "开工", "3", lead, "2022-02-01", "2022-01-15", "", upd],
        # Production dated but no start: the contract compares only dates that are there.
        [*base, "线索", "3", lead, "2022-02-01", "", "2022-03-01", upd],
    ]  # fmt: skip
    (folder / "p.csv").write_bytes(_csv(rows, "utf-8"))
    landing = read_landing(tmp_path)
    assert [r["_row_number"] for r in landing["investment_projects"]] == [1, 4]
    assert [(r.row_number, r.column, r.rule, r.rules_broken) for r in landing.rejected] == [
        # Two rules broken; the contract lists the contract-investment rule first.
        (2, "contract_investment", "contract_investment_required_when_signed", 2),
        (3, "started_date", "started_before_signed", 1),
    ]
    assert landing.files[0].rows_read == 4 and landing.files[0].rows_rejected == 2


# --------------------------------------------------------------------------------------------
# The hand-made landing set


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory):
    built = make_landing(tmp_path_factory.mktemp("handmade"), seed=7)
    return built, read_landing(built.root)


def test_handmade_landing_is_read_as_built(handmade):
    built, landing = handmade
    got = sorted((r.source, r.file_name, r.row_number, r.rule) for r in landing.rejected)
    assert got == sorted(built.rejects)
    assert len(built.rejects) >= 25
    status = {(f.source, f.file_name): f.status for f in landing.files}
    assert all(status[f] == "duplicate" for f in built.duplicates) and built.duplicates
    assert all(status[f] == "set_aside" for f in built.set_aside) and built.set_aside
    for f in landing.files:
        assert f.rows_read == f.rows_loaded + f.rows_rejected
    # Every accepted row comes back with exactly the typed values the builder meant.
    for source, expected in built.accepted.items():
        rows = landing[source]
        assert 150 <= len(rows) == len(expected)
        by_place = {(r["_file_name"], r["_row_number"]): r for r in rows}
        for e in expected:
            r = by_place[(e["_file_name"], e["_row_number"])]
            assert {k: r[k] for k in e} == e
    # It exercises what it promises: all encodings and header languages, ties across files.
    loaded = [f for f in landing.files if f.status == "loaded"]
    assert {f.encoding for f in loaded} == {"utf-8", "utf-8-sig", "gb18030"}
    assert {f.header_language for f in loaded} >= {"zh", "en", "mixed"}
    keys = {"service_items": "item_code", "market_entities": "event_id",
            "permit_cases": "case_id", "investment_projects": "project_id"}  # fmt: skip
    for source, key in keys.items():
        loads: dict[tuple, set[int]] = {}
        for r in landing[source]:
            loads.setdefault((r[key], r["updated_at"]), set()).add(r["_load_order"])
        assert any(len(s) > 1 for s in loads.values()), source


def test_entity_totals_sweep_matches_the_definition(handmade):
    _, landing = handmade
    events = list(current_versions(landing["market_entities"], "event_id").values())
    days = [p.end for p in period_grid(D(2021, 6, 1), D(2022, 12, 31))] + [D(2022, 5, 16)]
    sweep = entity_totals(events, days)
    assert sweep == {d: entities_existing(events, d) for d in days}
    assert sweep[D(2022, 12, 31)] > sweep[D(2021, 6, 30)] > 0


def test_handmade_landing_is_deterministic(tmp_path: Path):
    a = make_landing(tmp_path / "a", seed=3)
    b = make_landing(tmp_path / "b", seed=3)
    files_a = sorted(p.relative_to(a.root) for p in a.root.rglob("*.csv"))
    assert files_a == sorted(p.relative_to(b.root) for p in b.root.rglob("*.csv"))
    for rel in files_a:
        assert (a.root / rel).read_bytes() == (b.root / rel).read_bytes()
        assert (a.root / rel).stat().st_mtime == (b.root / rel).stat().st_mtime


def test_handmade_landing_kpis(handmade):
    built, landing = handmade
    v = compute_kpis(landing)
    grid = period_grid(D(2021, 6, 1), D(2022, 12, 31))
    assert len(grid) == 2 + 7 + 19
    assert set(v) == {(c, p.type, p.start) for c in KPI_CODES for p in grid}
    for (code, _, _), value in v.items():
        if code.endswith(("_rate", "_coverage")) and code != "entities_net_growth_rate":
            assert value is None or 0 <= value <= 1, code
    year = ("year", D(2022, 1, 1))
    assert v[("cases_completed", *year)] > 50
    assert v[("entities_new", *year)] > 50 and v[("entities_exited", *year)] > 0
    assert v[("projects_signed", *year)] > 5 and v[("projects_in_production", *year)] > 0
    assert v[("investment_per_mu", *year)] is not None
    # Yearly totals equal the sum of their months, for every additive KPI.
    for code in ("cases_submitted", "cases_completed", "entities_new", "entities_exited",
                 "projects_signed", "projects_started", "contract_investment_signed"):  # fmt: skip
        months = sum(v[(code, "month", D(2022, m, 1))] for m in range(1, 13))
        assert v[(code, *year)] == pytest.approx(months), code
