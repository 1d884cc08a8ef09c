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
    for path in sorted(MARTS_DIR.glob("*.yml")):
        models.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []))
    return models


def test_every_mart_model_file_is_documented() -> None:
    documented = {m["name"] for m in _mart_models()}
    assert {p.stem for p in MARTS_DIR.glob("*.sql")} == documented


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
