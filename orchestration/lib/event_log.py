"""The instance's event log in SQLite, as Dagster keeps it, without a new database engine and
connection for every event.

Dagster's SQLite event log makes a new SQLAlchemy engine each time it touches a shard (a run's
file, or the index), opens a new connection with it and closes both after, and makes one more
engine to ask whether a table exists, for every asset check event. A `kzdw run` of the demo
stores some 700 events (each of the 124 checks planned, then evaluated; each asset planned and
materialised; each step's outputs and log lines), and the run's process waits for each, at its
start (the planned events) and in every step. Stored again one by one
(`benchmarks/event_log.py`, medians of 3): 12.2 s, 8.9 s of it CPU, with Dagster's class;
2.5 s, 1.9 s of it CPU, with this one.

This class keeps one engine per shard, each with one connection kept open for the next use:
for the index and the most recently used runs' files (a daemon or web server reads many runs
over its life), at most KEPT_ENGINES, so at most that many files stay open. SQLite in WAL mode
(as Dagster makes these files) lets other processes read and write beside an idle connection,
and each use is a transaction of its own, as before. A process forked from one that holds
connections makes its own (`_forget_in_child`). A table found to exist is not asked for again.
Files, schema and everything else are Dagster's: an instance written by one class is read by
the other."""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine

# Engines (and open connections) kept at most: the index's and the runs' most recently used.
KEPT_ENGINES = 16

_storages: weakref.WeakSet[EngineKeepingSqliteEventLogStorage] = weakref.WeakSet()


def _forget_in_child() -> None:
    # A forked child must not use its parent's SQLite connections: it lets go of them without
    # closing them (the parent still uses them) and makes its own (SQLAlchemy's recipe).
    for storage in list(_storages):
        storage._engines_lock = threading.Lock()  # another thread may have held it
        storage._forget_engines(close=False)


os.register_at_fork(after_in_child=_forget_in_child)


class EngineKeepingSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with an engine and a connection kept per shard (see the module's
    text). Named in the instance's dagster.yaml (`event_log_storage`, with the folder's
    absolute path), which `kzdw run`, `replay` and `dev` write again when the folder moved."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables_found: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)
        _storages.add(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            # One connection kept; `_connect` holds the storage's lock while it uses one, so
            # a second is for what else might ask meanwhile, and is closed after.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                pool_size=1,
                max_overflow=2,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > KEPT_ENGINES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As SqliteEventLogStorage._connect, with the shard's kept engine.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def has_table(self, table_name: str) -> bool:
        # A table is never dropped while the instance is in use (only an upgrade adds some).
        if table_name in self._tables_found:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_found.add(table_name)
        return found

    def upgrade(self) -> None:
        super().upgrade()
        self._tables_found.clear()

    def wipe(self) -> None:
        # Wiping deletes the runs' files: no connection may stay open on a deleted file.
        self._forget_engines(close=True)
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._forget_engines(close=True)

    def _forget_engines(self, *, close: bool) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose(close=close)
            self._engines.clear()
