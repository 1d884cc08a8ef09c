"""DDL of the raw and audit layers, derived from the contracts."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from pathlib import Path

import duckdb

from sources.contracts import SOURCES, Source


class WarehouseUnreadable(Exception):
    """The warehouse file cannot be opened; the message says why and what to do."""


class WarehouseBusy(WarehouseUnreadable):
    """Another process holds the warehouse file (DuckDB allows one writer)."""


class PiiKeyMismatch(Exception):
    """The warehouse was built with another personal-data key."""


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


DEPLOYMENT_DDL = """
create table if not exists audit.deployment (
    setting    varchar primary key,  -- pii_key_fingerprint
    value      varchar not null,
    set_at     timestamp not null default current_localtimestamp()
)
"""


def open_warehouse(
    path: Path, read_only: bool = False, config: Mapping[str, str | int] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file, or WarehouseUnreadable saying what is wrong with
    the file (corrupt, written by a newer DuckDB, in use) instead of DuckDB's own error.
    `config`: DuckDB settings (the deployment's `Settings.duckdb_config()`)."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseUnreadable(
            f"仓库文件 {path} 不存在。 / no warehouse at {path}: run `kzdw run` to build it"
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from None
    # No progress bar: DuckDB draws it on the terminal of whatever process holds the
    # connection, over a run's own progress lines.
    con.execute("set enable_progress_bar = false")
    return con


def open_when_free(path: Path, wait_seconds: float = 60.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection, waiting while another process still holds the file (a writer
    ending, a copy being renamed into place); WarehouseBusy after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return open_warehouse(path, read_only=True)
        except WarehouseBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _unreadable(path: Path, exc: duckdb.Error) -> WarehouseUnreadable:
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = re.search(r"PID (\d+)", text)
        holder = f" (pid {pid.group(1)})" if pid else ""
        return WarehouseBusy(
            f"仓库文件 {path} 正被另一个进程写入{holder}。 / the warehouse {path} is held by "
            f"another process{holder}: a run is writing it; wait for it to finish, or read the "
            "serving copy instead"
        )
    newer = re.search(
        r"storage version number (\d+), but we can only read storage versions "
        r"between (\d+) and (\d+)",
        text,
    )
    if newer:
        return WarehouseUnreadable(
            f"仓库文件 {path} 由更新版本的 DuckDB 写入，本程序无法读取。 / the warehouse {path} "
            f"was written by a newer DuckDB (storage version {newer.group(1)}; this kzdw reads "
            f"{newer.group(2)}-{newer.group(3)} with DuckDB {duckdb.__version__}): upgrade kzdw, "
            "or point KZDW_WAREHOUSE at a file this version wrote"
        )
    if (
        "not a valid DuckDB database file" in text
        or "Corrupt database" in text
        or ("Could not read enough bytes" in text)
    ):
        return WarehouseUnreadable(
            f"仓库文件 {path} 已损坏，无法打开。 / the warehouse {path} is not a readable DuckDB "
            "file (damaged or truncated): move it aside and rebuild it with `kzdw replay "
            "--into` from the archive, or restore it from a backup"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return WarehouseUnreadable(
        f"仓库文件 {path} 无法打开。 / cannot open the warehouse {path}: {first}"
    )


# The storage format of the serving copy: DuckDB 1.5 and later read it (the DuckDB CLI on
# PyPI, DBeaver's and most BI drivers are 1.x), while the live warehouse is DuckDB 2.0's.
SERVING_STORAGE_VERSION = "v1.5.0"
# Column types DuckDB 2.0 has and a 1.5 reader does not: a copy holding one is not published.
NOT_IN_V1_5 = ("TIMESTAMPTZ_NS",)


class NotCopyable(Exception):
    """A column of the warehouse has a type the serving copy's storage format cannot carry."""


def publish_copy(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write the whole database `con` holds into a new file at `path`, in the serving copy's
    storage format: a fresh file, so it holds no free blocks; every table, view, comment and
    sequence. Refuses (NotCopyable) a column type that format cannot carry."""
    database = con.execute("select current_database()").fetchone()[0]
    found = con.execute(
        "select schema_name || '.' || table_name || '.' || column_name, data_type "
        "from duckdb_columns() where database_name = ? and list_contains(?, data_type)",
        [database, list(NOT_IN_V1_5)],
    ).fetchall()
    if found:
        columns = ", ".join(f"{name} ({kind})" for name, kind in found)
        raise NotCopyable(
            f"the serving copy is written in DuckDB's {SERVING_STORAGE_VERSION} storage format, "
            f"which cannot hold {columns}: cast the column to a type DuckDB 1.x reads (e.g. "
            "TIMESTAMPTZ) in its model"
        )
    con.execute(
        f"attach '{_quoted(path)}' as kzdw_serving (storage_version '{SERVING_STORAGE_VERSION}')"
    )
    try:
        con.execute(f'copy from database "{database}" to kzdw_serving')
    finally:
        con.execute("detach kzdw_serving")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def key_fingerprint(key: str) -> str:
    """Tells personal-data keys apart without revealing them: recorded in the warehouse."""
    digest = hmac.new(key.encode("utf-8"), b"kzdw personal-data key", hashlib.sha256)
    return digest.hexdigest()[:16]


def verify_pii_key(
    con: duckdb.DuckDBPyConnection, fingerprint: str, *, record: bool = True
) -> None:
    """Record the fingerprint of the personal-data key on the warehouse's first load, and
    refuse every later load with another key (PiiKeyMismatch): the hashes of new rows would
    silently stop matching the old ones (joins and distinct counts across loads would break).
    With `record=False` (a read-only look before a run) nothing is written."""
    try:
        stored = con.execute(
            "select value from audit.deployment where setting = 'pii_key_fingerprint'"
        ).fetchone()
    except duckdb.CatalogException:  # a warehouse without the table: nothing recorded yet
        stored = None
    if stored is None:
        if record:
            con.execute(
                "insert into audit.deployment (setting, value) values ('pii_key_fingerprint', ?)",
                [fingerprint],
            )
        return
    if stored[0] != fingerprint:
        raise PiiKeyMismatch(
            "个人信息密钥与建库时不同，拒绝载入：新行的散列将无法与已有数据对应。 / the "
            f"personal-data key (fingerprint {fingerprint}) is not the one this warehouse was "
            f"built with (fingerprint {stored[0]}): the hashes of new rows would not match the "
            "old ones. Set KZDW_PII_KEY to the original key or restore the key file beside the "
            "warehouse; to start over with a new key, rebuild with `kzdw replay --into`"
        )


def raw_table_ddl(source: Source) -> str:
    cols = ",\n    ".join(f'"{name}" {dtype}' for name, dtype in source.raw_schema())
    return f"create table if not exists {source.raw_table} (\n    {cols}\n)"


def digest_as_bigint(hex_sql: str) -> str:
    """SQL for how a keyed digest is stored, from SQL giving its SHA-256 in hex: the first
    8 bytes, big-endian, as a signed (two's complement) 64-bit integer."""
    u = f"('0x' || left({hex_sql}, 16))::ubigint"
    return f"({u}::hugeint - ({u} >> 63)::hugeint * 18446744073709551616)::bigint"


def _migrate_raw_table(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Bring a raw table made by an earlier release to the stored types of today's contract:
    a digest kept as 64 hex characters becomes the BIGINT computed from those characters,
    the same value a load of today stores, so old and new rows join."""
    schema, table = source.raw_table.split(".")
    found = dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )
    for name, dtype in source.raw_schema():
        if dtype == "BIGINT" and name.endswith("_hash") and found.get(name) == "VARCHAR":
            column = f'"{name}"'
            con.execute(
                f"alter table {source.raw_table} alter column {column} type bigint "
                f"using ({digest_as_bigint(column)})"
            )
            # A table dbt built from the old digests keeps their type, and an incremental one
            # would add new digests to it as text that matches nothing: dropped, dbt builds it
            # whole on its next run.
            for derived_schema, derived in con.execute(
                "select c.schema_name, c.table_name from duckdb_columns() c "
                "join duckdb_tables() t using (database_name, schema_name, table_name) "
                "where c.database_name = current_database() and c.schema_name <> 'raw' "
                "and c.column_name = ? and c.data_type = 'VARCHAR'",
                [name],
            ).fetchall():
                con.execute(f'drop table "{derived_schema}"."{derived}"')


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit layers if they are not there yet, and bring those an earlier
    release made up to date (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists audit")
    con.execute(FILE_LOADS_DDL)
    con.execute("alter table audit.file_loads add column if not exists settled_path varchar")
    con.execute(REJECTED_ROWS_DDL)
    con.execute(DEPLOYMENT_DDL)
    con.execute("create sequence if not exists audit.load_id_seq start 1")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
        _migrate_raw_table(con, source)
