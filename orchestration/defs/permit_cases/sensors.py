"""A file landing in landing/permit_cases/ triggers a load."""

from orchestration.lib.landing_sensor import build_landing_sensor
from sources.contracts import PERMIT_CASES

permit_cases_file_landed_sensor = build_landing_sensor(PERMIT_CASES)
