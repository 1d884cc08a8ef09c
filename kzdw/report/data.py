"""What the report reads: the KPI tables of the serving copy, through a read-only connection.

The serving copy (KZDW_SERVING) is the file published after a build whose blocking checks
passed; the live warehouse is never opened here, so a report never waits on a writer and
never shows a half-built table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from kzdw.report.formatting import KpiFacts, format_value
from sources.warehouse import open_when_free

REQUIRED_TABLES = (
    "kpi_values",
    "kpi_scorecard",
    "kpi_breakdowns",
    "kpi_revisions",
    "project_funnel",
)
# Every table the report reads, (schema, table): the Dagster asset depends on each.
TABLES_READ = (*(("marts", t) for t in REQUIRED_TABLES), ("seeds", "kpi_definitions"))
# The display facts of a KPI, as seeds.kpi_definitions holds them (KpiFacts, in its order).
FACT_COLUMNS = (
    "kpi_code",
    "kpi_name_zh",
    "unit",
    "domain",
    "headline_rank",
    "display_order",
    "unit_word",
    "decimals",
    "description_zh",
)


class ReportDataError(RuntimeError):
    """The serving copy is missing or lacks a table the report needs."""


class NothingToReport(ReportDataError):
    """The serving copy has its KPI tables, with no values in them: no file loaded yet."""


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
    """Rows of the KPI tables and the project funnel, as the marts computed them, and the
    display facts of every KPI from the seed they were built with."""

    source: Path
    as_of: date
    values: list[KpiValue]
    scorecard: list[dict]
    breakdowns: list[dict]
    revisions: list[dict]
    facts: dict[str, KpiFacts]
    funnel: list[dict]
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def __post_init__(self) -> None:
        self._index = {(v.code, v.period_type, v.period_start): v for v in self.values}

    def format(self, code: str, value: float | None, *, with_unit: bool = True) -> str:
        return format_value(value, self.facts[code], with_unit=with_unit)

    def order_key(self, code: str) -> tuple:
        return self.facts[code].display_key

    def codes_by_domain(self) -> dict[str, list[str]]:
        """The KPIs that have values, by domain in the report's order, each in display_order."""
        present = {v.code for v in self.values}
        by_domain: dict[str, list[str]] = {}
        for code in sorted(present, key=self.order_key):
            by_domain.setdefault(self.facts[code].domain, []).append(code)
        return by_domain

    def headline_codes(self) -> list[str]:
        """The headline KPIs that have values, in headline_rank order."""
        present = {v.code for v in self.values}
        ranked = [f for f in self.facts.values() if f.headline_rank is not None]
        return [f.code for f in sorted(ranked, key=lambda f: f.headline_rank) if f.code in present]

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

    def year_to_date(self) -> int | None:
        """The as-of year, when it is still running at the as-of date."""
        year = self.current_year
        return year if date(year, 12, 31) > self.as_of else None


def connect_read_only(path: Path, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection, retried while the copy is being renamed into place."""
    if not path.exists():
        raise ReportDataError(
            f"no serving copy at {path}: build the warehouse first (`kzdw run`), which "
            "publishes it (KZDW_SERVING)"
        )
    return open_when_free(path, wait_seconds)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return set(
        con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    )


def read_kpi_facts(con: duckdb.DuckDBPyConnection, source: Path) -> dict[str, KpiFacts]:
    """Every KPI's display facts from the serving copy's seeds.kpi_definitions."""
    present = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'seeds' and table_name = 'kpi_definitions'"
        ).fetchall()
    }
    if not present:
        raise ReportDataError(
            f"the serving copy {source} has no seeds.kpi_definitions: rebuild the warehouse "
            "with `kzdw run` so the KPI seed is published with the marts"
        )
    lacking = [c for c in FACT_COLUMNS if c not in present]
    if lacking:
        raise ReportDataError(
            f"seeds.kpi_definitions in {source} has no {', '.join(lacking)}: rebuild the "
            "warehouse with `kzdw run` so the current KPI seed is published"
        )
    rows = con.execute(
        f"select {', '.join(FACT_COLUMNS)} from seeds.kpi_definitions order by kpi_code"
    ).fetchall()
    return {
        code: KpiFacts(
            code=code,
            name=name,
            unit=unit,
            domain=domain or "other",
            headline_rank=None if rank is None else int(rank),
            display_order=None if order is None else int(order),
            unit_word=word or "",
            decimals=int(decimals),
            description_zh=text or "",
        )
        for code, name, unit, domain, rank, order, word, decimals, text in rows
    }


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
            raise NothingToReport(
                f"指标表为空，尚无数据可报告：请把源系统导出的文件放入落地文件夹后再运行。 / "
                f"marts.kpi_values in {serving} is empty (no file loaded yet): nothing to "
                "report; drop the source systems' files into the landing folder and run again"
            )
        # How each KPI is shown (its domain, order, unit word, decimals) is reference data
        # from the seed the marts were built with: a KPI the seed does not describe cannot be
        # shown the way the rest of the product shows it.
        facts = read_kpi_facts(con, serving)
        rows = con.execute(
            """
            select kpi_code, kpi_name_zh, unit, period_type, period_start, period_end, value,
                   target
            from marts.kpi_values
            order by kpi_code, period_type, period_start
            """
        ).fetchall()
        undescribed = sorted({row[0] for row in rows} - set(facts))
        if undescribed:
            raise ReportDataError(
                f"seeds.kpi_definitions in {serving} does not describe "
                + ", ".join(undescribed)
                + ": rebuild the warehouse with `kzdw run`"
            )
        values = [KpiValue(*row, facts[row[0]].domain) for row in rows]
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
        funnel = _dicts(
            con, "select * from marts.project_funnel order by cohort_start, stage_order"
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
        facts=facts,
        funnel=funnel,
    )
