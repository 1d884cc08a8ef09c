"""Checks of the dbt project's generated and hand-written files that need no dbt run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from sources import calendar, dbt_sources
from sources.contracts import SOURCES

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def _model_ymls() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in DBT_DIR.glob("models/**/*.yml")]


def test_generated_sources_yml_files_are_up_to_date() -> None:
    for path, text in dbt_sources.expected_files().items():
        assert path.exists(), f"{path} is missing: run `python -m sources.dbt_sources`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} differs from the contract: run `python -m sources.dbt_sources`"
        )


def test_sources_yml_describes_every_raw_column_with_its_chinese_header() -> None:
    for source in SOURCES.values():
        document = yaml.safe_load(dbt_sources.sources_path(source).read_text(encoding="utf-8"))
        (table,) = document["sources"][0]["tables"]
        columns = {c["name"]: c for c in table["columns"]}
        assert list(columns) == [name for name, _ in source.raw_schema()]
        for column in source.columns:
            for stored, _ in column.stored_columns:
                assert column.header_zh in columns[stored]["description"]


def test_calendar_seeds_match_the_chinesecalendar_package() -> None:
    for path, text in calendar.expected_seeds().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} differs from the package: run `python -m sources.calendar`"
        )


def test_calendar_seed_has_the_2022_national_day_exceptions() -> None:
    with calendar.DAYS_FILE.open(encoding="utf-8", newline="") as f:
        days = {r["calendar_date"]: r["day_type"] for r in csv.DictReader(f)}
    # Weekday holidays 10-03..07 and the weekend make-up working days 10-08, 10-09; the
    # weekend days 10-01 and 10-02 are off anyway, so they are not exceptions.
    assert {d: days.get(d) for d in ("2022-10-01", "2022-10-03", "2022-10-07")} == {
        "2022-10-01": None,
        "2022-10-03": "holiday",
        "2022-10-07": "holiday",
    }
    assert days["2022-10-08"] == days["2022-10-09"] == "workday"


def test_accepted_values_in_models_match_the_contract() -> None:
    # Model yml files restate a few allowed-value lists; they must not drift from contracts.py.
    allowed = {c.name: list(c.allowed) for s in SOURCES.values() for c in s.columns if c.allowed}
    checked = 0
    for document in _model_ymls():
        for model in document.get("models", []):
            # The KPI tables' own code columns carry no source column (kpi_scorecard.status is
            # 达标/预警/落后, not a case status).
            if model["name"].startswith("kpi_"):
                continue
            for column in model.get("columns", []):
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        values = test["accepted_values"]["arguments"]["values"]
                        if column["name"] in allowed:
                            assert values == allowed[column["name"]], (model["name"], column)
                            checked += 1
    assert checked >= 10


def test_every_kpi_has_a_unit_test() -> None:
    with (DBT_DIR / "seeds" / "kpi_definitions.csv").open(encoding="utf-8", newline="") as f:
        kpi_codes = [r["kpi_code"] for r in csv.DictReader(f)]
    assert len(kpi_codes) == len(set(kpi_codes)) == 33
    tested: set[str] = set()
    for document in _model_ymls():
        for unit_test in document.get("unit_tests", []):
            for row in unit_test["expect"].get("rows", []):
                tested.update(row)
    assert [code for code in kpi_codes if code not in tested] == []


def test_every_mart_column_is_described_in_english_and_chinese() -> None:
    models = [
        model
        for path in sorted((DBT_DIR / "models" / "marts").rglob("_*__models.yml"))
        for model in yaml.safe_load(path.read_text("utf-8"))["models"]
    ]
    assert len(models) == 12
    for model in models:
        assert model["config"]["contract"] == {"enforced": True}, model["name"]
        for column in model["columns"]:
            description = column.get("description", "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in description), column["name"]
            assert any("a" <= ch.lower() <= "z" for ch in description), column["name"]
            assert column.get("data_type"), column["name"]


# The terminal summary's and the report's headline KPIs, in the order they are shown.
HEADLINE = [
    "avg_trips_per_case",
    "online_case_rate",
    "online_licensing_item_rate",
    "high_frequency_items",
    "one_window_items",
    "one_window_departments",
    "one_window_cases",
    "cross_region_cases",
    "enterprise_registration_2h_rate",
    "items_approval_cancelled",
    "items_approval_to_filing",
    "items_notification_commitment",
    "items_approval_optimized",
    "entities_total",
    "entities_net_growth_rate",
    "entities_new",
    "returnee_entities_new",
    "industrial_projects_signed",
    "industrial_investment_signed",
    "industrial_projects_started",
    "projects_signed",
    "contract_investment_signed",
    "projects_started",
    "projects_in_production",
]


def _kpi_definitions() -> list[dict[str, str]]:
    with (DBT_DIR / "seeds" / "kpi_definitions.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_kpi_seed_ranks_the_headline_kpis_in_the_order_they_are_shown() -> None:
    ranked = sorted(
        (int(r["headline_rank"]), r["kpi_code"]) for r in _kpi_definitions() if r["headline_rank"]
    )
    assert [code for _, code in ranked] == HEADLINE
    assert [rank for rank, _ in ranked] == list(range(1, len(HEADLINE) + 1))


def test_kpi_seed_orders_each_domain_from_1_as_the_report_shows_it() -> None:
    rows = _kpi_definitions()
    by_domain: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        by_domain.setdefault(r["domain"], []).append((int(r["display_order"]), r["kpi_code"]))
    for domain, ranked in by_domain.items():
        assert sorted(o for o, _ in ranked) == list(range(1, len(ranked) + 1)), domain
    first = {d: min(ranked)[1] for d, ranked in by_domain.items()}
    assert first == {
        "permit_cases": "avg_trips_per_case",
        "service_items": "online_licensing_item_rate",
        "market_entities": "entities_total",
        "investment_projects": "industrial_projects_signed",
    }


def test_kpi_seed_prints_each_unit_as_the_district_report_does() -> None:
    words = {"trips": {"次"}, "ratio": {"%"}, "100m_cny": {"亿元"}, "10k_cny_per_mu": {"万元/亩"}}
    decimals = {"trips": "2", "ratio": "1", "100m_cny": "1", "10k_cny_per_mu": "1", "count": "0"}
    rows = {r["kpi_code"]: r for r in _kpi_definitions()}
    for code, r in rows.items():
        assert r["unit_word"] in words.get(r["unit"], {"件", "项", "个", "户"}), code
        assert r["decimals"] == decimals[r["unit"]], code
    # 办件1万余件, 169项, 18个部门, 100425户, 引进工业项目53个.
    assert [rows[c]["unit_word"] for c in ("cases_completed", "one_window_items")] == ["件", "项"]
    assert [rows[c]["unit_word"] for c in ("one_window_departments", "entities_total")] == [
        "个",
        "户",
    ]
    assert rows["industrial_projects_signed"]["unit_word"] == "个"


def test_kpi_seed_explains_every_kpi_in_plain_chinese() -> None:
    for r in _kpi_definitions():
        text = r["description_zh"]
        assert text.endswith("。") and text.count("。") == 1, r["kpi_code"]
        # For leaders: no English, no column or code names.
        assert not any("a" <= ch.lower() <= "z" or ch == "_" for ch in text), r["kpi_code"]


def test_project_stages_are_the_register_s_stages_in_order_without_termination() -> None:
    with (DBT_DIR / "seeds" / "investment_project_stages.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    (stage,) = [c for c in SOURCES["investment_projects"].columns if c.name == "stage"]
    assert [r["stage"] for r in rows] == [s for s in stage.allowed if s != "终止"]
    assert [int(r["stage_order"]) for r in rows] == [1, 2, 3, 4, 5]
