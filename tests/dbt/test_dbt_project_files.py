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
    marts = yaml.safe_load((DBT_DIR / "models/marts/_marts__models.yml").read_text("utf-8"))
    for model in marts["models"]:
        assert model["config"]["contract"] == {"enforced": True}, model["name"]
        for column in model["columns"]:
            description = column.get("description", "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in description), column["name"]
            assert any("a" <= ch.lower() <= "z" for ch in description), column["name"]
            assert column.get("data_type"), column["name"]
