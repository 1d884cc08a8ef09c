"""The dbt source definitions of the raw layer, generated from the landing contract.

`python -m sources.dbt_sources` writes `dbt_project/models/staging/<system>/_<system>__sources.yml`
for every source in `SOURCES`. The files are committed so dbt needs no Python to parse; a test
compares them with `expected_files()` so they cannot drift from the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sources.contracts import DUCKDB_TYPES, LINEAGE_COLUMNS, SOURCES, Column, Source

STAGING_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "staging"

RAW_SCHEMA = '{{ target.schema ~ "_raw" if target.type == "spark" else "raw" }}'

HEADER = (
    "# Generated from sources/contracts.py by `python -m sources.dbt_sources`: do not edit by\n"
    "# hand; change the contract and run the generator again.\n"
)

# Lineage columns have no header in any source file; these are their names in the audit views.
_LINEAGE_ZH = {
    "_load_id": "加载编号",
    "_file_name": "文件名",
    "_row_number": "行号",
    "_loaded_at": "加载时间",
}

_PERSONAL_FORMS = {
    "hash": "keyed digest of the {desc} (the first 8 bytes of its keyed SHA-256, as a BIGINT), "
    "for joins and distinct counts; the clear value "
    "is never stored",
    "masked": "masked {desc} for display ({mask})",
}
_MASKS = {
    "id": "first 6 and last 4 characters kept",
    "name": "surname kept",
}


class _IndentedDumper(yaml.SafeDumper):
    """Indents list items under their key, as dbt's own examples do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _column_entries(column: Column) -> list[dict[str, Any]]:
    if column.personal:
        entries = []
        for form, dtype in column.stored_columns:
            kind = form.rsplit("_", 1)[1]
            text = _PERSONAL_FORMS[kind].format(
                desc=column.description, mask=_MASKS[column.personal]
            )
            label = "脱敏" if kind == "masked" else "哈希"
            entries.append(
                {
                    "name": form,
                    "description": f"{text} ({column.header_zh}，{label})",
                    "data_type": dtype.lower(),
                }
            )
        return entries
    # Some descriptions already quote the header; saying it twice reads as a mistake.
    description = column.description
    if column.header_zh not in description:
        description = f"{description} ({column.header_zh})"
    entry: dict[str, Any] = {
        "name": column.name,
        "description": description,
        "data_type": DUCKDB_TYPES[column.dtype].lower(),
    }
    # No dbt tests on raw: the loader enforces the contract on every row before it is written
    # and the source's GX suite checks each loaded batch; testing it again here would scan
    # every raw table on every build for nothing.
    return [entry]


def sources_document(source: Source) -> dict[str, Any]:
    """The dbt `sources:` document of one raw table."""
    columns: list[dict[str, Any]] = []
    for column in source.columns:
        columns.extend(_column_entries(column))
    for name, dtype, description in LINEAGE_COLUMNS:
        columns.append(
            {
                "name": name,
                "description": f"{description} ({_LINEAGE_ZH[name]})",
                "data_type": dtype.lower(),
            }
        )
    table = {
        "name": source.name,
        "description": (
            f"{source.title_zh} ({source.system_zh}). {source.description} Append-only: every "
            "version of every accepted row of every loaded file; rejected rows are in "
            "audit.rejected_rows."
        ),
        "meta": {"key": source.key, "title_zh": source.title_zh, "system_zh": source.system_zh},
        "columns": columns,
    }
    return {
        "version": 2,
        "sources": [
            {
                "name": "raw",
                # On Spark the raw layer is a table over the lake per source, in a database of
                # its own (dbt_project/macros/spark/create_raw_tables.sql).
                "schema": RAW_SCHEMA,
                "description": "Raw layer written by the loader (restricted: analysts read marts).",
                "tables": [table],
            }
        ],
    }


def expected_text(source: Source) -> str:
    """The exact text of `_<system>__sources.yml` for one source."""
    body = yaml.dump(
        sources_document(source),
        Dumper=_IndentedDumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    return HEADER + "\n" + body


def sources_path(source: Source) -> Path:
    return STAGING_DIR / source.name / f"_{source.name}__sources.yml"


def expected_files() -> dict[Path, str]:
    """Every generated sources file and the text it must hold."""
    return {sources_path(s): expected_text(s) for s in SOURCES.values()}


def main() -> None:
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
