"""A deployment's first saved parse taken from the parse made with the code, when that is sound.

dbt keeps a parse (partial_parse.msgpack) only for the profile it was made with: it hashes the
connection's settings, the warehouse's path among them, and parses the whole project again
(≈10 s of CPU) when the hash differs. The project's Jinja reads nothing of the connection but
the target's type, schema and database (the warehouse file's name without its folder); the
path's folder, DuckDB's memory limit, threads and spill folder change no parsed node. So where
the deployment's connection differs from the one `kzdw prepare` parsed with only in those, the
prepared parse is the deployment's, given the deployment's hash; dbt then re-parses only what
else changed (files whose environment variables differ), as it does from any saved parse.

Run as `python -P prepared_parse.py <saved parse>` by dbt's Python (`kzdw.settings.dbt_command`),
in the environment of the deployment's dbt commands (`dbt.run_dbt`, whose DBT_PROJECT_DIR names
the project), for the DuckDB output: it imports dbt, and nothing of kzdw. Exit status 0 when
the saved parse was written; otherwise nothing is written and the caller runs `dbt parse`:
3 the prepared parse is missing or was not made as `kzdw prepare` makes it, 4 the deployment's
connection differs in what the parse reads."""

from __future__ import annotations

import fcntl
import os
import pprint
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path


def _project_dir() -> Path:
    return Path(os.environ["DBT_PROJECT_DIR"])


# Connection settings that no parsed node reads (the database, the file's name, is compared).
NOT_PARSED = {"path", "config_options"}


def prepare_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment `kzdw prepare` parses in: no deployment's settings (KZDW_*)."""
    return {k: v for k, v in environ.items() if not k.startswith("KZDW_")}


def _connection(environ: Mapping[str, str]) -> dict:
    """The profile's connection as dbt renders it in `environ` (its default target)."""
    from dbt.config.runtime import load_profile
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(environ))
    profile = load_profile(str(_project_dir()), {}, None, None, None)
    return dict(profile.credentials.connection_info())


def _profile_hash(connection: dict) -> str:
    """dbt's hash of a connection (ManifestLoader.build_manifest_state_check)."""
    from dbt.contracts.files import FileHash

    return FileHash.from_contents(pprint.pformat(sorted(connection.items()))).checksum


def adopt(saved: Path, environ: Mapping[str, str]) -> int:
    from dbt.flags import set_from_args
    from dbt.parser.manifest import extended_mashumaro_encoder, extended_mashumuro_decoder

    # The parse `kzdw prepare` made with the code (dbt.prepare_manifest).
    prepared_parse = _project_dir() / "target" / "partial_parse.msgpack"
    if not prepared_parse.exists():
        return 3
    set_from_args(Namespace(profiles_dir=str(_project_dir())), None)
    # Read whole, not while `kzdw prepare` writes it (dbt.prepare_manifest holds the lock).
    with (prepared_parse.parent / ".parse.lock").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        manifest = extended_mashumuro_decoder(prepared_parse.read_bytes())
    prepared = _connection(prepare_environment(environ))
    stored = manifest.get("state_check", {}).get("profile_hash", {})
    if stored.get("checksum") != _profile_hash(prepared):
        return 3
    deployment = _connection(environ)
    if {k: v for k, v in deployment.items() if k not in NOT_PARSED} != {
        k: v for k, v in prepared.items() if k not in NOT_PARSED
    }:
        return 4
    stored["checksum"] = _profile_hash(deployment)
    partial = saved.with_name(f".{saved.name}.{os.getpid()}.adopting")
    partial.write_bytes(extended_mashumaro_encoder(manifest))
    os.replace(partial, saved)
    return 0


if __name__ == "__main__":
    sys.exit(adopt(Path(sys.argv[1]), os.environ))
