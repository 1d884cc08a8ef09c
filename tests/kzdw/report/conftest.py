"""The report's fixtures: a small serving copy with the agreed KPI tables, and the report of it."""

from pathlib import Path

import pytest

from kzdw.report import ReportFiles, build_report
from kzdw.report.data import ReportData, load_report_data
from tests.kzdw.report.fixture import build_fixture


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report_fixture")
    return build_fixture(root / "serving" / "warehouse.duckdb")


@pytest.fixture(scope="module")
def data(serving) -> ReportData:
    return load_report_data(serving)


@pytest.fixture(scope="module")
def report(serving, tmp_path_factory) -> ReportFiles:
    return build_report(serving, out_dir=tmp_path_factory.mktemp("report_out"))
