"""A file landing in landing/market_entities/ triggers a load."""

from orchestration.lib.landing_sensor import build_landing_sensor
from sources.contracts import MARKET_ENTITIES

market_entities_file_landed_sensor = build_landing_sensor(MARKET_ENTITIES)
