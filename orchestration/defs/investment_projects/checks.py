"""Has investment_projects delivered on its submission calendar? (orchestration/lib/freshness.py)"""

from orchestration.lib.freshness import build_freshness_check
from sources.contracts import INVESTMENT_PROJECTS

investment_projects_is_fresh = build_freshness_check(INVESTMENT_PROJECTS)
