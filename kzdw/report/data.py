"""What the report reads: the KPI tables of the serving copy, through a read-only connection.

The serving copy (KZDW_SERVING) is the file published after a build whose blocking checks
passed; the live warehouse is never opened here, so a report never waits on a writer and
never shows a half-built table.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

REQUIRED_TABLES = ("kpi_values", "kpi_scorecard", "kpi_breakdowns", "kpi_revisions")
# Every table the report reads, (schema, table): the Dagster asset depends on each.
TABLES_READ = (*(("marts", t) for t in REQUIRED_TABLES), ("seeds", "kpi_definitions"))


class ReportDataError(RuntimeError):
    """The serving copy is missing or lacks a table the report needs."""


@dataclass(frozen=True)
class KpiValue:
    code: str
    name: str
    unit: str
    period_type: str
    period_start: date
    period_end: date
    value: float | None
    target: float | None
    domain: str


@dataclass
class ReportData:
    """Rows of the four KPI tables, as the marts computed them."""

    source: Path
    as_of: date
    values: list[KpiValue]
    scorecard: list[dict]
    breakdowns: list[dict]
    revisions: list[dict]
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def __post_init__(self) -> None:
        self._index = {(v.code, v.period_type, v.period_start): v for v in self.values}

    def get(self, code: str, period_type: str, period_start: date) -> KpiValue | None:
        return self._index.get((code, period_type, period_start))

    def year_value(self, code: str, year: int) -> KpiValue | None:
        return self.get(code, "year", date(year, 1, 1))

    @property
    def current_year(self) -> int:
        years = {row["year"] for row in self.scorecard if row.get("year") is not None}
        return years.pop() if len(years) == 1 else self.as_of.year

    @property
    def last_full_year(self) -> int | None:
        """The latest year that ended on or before the as-of date."""
        ended = [
            v.period_start.year
            for v in self.values
            if v.period_type == "year" and v.period_end <= self.as_of
        ]
        return max(ended) if ended else None

    def months(self, code: str) -> list[KpiValue]:
        return sorted(
            (v for v in self.values if v.code == code and v.period_type == "month"),
            key=lambda v: v.period_start,
        )

    def domains(self) -> dict[str, str]:
        return {v.code: v.domain for v in self.values}


def connect_read_only(path: Path, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection, retried while the copy is being renamed into place."""
    if not path.exists():
        raise ReportDataError(
            f"no serving copy at {path}: build the warehouse first (`kzdw run`), which "
            "publishes it (KZDW_SERVING)"
        )
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return set(
        con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    )


def load_report_data(serving: Path) -> ReportData:
    con = connect_read_only(serving)
    try:
        tables = _tables(con)
        missing = [t for t in REQUIRED_TABLES if ("marts", t) not in tables]
        if missing:
            raise ReportDataError(
                f"the serving copy {serving} has no "
                + ", ".join(f"marts.{t}" for t in missing)
                + ": rebuild the warehouse with `kzdw run` so the KPI marts are published"
            )
        as_of = con.execute("select max(as_of) from marts.kpi_values").fetchone()[0]
        if as_of is None:
            raise ReportDataError(f"marts.kpi_values in {serving} is empty: nothing to report")
        # The KPI's domain (which sheet, which section) is reference data from the seed the
        # marts were built with; a KPI without one is shown under 其他.
        has_definitions = ("seeds", "kpi_definitions") in tables
        domain = "coalesce(d.domain, 'other')" if has_definitions else "'other'"
        join = "left join seeds.kpi_definitions d using (kpi_code)" if has_definitions else ""
        rows = con.execute(
            f"""
            select v.kpi_code, v.kpi_name_zh, v.unit, v.period_type, v.period_start,
                   v.period_end, v.value, v.target, {domain}
            from marts.kpi_values v {join}
            order by v.kpi_code, v.period_type, v.period_start
            """
        ).fetchall()
        values = [KpiValue(*row) for row in rows]
        scorecard = _dicts(con, "select * from marts.kpi_scorecard order by kpi_code")
        # The years a leader compares: last year and this one (every period type).
        breakdowns = _dicts(
            con,
            "select * from marts.kpi_breakdowns where period_start >= ? "
            "order by kpi_code, dimension, period_type, period_start, value desc nulls last, "
            "dimension_value",
            [date(as_of.year - 1, 1, 1)],
        )
        revisions = _dicts(
            con,
            "select * from marts.kpi_revisions "
            "order by revised_at desc, kpi_code, period_type, period_start",
        )
    finally:
        con.close()
    return ReportData(
        source=serving,
        as_of=as_of,
        values=values,
        scorecard=scorecard,
        breakdowns=breakdowns,
        revisions=revisions,
    )
