"""warehouse_slot: part of a step holds the one slot of the warehouse's pool, as the executor
holds it for a whole step, on the instance `kzdw` configures; spark_turn: one Spark build of
a deployment at a time."""

import threading
import time

import dagster as dg

from kzdw.cli.operate import ensure_dagster_home
from kzdw.settings import Settings
from orchestration.lib.warehouse import WAREHOUSE_POOL, spark_turn, warehouse_slot


def _take_turns(first_holder, second_holder, wait: float) -> list[str]:
    """Two threads, each holding what its context manager holds: the second asks while the
    first holds. What each saw when, checked at the moment the first lets go and after."""
    seen: list[str] = []
    first_holds, let_go = threading.Event(), threading.Event()

    def first():
        with first_holder():
            seen.append("a in")
            first_holds.set()
            let_go.wait(10)
            seen.append("a out")

    def second():
        first_holds.wait(10)
        with second_holder():
            seen.append("b in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds.wait(10)
    time.sleep(wait)
    assert seen == ["a in"]  # the second waits while the first holds
    let_go.set()
    for t in threads:
        t.join(20)
    return seen


def test_a_second_holder_waits_until_the_first_lets_go(tmp_path):
    ensure_dagster_home(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        seen = _take_turns(
            lambda: warehouse_slot(instance, "run-a", "kzdw_dbt_models[publish]"),
            lambda: warehouse_slot(instance, "run-b", "raw__permit_cases[load]"),
            wait=1.5,  # three looks of the waiting holder
        )
        assert seen == ["a in", "a out", "b in"]
        # Both claims were given back: the pool is free for the next writer.
        info = instance.event_log_storage.get_pool_limits()
        assert [p.name for p in info] == [WAREHOUSE_POOL]
        with warehouse_slot(instance, "run-c", "serving__warehouse[publish]"):
            claimed = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
            assert [s.step_key for s in claimed.claimed_slots] == ["serving__warehouse[publish]"]
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []


def test_a_step_that_waits_is_not_stuck_behind_its_own_runs_waiting_steps(tmp_path):
    """Run A's executor queued a claim for a step the pool blocked (run B held the slot) and
    went on to its dbt step, which waits for the slot inside the step. When B lets go the slot
    goes to the first claim in the queue: A's other step, which cannot start before the dbt
    step ends. The dbt step takes that step out of the queue and gets the slot; the executor
    claims for the other step again when it comes back to it."""
    ensure_dagster_home(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        got: list[str] = []
        b_holds, b_let_go = threading.Event(), threading.Event()

        def run_b():
            with warehouse_slot(instance, "run-b", "serving__warehouse"):
                b_holds.set()
                b_let_go.wait(10)

        def run_a_dbt_step():
            with warehouse_slot(instance, "run-a", "kzdw_dbt_models[build]"):
                got.append("a dbt step")

        b = threading.Thread(target=run_b, daemon=True)
        b.start()
        b_holds.wait(10)
        # A's executor: a step the pool blocks, queued first.
        assert not storage.claim_concurrency_slot(
            WAREHOUSE_POOL, "run-a", "raw__permit_cases_permit_cases_is_fresh"
        ).is_claimed
        time.sleep(1.1)  # the queue's order is by the second a claim was made
        a = threading.Thread(target=run_a_dbt_step, daemon=True)
        a.start()
        time.sleep(1.0)
        assert got == []
        b_let_go.set()
        b.join(10)
        a.join(10)
        assert got == ["a dbt step"]
        # The executor's claim for the other step, made again, is served now the step is done.
        assert storage.claim_concurrency_slot(
            WAREHOUSE_POOL, "run-a", "raw__permit_cases_permit_cases_is_fresh"
        ).is_claimed
        storage.free_concurrency_slot_for_step("run-a", "raw__permit_cases_permit_cases_is_fresh")
        info = storage.get_concurrency_info(WAREHOUSE_POOL)
        assert (info.claimed_slots, info.pending_steps) == ([], [])


def test_a_holder_that_fails_gives_the_slot_back(tmp_path):
    ensure_dagster_home(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        try:
            with warehouse_slot(instance, "run-a", "kzdw_dbt_models[build]"):
                raise RuntimeError("dbt failed")
        except RuntimeError:
            pass
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert (info.slot_count, info.claimed_slots, info.pending_steps) == (1, [], [])


def test_spark_builds_of_a_deployment_take_turns(tmp_path):
    settings = Settings.from_env(
        {},
        KZDW_LANDING_DIR=str(tmp_path / "landing"),
        KZDW_WAREHOUSE=str(tmp_path / "w.duckdb"),
        KZDW_ENGINE="spark",
    )
    said: list[str] = []

    class Log:
        def info(self, message: str) -> None:
            said.append(message)

    seen = _take_turns(lambda: spark_turn(settings), lambda: spark_turn(settings, Log()), wait=1.0)
    assert seen == ["a in", "a out", "b in"]
    assert said == ["waiting for another run's Spark build of this deployment to end"]
    # The turn is the deployment's: under its Spark folder, beside the warehouse.
    assert (settings.spark_dir / ".build.lock").is_file()
    assert settings.spark_dir.parent.parent == tmp_path
