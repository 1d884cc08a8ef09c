"""Has market_entities delivered on its submission calendar? (orchestration/lib/freshness.py)"""

from orchestration.lib.freshness import build_freshness_check
from sources.contracts import MARKET_ENTITIES

market_entities_is_fresh = build_freshness_check(MARKET_ENTITIES)
