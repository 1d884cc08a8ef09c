"""raw.permit_cases: the landing files of this source, loaded and audited."""

from orchestration.lib.ingest import build_raw_asset
from sources.contracts import PERMIT_CASES

permit_cases = build_raw_asset(PERMIT_CASES)
