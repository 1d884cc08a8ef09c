"""`kzdw run` refuses bad settings at once and says what went wrong when a step fails."""

import os
import signal
from unittest import mock

import pytest

from kzdw.cli.common import read_dotenv


def test_bad_as_of_is_refused_before_anything_runs(deployment):
    run = deployment.kzdw("run", "--as-of", "2022-13-01")
    assert run.returncode == 2
    assert "not a date" in run.output and "YYYY-MM-DD" in run.output
    assert not deployment.warehouse.exists()


def test_a_serving_copy_of_another_name_is_refused_before_anything_runs(deployment):
    other = deployment.root / "serving" / "other.duckdb"
    run = deployment.kzdw("run", extra_env={"KZDW_SERVING": str(other)})
    assert run.returncode == 2, run.output
    assert "must have the warehouse's file name (warehouse.duckdb)" in run.output
    assert not deployment.warehouse.exists() and not other.exists()


@pytest.mark.slow
def test_a_failing_step_fails_the_run_with_its_reason(deployment):
    # Where the serving copy's folder should be there is a file: the publish step fails.
    deployment.landing.mkdir(parents=True)
    blocker = deployment.root / "serving"
    blocker.write_text("not a folder", encoding="utf-8")
    run = deployment.kzdw("run")
    assert run.returncode == 1, run.output
    assert "step serving__warehouse failed" in run.output
    assert str(blocker) in run.output
    assert "warehouse_job FAILED" in run.output
    assert "Traceback" not in run.output
    assert blocker.read_text(encoding="utf-8") == "not a folder"

    # The blocker gone, the same deployment, with no file loaded yet, runs clean: nothing to
    # report is no failure, and the run says why there is no report.
    blocker.unlink()
    run = deployment.kzdw("run")
    assert run.returncode == 0, run.output
    assert "warehouse_job succeeded" in run.output
    assert "no report written: 指标表为空" in run.output and "landing folder" in run.output
    assert not (deployment.root / "reports").exists()


def test_dotenv_is_read_as_data(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\nKZDW_TEST_SET=from-dotenv\nKZDW_TEST_UNSET = 'quoted value'\n\nNOEQUALS\n",
        encoding="utf-8",
    )
    assert read_dotenv(dotenv) == {
        "KZDW_TEST_SET": "from-dotenv",
        "KZDW_TEST_UNSET": "quoted value",
    }
    assert read_dotenv(tmp_path / "missing") == {}


def test_a_kzdw_process_stops_on_sigterm_even_when_its_parent_ignored_it(tmp_path, capsys):
    """An ignored SIGTERM is inherited across exec: `kzdw dev` or `kzdw docs` started by such
    a parent (a test worker did this) could not be stopped, nor what they start."""
    from kzdw.cli import main

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        env = {"KZDW_WAREHOUSE": str(tmp_path / "w.duckdb")}
        with mock.patch.dict(os.environ, env):
            assert main(["settings"]) == 0
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "KZDW_WAREHOUSE" in capsys.readouterr().out
