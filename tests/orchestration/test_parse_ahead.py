"""A new deployment's dbt parse is made ahead, while its files load, and the build then starts
from it instead of parsing the whole project."""

import json
from pathlib import Path

from kzdw.settings import Settings
from orchestration.lib.dbt import (
    DUCKDB_OUTPUT,
    adopt_prepared_parse,
    invocation_folder,
    parse_ahead,
    run_dbt,
    saved_parse,
)


def test_the_build_starts_from_the_parse_made_ahead(tmp_path):
    settings = Settings.from_env(
        {},
        KZDW_LANDING_DIR=str(tmp_path / "landing"),
        KZDW_WAREHOUSE=str(tmp_path / "w.duckdb"),
    )
    saved = saved_parse(settings, DUCKDB_OUTPUT)
    assert not saved.exists()
    assert parse_ahead(settings) is True
    assert saved.exists()
    assert parse_ahead(settings) is False  # made once
    folder = invocation_folder(settings, "0123456789abcdef")
    done = run_dbt(settings, ["parse"], folder, DUCKDB_OUTPUT)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (folder / "dbt.log").read_text(encoding="utf-8")
    # dbt says why when it cannot start from a saved parse ("profile has changed", ...).
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    # Without it, the same invocation parses whole: the check above can fail.
    saved.unlink()
    folder = invocation_folder(settings, "0123456789abcdef")
    run_dbt(settings, ["parse"], folder, DUCKDB_OUTPUT)
    log = (folder / "dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled" not in log


def _nodes(manifest: Path) -> dict:
    """What a build reads of each parsed node and source: where it is and what it runs."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    keep = ("database", "schema", "alias", "relation_name", "raw_code", "depends_on", "config")
    nodes = {**data["nodes"], **data["sources"], **data["unit_tests"]}
    return {uid: {k: node.get(k) for k in keep} for uid, node in nodes.items()}


def test_a_deployment_starts_from_the_parse_made_with_the_code(tmp_path):
    """Only the warehouse's folder and DuckDB's resources differ from the connection `kzdw
    prepare` parsed with: the deployment's first parse is that one, and dbt's parse from it
    holds what a whole parse of the deployment holds."""
    settings = Settings.from_env(
        {},
        KZDW_LANDING_DIR=str(tmp_path / "landing"),
        KZDW_WAREHOUSE=str(tmp_path / "data" / "warehouse.duckdb"),
        KZDW_DUCKDB_MEMORY_LIMIT="1GB",
    )
    folder = invocation_folder(settings, "0123456789abcdef")
    assert adopt_prepared_parse(settings, folder) is True
    assert saved_parse(settings, DUCKDB_OUTPUT).exists()
    folder = invocation_folder(settings, "0123456789abcdef")
    done = run_dbt(settings, ["parse"], folder, DUCKDB_OUTPUT)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (folder / "dbt.log").read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in log and "Partial parsing enabled" in log
    whole = tmp_path / "whole"
    done = run_dbt(settings, ["parse", "--no-partial-parse"], whole, DUCKDB_OUTPUT)
    assert done.returncode == 0, done.stdout[-2000:]
    adopted, parsed = _nodes(folder / "manifest.json"), _nodes(whole / "manifest.json")
    assert len(parsed) > 150 and adopted == parsed
    assert {n["database"] for n in parsed.values() if n["database"]} == {"warehouse"}


def test_a_warehouse_named_otherwise_parses_for_itself(tmp_path):
    """The file's name is the database every node is in: another name, another parse."""
    settings = Settings.from_env(
        {},
        KZDW_LANDING_DIR=str(tmp_path / "landing"),
        KZDW_WAREHOUSE=str(tmp_path / "kaizhou.duckdb"),
    )
    assert adopt_prepared_parse(settings, invocation_folder(settings, "0123456789abcdef")) is False
    assert not saved_parse(settings, DUCKDB_OUTPUT).exists()
