"""Freshness of each source against its submission calendar.

Each source system has promised a delivery rhythm: permit cases and registration events every
working day, the investment-project register every week, the item catalogue every month. A
delivery is due by a deadline; a file arriving before a deadline satisfies that deadline. A
source is late when a deadline has passed with no file loaded since the deadline before it;
the check then fails, naming the source, the deadline missed and the days overdue.

Arrivals are read from audit.file_loads (files loaded, not set aside or duplicates: a bad or
repeated file is not fresh data). Times are Asia/Shanghai, like everything in the warehouse.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.settings import WAREHOUSE_POOL, WarehouseResource
from sources.calendar import DAYS_FILE
from sources.contracts import SOURCES, Source

TZ = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=1)
def _calendar_exceptions() -> dict[date, bool]:
    """The warehouse's own calendar (dbt seed cn_calendar_days, which an operator extends):
    holidays on weekdays and make-up working days at weekends."""
    with DAYS_FILE.open(encoding="utf-8", newline="") as f:
        return {
            date.fromisoformat(row["calendar_date"]): row["day_type"] == "workday"
            for row in csv.DictReader(f)
        }


def is_working_day(day: date) -> bool:
    """Working day by the same calendar the KPIs use; Monday to Friday where it says nothing."""
    return _calendar_exceptions().get(day, day.weekday() < 5)


@dataclass(frozen=True)
class SubmissionCalendar:
    """When a source's file is due: `every` is 'working_day', 'week' (on `day`, 0 = Monday)
    or 'month' (on day `day` of the month), by `by` o'clock local time."""

    every: str
    by: time
    day: int = 0
    text_zh: str = ""

    def is_due_on(self, d: date) -> bool:
        if self.every == "working_day":
            return is_working_day(d)
        if self.every == "week":
            return d.weekday() == self.day
        if self.every == "month":
            return d.day == self.day
        raise ValueError(f"unknown submission rhythm {self.every!r}")

    def deadlines_from(self, start: datetime) -> Iterator[datetime]:
        """Deadlines at or after `start`, in order."""
        d = start.date()
        while True:
            deadline = datetime.combine(d, self.by)
            if deadline >= start and self.is_due_on(d):
                yield deadline
            d += timedelta(days=1)


SUBMISSION_CALENDARS: dict[str, SubmissionCalendar] = {
    "permit_cases": SubmissionCalendar("working_day", time(9), text_zh="每个工作日 9:00 前"),
    "market_entities": SubmissionCalendar("working_day", time(9), text_zh="每个工作日 9:00 前"),
    "investment_projects": SubmissionCalendar("week", time(12), 0, text_zh="每周一 12:00 前"),
    "service_items": SubmissionCalendar("month", time(18), 5, text_zh="每月 5 日 18:00 前"),
}


@dataclass(frozen=True)
class Freshness:
    source: str
    last_arrival: datetime | None
    missed_deadline: datetime | None
    next_deadline: datetime | None
    days_overdue: float

    @property
    def late(self) -> bool:
        return self.missed_deadline is not None or self.last_arrival is None

    def describe(self) -> str:
        rhythm = SUBMISSION_CALENDARS[self.source].text_zh
        if self.last_arrival is None:
            return (
                f"{self.source}: no file has ever been loaded (due {rhythm}). Ask the source "
                "system for its export, or drop it into the landing folder's "
                f"{self.source}/."
            )
        last = f"{self.last_arrival:%Y-%m-%d %H:%M}"
        if self.missed_deadline is None:
            return (
                f"{self.source}: on time: last file loaded {last}, next due by "
                f"{self.next_deadline:%Y-%m-%d %H:%M} ({rhythm})"
            )
        return (
            f"{self.source}: {self.days_overdue:.1f} days overdue: the file due by "
            f"{self.missed_deadline:%Y-%m-%d %H:%M} ({rhythm}) has not arrived; last file "
            f"loaded {last}. Ask the source system for its export."
        )


def freshness(source: str, last_arrival: datetime | None, now: datetime) -> Freshness:
    """How `source` stands at `now` (local, naive) given its last loaded file's time."""
    calendar = SUBMISSION_CALENDARS[source]
    if last_arrival is None:
        return Freshness(source, None, None, None, 0.0)
    deadlines = calendar.deadlines_from(last_arrival)
    next(deadlines)  # the first deadline on or after the last file: that file met it
    due = next(deadlines)  # the one after needs a newer file
    if now <= due:
        return Freshness(source, last_arrival, None, due, 0.0)
    overdue = (now - due).total_seconds() / 86400
    return Freshness(source, last_arrival, due, None, round(overdue, 1))


def check_name(source: Source) -> str:
    return f"{source.name}_is_fresh"


def build_freshness_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", source.name]),
        name=check_name(source),
        pool=WAREHOUSE_POOL,
        blocking=False,
        description=f"Has {source.name} delivered on its submission calendar "
        f"({SUBMISSION_CALENDARS[source.name].text_zh})? Fails with the deadline missed and "
        "the days overdue. Runs with every load of the source and every hour "
        "(freshness_checks_schedule).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        last = None
        if warehouse.warehouse_path.exists():
            con = warehouse.connect(read_only=True)
            try:
                last = con.execute(
                    "select max(loaded_at) from audit.file_loads "
                    "where source = ? and status = 'loaded'",
                    [source.name],
                ).fetchone()[0]
            finally:
                con.close()
        state = freshness(source.name, last, datetime.now(TZ).replace(tzinfo=None))
        return dg.AssetCheckResult(
            passed=not state.late,
            severity=dg.AssetCheckSeverity.WARN,
            description=state.describe(),
            metadata={
                "source": source.name,
                "submission_calendar": SUBMISSION_CALENDARS[source.name].text_zh,
                "last_file_loaded_at": str(state.last_arrival or ""),
                "missed_deadline": str(state.missed_deadline or ""),
                "days_overdue": state.days_overdue,
            },
        )

    return _check


freshness_checks = [build_freshness_check(source) for source in SOURCES.values()]

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job",
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Checks every source's deliveries against its submission calendar.",
)

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule",
    job=freshness_checks_job,
    cron_schedule="15 * * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour at :15, so a missed deadline shows as a failed check within the "
    "hour, source by source, with the days overdue.",
)
