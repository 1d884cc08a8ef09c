"""Has permit_cases delivered on its submission calendar? (orchestration/lib/freshness.py)"""

from orchestration.lib.freshness import build_freshness_check
from sources.contracts import PERMIT_CASES

permit_cases_is_fresh = build_freshness_check(PERMIT_CASES)
