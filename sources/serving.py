"""The analysts' serving copy, brought up to date from the previous copy instead of written anew.

A whole copy (`sources.warehouse.publish_copy`) re-encodes every table, gigabytes at a city's
volume, for a file of a few thousand rows. `refresh_copy` starts from a copy of the previous
serving file (the kernel copies it: a reflink where the file system has them) and rewrites in
it only what changed since:

- a raw table (and the rejected rows) only grows, by load: the rows of the loads the copy does
  not hold are appended;
- an incremental model stamps every row a build writes (`_built_at`): the rows of its key
  written by builds after the copy's latest stamp replace the copy's;
- any other table of up to FINGERPRINTED_ROWS rows is compared by a fingerprint of all its
  rows (count and sum of row hashes) and rewritten whole when it differs; a larger one is
  rewritten whole;
- views, comments and sequences are compared by definition.

When the previous copy already holds all of that (a second run that finds nothing new since
the copy the first one published), nothing is copied or published (`Refreshed.unchanged`).

Every table is checked against the warehouse after the refresh (row counts; the fingerprint
where one was taken). Deletions come first, then appended and reworked rows, then the tables
written whole, each step checkpointed, so that what is written takes the blocks the step
before freed; a copy that still holds more than
MAX_FREE_SHARE of free blocks after all is not published (NotRefreshable) and a whole copy is
written instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

COPY = "kzdw_serving"
FINGERPRINTED_ROWS = 2_000_000
MAX_FREE_SHARE = 0.05
# Any DuckDB file has a few free blocks (the catalog of its checkpoint before the last): a
# copy is refused for free space only beyond this many as well.
MIN_FREE_BLOCKS = 16
BUILT_AT = "_built_at"
# Tables that only ever grow, by load: their load column.
APPEND_ONLY_SCHEMAS = {"raw": "_load_id"}
APPEND_ONLY_TABLES = {("audit", "rejected_rows"): "load_id"}


class NotRefreshable(Exception):
    """The previous copy cannot be brought up to date; a whole copy is written instead."""


@dataclass
class Refreshed:
    kept: list[str] = field(default_factory=list)
    appended: dict[str, int] = field(default_factory=dict)
    reworked: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    views: int = 0
    free_blocks: int = 0
    total_blocks: int = 0
    # The previous copy already held the warehouse as it is: nothing was copied.
    unchanged: bool = False

    @property
    def rows_written(self) -> int:
        return (
            sum(self.appended.values()) + sum(self.reworked.values()) + sum(self.rewritten.values())
        )


@dataclass(frozen=True)
class _Table:
    schema: str
    name: str
    sql: str
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]  # name, type, comment

    @property
    def shape(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, kind) for name, kind, _ in self.columns)

    def ref(self, database: str) -> str:
        return f'"{database}"."{self.schema}"."{self.name}"'

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], _Table]:
    columns: dict[tuple[str, str], list] = {}
    for schema, table, name, kind, comment in con.execute(
        "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
        "where database_name = ? order by schema_name, table_name, column_index",
        [database],
    ).fetchall():
        columns.setdefault((schema, table), []).append((name, kind, comment))
    return {
        (schema, name): _Table(schema, name, sql, comment, tuple(columns[(schema, name)]))
        for schema, name, sql, comment in con.execute(
            "select schema_name, table_name, sql, comment from duckdb_tables() "
            "where database_name = ? and not temporary",
            [database],
        ).fetchall()
    }


def _views(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], tuple]:
    return {
        (schema, name): (sql, comment)
        for schema, name, sql, comment in con.execute(
            "select schema_name, view_name, sql, comment from duckdb_views() "
            "where database_name = ? and not internal and not temporary",
            [database],
        ).fetchall()
    }


def _view_column_comments(con, database: str) -> dict[tuple[str, str, str], str]:
    return {
        (schema, table, column): comment
        for schema, table, column, comment in con.execute(
            "select c.schema_name, c.table_name, c.column_name, c.comment "
            "from duckdb_columns() c join duckdb_views() v on v.database_name = c.database_name "
            "and v.schema_name = c.schema_name and v.view_name = c.table_name "
            "where c.database_name = ? and c.comment is not null",
            [database],
        ).fetchall()
    }


def _literal(text: str | None) -> str:
    return "null" if text is None else "'" + text.replace("'", "''") + "'"


def _fingerprint(con, ref: str) -> tuple[int, int]:
    count, total = con.execute(f"select count(*), sum(hash(t)::hugeint) from {ref} t").fetchone()
    return count, total


def _count(con, ref: str) -> int:
    return con.execute(f"select count(*) from {ref}").fetchone()[0]


def _in_copy(con, database: str, sql: str) -> None:
    """Run catalog SQL written for the warehouse (unqualified names) in the copy."""
    con.execute(f'use "{COPY}"')
    try:
        con.execute(sql)
    finally:
        con.execute(f'use "{database}"')


def refresh_copy(
    con: duckdb.DuckDBPyConnection,
    previous: Path,
    partial: Path,
    incremental: Mapping[tuple[str, str], str] | None = None,
) -> Refreshed:
    """Copy `previous` (the serving copy now published) to `partial` and bring it up to date
    with the database `con` holds. `incremental`: {(schema, table): unique key} of the models
    that stamp the rows they write with `_built_at`. Raises NotRefreshable when the copy
    cannot be brought up to date in place; `partial` is then left for the caller to remove."""
    database = con.execute("select current_database()").fetchone()[0]
    incremental = dict(incremental or {})
    quoted = str(previous).replace(chr(39), chr(39) * 2)
    try:
        con.execute(f"attach '{quoted}' as \"{COPY}\" (read_only)")
    except duckdb.Error as exc:
        raise NotRefreshable(f"the previous copy {previous} cannot be opened: {exc}") from exc
    try:
        if _holds_everything(con, database, incremental):
            return Refreshed(unchanged=True)
    finally:
        con.execute(f'use "{database}"')
        con.execute(f'detach "{COPY}"')
    shutil.copyfile(previous, partial)
    try:
        con.execute(f"attach '{str(partial).replace(chr(39), chr(39) * 2)}' as \"{COPY}\"")
    except duckdb.Error as exc:
        raise NotRefreshable(f"the previous copy {previous} cannot be opened: {exc}") from exc
    try:
        return _refresh(con, database, incremental)
    finally:
        con.execute(f'use "{database}"')
        con.execute(f'detach "{COPY}"')


def _refresh(con, database: str, incremental: dict) -> Refreshed:
    done = Refreshed()
    live, copy = _tables(con, database), _tables(con, COPY)
    live_views, copy_views = _views(con, database), _views(con, COPY)

    # Phase 1: everything that goes away, then a checkpoint, so that what is written next
    # reuses the blocks it frees.
    for key, (sql, _) in copy_views.items():
        if live_views.get(key, (None,))[0] != sql:
            con.execute(f'drop view "{COPY}"."{key[0]}"."{key[1]}"')
    plan: dict[tuple[str, str], tuple] = {}
    for key, table in copy.items():
        if key not in live:
            con.execute(f"drop table {table.ref(COPY)}")
            done.dropped.append(table.label)
    for key, table in live.items():
        old = copy.get(key)
        if old is None:
            plan[key] = ("create",)
        elif old.shape != table.shape:
            con.execute(f"drop table {old.ref(COPY)}")
            plan[key] = ("create",)
        else:
            plan[key] = _decide(con, table, incremental.get(key))
    for key, step in plan.items():
        table = live[key]
        if step[0] == "rewrite":
            con.execute(f"delete from {table.ref(COPY)}")
        elif step[0] == "rework":
            key_column, since = step[1], step[2]
            con.execute(
                f'delete from {table.ref(COPY)} where "{key_column}" in (select "{key_column}" '
                f'from {table.ref(database)} where "{BUILT_AT}" > ?)',
                [since],
            )
    con.execute(f'checkpoint "{COPY}"')

    # Phase 2: what is new.
    schemas = {
        row[0]
        for row in con.execute(
            "select schema_name from duckdb_schemas() where database_name = ?", [COPY]
        ).fetchall()
    }
    for schema in {k[0] for k in live} | {k[0] for k in live_views}:
        if schema not in schemas:
            con.execute(f'create schema "{COPY}"."{schema}"')
    # Rows added to a table rewrite its last, partly filled row group: the blocks that frees
    # are taken by the tables written whole, after a checkpoint.
    for key, step in plan.items():
        table = live[key]
        source, target = table.ref(database), table.ref(COPY)
        if step[0] == "keep":
            done.kept.append(table.label)
        elif step[0] == "append":
            column, since = step[1], step[2]
            n = con.execute(
                f'insert into {target} select * from {source} where "{column}" > ?', [since]
            ).fetchone()[0]
            done.appended[table.label] = n
        elif step[0] == "rework":
            key_column, since = step[1], step[2]
            n = con.execute(
                f'insert into {target} select * from {source} where "{BUILT_AT}" > ?', [since]
            ).fetchone()[0]
            done.reworked[table.label] = n
    con.execute(f'checkpoint "{COPY}"')
    for key, step in plan.items():
        table = live[key]
        source, target = table.ref(database), table.ref(COPY)
        if step[0] == "create":
            _in_copy(con, database, table.sql)
        if step[0] in ("create", "rewrite"):
            con.execute(f"insert into {target} select * from {source}")
            done.rewritten[table.label] = _count(con, target)
    for key, (sql, _) in live_views.items():
        if copy_views.get(key, (None,))[0] != sql:
            _in_copy(con, database, sql)
            done.views += 1
    _sync_comments(con, database, live, live_views)
    _sync_sequences(con, database)

    # Every table as the warehouse has it.
    for key, table in live.items():
        step = plan[key]
        if step[0] == "keep":
            continue  # compared above (fingerprint, or nothing new to append)
        if step[0] == "rewrite" and len(step) > 1:
            if _fingerprint(con, table.ref(COPY)) != step[1]:
                raise NotRefreshable(f"{table.label} differs from the warehouse after a rewrite")
        elif _count(con, table.ref(COPY)) != _count(con, table.ref(database)):
            raise NotRefreshable(f"{table.label} does not hold the warehouse's rows after refresh")
    con.execute(f'checkpoint "{COPY}"')
    _, _, _, total, _, free, *_ = next(
        row for row in con.execute("pragma database_size").fetchall() if row[0] == COPY
    )
    done.free_blocks, done.total_blocks = free, total
    if free > MIN_FREE_BLOCKS and free / total > MAX_FREE_SHARE:
        raise NotRefreshable(
            f"the refreshed copy holds {free} free blocks of {total}: a whole copy is compact"
        )
    return done


def _sequences(con, database: str) -> dict:
    return {
        (schema, name): following
        for schema, name, following in con.execute(
            "select schema_name, sequence_name, coalesce(last_value + 1, start_value) "
            "from duckdb_sequences() where database_name = ?",
            [database],
        ).fetchall()
    }


def _holds_everything(con, database: str, incremental: dict) -> bool:
    """Whether the attached previous copy holds the warehouse as it is: the same tables with
    the same columns and comments, every table kept (the refresh's own test, cheapest first),
    the same views, comments and sequences."""
    live, copy = _tables(con, database), _tables(con, COPY)
    if live.keys() != copy.keys():
        return False
    for key, table in live.items():
        if (table.comment, table.columns) != (copy[key].comment, copy[key].columns):
            return False
    if _views(con, database) != _views(con, COPY):
        return False
    if _view_column_comments(con, database) != _view_column_comments(con, COPY):
        return False
    if _sequences(con, database) != _sequences(con, COPY):
        return False

    def cost(key: tuple[str, str]) -> int:
        if key[0] in APPEND_ONLY_SCHEMAS or key in APPEND_ONLY_TABLES:
            return 0  # counts
        return 1 if key in incremental else 2  # a stamp, or a fingerprint

    return all(
        _decide(con, live[key], incremental.get(key)) == ("keep",) for key in sorted(live, key=cost)
    )


def _decide(con, table: _Table, key_column: str | None) -> tuple:
    """What the copy's table (same columns as the warehouse's) needs: keep, append the rows of
    later loads, rework the keys written by later builds, or rewrite."""
    database = con.execute("select current_database()").fetchone()[0]
    source, target = table.ref(database), table.ref(COPY)
    names = {name for name, _, _ in table.columns}
    load_column = APPEND_ONLY_TABLES.get((table.schema, table.name)) or (
        APPEND_ONLY_SCHEMAS.get(table.schema)
    )
    if load_column in names:
        held, since = con.execute(f'select count(*), max("{load_column}") from {target}').fetchone()
        before = (
            con.execute(
                f'select count(*) from {source} where "{load_column}" <= ?', [since]
            ).fetchone()[0]
            if since is not None
            else 0
        )
        if before == held:
            if _count(con, source) == held:
                return ("keep",)
            return ("append", load_column, since if since is not None else -(2**63))
        return ("rewrite",)
    if key_column and BUILT_AT in names and key_column in names:
        since = con.execute(f'select max("{BUILT_AT}") from {target}').fetchone()[0]
        if since is None:
            return ("rewrite",)
        later = con.execute(
            f'select count(*) from {source} where "{BUILT_AT}" > ?', [since]
        ).fetchone()[0]
        if later == 0 and _count(con, source) == _count(con, target):
            return ("keep",)
        return ("rework", key_column, since)
    count = _count(con, source)
    if count <= FINGERPRINTED_ROWS:
        wanted = _fingerprint(con, source)
        if _fingerprint(con, target) == wanted:
            return ("keep",)
        return ("rewrite", wanted)
    return ("rewrite",)


def _sync_comments(con, database: str, live: dict, live_views: dict) -> None:
    copy, copy_views = _tables(con, COPY), _views(con, COPY)
    for key, table in live.items():
        old = copy[key]
        if old.comment != table.comment:
            con.execute(f"comment on table {old.ref(COPY)} is {_literal(table.comment)}")
        for (name, _, comment), (_, _, held) in zip(table.columns, old.columns, strict=True):
            if comment != held:
                con.execute(f'comment on column {old.ref(COPY)}."{name}" is {_literal(comment)}')
    for key, (_, comment) in live_views.items():
        if copy_views[key][1] != comment:
            con.execute(f'comment on view "{COPY}"."{key[0]}"."{key[1]}" is {_literal(comment)}')
    held = _view_column_comments(con, COPY)
    for (schema, view, column), comment in _view_column_comments(con, database).items():
        if held.get((schema, view, column)) != comment:
            con.execute(
                f'comment on column "{COPY}"."{schema}"."{view}"."{column}" is {_literal(comment)}'
            )


def _sync_sequences(con, database: str) -> None:
    """Each sequence of the copy gives the value the warehouse's would give next."""

    live, copy = _sequences(con, database), _sequences(con, COPY)
    for key in copy.keys() - live.keys():
        con.execute(f'drop sequence "{COPY}"."{key[0]}"."{key[1]}"')
    for key, following in live.items():
        if copy.get(key) == following:
            continue
        if key in copy:
            con.execute(f'drop sequence "{COPY}"."{key[0]}"."{key[1]}"')
        con.execute(f'create sequence "{COPY}"."{key[0]}"."{key[1]}" start {following}')
