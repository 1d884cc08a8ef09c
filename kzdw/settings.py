"""The settings of a deployment: one object, read once from the `KZDW_*` environment variables.

A deployment is its landing folder and its warehouse file. Everything else it writes defaults
beside the warehouse, in the warehouse's own folder, so that setting the two (and nothing
else) gives a complete deployment, and two deployments in two folders never touch each other:

    <dir>/<name>.duckdb                 KZDW_WAREHOUSE
    <dir>/serving/<name>.duckdb         KZDW_SERVING: the analysts' copy (same file name)
    <dir>/archive/<source>/             KZDW_ARCHIVE_DIR: loaded and duplicate files
    <dir>/quarantine/<source>/          KZDW_QUARANTINE_DIR: set-aside files and their reasons
    <dir>/reports/<as-of>/              KZDW_REPORTS_DIR: the leadership report
    <dir>/<name>.pii.key                the personal-data key, made on first use (KZDW_PII_KEY)
    <dir>/dagster_home/                 DAGSTER_HOME, when it is not set
    <dir>/dbt/<name>/, <dir>/logs/      dbt's saved parse, artifacts and logs; kzdw run's logs
    <dir>/<name>.tmp/                   KZDW_DUCKDB_TEMP_DIR: where DuckDB spills what exceeds
                                        KZDW_DUCKDB_MEMORY_LIMIT (see duckdb_config)
    <dir>/lake/<name>/                  KZDW_LAKE: each accepted batch as Parquet, for the
                                        Spark engine (KZDW_ENGINE=spark)
    <dir>/spark/<name>/                 a local Spark session's catalogue and tables

The checkout (or an installed package) is code and is never written to. Relative paths are
taken from the working directory of the process that reads them; `kzdw` hands absolute paths
to every process it starts.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

# The code: where the dbt project lives (beside the Python packages, in a checkout and in an
# installed wheel alike). Read only.
CODE_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = CODE_ROOT / "dbt_project"


def installed_command(name: str) -> str:
    """A command installed beside this interpreter (dg, the DuckDB CLI), so that kzdw works
    without an activated environment; the bare name, found on PATH, otherwise."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


# dbt's own Python environment (dbt_env/pyproject.toml, made by `make setup`): dbt-core, its
# adapters and pyspark, which kzdw runs as commands of their own and never imports.
DBT_ENVIRONMENT = CODE_ROOT / "dbt_env" / ".venv"


def dbt_command(name: str = "dbt") -> str:
    """A command of dbt's environment: `dbt`, or `python` for a script that imports dbt or
    pyspark. Where there is no dbt_env/.venv (dbt installed beside kzdw instead), the command
    beside this interpreter."""
    made = DBT_ENVIRONMENT / "bin" / name
    if made.exists():
        return str(made)
    return sys.executable if name == "python" else installed_command(name)


# The contract's defaults (contracts/SOURCES.md, contracts/KPIS.md).
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"

# A key shorter than this is guessable; a key that was ever published is known to everyone.
MIN_PII_KEY_LENGTH = 16
KNOWN_PII_KEYS = frozenset({"kzdw-demo-key-change-me"})

# Every variable a deployment reads, with what it is for (`kzdw settings` prints them).
VARIABLES: dict[str, str] = {
    "KZDW_LANDING_DIR": "landing folder, one sub-folder per source",
    "KZDW_WAREHOUSE": "the DuckDB warehouse file",
    "KZDW_AS_OF": "as-of date of the KPIs (YYYY-MM-DD); empty: latest updated_at loaded",
    "KZDW_SERVING": "the analysts' read-only copy",
    "KZDW_ARCHIVE_DIR": "where loaded and duplicate files go",
    "KZDW_QUARANTINE_DIR": "where set-aside files go, beside <file>.reason.txt",
    "KZDW_REPORTS_DIR": "where the leadership report goes, one folder per as-of date",
    "KZDW_PII_KEY": "key of the hash that replaces personal data; empty: the key file",
    "KZDW_DUCKDB_MEMORY_LIMIT": "DuckDB's memory_limit for every connection that writes the "
    "warehouse (e.g. 8GiB); empty: 40% of this machine's memory",
    "KZDW_DUCKDB_THREADS": "DuckDB's threads; empty: one per CPU",
    "KZDW_DUCKDB_TEMP_DIR": "where DuckDB spills intermediate results beyond the memory limit",
    "KZDW_ENGINE": "what builds staging, intermediate and marts: duckdb (default) or spark",
    "KZDW_LAKE": "with KZDW_ENGINE=spark: the folder of Parquet batches Spark reads",
    "KZDW_SPARK_METHOD": "with KZDW_ENGINE=spark: session (a local Spark in dbt's process, "
    "default) or thrift (a Spark Thrift Server)",
    "KZDW_SPARK_HOST": "the Thrift Server's host (method thrift; default 127.0.0.1)",
    "KZDW_SPARK_PORT": "the Thrift Server's port (method thrift; default 10000)",
    "KZDW_SPARK_USER": "the user dbt connects to the Thrift Server as (method thrift)",
    "KZDW_SPARK_SCHEMA": "the Spark database the models are built in; schemas are prefixed "
    "with it (default kzdw)",
    "DAGSTER_HOME": "the Dagster instance (runs, schedules, sensors)",
}

ENGINES = ("duckdb", "spark")
SPARK_METHODS = ("session", "thrift")

# DuckDB's own default memory limit is 80% of the machine's memory, for DuckDB alone. A build
# here also holds a load's Polars frames and runs dbt and the orchestrator beside it, so the
# warehouse's connections take less and spill to the temporary folder beyond it.
DEFAULT_MEMORY_SHARE = 0.4
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)


class SettingsError(ValueError):
    """A setting cannot be used; the message says which, why, and what to set instead."""


class PiiKeyError(SettingsError):
    """The personal-data key is missing, weak or unreadable."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    as_of: date | None
    serving: Path
    archive_dir: Path
    quarantine_dir: Path
    reports_dir: Path
    dagster_home: Path
    # The key given in KZDW_PII_KEY; None means the key file beside the warehouse.
    pii_key_value: str | None = None
    # DuckDB's resources for the warehouse's connections (kzdw's and dbt's).
    duckdb_memory_limit: str = ""
    duckdb_threads: int = 0
    duckdb_temp_dir: Path | None = None
    # What builds the dbt models, and where the Spark engine reads the accepted batches.
    engine: str = "duckdb"
    lake: Path | None = None
    spark_method: str = "session"
    spark_host: str = "127.0.0.1"
    spark_port: int = 10000
    spark_user: str = ""
    spark_schema: str = "kzdw"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None, **overrides
    ) -> Settings:
        """The settings from `environ` (os.environ when not given); keyword overrides (the
        CLI's options) win over it. Empty variables count as unset."""
        env = dict(os.environ if environ is None else environ)
        for name, value in overrides.items():
            if value is not None:
                env[name] = str(value)
        base = Path.cwd() if cwd is None else cwd

        def path(name: str, default: Path | str) -> Path:
            value = (env.get(name) or "").strip()
            return _absolute(Path(value) if value else Path(default), base)

        warehouse = path("KZDW_WAREHOUSE", DEFAULT_WAREHOUSE)
        home = warehouse.parent
        settings = cls(
            landing_dir=path("KZDW_LANDING_DIR", DEFAULT_LANDING_DIR),
            warehouse=warehouse,
            as_of=_as_of(env.get("KZDW_AS_OF") or ""),
            serving=path("KZDW_SERVING", home / "serving" / warehouse.name),
            archive_dir=path("KZDW_ARCHIVE_DIR", home / "archive"),
            quarantine_dir=path("KZDW_QUARANTINE_DIR", home / "quarantine"),
            reports_dir=path("KZDW_REPORTS_DIR", home / "reports"),
            dagster_home=path("DAGSTER_HOME", home / "dagster_home"),
            pii_key_value=(env.get("KZDW_PII_KEY") or "").strip() or None,
            duckdb_memory_limit=_memory_limit(env.get("KZDW_DUCKDB_MEMORY_LIMIT") or ""),
            duckdb_threads=_threads(env.get("KZDW_DUCKDB_THREADS") or ""),
            duckdb_temp_dir=path("KZDW_DUCKDB_TEMP_DIR", home / f"{warehouse.name}.tmp"),
            engine=_choice(env, "KZDW_ENGINE", ENGINES),
            lake=path("KZDW_LAKE", home / "lake" / warehouse.stem),
            spark_method=_choice(env, "KZDW_SPARK_METHOD", SPARK_METHODS),
            spark_host=(env.get("KZDW_SPARK_HOST") or "").strip() or "127.0.0.1",
            spark_port=_port(env.get("KZDW_SPARK_PORT") or ""),
            spark_user=(env.get("KZDW_SPARK_USER") or "").strip(),
            spark_schema=_identifier(env, "KZDW_SPARK_SCHEMA", "kzdw"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, before anything is read or written."""
        problems = []
        if self.warehouse.is_dir():
            problems.append(
                f"KZDW_WAREHOUSE={self.warehouse} is a folder: give the path of a file, "
                f"for example {self.warehouse / 'warehouse.duckdb'}"
            )
        if self.serving.name != self.warehouse.name:
            # DuckDB names a database after its file, and the views inside name it.
            problems.append(
                f"KZDW_SERVING={self.serving} must have the warehouse's file name "
                f"({self.warehouse.name}): the views in the copy name their database after it"
            )
        if self.serving == self.warehouse:
            problems.append("KZDW_SERVING is the warehouse itself: give the copy its own folder")
        if self.landing_dir.exists() and not self.landing_dir.is_dir():
            problems.append(f"KZDW_LANDING_DIR={self.landing_dir} is not a folder")
        for name, folder in (
            ("KZDW_ARCHIVE_DIR", self.archive_dir),
            ("KZDW_QUARANTINE_DIR", self.quarantine_dir),
        ):
            if folder == self.landing_dir or _inside(folder, self.landing_dir):
                problems.append(
                    f"{name}={folder} is inside the landing folder: files there would be "
                    "loaded again; put it beside the landing folder"
                )
        if self.pii_key_value is not None:
            problems.extend(_weak_key(self.pii_key_value, "KZDW_PII_KEY"))
        if problems:
            raise SettingsError("; ".join(problems))

    # Derived locations that are not settings of their own.
    @property
    def dbt_dir(self) -> Path:
        """dbt's saved parse, per-invocation artifacts and logs for this warehouse file (a
        saved parse holds only for the profile, hence the warehouse path, it was made with)."""
        return self.warehouse.parent / "dbt" / self.warehouse.stem

    @property
    def spark_dir(self) -> Path:
        """A local Spark session's catalogue (Derby metastore) and table files for this
        warehouse (method session)."""
        return self.warehouse.parent / "spark" / self.warehouse.stem

    @property
    def logs_dir(self) -> Path:
        return self.warehouse.parent / "logs"

    @property
    def docs_dir(self) -> Path:
        return self.serving.parent / "docs"

    @property
    def pii_key_file(self) -> Path:
        return self.warehouse.with_name(f"{self.warehouse.stem}.pii.key")

    def replace(self, **changes) -> Settings:
        settings = replace(self, **changes)
        settings.check()
        return settings

    def for_warehouse(self, warehouse: Path) -> Settings:
        """The same deployment's settings for another warehouse file (replay), with the
        serving copy and the reports derived again beside the new one (the Dagster instance
        stays the deployment's: the replay's run shows with the others)."""
        env = self.to_env()
        for name in ("KZDW_SERVING", "KZDW_REPORTS_DIR", "KZDW_DUCKDB_TEMP_DIR", "KZDW_LAKE"):
            env.pop(name)
        return Settings.from_env(env, KZDW_WAREHOUSE=warehouse)

    def to_env(self) -> dict[str, str]:
        """The settings as the environment of a process kzdw starts (dg dev, dbt)."""
        env = {
            "KZDW_LANDING_DIR": str(self.landing_dir),
            "KZDW_WAREHOUSE": str(self.warehouse),
            "KZDW_AS_OF": self.as_of.isoformat() if self.as_of else "",
            "KZDW_SERVING": str(self.serving),
            "KZDW_ARCHIVE_DIR": str(self.archive_dir),
            "KZDW_QUARANTINE_DIR": str(self.quarantine_dir),
            "KZDW_REPORTS_DIR": str(self.reports_dir),
            "KZDW_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "KZDW_DUCKDB_THREADS": str(self.duckdb_threads),
            "KZDW_DUCKDB_TEMP_DIR": str(self.duckdb_temp_dir),
            "KZDW_ENGINE": self.engine,
            "KZDW_LAKE": str(self.lake),
            "KZDW_SPARK_METHOD": self.spark_method,
            "KZDW_SPARK_HOST": self.spark_host,
            "KZDW_SPARK_PORT": str(self.spark_port),
            "KZDW_SPARK_USER": self.spark_user,
            "KZDW_SPARK_SCHEMA": self.spark_schema,
            "DAGSTER_HOME": str(self.dagster_home),
        }
        if self.pii_key_value is not None:
            env["KZDW_PII_KEY"] = self.pii_key_value
        return env

    def duckdb_config(self) -> dict[str, str | int]:
        """DuckDB's configuration for a connection that writes the warehouse or reads it at
        scale: a memory limit it spills beyond (into the temporary folder) instead of failing,
        and its threads. dbt's profile reads the same values from `dbt_env`."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads,
            "temp_directory": str(self.duckdb_temp_dir),
        }

    def dbt_env(self) -> dict[str, str]:
        """The environment of a dbt invocation for this deployment: profiles.yml and
        dbt_project.yml read the warehouse, the serving copy and the as-of date from it."""
        return {
            **self.to_env(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # A local Spark session's metastore and tables (the profile's `spark` output).
            "KZDW_SPARK_DIR": str(self.spark_dir),
            # A run that builds some models only (a load of one source, under automation) runs
            # the tests whose every parent it builds: a relationships test to a model of
            # another source waits for a build that includes both (the daily one, or a full
            # run).
            "DBT_INDIRECT_SELECTION": os.environ.get("DBT_INDIRECT_SELECTION") or "cautious",
        }

    def describe(self) -> list[tuple[str, str]]:
        """(name, value) of every setting, for people (the key itself is never shown)."""
        values = self.to_env()
        values["KZDW_PII_KEY"] = (
            "(set)" if self.pii_key_value is not None else f"(key file {self.pii_key_file})"
        )
        return [(name, values[name]) for name in VARIABLES]

    # The personal-data key.
    def pii_key(self, create: bool = True) -> str:
        """The key of the hash that replaces personal data: KZDW_PII_KEY when set, else the
        key file beside the warehouse, made with a random key (readable by its owner only) the
        first time it is needed. A key that everyone could know is refused."""
        if self.pii_key_value is not None:
            return self.pii_key_value
        path = self.pii_key_file
        if not path.exists():
            if not create:
                raise PiiKeyError(f"no personal-data key yet: {path} does not exist")
            _create_key_file(path)
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PiiKeyError(f"the personal-data key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise PiiKeyError(
                f"个人信息密钥文件 {path} 可被其他用户读取，拒绝使用；请执行 chmod 600 {path}。 / "
                f"the personal-data key file {path} is readable by other users "
                f"(mode {stat.filemode(info.st_mode)}): run `chmod 600 {path}`"
            )
        key = path.read_text(encoding="utf-8").strip()
        weak = _weak_key(key, str(path))
        if weak:
            raise PiiKeyError("; ".join(weak))
        return key


def _create_key_file(path: Path) -> None:
    """Write a random key readable by its owner only. Two processes that start together make
    one key: each writes its own temporary file and links it into place; the loser reads the
    winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)


def _weak_key(key: str, where: str) -> list[str]:
    if key in KNOWN_PII_KEYS:
        return [
            f"{where} is the published demo key, which everyone knows: unset KZDW_PII_KEY to "
            "use a key file made for this warehouse, or set a secret of your own"
        ]
    if len(key) < MIN_PII_KEY_LENGTH:
        return [
            f"{where} holds a key of {len(key)} characters: use at least "
            f"{MIN_PII_KEY_LENGTH} (or unset KZDW_PII_KEY to use a generated key file)"
        ]
    return []


def _absolute(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def _inside(path: Path, folder: Path) -> bool:
    return folder in path.parents


def _memory_limit(text: str) -> str:
    """DuckDB's memory_limit: the given size (a number of bytes or with a unit, e.g. 8GiB), or
    DEFAULT_MEMORY_SHARE of this machine's memory."""
    text = text.strip()
    if not text:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return f"{int(total * DEFAULT_MEMORY_SHARE) // 2**20}MiB"
    match = _SIZE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise SettingsError(
            f"KZDW_DUCKDB_MEMORY_LIMIT is {text!r}, not a size: give it like 8GiB or 12000MB, "
            "or leave it empty for 40% of this machine's memory"
        )
    return f"{match.group(1)}{(match.group(2) or 'B').upper().replace('I', 'i')}"


def _threads(text: str) -> int:
    text = text.strip()
    if not text:
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(
            f"KZDW_DUCKDB_THREADS is {text!r}: give a whole number of threads, 1 or more, or "
            "leave it empty for one per CPU"
        )
    return int(text)


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return allowed[0]
    if text not in allowed:
        raise SettingsError(
            f"{name} is {text!r}: give one of {', '.join(allowed)}, or leave it empty for "
            f"{allowed[0]}"
        )
    return text


def _port(text: str) -> int:
    text = text.strip()
    if not text:
        return 10000
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(
            f"KZDW_SPARK_PORT is {text!r}: give the Thrift Server's port, 1 to 65535, or leave "
            "it empty for 10000"
        )
    return int(text)


def _identifier(env: Mapping[str, str], name: str, default: str) -> str:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        raise SettingsError(
            f"{name} is {text!r}: give a database name of letters, digits and _ that does "
            f"not start with a digit, or leave it empty for {default}"
        )
    return text


def _as_of(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"KZDW_AS_OF (or --as-of) is {text!r}, not a date: give it as YYYY-MM-DD, or leave "
            "it empty for the latest updated_at among loaded rows"
        ) from None
