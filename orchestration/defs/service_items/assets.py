"""raw.service_items: the landing files of this source, loaded and audited."""

from orchestration.lib.ingest import build_raw_asset
from sources.contracts import SERVICE_ITEMS

service_items = build_raw_asset(SERVICE_ITEMS)
