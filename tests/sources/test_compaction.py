"""A warehouse file that has crept (tables replaced build after build) is compacted into one
that holds the same database and almost no free blocks."""

from __future__ import annotations

import shutil

import duckdb

from sources.compaction import COMPACT_FREE_SHARE, blocks, compact
from tests.sources.test_serving import assert_same_database


def test_a_crept_warehouse_is_compacted_to_the_same_database(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create schema audit")
    con.execute("create table audit.file_loads (load_id bigint primary key, name varchar)")
    con.execute("insert into audit.file_loads values (1, 'a.csv')")
    con.execute("create sequence audit.load_id_seq start 1")
    con.execute("select nextval('audit.load_id_seq')")
    con.execute("create table marts.tail as select range as x from range(1000)")
    # Builds that replace a large table: each frees the blocks of the one before.
    for build in range(4):
        con.execute(
            "create or replace table marts.facts as select range as id, random() as x, "
            f"{build} as build from range(1500000)"
        )
        con.execute("create or replace table marts.tail as select range as x from range(1000)")
        con.execute("checkpoint")
    con.execute("create view marts.v as select * from marts.facts where x < 0.5")
    con.execute("comment on table marts.facts is '事实'")
    con.execute("checkpoint")
    crept = blocks(con)
    assert crept.free_share > COMPACT_FREE_SHARE
    size_before = path.stat().st_size
    con.close()
    reference = tmp_path / "reference.duckdb"
    shutil.copyfile(path, reference)

    con = duckdb.connect(str(path))
    compact(con, path, tmp_path / ".warehouse.duckdb.1.partial")
    assert not (tmp_path / ".warehouse.duckdb.1.partial").exists()
    con = duckdb.connect(str(path), read_only=True)
    try:
        after = blocks(con)
        assert after.free * after.block_size < 2**20
        assert path.stat().st_size < size_before * (1 - COMPACT_FREE_SHARE)
        assert_same_database(con, reference)
        # The primary key came along.
        [(sql,)] = con.execute(
            "select sql from duckdb_tables() where table_name = 'file_loads'"
        ).fetchall()
        assert "PRIMARY KEY" in sql
    finally:
        con.close()
