"""Text from the data inside what the Dagster UI shows: check descriptions are Markdown there,
so a value quoted from a source file (a file name, a sample of unexpected values) goes in as a
code span, shown literally: no link, no emphasis, no HTML, control characters as escapes."""

from __future__ import annotations

import re

from kzdw.terminal import inert


def literal(text: str) -> str:
    """`text` as a Markdown code span whose fence no backtick inside can close."""
    shown = inert(text)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"
