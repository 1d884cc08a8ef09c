"""A lake for dbt on Spark made from a DuckDB warehouse, and the marts of both read back.

The lake is laid out as the loader writes it for KZDW_ENGINE=spark (sources/lake.py): each
load's rows of `raw.<source>` as `<lake>/<source>/load=<load_id>/part-*.parquet`, and the whole of
`audit.file_loads` as `<lake>/_audit/file_loads.parquet`, both written by DuckDB's own
Parquet writer. Spark's tables are plain Parquet under `<spark dir>/warehouse/<db>.db/<table>/`,
which DuckDB reads back, so every comparison is worked out by DuckDB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb

from kzdw.settings import dbt_command
from sources.contracts import SOURCES

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = dbt_command("dbt")
SPARK_SCHEMA = "kzdw"

# Columns that record a build, not the data: they differ between any two builds.
BUILD_STAMPS = {"_built_at", "_cases_built_at", "build_id", "built_at"}


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def record_file_loads(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[str, str, list[dict]]],
    first_load_id: int = 1,
) -> None:
    """One audit.file_loads row per hand-made file, as the loader records a loaded file
    (raw_rows.insert_raw_rows writes only the rows)."""
    for load_id, (source, file_name, rows) in enumerate(files, start=first_load_id):
        digest = hashlib.sha256(f"{load_id}:{file_name}".encode()).hexdigest()
        con.execute(
            "insert into audit.file_loads (load_id, source, file_name, file_path, file_hash, "
            "status, rows_read, rows_loaded, rows_rejected, loaded_at) "
            "values (?, ?, ?, ?, ?, 'loaded', ?, ?, 0, ?)",
            [
                load_id,
                source,
                file_name,
                f"landing/{source}/{file_name}",
                digest,
                len(rows),
                len(rows),
                dt.datetime(2023, 1, 10, 18, 0) + dt.timedelta(minutes=load_id),
            ],
        )


def write_lake(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Write every load of the raw layer not in the lake yet, and audit.file_loads whole."""
    for source in SOURCES:
        (lake / source).mkdir(parents=True, exist_ok=True)
        load_ids = con.execute(f"select distinct _load_id from raw.{source}").fetchall()
        for (load_id,) in load_ids:
            folder = lake / source / f"load={load_id}"
            if folder.exists():
                continue
            folder.mkdir()
            con.execute(
                f"copy (select * from raw.{source} where _load_id = {int(load_id)} "
                f"order by _row_number) to {_quoted(folder / 'part-0.parquet')} (format parquet)"
            )
    (lake / "_audit").mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy audit.file_loads to {_quoted(lake / '_audit' / 'file_loads.parquet')} "
        "(format parquet)"
    )


def _arguments(workdir: Path, args: tuple[str, ...]) -> list[str]:
    """`args` on the project, with its own target and log folders under `workdir`: nothing
    lands in the checkout."""
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]


def dbt(
    workdir: Path,
    *args: str,
    env: dict[str, str],
    timeout: int = 1800,
) -> subprocess.CompletedProcess[str]:
    """A dbt command on the project in a process of its own, run from `workdir`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KZDW_", "DBT_"))}
    return subprocess.run(
        [str(DBT), *_arguments(workdir, args)],
        cwd=workdir,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class DbtHost:
    """dbt commands run one after another in one long-lived process (`dbt_host.py`), so that
    they share one local Spark session: its JVM starts once and compiles Spark's code once.
    A session's warehouse folder and metastore are fixed when it starts, so every command
    runs with `spark_dir`; builds that must not meet use their own schema (`spark_env`)."""

    def __init__(self, spark_dir: Path) -> None:
        self.spark_dir = spark_dir
        spark_dir.mkdir(parents=True, exist_ok=True)
        self.log = spark_dir / "dbt_host.log"
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                # dbt's Python (dbt_env/), which imports dbt and pyspark; the script imports
                # nothing else of this checkout.
                [dbt_command("python"), "-P", str(Path(__file__).with_name("dbt_host.py"))],
                cwd=DBT_DIR.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
            )

    def dbt(
        self, workdir: Path, *args: str, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """As `dbt`, in the host's process."""
        assert env.get("KZDW_SPARK_DIR", str(self.spark_dir)) == str(self.spark_dir), env
        request = {
            "args": _arguments(workdir, args),
            "env": {**env, "KZDW_SPARK_DIR": str(self.spark_dir)},
            "workdir": str(workdir),
        }
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"the dbt host ended (code {self._process.poll()}): {tail}")
        answer = json.loads(line)
        return subprocess.CompletedProcess(
            ["dbt", *args], answer["returncode"], answer["stdout"], ""
        )

    def close(self) -> None:
        """Ends the process, and with it the Spark session and its JVM."""
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()


def spark_env(lake: Path, spark_dir: Path, schema: str = SPARK_SCHEMA) -> dict[str, str]:
    return {
        "KZDW_LAKE": str(lake),
        "KZDW_SPARK_DIR": str(spark_dir),
        "KZDW_SPARK_METHOD": "session",
        "KZDW_SPARK_SCHEMA": schema,
    }


def spark_tables(spark_dir: Path, layer: str, schema: str = SPARK_SCHEMA) -> dict[str, Path]:
    """{table: its Parquet folder} of one layer (marts, seeds, ...) of the Spark warehouse."""
    root = spark_dir / "warehouse" / f"{schema}_{layer}.db"
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir()} if root.exists() else {}


def _rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[tuple]:
    select = ", ".join(f'"{c}"' for c in columns)
    return sorted(con.execute(f"select {select} from {relation}").fetchall(), key=repr)


def same_value(left: object, right: object) -> bool:
    """Equal, floats within 1e-9 (relative, or absolute near 0): the two engines' sums may
    differ in the last bits."""
    if isinstance(left, float) and isinstance(right, float):
        return abs(left - right) <= 1e-9 * max(1.0, abs(left), abs(right))
    return left == right


def differences(
    warehouse: Path,
    spark_dir: Path,
    layer: str,
    ignore: set[str] = BUILD_STAMPS,
    same_types: bool = True,
    skip_tables: set[str] = frozenset(),
    schema: str = SPARK_SCHEMA,
) -> list[str]:
    """What differs between DuckDB's tables of `layer` and Spark's: a table missing on either
    side, other columns, other column types as DuckDB reads Spark's Parquet (`same_types`:
    the marts' contracts hold on both engines, so the types are DuckDB's own; intermediate
    tables may differ, DuckDB summing integers into HUGEINT), or other rows (floats equal
    within 1e-9 relative). `ignore`: columns left out; `skip_tables`: tables left out;
    `schema`: the Spark build's target schema."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by 1",
                [layer],
            ).fetchall()
            if t not in skip_tables
        ]
        spark = {
            t: path
            for t, path in spark_tables(spark_dir, layer, schema).items()
            if t not in skip_tables
        }
        found = []
        if sorted(spark) != expected:
            found.append(f"{layer}: tables {sorted(spark)} on Spark, {expected} on DuckDB")
        for table in expected:
            if table not in spark:
                continue
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() where schema_name = ? "
                "and table_name = ? order by column_index",
                [layer, table],
            ).fetchall()
            parquet = f"read_parquet({_quoted(spark[table] / '*.parquet')})"
            spark_columns = [
                (c, t) for (c, t, *_) in con.execute(f"describe select * from {parquet}").fetchall()
            ]
            if [c for c, _ in spark_columns] != [c for c, _ in columns]:
                found.append(f"{layer}.{table}: columns {spark_columns}, expected {columns}")
                continue
            if same_types and spark_columns != columns:
                found.append(f"{layer}.{table}: types {spark_columns}, expected {columns}")
            kept = [c for c, _ in columns if c not in ignore]
            theirs = _rows(con, parquet, kept)
            ours = _rows(con, f"{layer}.{table}", kept)
            if len(theirs) != len(ours) or not all(
                all(same_value(a, b) for a, b in zip(r, s, strict=True))
                for r, s in zip(theirs, ours, strict=True)
            ):
                wrong = [r for r in theirs if r not in ours][:3]
                found.append(
                    f"{layer}.{table}: {len(theirs)} rows on Spark, {len(ours)} on DuckDB; "
                    f"e.g. Spark has {wrong}"
                )
        return found
    finally:
        con.close()


def copy_warehouse(warehouse: Path, target: Path) -> Path:
    shutil.copyfile(warehouse, target)
    return target
