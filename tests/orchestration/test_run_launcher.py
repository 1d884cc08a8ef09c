"""PreloadedRunLauncher on the instance `kzdw` configures: a run starts in a process forked
from the server that preloaded the libraries (Great Expectations already imported, Polars
not), runs to success, and a run terminated meanwhile ends canceled, as does a run whose
process died before it was terminated; a run of a code location on another Python goes to
Dagster's own launcher."""

import json
import os
import signal
import stat
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.errors import DagsterInvariantViolationError

from kzdw.cli.operate import ensure_dagster_home
from orchestration.lib import warm_dbt
from orchestration.lib.run_launcher import WORKER_PID_TAG, PreloadedRunLauncher
from tests.orchestration import launcher_jobs
from tests.waiting import until as _until


def _launch(
    instance: dg.DagsterInstance, report: Path, wait: float = 0.0, python: str | None = None
) -> dg.DagsterRun:
    recon = dg.reconstructable(launcher_jobs.report_job)
    origin = recon.get_python_origin()
    if python is not None:
        origin = origin._replace(
            repository_origin=origin.repository_origin._replace(executable_path=python)
        )
    run = instance.create_run_for_job(
        job_def=recon.get_definition(),
        run_config={"ops": {"report_process": {"config": {"path": str(report), "wait": wait}}}},
        job_code_origin=origin,
    )
    instance.launch_run(run.run_id, workspace=None)
    return run


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    ensure_dagster_home(home)
    # The run's process imports the test's job module from the checkout, as a code location.
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def test_a_run_starts_forked_with_the_libraries_loaded_and_a_terminated_run_ends_canceled(
    instance, tmp_path
):
    assert isinstance(instance.run_launcher, PreloadedRunLauncher)
    done = _launch(instance, tmp_path / "done.json")
    finished = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}
    _until(lambda: _status(instance, done.run_id) in finished, 120, "the first run ends")
    assert _status(instance, done.run_id) == dg.DagsterRunStatus.SUCCESS
    seen = json.loads((tmp_path / "done.json").read_text("utf-8"))
    # Forked from the preloading server: not this process's child, GX and dagster-dbt there
    # before the run imported anything of its own, Polars not (it is never preloaded).
    assert seen["imported"] == ["dagster_dbt", "great_expectations"]
    assert seen["ppid"] != os.getpid()
    assert instance.get_run_by_id(done.run_id).tags[WORKER_PID_TAG] == str(seen["pid"])
    # Its dbt commands go to the launcher's warm dbt server, which is listening.
    if warm_dbt.available():
        assert seen["dbt_socket"] == warm_dbt.shared_socket()
        _until(lambda: os.path.exists(seen["dbt_socket"]), 30, "the warm dbt server listens")
        assert stat.S_ISSOCK(os.stat(seen["dbt_socket"]).st_mode)

    waiting = _launch(instance, tmp_path / "waiting.json", wait=120)
    _until(lambda: (tmp_path / "waiting.json").exists(), 60, "the second run's op starts")
    assert instance.run_launcher.terminate(waiting.run_id)
    _until(
        lambda: _status(instance, waiting.run_id) == dg.DagsterRunStatus.CANCELED,
        30,
        "the terminated run ends canceled",
    )
    # Its process is gone: terminating again does nothing.
    assert not instance.run_launcher.terminate(waiting.run_id)


def test_terminating_a_run_whose_process_died_marks_it_canceled(instance, tmp_path):
    run = _launch(instance, tmp_path / "killed.json", wait=120)
    _until(lambda: (tmp_path / "killed.json").exists(), 60, "the run's op starts")
    pid = json.loads((tmp_path / "killed.json").read_text("utf-8"))["pid"]
    os.kill(pid, signal.SIGKILL)  # the run's process dies without a word to the instance
    _until(lambda: not _alive(pid), 30, "the run's process is gone")
    assert _status(instance, run.run_id) == dg.DagsterRunStatus.STARTED
    assert not instance.run_launcher.terminate(run.run_id)  # nothing left to interrupt
    assert _status(instance, run.run_id) == dg.DagsterRunStatus.CANCELED


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def test_a_run_on_another_python_goes_to_dagsters_launcher(instance, tmp_path):
    assert str(tmp_path / "another" / "python") != sys.executable
    # Dagster's launcher starts runs on the code location's server, which needs a workspace.
    with pytest.raises(DagsterInvariantViolationError, match="requires a workspace"):
        _launch(instance, tmp_path / "elsewhere.json", python=str(tmp_path / "another" / "python"))
    assert not (tmp_path / "elsewhere.json").exists()
