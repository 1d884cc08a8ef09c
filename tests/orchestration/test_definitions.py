"""The code location loads whole, and its graph runs landing → raw → staging → marts → KPIs."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest


@pytest.fixture(scope="module")
def defs():
    # Importing the code location reads no setting and runs nothing (no dbt parse): the
    # settings are read when a run, check or sensor tick starts.
    from orchestration.definitions import defs

    return defs


SOURCES = ("market_entities", "permit_cases", "service_items", "investment_projects")


def test_graph_connects_raw_to_kpis(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{s}" for s in SOURCES} <= keys
    assert {"marts/kpi_values", "marts/dim_dates", "staging/stg_permit_cases__cases"} <= keys

    def upstream(key: dg.AssetKey) -> set[str]:
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent.to_user_string() not in seen:
                    seen.add(parent.to_user_string())
                    todo.append(parent)
        return seen

    assert {f"raw/{s}" for s in SOURCES} <= upstream(dg.AssetKey(["marts", "kpi_values"]))


def test_raw_assets_are_grouped_by_source_and_carry_blocking_checks(defs):
    graph = defs.resolve_asset_graph()
    for source in SOURCES:
        node = graph.get(dg.AssetKey(["raw", source]))
        assert node.group_name == source
        specs = {s.name: s for s in node.assets_def.check_specs}
        assert specs[f"{source}_files_reconcile"].blocking
        assert specs[f"{source}_batch_meets_suite"].blocking
        # Shape warnings must not stop automation (which waits on failed blocking checks).
        assert not specs[f"{source}_batch_shape"].blocking
        separate = {s.name: s for c in defs.asset_checks for s in c.check_specs}
        assert not separate[f"{source}_is_fresh"].blocking
    staging = graph.get(dg.AssetKey(["staging", "stg_permit_cases__cases"]))
    assert staging.group_name == "permit_cases"


def test_kpi_table_has_its_completeness_check_and_dbt_tests(defs):
    checks = {
        (k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys
    }
    assert ("marts/kpi_values", "kpi_values_are_complete") in checks
    assert ("marts/kpi_values", "kpi_values_required_columns_are_filled") in checks
    assert any(a == "marts/kpi_values" and n.startswith("unique") for a, n in checks)


def test_the_job_covers_every_asset(defs):
    job = defs.resolve_job_def("warehouse_job")
    graph = defs.resolve_asset_graph()
    selected = job.asset_layer.selected_asset_keys
    assert selected == graph.get_all_asset_keys() - {
        k for k in graph.get_all_asset_keys() if graph.get(k).is_external
    }


def test_sensors_and_schedule(defs):
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"landing_sensor", "kzdw_automation_sensor"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    hourly = defs.resolve_schedule_def("freshness_checks_schedule")
    assert hourly.default_status == dg.DefaultScheduleStatus.RUNNING
    schedule = defs.resolve_schedule_def("marts_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Asia/Shanghai")
    marts = defs.resolve_job_def("marts_job").asset_layer.selected_asset_keys
    assert dg.AssetKey(["marts", "kpi_values"]) in marts
    assert not any(k.path[0] == "raw" for k in marts)


def test_writers_share_one_pool(defs):
    """The loads and the serving copy wait for the warehouse's slot by their pool; the dbt step
    takes the same slot itself (`warehouse_slot`, tests/orchestration/test_warehouse_slot.py):
    for its whole build on DuckDB, only around its DuckDB parts on Spark."""
    graph = defs.resolve_asset_graph()
    for key in (
        dg.AssetKey(["raw", "permit_cases"]),
        dg.AssetKey(["serving", "warehouse"]),
    ):
        assert graph.get(key).assets_def.op.pool == "duckdb_warehouse"
    assert graph.get(dg.AssetKey(["marts", "kpi_values"])).assets_def.op.pool is None


def test_everything_downstream_of_a_load_follows_by_automation(defs):
    graph = defs.resolve_asset_graph()
    raw = {dg.AssetKey(["raw", s]) for s in SOURCES}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        condition = node.automation_condition
        if key in raw:
            # Loads are requested by the landing sensors, with the files they saw.
            assert condition is None, key
        else:
            assert condition is not None and condition.get_label() == "after upstream updates", key

    # Built when something it reads changed, or when missing; never on a failed blocking check.
    def labels(condition) -> set[str]:
        return {condition.get_label()}.union(*(labels(c) for c in condition.children))

    condition = graph.get(dg.AssetKey(["serving", "warehouse"])).automation_condition
    assert {"eager", "missing and buildable", "no upstream blocking check failed"} <= labels(
        condition
    )


def test_importing_the_code_location_reads_no_setting_and_writes_nothing(tmp_path):
    # A fresh process, as each Dagster run is: no dbt parse, no environment writes, no files.
    # (Polars sets its allocator's own variable when imported: only ours and our tools' count.)
    probe = (
        "import os, sys\n"
        "ours = lambda: {k: v for k, v in os.environ.items()\n"
        "    if k.startswith(('KZDW_', 'DBT_', 'DAGSTER_', 'GX_'))}\n"
        "before = ours()\n"
        "import orchestration.definitions\n"
        "sys.exit(0 if ours() == before else 1)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DBT_"))}
    env["KZDW_WAREHOUSE"] = str(tmp_path / "nowhere" / "w.duckdb")
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_dg_check_defs_loads_the_project(tmp_path):
    # Dagster's own check of the project layout (pyproject's [tool.dg]: orchestration/defs).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DBT_"))}
    env.update(VIRTUAL_ENV=sys.prefix, DAGSTER_HOME=str(tmp_path))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dg")), "check", "defs"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All definitions loaded successfully" in proc.stdout + proc.stderr


def test_each_domain_holds_its_objects_in_fixed_file_names():
    defs_dir = Path(__file__).resolve().parents[2] / "orchestration" / "defs"
    allowed = {"__init__.py", "assets.py", "checks.py", "sensors.py", "schedules.py"}
    allowed |= {"jobs.py", "resources.py"}
    for folder in (p for p in defs_dir.iterdir() if p.is_dir() and p.name != "__pycache__"):
        files = {p.name for p in folder.glob("*.py")}
        assert files <= allowed, (folder.name, files - allowed)
    domains = {p.name for p in defs_dir.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert domains == {
        "market_entities",
        "permit_cases",
        "service_items",
        "investment_projects",
        "dbt",
        "serving",
        "reports",
        "warehouse",
    }


def test_a_runs_process_imports_neither_dbt_nor_spark():
    """dbt runs from its own environment (dbt_env/), as separate commands: a run's process,
    which loads the code location and checks the manifest as `kzdw run` does, imports no dbt
    and no pyspark (dagster-dbt then uses its own stand-ins for dbt's types), and the dbt it
    starts is the one of dbt's environment, with the same DuckDB as this environment's, since
    both write the one warehouse file."""
    probe = (
        "import sys\n"
        "import orchestration.definitions\n"
        "from kzdw.cli.operate import ensure_manifest\n"
        "from dagster_dbt.compat import DBT_PYTHON_VERSION\n"
        "ensure_manifest()\n"
        "imported = {name.split('.')[0] for name, m in sys.modules.items() if m is not None}\n"
        "print(DBT_PYTHON_VERSION, sorted(imported & {'dbt', 'dbt_common', 'pyspark'}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DBT_"))}
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", "[]"]

    from kzdw.settings import DBT_ENVIRONMENT
    from orchestration.lib.dbt import DBT_EXECUTABLE, DBT_PYTHON

    assert Path(DBT_EXECUTABLE) == DBT_ENVIRONMENT / "bin" / "dbt"
    theirs = subprocess.run(
        [DBT_PYTHON, "-c", "import duckdb, dbt.version; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout.strip() == duckdb.__version__
