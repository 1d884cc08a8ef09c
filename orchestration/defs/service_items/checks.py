"""Has service_items delivered on its submission calendar? (orchestration/lib/freshness.py)"""

from orchestration.lib.freshness import build_freshness_check
from sources.contracts import SERVICE_ITEMS

service_items_is_fresh = build_freshness_check(SERVICE_ITEMS)
