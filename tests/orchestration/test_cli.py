"""`kzdw run` says what went wrong and exits non-zero when a setting or a step fails."""

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
