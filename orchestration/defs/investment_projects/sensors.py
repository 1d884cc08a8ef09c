"""A file landing in landing/investment_projects/ triggers a load."""

from orchestration.lib.landing_sensor import build_landing_sensor
from sources.contracts import INVESTMENT_PROJECTS

investment_projects_file_landed_sensor = build_landing_sensor(INVESTMENT_PROJECTS)
