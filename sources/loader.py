"""Load landing files into the raw and audit layers, one DuckDB transaction per file.

Plain Python + Polars + DuckDB, no orchestration: Dagster assets and tests call these functions.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa

from sources import lake as lake_files
from sources.contracts import LINEAGE_COLUMNS, Source
from sources.landing import (
    FileChanged,
    FileVersion,
    LandingFile,
    Skipped,
    choose,
    display_name,
    opened,
    scan,
)
from sources.readers import FileSetAside, brief, read_file
from sources.validate import ROW_NUMBER, mask_expr, validate
from sources.warehouse import digest_as_bigint, ensure_schema, key_fingerprint, verify_pii_key

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# DuckDB's row group: it inserts batches of this size fastest (smaller ones it gathers first).
ROW_GROUP = 122_880


class DiskFull(Exception):
    """The disk the warehouse is on filled up during a load; nothing of the file was kept."""


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


def _modified_at(mtime_ns: int) -> datetime:
    return datetime.fromtimestamp(mtime_ns / 1e9, LOCAL_TZ).replace(tzinfo=None)


def _seen(con: duckdb.DuckDBPyConnection, source: Source) -> set[tuple[str, int, datetime]]:
    return set(
        con.execute(
            "select file_path, file_size, file_modified_at from audit.file_loads where source = ?",
            [source.name],
        ).fetchall()
    )


def _identity(f: LandingFile) -> tuple[str, int, datetime]:
    return f.display_path, f.size, _modified_at(f.mtime_ns)


def pending(
    con: duckdb.DuckDBPyConnection, source: Source, files: Iterable[LandingFile]
) -> list[LandingFile]:
    """The files not seen before (by path, size and modification time)."""
    seen = _seen(con, source)
    return [f for f in files if _identity(f) not in seen]


def pending_files(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, source: Source
) -> list[LandingFile]:
    """Every regular file of the source's landing folder not seen before, settled or not."""
    return pending(con, source, scan(landing_dir, source).files)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _raw_select(source: Source) -> str:
    parts = []
    for col in source.columns:
        if col.personal:
            # Keyed hash for joins and distinct counts; the clear value goes no further. A null
            # stays null: || and sha256 pass it through (a CASE around it made the insert a
            # fifth slower).
            digest = digest_as_bigint(f"sha256($pii_key || '|' || \"{col.name}\")")
            parts.append(f'{digest} as "{col.name}_hash"')
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
    file: LandingFile | Path,
    *,
    pii_key: str,
    run_id: str | None = None,
    lake: Path | None = None,
) -> FileLoad:
    """Load one file: all of it or, on any failure, none of it.

    The file is read through a descriptor opened without following links (`opened`); a file
    that is not the one listed, or that changes while it is read, raises FileChanged and
    leaves no trace (it is loaded once it has settled). A full disk raises DiskFull. With a
    `lake` (the Spark engine), the accepted rows are also written there as Parquet, put in
    place once the load has committed (`sources.lake`)."""
    started = time.perf_counter()
    f = file if isinstance(file, LandingFile) else LandingFile.at(Path(file))
    result = FileLoad(source.name, f.display_name, "loaded")
    validated = read = earlier = None
    with opened(f) as readable, ThreadPoolExecutor(max_workers=1) as hasher:
        # The digest decides whether the file was loaded before; it is taken while the file
        # is read (hashlib lets go of the GIL), and what was read counts only if it was not.
        hashing = hasher.submit(file_hash, readable)
        failure = None
        try:
            read = read_file(readable, source, name=f.name)
        except (Exception, pl.exceptions.PanicException) as exc:
            failure = exc
        digest = hashing.result()
        earlier = con.execute(
            "select load_id, file_name from audit.file_loads "
            "where source = ? and file_hash = ? and status = 'loaded' order by load_id limit 1",
            [source.name, digest],
        ).fetchone()
        if earlier:
            read = None
            result.status = "duplicate"
            result.reason = (
                f"与已载入的 {earlier[1]}（第 {earlier[0]} 次载入）内容完全相同，不再重复载入。 / "
                f"same bytes as {earlier[1]} (load {earlier[0]}), which is already loaded"
            )
        else:
            try:
                if failure is not None:
                    raise failure
                validated = validate(read.frame, source, file_format=read.file_format)
            except FileSetAside as exc:
                result.status, result.reason = "set_aside", exc.reason
            except (Exception, pl.exceptions.PanicException) as exc:
                if _is_disk_full(exc):
                    # Where a reader decodes a file into a temporary copy.
                    folder = tempfile.gettempdir()
                    raise DiskFull(
                        f"磁盘已满：读取 {f.display_name} 时临时目录 {folder} 写入失败，该文件"
                        "一行也未载入；请腾出空间后重新运行。 / the disk holding the temporary "
                        f"folder {folder} is full: nothing of {f.display_name} was loaded; free "
                        "some space and run again, the file is still in the landing folder"
                    ) from exc
                # A failure the readers did not foresee is still this file's, not the run's:
                # the file is kept in quarantine with what happened, the others load on.
                result.status, result.reason = "set_aside", _unforeseen(exc)
    base = {
        "source": source.name,
        "file_name": f.display_name,
        "file_path": f.display_path,
        "file_hash": digest,
        "file_size": f.size,
        "file_modified_at": _modified_at(f.mtime_ns),
        "run_id": run_id,
    }

    staged = None
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
                result.reason = _extras_reason(read.extra_columns)
                row["reason"] = result.reason
        row.update(
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_rejected=result.rows_rejected,
        )
        _record(con, row)
        if validated is not None:
            params = {"load_id": load_id, "file_name": f.display_name, "loaded_at": loaded_at}
            if any(c.personal for c in source.columns):
                params["pii_key"] = pii_key
            # String views pass to DuckDB without the copy that large_string export makes; the
            # reader's chunks of a few thousand rows are joined (the views, not the text) and
            # cut again a row group each.
            rows = good.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
            rows = pa.Table.from_batches(rows.to_batches(max_chunksize=ROW_GROUP), rows.schema)
            con.register("_kzdw_good_rows", rows)
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
                    {"load_id": load_id, "source": source.name, "file_name": f.display_name},
                )
                con.unregister("_kzdw_rejected_rows")
            if lake is not None and good.height:
                staged = lake_files.stage(con, lake, source, load_id, digest)
        con.commit()
    except BaseException as exc:
        if staged is not None:
            staged.discard()
        # Rolling back after a fatal error (a full disk) may fail in turn: the error that
        # caused it is the one to report.
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        if _is_disk_full(exc):
            raise DiskFull(_disk_full_message(con, f, exc)) from exc
        raise
    if staged is not None:
        # Committed: the batch goes into place. A process stopped before this leaves a load the
        # lake lacks, which the next ingest's `lake.sync` writes from the raw table.
        staged.publish()
    result.load_id = load_id
    result.seconds = time.perf_counter() - started
    return result


def _unforeseen(exc: BaseException) -> str:
    detail = brief(str(exc).strip().splitlines()[0] if str(exc).strip() else "", 80)
    return (
        f"读取文件时发生意外错误（{type(exc).__name__}），文件已保留；请把文件和本信息交给数据仓库"
        f"运维人员。 / unexpected error while reading the file ({type(exc).__name__}: {detail}): "
        "the file is kept; hand it and this message to the warehouse's operators"
    )


EXTRAS_LISTED = 5


def _extras_reason(extras: list[str]) -> str:
    shown = ", ".join(brief(e) for e in extras[:EXTRAS_LISTED])
    more_zh = f" 等 {len(extras)} 列" if len(extras) > EXTRAS_LISTED else ""
    more_en = f" and {len(extras) - EXTRAS_LISTED} more" if len(extras) > EXTRAS_LISTED else ""
    return f"已忽略合同之外的列：{shown}{more_zh}。 / extra columns ignored: {shown}{more_en}"


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(exc)
    return isinstance(exc, duckdb.Error) and (
        "No space left on device" in text or "File too large" in text or "Disk quota" in text
    )


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _disk_full_message(con: duckdb.DuckDBPyConnection, f: LandingFile, exc: BaseException) -> str:
    try:
        database = Path(
            con.execute(
                "select path from duckdb_databases() where database_name = current_database()"
            ).fetchone()[0]
        )
    except Exception:
        database = Path.cwd()
    if (isinstance(exc, OSError) and exc.errno == errno.EFBIG) or "File too large" in str(exc):
        return (
            f"写入失败：载入 {f.display_name} 时仓库 {database} 的文件大小超过限制，该文件一行"
            f"也未载入；请放宽限制后重新运行。 / writing the warehouse {database} failed: the "
            f"file size limit was reached: nothing of {f.display_name} was loaded; raise the "
            "limit and run again, the file is still in the landing folder"
        )
    disk = _mount_point(database.parent)
    free = shutil.disk_usage(disk).free / 2**20
    return (
        f"磁盘已满：载入 {f.display_name} 时，仓库 {database} 所在磁盘 {disk}（剩余 {free:.0f} MB）"
        f"写入失败，该文件一行也未载入；请腾出空间后重新运行。 / the disk {disk} holding the "
        f"warehouse {database} is full ({free:.0f} MB free): nothing of {f.display_name} was "
        "loaded; free some space and run again, the file is still in the landing folder"
    )


def load_pending(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: Source,
    *,
    pii_key: str,
    run_id: str | None = None,
    files: Iterable[LandingFile] | None = None,
    progress: Callable[[FileLoad], None] | None = None,
    skipped: Callable[[LandingFile, str], None] | None = None,
    lake: Path | None = None,
) -> list[FileLoad]:
    """Load every pending file of one source (or the files given), in order of arrival. A
    file that changed since it was listed is left for a later run (`skipped` hears of it).
    Refuses to load with another personal-data key than the warehouse was built with."""
    ensure_schema(con)
    verify_pii_key(con, key_fingerprint(pii_key))
    todo = list(files) if files is not None else pending_files(con, landing_dir, source)
    results = []
    for f in todo:
        try:
            result = load_file(con, source, f, pii_key=pii_key, run_id=run_id, lake=lake)
        except FileChanged as exc:
            if skipped:
                skipped(f, str(exc))
            continue
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
    commit and its move, so nothing stays in the landing folder twice. Only the regular files
    the scan lists are moved, never what a link points to.
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
    for f in scan(landing_dir, source).files:
        record = known.get(_identity(f))
        if record is None:
            continue
        load_id, status, reason = record
        folder = (quarantine_dir if status == "set_aside" else archive_dir) / source.name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _settled_name(load_id, f.name)
        if status == "set_aside":
            target.with_name(target.name + ".reason.txt").write_text(
                f"{f.display_name}（{source.title_zh}，{source.name}）"
                f"在第 {load_id} 次载入时被整体退回：\n"
                f"{reason}\n\n请修正文件后重新放入落地文件夹 {landing_dir / source.name}。\n"
                f"Fix the file and put it back into the landing folder "
                f"({landing_dir / source.name}) to load it.\n",
                encoding="utf-8",
            )
        try:
            if LandingFile.at(f.path) != f:
                continue  # replaced since it was listed: the new file is loaded on its own
            os.replace(f.path, target)
        except FileChanged:
            continue
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copyfile(f.path, target, follow_symlinks=False)
            os.unlink(f.path)
        con.execute(
            "update audit.file_loads set settled_path = ? where load_id = ?",
            [display_name(str(target)), load_id],
        )
        moved.append((f.path, target))
    return moved


def reconcile(con: duckdb.DuckDBPyConnection, source: Source, results: list[FileLoad]) -> list:
    """(file name, what does not add up) for every loaded file whose counts do not reconcile:
    rows read = rows loaded + rows rejected, and the raw and audit tables hold exactly those."""
    problems = []
    for r in results:
        if r.rows_read != r.rows_loaded + r.rows_rejected:
            problems.append(
                (r.file_name, f"read {r.rows_read} != {r.rows_loaded} + {r.rows_rejected}")
            )
            continue
        raw_n = con.execute(
            f"select count(*) from {source.raw_table} where _load_id = ?", [r.load_id]
        ).fetchone()[0]
        rej_n = con.execute(
            "select count(*) from audit.rejected_rows where load_id = ?", [r.load_id]
        ).fetchone()[0]
        if (raw_n, rej_n) != (r.rows_loaded, r.rows_rejected):
            problems.append(
                (
                    r.file_name,
                    f"audit says {r.rows_loaded} loaded / {r.rows_rejected} rejected, "
                    f"tables hold {raw_n} / {rej_n}",
                )
            )
    return problems


@dataclass
class Ingested:
    """What one load of a source's landing folder did."""

    skipped: list[Skipped]
    results: list[FileLoad]
    problems: list[tuple[str, str]]
    settled: list[tuple[Path, Path]]


def ingest(
    connect: Callable[[], duckdb.DuckDBPyConnection],
    source: Source,
    *,
    landing_dir: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    pii_key: str,
    run_id: str | None = None,
    versions: list[FileVersion] | None = None,
    say: Callable[[str, bool], None] = lambda line, warn: None,
    progress: Callable[[FileLoad], None] | None = None,
    lake: Path | None = None,
) -> Ingested:
    """A source's landing folder, file by file: list it (the boundary), choose what has
    settled (or the versions given), load each file in its own transaction, reconcile the
    counts, and move every known file to the archive or quarantine. `say(line, warn)` hears
    every line a person watching should read (warn: an entry that was not taken). The
    warehouse is opened (`connect`) only once the choice is made: settling may wait a few
    seconds. With a `lake` (the Spark engine), every accepted batch also goes there, and the
    lake is then made to hold exactly the source's loads and the audit of every file."""
    listing = scan(landing_dir, source)
    for entry in listing.skipped:
        say(entry.line(source), True)
    chosen, not_taken = choose(listing.files, versions)
    for line in not_taken:
        say(f"{source.name}/{line}", False)
    con = connect()
    try:
        ensure_schema(con)
        todo = pending(con, source, chosen)
        say(f"{source.name}: {len(todo)} new file(s) in {landing_dir / source.name}", False)
        results = load_pending(
            con,
            landing_dir,
            source,
            pii_key=pii_key,
            run_id=run_id,
            files=todo,
            progress=progress,
            skipped=lambda f, why: say(
                f"{source.name}/{f.display_name}: {why}; left for a later run", False
            ),
            lake=lake,
        )
        problems = reconcile(con, source, results)
        moved = settle_files(con, landing_dir, archive_dir, quarantine_dir, source)
        if lake is not None:
            synced = lake_files.sync(con, lake, [source])
            for part in synced.written:
                say(f"lake: wrote {part}, a load the lake lacked", False)
            for part in synced.removed:
                say(f"lake: removed {part}, not a load of this warehouse", True)
            lake_files.write_audit(con, lake)
    finally:
        con.close()
    return Ingested(listing.skipped, results, problems, moved)
