"""A new deployment's dbt parse is made ahead, while its files load, and the build then starts
from it instead of parsing the whole project."""

from kzdw.settings import Settings
from orchestration.lib.dbt import (
    DUCKDB_OUTPUT,
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
