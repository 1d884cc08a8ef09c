"""raw.investment_projects: the landing files of this source, loaded and audited."""

from orchestration.lib.ingest import build_raw_asset
from sources.contracts import INVESTMENT_PROJECTS

investment_projects = build_raw_asset(INVESTMENT_PROJECTS)
