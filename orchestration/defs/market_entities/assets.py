"""raw.market_entities: the landing files of this source, loaded and audited."""

from orchestration.lib.ingest import build_raw_asset
from sources.contracts import MARKET_ENTITIES

market_entities = build_raw_asset(MARKET_ENTITIES)
