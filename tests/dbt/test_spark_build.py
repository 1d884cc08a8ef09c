"""The one dbt project on Apache Spark (KZDW_ENGINE=spark) ends with DuckDB's marts and seeds.

The hand-made raw rows of `raw_rows.py` go into a DuckDB warehouse, which DuckDB builds (models
and seeds) and from which the lake is written as the loader writes it. dbt then builds the
project on a local Spark session over that lake: every model, seed and KPI unit test (`dbt build
--target spark`; the data tests run on Spark in `kzdw run`, tests/test_spark_engine.py). Every
marts and seeds table Spark wrote must hold DuckDB's rows, with DuckDB's column types, read back
by DuckDB from Spark's Parquet files. Then a later load (a case moved to another day, a
completion day corrected, a newer version, a new case) is built incrementally on both engines:
Spark's marts must again be DuckDB's, and those that are not a history of builds must be a full
rebuild's. Last, the demo's raw layer (the shared demo, loaded and built by `kzdw run` on
DuckDB) is built on Spark up to the KPI table (`+kpi_values`: the other marts were compared
table by table above): its 2022 KPIs are the district's published figures, and its KPI table
and seeds DuckDB's, at the demo's volume.

Three dbt invocations on Spark in all, one after another in one process (`DbtHost`), so that
they share one local session: its JVM starts once and compiles Spark's code once. The demo's
build has a schema of its own in that session's metastore."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from sources.warehouse import ensure_schema
from tests.dbt.raw_rows import FILES, Row, insert_raw_rows
from tests.dbt.spark_lake import (
    BUILD_STAMPS,
    DBT_DIR,
    DbtHost,
    dbt,
    differences,
    record_file_loads,
    spark_env,
    spark_tables,
    write_lake,
)
from tests.test_demo_end_to_end import outside_the_figures

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Tables that record builds: a full rebuild starts them again by design.
HISTORY = {"kpi_builds", "kpi_value_history", "kpi_revisions"}
# kpi_revisions.revised_at is the build that saw a revision.
STAMPS = BUILD_STAMPS | {"revised_at"}


def _case(case_id: str, **fields: object) -> Row:
    return dict(case_id=case_id, applicant_type="法人", **fields)


LATER: list[tuple[str, str, list[Row]]] = [
    (
        "permit_cases",
        "cases_2023a.csv",
        [
            # C4's submission date corrected: 1 November is left with no case.
            _case(
                "C4",
                item_code="I2",
                channel="窗口办理",
                intake="部门窗口",
                submitted_at="2022-11-02 08:00:00",
                status="不予受理",
                trips=0,
                promised_days=5,
                updated_at="2023-01-11 08:00:00",
            ),
            # C3 completed a day later than first exported: a closed month is revised.
            _case(
                "C3",
                item_code="I3",
                channel="窗口办理",
                intake="川渝通办",
                submitted_at="2022-10-10 08:00:00",
                accepted_at="2022-10-10 10:00:00",
                completed_at="2022-10-13 17:00:00",
                status="已办结",
                trips=2,
                promised_days=2,
                updated_at="2023-01-11 09:00:00",
            ),
            # A newer version of C1: trips 0 -> 2.
            _case(
                "C1",
                item_code="I1",
                channel="全程网办",
                intake="网上申报",
                submitted_at="2022-09-29 10:00:00",
                accepted_at="2022-09-30 09:00:00",
                completed_at="2022-10-08 16:00:00",
                status="已办结",
                trips=2,
                promised_days=1,
                rating="满意",
                updated_at="2023-01-11 10:00:00",
            ),
            _case(
                "C9",
                item_code="I1",
                channel="全程网办",
                intake="网上申报",
                submitted_at="2023-01-11 11:00:00",
                status="已申请",
                trips=0,
                promised_days=3,
                updated_at="2023-01-11 11:00:00",
            ),
        ],
    )
]


# The demo's build beside the hand-made rows' in the one session: databases demo_marts, ...
DEMO_SCHEMA = "demo"


@dataclass
class Deployment:
    root: Path
    spark: DbtHost

    @property
    def warehouse(self) -> Path:
        return self.root / "w.duckdb"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def spark_dir(self) -> Path:
        return self.spark.spark_dir

    def duckdb_env(self, warehouse: Path | None = None) -> dict[str, str]:
        return {
            "KZDW_WAREHOUSE": str(warehouse or self.warehouse),
            "KZDW_DUCKDB_TEMP_DIR": str(self.root / "duckdb.tmp"),
        }

    def load(self, files: list[tuple[str, str, list[Row]]], first_load_id: int) -> None:
        """Rows into DuckDB's raw layer and audit.file_loads, and the new loads into the lake."""
        con = duckdb.connect(str(self.warehouse))
        try:
            ensure_schema(con)
            insert_raw_rows(con, files, first_load_id=first_load_id)
            record_file_loads(con, files, first_load_id=first_load_id)
            write_lake(con, self.lake)
        finally:
            con.close()


def _ok(result) -> None:
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """The process the module's dbt commands on Spark run in, and its session's folder."""
    host = DbtHost(tmp_path_factory.mktemp("spark_session") / "spark")
    yield host
    host.close()


@pytest.fixture(scope="module")
def built(spark: DbtHost, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployment = Deployment(tmp_path_factory.mktemp("spark_build"), spark)
    deployment.load(FILES, first_load_id=1)
    _ok(
        dbt(
            deployment.root / "duckdb",
            "build",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            env=deployment.duckdb_env(),
        )
    )
    # The data tests run on Spark in every `kzdw run` with KZDW_ENGINE=spark
    # (tests/test_spark_engine.py); here the models, the seeds and every KPI's unit tests.
    _ok(
        spark.dbt(
            deployment.root / "spark_build",
            "build",
            "--target",
            "spark",
            "--exclude-resource-type",
            "test",
            env=spark_env(deployment.lake, deployment.spark_dir),
        )
    )
    return deployment


@pytest.fixture(scope="module")
def built_again(built: Deployment) -> tuple[Deployment, Path]:
    """The later load built incrementally on both engines, and a full DuckDB rebuild of it."""
    built.load(LATER, first_load_id=len(FILES) + 1)
    _ok(dbt(built.root / "duckdb", "run", env=built.duckdb_env()))
    _ok(
        built.spark.dbt(
            built.root / "spark_run",
            "run",
            "--target",
            "spark",
            env=spark_env(built.lake, built.spark_dir),
        )
    )
    full = built.root / "full.duckdb"
    shutil.copyfile(built.warehouse, full)
    _ok(dbt(built.root / "full", "run", "--full-refresh", env=built.duckdb_env(full)))
    return built, full


def test_spark_build_runs_every_model_seed_and_unit_test(built: Deployment) -> None:
    results = json.loads(
        (built.root / "spark_build" / "target" / "run_results.json").read_text("utf-8")
    )["results"]
    by_kind: dict[str, dict[str, int]] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        statuses = by_kind.setdefault(kind, {})
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    assert by_kind.pop("unit_test") == {"pass": 57}
    assert by_kind.pop("seed") == {"success": 5}
    assert by_kind.pop("model") == {"success": 30}
    assert set(by_kind) <= {"operation"}  # the on-run-start hook


def test_spark_marts_and_seeds_are_duckdb_s(built: Deployment) -> None:
    for layer in ("marts", "seeds"):
        assert differences(built.warehouse, built.spark_dir, layer) == []
    # The comparison compared something: the scorecard's sentences, the KPIs of 2022.
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        (reasons,) = con.execute("select count(status_reason) from marts.kpi_scorecard").fetchone()
    finally:
        con.close()
    assert reasons == 8


def test_spark_writes_only_under_its_folder(built: Deployment) -> None:
    assert (built.spark_dir / "metastore_db").is_dir()
    assert (built.spark_dir / "derby.log").is_file()
    assert (built.spark_dir / "warehouse" / "kzdw_marts.db" / "kpi_values").is_dir()
    for folder in (DBT_DIR, DBT_DIR.parent, built.root / "spark_build"):
        for name in ("spark-warehouse", "metastore_db", "derby.log"):
            assert not (folder / name).exists(), folder / name


def test_incremental_spark_build_is_duckdb_s_and_a_full_rebuild(
    built_again: tuple[Deployment, Path],
) -> None:
    built, full = built_again
    for layer in ("marts", "intermediate"):
        # DuckDB's types are the marts' contracts; intermediate sums may differ in width.
        same_types = layer == "marts"
        assert (
            differences(
                built.warehouse, built.spark_dir, layer, ignore=STAMPS, same_types=same_types
            )
            == []
        ), layer
        assert (
            differences(
                full,
                built.spark_dir,
                layer,
                ignore=STAMPS,
                same_types=same_types,
                skip_tables=HISTORY,
            )
            == []
        ), layer
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        days = {
            str(day)
            for (day,) in con.execute(
                "select activity_date from intermediate.int_permit_cases_summed_by_day"
            ).fetchall()
        }
        revised = con.execute(
            "select distinct kpi_code from marts.kpi_revisions where period_start = '2022-10-01'"
        ).fetchall()
    finally:
        con.close()
    # The load did what it says: 1 November left with no case, October's trips revised.
    assert "2022-11-01" not in days and "2022-11-02" in days
    assert ("avg_trips_per_case",) in revised


@pytest.fixture(scope="module")
def demo_on_spark(
    demo, spark: DbtHost, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The shared demo's raw layer and audit written as the lake, the KPI table and every
    model and seed it is computed from built on Spark in the schema DEMO_SCHEMA: (the demo's
    DuckDB warehouse, the Spark folder)."""
    deployment, _ = demo
    root = tmp_path_factory.mktemp("spark_demo")
    con = duckdb.connect(str(deployment.warehouse), read_only=True)
    try:
        write_lake(con, root / "lake")
    finally:
        con.close()
    _ok(
        spark.dbt(
            root / "build",
            "build",
            "--target",
            "spark",
            "--select",
            "+kpi_values",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            env=spark_env(root / "lake", spark.spark_dir, DEMO_SCHEMA),
        )
    )
    return deployment.warehouse, spark.spark_dir


def test_the_demo_on_spark_reproduces_the_2022_figures(demo_on_spark: tuple[Path, Path]) -> None:
    warehouse, spark_dir = demo_on_spark
    kpi_values = spark_tables(spark_dir, "marts", DEMO_SCHEMA)["kpi_values"]
    con = duckdb.connect()
    try:
        values = dict(
            con.execute(
                "select kpi_code, value from read_parquet(?) "
                "where period_type = 'year' and period_start = date '2022-01-01'",
                [str(kpi_values / "*.parquet")],
            ).fetchall()
        )
    finally:
        con.close()
    assert outside_the_figures(values) == []
    # Of the marts, the KPI table: its ancestors (facts, dimensions) were compared on the
    # hand-made rows, and row by row at this volume they would cost more than they find.
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        other_marts = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() "
                "where schema_name = 'marts' and table_name <> 'kpi_values'"
            ).fetchall()
        }
    finally:
        con.close()
    assert other_marts
    for layer, skipped in (("marts", other_marts), ("seeds", set())):
        found = differences(
            warehouse, spark_dir, layer, ignore=STAMPS, skip_tables=skipped, schema=DEMO_SCHEMA
        )
        assert found == [], layer
