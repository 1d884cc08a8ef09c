"""DDL of the raw and audit layers, derived from the contracts."""

from __future__ import annotations

import duckdb

from sources.contracts import SOURCES, Source

FILE_LOADS_DDL = """
create table if not exists audit.file_loads (
    load_id           bigint primary key,
    source            varchar not null,
    file_name         varchar not null,
    file_path         varchar not null,
    file_hash         varchar not null,
    file_format       varchar,
    file_encoding     varchar,
    file_size         bigint,
    file_modified_at  timestamp,
    status            varchar not null,   -- loaded | duplicate | set_aside
    rows_read         bigint not null,
    rows_loaded       bigint not null,
    rows_rejected     bigint not null,
    reason            varchar,            -- why a file was set aside or not loaded
    duplicate_of      bigint,             -- load_id of the earlier load of the same bytes
    extra_columns     varchar,            -- headers the contract does not know (ignored)
    header_language   varchar,            -- zh | en | mixed
    settled_path      varchar,            -- where the file went after loading (archive, quarantine)
    loaded_at         timestamp not null,
    run_id            varchar
)
"""

REJECTED_ROWS_DDL = """
create table if not exists audit.rejected_rows (
    load_id      bigint not null,
    source       varchar not null,
    file_name    varchar not null,
    row_number   integer not null,     -- 1 = first data row after the header
    column_name  varchar not null,
    rule         varchar not null,
    value        varchar,              -- masked where the column holds personal data
    message      varchar not null,
    rules_broken integer not null      -- how many rules the row broke; the first is reported
)
"""


def raw_table_ddl(source: Source) -> str:
    cols = ",\n    ".join(f'"{name}" {dtype}' for name, dtype in source.raw_schema())
    return f"create table if not exists {source.raw_table} (\n    {cols}\n)"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit layers if they are not there yet (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists audit")
    con.execute(FILE_LOADS_DDL)
    con.execute("alter table audit.file_loads add column if not exists settled_path varchar")
    con.execute(REJECTED_ROWS_DDL)
    con.execute("create sequence if not exists audit.load_id_seq start 1")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
