"""Keeping the live warehouse file from creeping.

dbt replaces its tables on every build; DuckDB frees the old tables' blocks and reuses them,
but a file never shrinks except at its end, so after many builds it holds free blocks between
the data. `compact` writes the database into a new file (DuckDB's COPY FROM DATABASE: every
table, view, comment, constraint and sequence, no free blocks) and renames it over the old one.
It runs in the daily rebuild and in `kzdw run`, inside the warehouse's writer slot, when more
than COMPACT_FREE_SHARE of the file is free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

COMPACT_FREE_SHARE = 0.2


@dataclass(frozen=True)
class Blocks:
    block_size: int
    total: int
    free: int

    @property
    def free_share(self) -> float:
        return self.free / self.total if self.total else 0.0


def blocks(con: duckdb.DuckDBPyConnection, database: str | None = None) -> Blocks:
    """The block counts of a database `con` has attached (its own by default)."""
    database = database or con.execute("select current_database()").fetchone()[0]
    for name, _, size, total, _, free, *_ in con.execute("pragma database_size").fetchall():
        if name == database:
            return Blocks(size, total, free)
    raise KeyError(database)


def compact(con: duckdb.DuckDBPyConnection, path: Path, partial: Path) -> None:
    """Write the database `con` holds (the file at `path`) into `partial`, close `con`, and
    rename `partial` over `path`. `con` must be the only connection to the file: the caller
    holds the warehouse's writer slot. On any failure the old file stays as it was."""
    database = con.execute("select current_database()").fetchone()[0]
    quoted = str(partial).replace("'", "''")
    con.execute(f"attach '{quoted}' as kzdw_compact")
    try:
        con.execute(f'copy from database "{database}" to kzdw_compact')
    finally:
        con.execute("detach kzdw_compact")
    con.close()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        # A log left beside the file would be replayed into the new one: keep the old file.
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{wal} is still there after the warehouse was closed: not compacted")
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
