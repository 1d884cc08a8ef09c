"""`kzdw run` says what went wrong and exits non-zero when a setting or a step fails."""

import os

import pytest


def test_bad_as_of_is_refused_before_anything_runs(deployment):
    run = deployment.kzdw("run", "--as-of", "2022-13-01")
    assert run.returncode == 2
    assert "not a date" in run.output and "YYYY-MM-DD" in run.output
    assert not deployment.warehouse.exists()


@pytest.mark.slow
def test_a_failing_step_fails_the_run_with_its_reason(deployment):
    env_serving = deployment.root / "serving" / "other.duckdb"
    deployment.landing.mkdir(parents=True)
    run = deployment.kzdw("run", extra_env={"KZDW_SERVING": str(env_serving)})
    assert run.returncode == 1, run.output
    assert "step serving__warehouse failed" in run.output
    assert "same file name as the warehouse" in run.output
    assert "warehouse_job FAILED" in run.output
    assert not env_serving.exists()


def test_dotenv_fills_what_the_environment_does_not_set(tmp_path, monkeypatch):
    from orchestration.cli import load_dotenv

    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\nKZDW_TEST_SET=from-dotenv\nKZDW_TEST_UNSET = 'quoted value'\n\nNOEQUALS\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KZDW_TEST_SET", "from-environment")
    monkeypatch.delenv("KZDW_TEST_UNSET", raising=False)
    applied = load_dotenv(dotenv)
    # Set in the environment: the environment wins (dagster dev's own .env loading would not).
    assert applied == {"KZDW_TEST_UNSET": "quoted value"}
    assert os.environ["KZDW_TEST_SET"] == "from-environment"
    assert os.environ["KZDW_TEST_UNSET"] == "quoted value"
    monkeypatch.delenv("KZDW_TEST_UNSET")
