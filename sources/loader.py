"""Load landing files into the raw and audit layers, one DuckDB transaction per file.

Plain Python + Polars + DuckDB, no orchestration: Dagster assets and tests call these functions.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from sources.contracts import LINEAGE_COLUMNS, Source
from sources.readers import FileSetAside, read_file
from sources.validate import ROW_NUMBER, mask_expr, validate
from sources.warehouse import ensure_schema

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Names that mark a file still being written or not meant for loading.
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload")


@dataclass
class FileLoad:
    source: str
    file_name: str
    status: str  # loaded | duplicate | set_aside
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    load_id: int | None = None
    seconds: float = 0.0


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def landing_files(landing_dir: Path, source: Source) -> list[Path]:
    """The files of one source in order of arrival: modification time, then name."""
    folder = Path(landing_dir) / source.name
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "~$"))
        and not p.name.endswith(IGNORED_SUFFIXES)
        and not p.name.endswith(".reason.txt")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ).replace(tzinfo=None)


def pending_files(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: Source) -> list[Path]:
    """Files not seen before (by path, size and modification time)."""
    seen = set(
        con.execute(
            "select file_path, file_size, file_modified_at from audit.file_loads where source = ?",
            [source.name],
        ).fetchall()
    )
    return [
        p
        for p in landing_files(landing_dir, source)
        if (str(p.resolve()), p.stat().st_size, _modified_at(p)) not in seen
    ]


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _raw_select(source: Source) -> str:
    parts = []
    for col in source.columns:
        if col.personal:
            # Keyed hash for joins and distinct counts; the clear value goes no further.
            parts.append(
                f'case when "{col.name}" is null then null '
                f'else sha256($pii_key || \'|\' || "{col.name}") end as "{col.name}_hash"'
            )
            parts.append(f'"{col.name}_masked"')
        else:
            parts.append(f'"{col.name}"')
    lineage = {
        "_load_id": "$load_id",
        "_file_name": "$file_name",
        "_row_number": ROW_NUMBER,
        "_loaded_at": "$loaded_at",
    }
    parts.extend(f"{lineage[name]} as {name}" for name, _, _ in LINEAGE_COLUMNS)
    return ", ".join(parts)


def _record(con, values: dict) -> None:
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"insert into audit.file_loads ({cols}) values ({marks})", list(values.values()))


def load_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    *,
    pii_key: str,
    run_id: str | None = None,
) -> FileLoad:
    """Load one file: all of it or, on any failure, none of it."""
    started = time.perf_counter()
    path = Path(path)
    digest = file_hash(path)
    base = {
        "source": source.name,
        "file_name": path.name,
        "file_path": str(path.resolve()),
        "file_hash": digest,
        "file_size": path.stat().st_size,
        "file_modified_at": _modified_at(path),
        "run_id": run_id,
    }
    earlier = con.execute(
        "select load_id, file_name from audit.file_loads "
        "where source = ? and file_hash = ? and status = 'loaded' order by load_id limit 1",
        [source.name, digest],
    ).fetchone()

    result = FileLoad(source.name, path.name, "loaded")
    validated = read = None
    if earlier:
        result.status = "duplicate"
        result.reason = f"same bytes as {earlier[1]} (load {earlier[0]}), which is already loaded"
    else:
        try:
            read = read_file(path, source)
            validated = validate(read.frame, source, file_format=read.file_format)
        except FileSetAside as exc:
            result.status, result.reason = "set_aside", exc.reason

    con.begin()
    try:
        load_id = con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        loaded_at = local_now()
        row = dict(base, load_id=load_id, loaded_at=loaded_at, status=result.status)
        row["reason"] = result.reason
        row["duplicate_of"] = earlier[0] if earlier else None
        if validated is not None and read is not None:
            good = validated.good.with_columns(
                mask_expr(pl.col(c.name), c.personal).alias(f"{c.name}_masked")
                for c in source.columns
                if c.personal
            )
            rejected = validated.rejected
            result.rows_read = validated.rows_read
            result.rows_loaded, result.rows_rejected = good.height, rejected.height
            row.update(
                file_format=read.file_format,
                file_encoding=read.encoding,
                header_language=read.header_language,
                extra_columns=", ".join(read.extra_columns) or None,
            )
            if read.extra_columns:
                result.reason = f"extra columns ignored: {', '.join(read.extra_columns)}"
                row["reason"] = result.reason
        row.update(
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_rejected=result.rows_rejected,
        )
        _record(con, row)
        if validated is not None:
            params = {"load_id": load_id, "file_name": path.name, "loaded_at": loaded_at}
            if any(c.personal for c in source.columns):
                params["pii_key"] = pii_key
            # String views pass to DuckDB without the copy that large_string export makes.
            con.register("_kzdw_good_rows", good.to_arrow(compat_level=pl.CompatLevel.newest()))
            con.execute(
                f"insert into {source.raw_table} by name "
                f"select {_raw_select(source)} from _kzdw_good_rows",
                params,
            )
            con.unregister("_kzdw_good_rows")
            if rejected.height:
                con.register("_kzdw_rejected_rows", rejected.to_arrow())
                con.execute(
                    "insert into audit.rejected_rows by name select $load_id as load_id, "
                    "$source as source, $file_name as file_name, "
                    f"{ROW_NUMBER} as row_number, column_name, rule, value, message, rules_broken "
                    "from _kzdw_rejected_rows",
                    {"load_id": load_id, "source": source.name, "file_name": path.name},
                )
                con.unregister("_kzdw_rejected_rows")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    result.load_id = load_id
    result.seconds = time.perf_counter() - started
    return result


def load_pending(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: Source,
    *,
    pii_key: str,
    run_id: str | None = None,
    files: Iterable[Path] | None = None,
    progress: Callable[[FileLoad], None] | None = None,
) -> list[FileLoad]:
    """Load every pending file of one source, in order of arrival."""
    ensure_schema(con)
    todo = list(files) if files is not None else pending_files(con, landing_dir, source)
    results = []
    for path in todo:
        result = load_file(con, source, path, pii_key=pii_key, run_id=run_id)
        results.append(result)
        if progress:
            progress(result)
    return results


def _settled_name(load_id: int, name: str) -> str:
    # The load id first: the archive lists files in the order they were loaded (for replay),
    # and two deliveries of the same name never overwrite each other.
    return f"{load_id:08d}__{name}"


def settle_files(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    source: Source,
) -> list[tuple[Path, Path]]:
    """Move every landing file the audit already knows out of the landing folder: loaded and
    duplicate files to the archive, set-aside files to quarantine with a `.reason.txt`.

    Run after loading; it also settles files left behind by a run that stopped between its
    commit and its move, so nothing stays in the landing folder twice.
    """
    known = {
        (path, size, modified): (load_id, status, reason)
        for path, size, modified, load_id, status, reason in con.execute(
            "select file_path, file_size, file_modified_at, load_id, status, reason "
            "from audit.file_loads where source = ? order by load_id",
            [source.name],
        ).fetchall()
    }
    moved = []
    for path in landing_files(landing_dir, source):
        record = known.get((str(path.resolve()), path.stat().st_size, _modified_at(path)))
        if record is None:
            continue
        load_id, status, reason = record
        folder = (quarantine_dir if status == "set_aside" else archive_dir) / source.name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _settled_name(load_id, path.name)
        if status == "set_aside":
            target.with_name(target.name + ".reason.txt").write_text(
                f"{path.name} ({source.name}) was set aside on load {load_id}:\n{reason}\n\n"
                "Fix the file and put it back into the landing folder "
                f"({landing_dir / source.name}) to load it.\n",
                encoding="utf-8",
            )
        shutil.move(path, target)
        con.execute(
            "update audit.file_loads set settled_path = ? where load_id = ?",
            [str(target), load_id],
        )
        moved.append((path, target))
    return moved
