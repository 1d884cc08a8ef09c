"""The Spark engine's tables, published into the DuckDB warehouse.

With KZDW_ENGINE=spark, dbt builds staging, intermediate and marts on Apache Spark, whose tables
are Parquet files. Analysts, the report and outside checks read the DuckDB warehouse (through
its serving copy) whichever engine computed it, so after each Spark build the tables people
read (the marts and the seeds) are written into DuckDB as the DuckDB engine would have left
them: the same schema, name, column order, DuckDB types (each mart's contract, each seed's
column types; the same declarations dbt gives the DuckDB engine), NOT NULL where the contract
says so, and the descriptions as comments.

All tables of one publish are written in one transaction: a reader of the warehouse sees the
previous build or this one, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

# The schemas whose tables are published: what analysts and the report read.
PUBLISHED_SCHEMAS = ("marts", "seeds")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    not_null: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    description: str = ""

    @property
    def relation(self) -> str:
        return f"{_ident(self.schema)}.{_ident(self.name)}"


class NotPublishable(Exception):
    """A table the Spark build wrote cannot be published as the DuckDB engine would have it."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def tables_of(manifest: Mapping[str, Any], unique_ids: Iterable[str] | None = None) -> list[Table]:
    """The published tables (models and seeds of PUBLISHED_SCHEMAS) of a dbt manifest, with the
    DuckDB engine's declared columns; `unique_ids` narrows them to what one build wrote."""
    wanted = None if unique_ids is None else set(unique_ids)
    tables = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed") or node["schema"] not in (
            PUBLISHED_SCHEMAS
        ):
            continue
        if wanted is not None and unique_id not in wanted:
            continue
        name = node.get("alias") or node["name"]
        if node["resource_type"] == "seed":
            types = node["config"].get("column_types") or {}
        else:
            if not (node["config"].get("contract") or {}).get("enforced"):
                raise NotPublishable(
                    f"{node['schema']}.{name} has no enforced contract: its DuckDB column types "
                    "are not declared, so it cannot be published as the DuckDB engine builds it"
                )
            types = {c: spec["data_type"] for c, spec in node["columns"].items()}
        documented = node.get("columns") or {}
        if node["resource_type"] == "seed":
            # A seed's columns are its file's header, in order; all of them have declared types.
            order = list(types)
        else:
            order = list(documented)
        columns = []
        for column in order:
            spec = documented.get(column) or {}
            kinds = {c.get("type") for c in spec.get("constraints") or []}
            columns.append(
                Column(
                    name=column,
                    data_type=types[column],
                    not_null="not_null" in kinds or "primary_key" in kinds,
                    description=spec.get("description") or "",
                )
            )
        tables.append(Table(node["schema"], name, tuple(columns), node.get("description") or ""))
    return sorted(tables, key=lambda t: (t.schema, t.name))


def _parquet_files(folder: Path) -> list[str]:
    # Spark writes part files, partition folders (col=value/) and markers (_SUCCESS, .crc).
    return sorted(
        str(p)
        for p in folder.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(folder).parts)
    )


def publish(con: duckdb.DuckDBPyConnection, tables: Iterable[tuple[Table, Path]]) -> dict[str, int]:
    """Write each table from its Spark folder of Parquet files into DuckDB, all in one
    transaction; {schema.table: rows}."""
    written: dict[str, int] = {}
    con.begin()
    try:
        for table, folder in tables:
            written[f"{table.schema}.{table.name}"] = _publish_one(con, table, folder)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return written


def _publish_one(con: duckdb.DuckDBPyConnection, table: Table, folder: Path) -> int:
    files = _parquet_files(folder) if folder.is_dir() else []
    if not folder.is_dir():
        raise NotPublishable(
            f"Spark wrote no folder for {table.schema}.{table.name} at {folder}: build it on "
            "Spark (dbt build --target spark) before publishing"
        )
    con.execute(f"create schema if not exists {_ident(table.schema)}")
    definition = ", ".join(
        f"{_ident(c.name)} {c.data_type}{' not null' if c.not_null else ''}" for c in table.columns
    )
    con.execute(f"create or replace table {table.relation} ({definition})")
    if files:
        listed = "[" + ", ".join(_literal(f) for f in files) + "]"
        read = f"read_parquet({listed}, hive_partitioning = true, union_by_name = true)"
        present = {
            row[0].lower() for row in con.execute(f"describe select * from {read}").fetchall()
        }
        missing = [c.name for c in table.columns if c.name.lower() not in present]
        if missing:
            raise NotPublishable(
                f"the Spark table {table.schema}.{table.name} lacks the column(s) "
                f"{', '.join(missing)} that the DuckDB engine declares"
            )
        casts = ", ".join(f"cast({_ident(c.name)} as {c.data_type})" for c in table.columns)
        con.execute(f"insert into {table.relation} select {casts} from {read}")
    if table.description:
        con.execute(f"comment on table {table.relation} is {_literal(table.description)}")
    for c in table.columns:
        if c.description:
            con.execute(
                f"comment on column {table.relation}.{_ident(c.name)} is {_literal(c.description)}"
            )
    return con.execute(f"select count(*) from {table.relation}").fetchone()[0]
