"""The instance kzdw writes keeps Dagster's event log files, through a storage that keeps one
engine per shard (orchestration/lib/event_log.py): the same events come back, also to
Dagster's own class, and the engines kept stay few however many runs are read."""

import os
import threading
import time

import dagster as dg
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from kzdw.cli.operate import ensure_dagster_home
from orchestration.lib.event_log import KEPT_ENGINES, EngineKeepingSqliteEventLogStorage


def _log(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level=20, user_message=message, run_id=run_id, timestamp=time.time()
    )


def test_kzdw_s_instance_stores_dagster_s_files_and_keeps_few_engines(tmp_path):
    # A folder name a YAML file must quote.
    home = tmp_path / "实例 home: #1"
    ensure_dagster_home(home)
    runs = [f"run-{i:02d}" for i in range(KEPT_ENGINES + 4)]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert type(storage) is EngineKeepingSqliteEventLogStorage
        for run_id in runs:
            for n in range(3):
                storage.store_event(_log(run_id, f"{run_id} line {n}"))
        # Read back, twice over: through kept engines and through engines made again.
        for run_id in runs + runs[:2]:
            records = storage.get_records_for_run(run_id).records
            messages = [r.event_log_entry.user_message for r in records]
            assert messages == [f"{run_id} line {n}" for n in range(3)]
        assert len(storage._engines) == KEPT_ENGINES
        # The runs read last are kept, the oldest made again when read and let go.
        assert "run-02" not in storage._engines
        assert {"run-00", "run-01", runs[-1]} <= set(storage._engines)
        # A kept connection serves another thread too (a web server answers from several).
        failed: list[BaseException] = []

        def store_from_another_thread() -> None:
            try:
                storage.store_event(_log(runs[-1], "from another thread"))
            except BaseException as exc:
                failed.append(exc)

        thread = threading.Thread(target=store_from_another_thread)
        thread.start()
        thread.join(30)
        assert failed == []
        assert len(storage.get_records_for_run(runs[-1]).records) == 4
    # Dagster's own class, on the same folder, finds the same events in the same files.
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert sorted(plain.get_all_run_ids()) == runs
    records = plain.get_records_for_run(runs[-1]).records
    assert [r.event_log_entry.user_message for r in records] == [
        *(f"{runs[-1]} line {n}" for n in range(3)),
        "from another thread",
    ]


def test_a_wipe_or_a_fork_leaves_no_connection_on_another_s_file(tmp_path):
    ensure_dagster_home(tmp_path)
    plain = SqliteEventLogStorage(str(tmp_path / "history" / "runs"))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.store_event(_log("run-a", "before the wipe"))
        storage.wipe()  # deletes run-a's file, which a kept connection had open
        storage.store_event(_log("run-a", "after the wipe"))
        # Written into the file on disk, where another connection reads it.
        records = plain.get_records_for_run("run-a").records
        assert [r.event_log_entry.user_message for r in records] == ["after the wipe"]

        pid = os.fork()
        if pid == 0:  # the child: its own connections, none of the parent's
            code = 0 if not storage._engines else 1
            try:
                storage.store_event(_log("run-child", "from the child"))
            except Exception:
                code = 2
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's kept connection still works, and sees what the child wrote.
        storage.store_event(_log("run-a", "after the fork"))
        records = storage.get_records_for_run("run-child").records
        assert [r.event_log_entry.user_message for r in records] == ["from the child"]
        assert len(storage.get_records_for_run("run-a").records) == 2
