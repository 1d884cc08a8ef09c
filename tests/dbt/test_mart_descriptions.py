"""Every mart model and every mart column is described in Chinese and in English (analysts
read the catalogue in either), e.g. "平均跑动次数 / Average in-person trips per case"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

MARTS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"


def _is_bilingual(text: str | None) -> bool:
    text = text or ""
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    has_latin = any("a" <= ch.lower() <= "z" for ch in text)
    return has_cjk and has_latin


def _mart_models() -> list[dict[str, Any]]:
    models = []
    for path in sorted(MARTS_DIR.rglob("*.yml")):
        models.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []))
    return models


def test_every_mart_model_file_is_documented() -> None:
    documented = {m["name"] for m in _mart_models()}
    assert {p.stem for p in MARTS_DIR.rglob("*.sql")} == documented


def test_each_mart_folder_documents_and_unit_tests_its_own_models_in_one_yml() -> None:
    # Marts sit in one folder per area; each folder's _<dir>__models.yml (STYLE.md) holds the
    # models of that folder and their unit tests, so a model's tests are found beside it.
    assert not list(MARTS_DIR.glob("*.sql")), "a mart belongs in an area folder"
    for folder in sorted(p for p in MARTS_DIR.iterdir() if p.is_dir()):
        sql = {p.stem for p in folder.glob("*.sql")}
        assert sql, folder
        document = yaml.safe_load(
            (folder / f"_{folder.name}__models.yml").read_text(encoding="utf-8")
        )
        assert {m["name"] for m in document["models"]} == sql, folder.name
        tested = {u["model"] for u in document.get("unit_tests", [])}
        assert tested <= sql, folder.name


@pytest.mark.parametrize("model", _mart_models(), ids=lambda m: m["name"])
def test_mart_model_and_columns_are_described_in_chinese_and_english(model) -> None:
    assert _is_bilingual(model.get("description")), model["name"]
    assert model.get("columns"), f"{model['name']} lists no columns"
    undescribed = [c["name"] for c in model["columns"] if not _is_bilingual(c.get("description"))]
    assert undescribed == [], f"{model['name']}: {undescribed}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平均跑动次数 / Average in-person trips per case", True),
        ("平均跑动次数", False),
        ("Average in-person trips per case", False),
        (None, False),
    ],
)
def test_the_check_needs_both_scripts(text, expected) -> None:
    assert _is_bilingual(text) is expected
