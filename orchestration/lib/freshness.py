"""Freshness of each source against its submission calendar.

Each source system has promised a delivery rhythm: permit cases and registration events every
working day, the investment-project register every week, the item catalogue every month.

Which file counts for which deadline: deadline D, with P the deadline before it and N the one
after, is met by the first file arriving after P and no later than N that no earlier deadline
took; on time if it arrived by D, late by (arrival - D) otherwise. Files are taken in order of
arrival and each meets exactly one deadline, the earliest still open whose window it falls in:
a file 52 minutes late on Wednesday is Wednesday's, and Thursday needs a file of its own; a
second file before Wednesday's deadline is spare, not Thursday's. A deadline with no file by N
is missed, and a file after N counts for N or later: otherwise one outage would leave a source
a file behind at every deadline until it sent every missed file. Nothing before the first file
ever loaded says which deadline the source was working to, so the calendar starts at the
deadline nearest to it.

A source is late when its most recent deadline has passed with no file for it; the check then
fails, naming the source, the first deadline missed since its last delivery and the days
overdue. A deadline met late does not fail the check: how late its file was is in the check's
description and metadata.

Arrivals are read from audit.file_loads (files loaded, not set aside or duplicates: a bad or
repeated file is not fresh data). Times are Asia/Shanghai, like everything in the warehouse.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.calendar import DAYS_FILE, YEARS_FILE
from sources.contracts import Source

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


@lru_cache(maxsize=1)
def _covered_years() -> frozenset[int]:
    with YEARS_FILE.open(encoding="utf-8", newline="") as f:
        return frozenset(int(row["calendar_year"]) for row in csv.DictReader(f))


def is_working_day(day: date) -> bool:
    """Working day by the same calendar the KPIs use; Monday to Friday where it says nothing."""
    return _calendar_exceptions().get(day, day.weekday() < 5)


def calendar_covers(day: date) -> bool:
    """Whether the seeds hold the State Council's arrangement for `day`'s year. The KPIs refuse
    a year they do not cover; a freshness check still runs on Monday to Friday, and says so."""
    return day.year in _covered_years()


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

    def deadline_before(self, moment: datetime) -> datetime | None:
        """The last deadline strictly before `moment` (None if there is none in a year)."""
        d = moment.date()
        for _ in range(367):
            deadline = datetime.combine(d, self.by)
            if deadline < moment and self.is_due_on(d):
                return deadline
            d -= timedelta(days=1)
        return None


SUBMISSION_CALENDARS: dict[str, SubmissionCalendar] = {
    "permit_cases": SubmissionCalendar("working_day", time(9), text_zh="每个工作日 9:00 前"),
    "market_entities": SubmissionCalendar("working_day", time(9), text_zh="每个工作日 9:00 前"),
    "investment_projects": SubmissionCalendar("week", time(12), 0, text_zh="每周一 12:00 前"),
    "service_items": SubmissionCalendar("month", time(18), 5, text_zh="每月 5 日 18:00 前"),
}


@dataclass(frozen=True)
class Delivery:
    """A deadline and the file that met it; `arrival` is None while no file has."""

    deadline: datetime
    arrival: datetime | None

    @property
    def minutes_late(self) -> int | None:
        """0 when on time; a file a few seconds late is a minute late, not on time."""
        if self.arrival is None:
            return None
        return max(math.ceil((self.arrival - self.deadline).total_seconds() / 60), 0)


def deliveries(source: str, arrivals: Iterable[datetime], now: datetime) -> list[Delivery]:
    """Every deadline of `source` from the start of its calendar up to the first at or after
    `now`, each with the file that met it (see the module docstring for the rule)."""
    calendar = SUBMISSION_CALENDARS[source]
    files = sorted(a for a in arrivals if a <= now)
    if not files:
        return []
    first = files[0]
    after = next(calendar.deadlines_from(first))
    before = calendar.deadline_before(first)
    start = before if before is not None and first - before < after - first else after
    deadlines = []
    for deadline in calendar.deadlines_from(start):
        deadlines.append(deadline)
        if deadline >= now:
            break
    met: dict[int, datetime] = {}
    k = 0  # the earliest deadline neither met nor missed
    for arrival in files:
        while k + 1 < len(deadlines) and deadlines[k + 1] < arrival:
            k += 1  # its window closed before this file came: missed
        if k == len(deadlines) or (k > 0 and arrival <= deadlines[k - 1]):
            continue  # before the window of every open deadline: spare
        met[k] = arrival
        k += 1
    return [Delivery(d, met.get(i)) for i, d in enumerate(deadlines)]


@dataclass(frozen=True)
class Freshness:
    source: str
    last_arrival: datetime | None
    missed_deadline: datetime | None
    next_deadline: datetime | None
    days_overdue: float
    last_delivery: Delivery | None = None

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
        delivered = ""
        if self.last_delivery is not None and self.last_delivery.arrival is not None:
            came = self.last_delivery
            how = f"{_duration(came.minutes_late)} late" if came.minutes_late else "on time"
            delivered = (
                f"; the file due by {came.deadline:%Y-%m-%d %H:%M} came "
                f"{came.arrival:%Y-%m-%d %H:%M}, {how}"
            )
        if self.missed_deadline is None:
            return (
                f"{self.source}: up to date: last file loaded {last}{delivered}; next due by "
                f"{self.next_deadline:%Y-%m-%d %H:%M} ({rhythm}){self._guessed()}"
            )
        return (
            f"{self.source}: {self.days_overdue:.1f} days overdue: the file due by "
            f"{self.missed_deadline:%Y-%m-%d %H:%M} ({rhythm}) has not arrived; last file "
            f"loaded {last}{delivered}. Ask the source system for its export.{self._guessed()}"
        )

    def _guessed(self) -> str:
        deadline = self.missed_deadline or self.next_deadline
        if SUBMISSION_CALENDARS[self.source].every != "working_day" or calendar_covers(deadline):
            return ""
        return (
            f" The working-day calendar does not cover {deadline.year}: Monday to Friday "
            "assumed until that year's State Council notice is appended to "
            "dbt_project/seeds/cn_calendar_years.csv and cn_calendar_days.csv."
        )


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes / 1440:.1f} days"


def freshness(source: str, arrivals: Iterable[datetime], now: datetime) -> Freshness:
    """How `source` stands at `now` (local, naive) given the times its files were loaded."""
    files = [a for a in arrivals if a <= now]
    if not files:
        return Freshness(source, None, None, None, 0.0)
    history = deliveries(source, files, now)
    met = [d for d in history if d.arrival is not None]
    last_delivery = met[-1] if met else None
    passed = [d for d in history if d.deadline < now]
    if not passed or passed[-1].arrival is not None:
        upcoming = {d.deadline for d in history if d.arrival is not None}
        due = next(d for d in SUBMISSION_CALENDARS[source].deadlines_from(now) if d not in upcoming)
        return Freshness(source, max(files), None, due, 0.0, last_delivery)
    missed = passed[-1]
    for delivery in reversed(passed):
        if delivery.arrival is not None:
            break
        missed = delivery
    overdue = (now - missed.deadline).total_seconds() / 86400
    return Freshness(source, max(files), missed.deadline, None, round(overdue, 1), last_delivery)


def check_name(source: Source) -> str:
    return f"{source.name}_is_fresh"


def build_freshness_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", source.name]),
        name=check_name(source),
        pool=WAREHOUSE_POOL,
        blocking=False,
        description=f"Has {source.name} delivered on its submission calendar "
        f"({SUBMISSION_CALENDARS[source.name].text_zh})? Fails when its latest deadline has "
        "passed with no file for it, with the first deadline missed and the days overdue; a "
        "file that came late counts for the deadline it missed, not the next one. Runs with "
        "every load of the source and every hour (freshness_checks_schedule).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        arrivals = []
        if warehouse.settings.warehouse.exists():
            con = warehouse.connect(read_only=True)
            try:
                arrivals = [
                    row[0]
                    for row in con.execute(
                        "select loaded_at from audit.file_loads "
                        "where source = ? and status = 'loaded' order by loaded_at",
                        [source.name],
                    ).fetchall()
                ]
            finally:
                con.close()
        state = freshness(source.name, arrivals, datetime.now(TZ).replace(tzinfo=None))
        came = state.last_delivery
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
                "last_deadline_met": str(came.deadline if came else ""),
                "last_delivery_minutes_late": came.minutes_late if came else 0,
            },
        )

    return _check
