"""The lake: every accepted batch of the raw layer as a Parquet file, for the Spark engine.

With KZDW_ENGINE=spark, dbt builds the models on Apache Spark, which cannot read a DuckDB file:
the loader writes each accepted batch also as Parquet, one folder per source and one per load,

    <lake>/<source>/load=<load_id>/part-<file hash>.parquet

and Spark's raw tables are those folders (`dbt_project/macros/spark/create_raw_tables.sql`).
The rows are the raw table's own, read back from it inside the load's transaction, so the lake
and `raw.<source>` hold the same rows with the same types.

All or nothing: the file is written aside (`<lake>/_incoming/`, outside every source's folder)
before the load commits, and renamed into place once it has; a failed load leaves nothing
(`discard`). A process stopped between the commit and the rename leaves a load the lake does
not hold, and a warehouse built again from its archive numbers its loads anew: `sync` makes
the lake hold exactly the loads the raw layer holds (each folder's file is named by the hash
of the landing file it came from, so a folder of another warehouse's load is told apart),
writing what is missing from the raw table and removing what is not the warehouse's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sources.contracts import SOURCES, Source

INCOMING = "_incoming"
AUDIT = "_audit"
# DuckDB's Parquet writer: zstd keeps a city's lake small; Spark reads it natively.
PARQUET_OPTIONS = "format parquet, compression zstd, row_group_size 122880"


def load_folder(lake: Path, source: Source, load_id: int) -> Path:
    return lake / source.name / f"load={load_id}"


def _part_name(file_hash: str) -> str:
    return f"part-{file_hash[:16]}.parquet"


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write(con: duckdb.DuckDBPyConnection, source: Source, load_id: int, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select * from {source.raw_table} where _load_id = {int(load_id)} "
        f"order by _row_number) to {_quoted(target)} ({PARQUET_OPTIONS})"
    )


@dataclass(frozen=True)
class Staged:
    """A batch written aside, waiting for its load to commit."""

    aside: Path
    final: Path

    def publish(self) -> None:
        folder = self.final.parent
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        os.replace(self.aside, self.final)

    def discard(self) -> None:
        self.aside.unlink(missing_ok=True)


def stage(
    con: duckdb.DuckDBPyConnection, lake: Path, source: Source, load_id: int, file_hash: str
) -> Staged:
    """Write one load's rows, inside its transaction (the rows it inserted), aside."""
    final = load_folder(lake, source, load_id) / _part_name(file_hash)
    aside = lake / INCOMING / f"{source.name}-{load_id}-{_part_name(file_hash)}"
    try:
        _write(con, source, load_id, aside)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    return Staged(aside, final)


@dataclass
class Synced:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync(
    con: duckdb.DuckDBPyConnection, lake: Path, sources: Iterable[Source] = SOURCES.values()
) -> Synced:
    """Make the lake hold exactly the sources' loads with rows in the raw layer, and nothing
    aside."""
    done = Synced()
    shutil.rmtree(lake / INCOMING, ignore_errors=True)
    for source in sources:
        expected = {
            load_folder(lake, source, load_id) / _part_name(file_hash): load_id
            for load_id, file_hash in con.execute(
                "select load_id, file_hash from audit.file_loads "
                "where source = ? and status = 'loaded' and rows_loaded > 0",
                [source.name],
            ).fetchall()
        }
        root = lake / source.name
        root.mkdir(parents=True, exist_ok=True)
        for entry in sorted(root.iterdir()):
            parts = sorted(entry.iterdir()) if entry.is_dir() else []
            if entry.is_dir() and [p for p in parts if p in expected] == parts and parts:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            done.removed.append(str(entry.relative_to(lake)))
        for part, load_id in sorted(expected.items(), key=lambda kv: kv[1]):
            if part.exists():
                continue
            aside = lake / INCOMING / part.name
            _write(con, source, load_id, aside)
            Staged(aside, part).publish()
            done.written.append(str(part.relative_to(lake)))
    shutil.rmtree(lake / INCOMING, ignore_errors=True)
    return done


def audit_file(lake: Path) -> Path:
    return lake / AUDIT / "file_loads.parquet"


def write_audit(con: duckdb.DuckDBPyConnection, lake: Path) -> Path:
    """`audit.file_loads` whole, as one Parquet file replaced in one step: the models that say
    which files a build took in (the KPI revisions) read it on Spark."""
    target = audit_file(lake)
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        con.execute(
            f"copy (select * from audit.file_loads order by load_id) to {_quoted(aside)} "
            f"({PARQUET_OPTIONS})"
        )
        os.replace(aside, target)
    finally:
        aside.unlink(missing_ok=True)
    return target
