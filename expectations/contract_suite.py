"""The part of every source's suite that follows from its contract in `sources/contracts.py`."""

from __future__ import annotations

import great_expectations.expectations as gxe

from sources.contracts import Source

CRITICAL = {"critical": True}


def contract_expectations(source: Source) -> list:
    """Critical: what the loader promises about every loaded row (it guards the loader)."""
    out: list = [gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=CRITICAL)]
    for col in source.columns:
        stored = [name for name, _ in col.stored_columns]
        if col.required:
            for name in stored:
                out.append(gxe.ExpectColumnValuesToNotBeNull(column=name, meta=CRITICAL))
        if col.personal:
            digest, masked = f"{col.name}_hash", f"{col.name}_masked"
            # The keyed digest is a 64-bit integer (a text digest is the old storage, or the
            # clear value). pandas holds a BIGINT column that has nulls as float64.
            out.append(
                gxe.ExpectColumnValuesToBeInTypeList(
                    column=digest, type_list=["int64", "Int64", "float64"], meta=CRITICAL
                )
            )
            # Wherever there was a value there is its digest.
            out.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=digest,
                    row_condition=f"{masked}.notnull()",
                    condition_parser="pandas",
                    meta=CRITICAL,
                )
            )
            continue
        if col.allowed is not None:
            out.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=list(col.allowed), meta=CRITICAL
                )
            )
        if col.minimum is not None or col.maximum is not None:
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=col.name, min_value=col.minimum, max_value=col.maximum, meta=CRITICAL
                )
            )
        if col.length is not None:
            out.append(
                gxe.ExpectColumnValueLengthsToEqual(
                    column=col.name, value=col.length, meta=CRITICAL
                )
            )
    return out
