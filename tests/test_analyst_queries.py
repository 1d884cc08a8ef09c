"""docs/analysts.md as a test: every ```sql block runs against the serving copy of a real demo
build and returns rows, and the ones that reproduce a published figure
(/work/shared/seed/FIGURES.md) return it."""

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analysts.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


def sql_blocks(text: str) -> list[tuple[str, str]]:
    """(heading, sql) for every ```sql block, the heading being the nearest '#' line above it."""
    blocks, heading, sql = [], "", None
    for line in text.splitlines():
        if sql is not None:
            if line.startswith("```"):
                blocks.append((heading, "\n".join(sql)))
                sql = None
            else:
                sql.append(line)
        elif line.startswith("```sql"):
            sql = []
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    return blocks


BLOCKS = sql_blocks(GUIDE.read_text(encoding="utf-8"))


def english(heading: str) -> str:
    return heading.partition(" / ")[2] or heading


def query(database: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def test_the_guide_has_at_least_ten_queries_each_under_a_bilingual_heading():
    assert len(BLOCKS) >= 10
    headings = [h for h, _ in BLOCKS]
    assert len(set(headings)) == len(headings), "two queries under one heading"
    for heading in headings:
        zh, _, en = heading.partition(" / ")
        assert CJK.search(zh) and re.search(r"[A-Za-z]{3}", en), heading


@pytest.fixture(scope="module")
def serving(demo) -> Path:
    deployment, _ = demo
    assert deployment.serving.exists()
    return deployment.serving


@pytest.fixture(scope="module")
def results(serving) -> dict[str, list[dict]]:
    """Each query's rows, by the English half of its heading."""
    return {english(heading): query(serving, sql) for heading, sql in BLOCKS}


@pytest.mark.slow
@pytest.mark.parametrize("heading, sql", BLOCKS, ids=[english(h) for h, _ in BLOCKS])
def test_every_query_runs_on_the_serving_copy_and_returns_rows(serving, heading, sql):
    assert query(serving, sql), f"no rows: {heading}"


@pytest.mark.slow
def test_trips_per_case_2022_is_the_published_0_11(results):
    # FIGURES.md: 群众平均跑动次数减少为0.11次.
    (recomputed,) = results["Recompute the 2022 trips per case from the cases"]
    assert recomputed["avg_trips_per_case"] == 0.11
    months = results["Monthly trips per case, 2022"]
    assert [m["month"].month for m in months] == list(range(1, 13))
    # The year's average is the months' averages weighted by their completed cases.
    cases = sum(m["cases_completed"] for m in months)
    trips = sum(m["avg_trips_per_case"] * m["cases_completed"] for m in months)
    assert cases == recomputed["cases_completed"]
    assert round(trips / cases, 2) == 0.11


@pytest.mark.slow
def test_cases_by_intake_give_the_published_window_and_cross_region_counts(results):
    by_intake = {
        r["intake"]: r["cases_completed"] for r in results["Fully-online share by intake, 2022"]
    }
    # FIGURES.md: “一窗综办”办件1万余件; 通办专窗…办理事项4.3万余件 (跨省/川渝/五省通办).
    assert 10_000 <= by_intake["一窗综办"] <= 11_000
    assert 43_000 <= by_intake["跨省通办"] + by_intake["川渝通办"] + by_intake["五省通办"] <= 44_000


@pytest.mark.slow
def test_entities_at_the_end_of_2022_are_the_published_100425(results):
    quarters = {r["quarter_start"]: r for r in results["Net growth of market entities by quarter"]}
    assert quarters[date(2022, 10, 1)]["entities_total"] == 100_425
    towns = results["New market entities by town or street, 2022"]
    # FIGURES.md: 新增市场主体1.2万户 (±1%), spread over the towns and streets.
    assert 11_880 <= sum(t["entities_new"] for t in towns) <= 12_120


@pytest.mark.slow
def test_scorecard_shows_the_2023_targets_of_the_article(results):
    rows = {r["kpi_code"]: r for r in results["Progress against this year's targets"]}
    targets = {code: rows[code]["target"] for code in rows}
    assert {
        "projects_signed": 70,
        "contract_investment_signed": 400,
        "projects_started": 50,
        "projects_in_production": 40,
    }.items() <= targets.items()
    assert {r["as_of"] for r in rows.values()} == {date(2023, 6, 30)}
    assert {r["status"] for r in rows.values()} <= {"达标", "预警", "落后"}


@pytest.mark.slow
def test_teams_add_up_to_the_year_to_date_kpi(results, serving):
    teams = results["Projects by investment team, year to date"]
    signed = query(
        serving,
        "select value from marts.kpi_values where kpi_code = 'projects_signed' "
        "and period_type = 'year' and period_start = date '2023-01-01'",
    )[0]["value"]
    assert sum(t["projects_signed"] or 0 for t in teams) == signed


@pytest.mark.slow
def test_funnel_narrows_stage_by_stage(results):
    funnel = results["Project funnel of the 2022 leads"]
    assert [f["stage"] for f in funnel] == ["线索", "洽谈", "签约", "开工", "投产"]
    counts = [f["projects"] for f in funnel]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


@pytest.mark.slow
def test_rejected_rows_by_rule_account_for_every_rejected_row(results, serving):
    by_rule = results["Rejected rows by rule"]
    total = query(serving, "select sum(rows_rejected) as n from audit.file_loads")[0]["n"]
    assert sum(r["rows_rejected"] for r in by_rule) == total
