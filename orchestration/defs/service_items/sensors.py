"""A file landing in landing/service_items/ triggers a load."""

from orchestration.lib.landing_sensor import build_landing_sensor
from sources.contracts import SERVICE_ITEMS

service_items_file_landed_sensor = build_landing_sensor(SERVICE_ITEMS)
