"""The figures a scorecard sentence (marts.kpi_scorecard.status_reason, written in SQL by the
dbt macro format_kpi_value) prints, read back out of it, to hold against the Python formatter."""

from __future__ import annotations

import re

# The sentence shapes of kpi_scorecard.sql: a flow is 完成 X，为年度目标 Y 的…；…推算全年约 Z，…;
# a level, ratio or average is 为 X，年度目标 Y，….
_DONE = re.compile(r"截至\d+年\d+月\d+日完成(?P<value_to_date>.+?)，为年度目标(?P<target>.+?)的")
_LEVEL = re.compile(r"截至\d+年\d+月\d+日为(?P<value_to_date>.+?)，年度目标(?P<target>.+?)，")
_PROJECTED = re.compile(r"推算全年约(?P<projected_year_end>.+?)，")


def scorecard_figures(reason: str) -> dict[str, str]:
    """{column: figure as printed} for value_to_date, target and projected_year_end, those the
    sentence prints."""
    found: dict[str, str] = {}
    for pattern in (_DONE, _LEVEL, _PROJECTED):
        match = pattern.search(reason)
        if match:
            found.update(match.groupdict())
    return found
