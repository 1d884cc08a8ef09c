"""`kzdw kpis` prints every figure as the report does (one formatter, the seed's facts), the
headline KPIs in the seed's headline_rank order."""

from __future__ import annotations

import re

import duckdb
import pytest

from kzdw.cli import main
from kzdw.cli.analysts import print_kpis
from kzdw.report.data import load_report_data
from kzdw.report.html import render_html
from tests.kzdw.report.browser import visible_text
from tests.kzdw.report.fixture import KPIS, build_fixture


@pytest.fixture
def serving(tmp_path):
    return build_fixture(tmp_path / "serving" / "warehouse.duckdb")


def _printed(capsys) -> list[tuple[str, str, str, str | None]]:
    """(name, figure, code, target) per KPI line."""
    rows = []
    for line in capsys.readouterr().out.splitlines():
        match = re.match(r"  (\S+)\s+(\S+)   (\w+)(?:   目标 (\S+))?$", line)
        if match:
            rows.append(match.groups())
    return rows


def test_headline_kpis_in_the_seeds_order_printed_as_the_report_prints_them(serving, capsys):
    assert print_kpis(serving, 2022) == 0
    rows = _printed(capsys)
    ranked = sorted((c for c, f in KPIS.items() if f[3] is not None), key=lambda c: KPIS[c][3])
    assert [code for _, _, code, _ in rows] == ranked
    figures = {code: figure for _, figure, code, _ in rows}
    # No thousands separator, the unit word, a ratio's one decimal, 亿元 with one.
    assert figures["entities_total"] == "100425户"
    assert figures["online_case_rate"] == "69.9%"
    assert figures["avg_trips_per_case"] == "0.11次"
    assert figures["industrial_investment_signed"] == "289.9亿元"
    assert "cases_completed" not in figures  # no headline_rank


def test_every_figure_is_the_one_on_the_report_page(serving, capsys):
    print_kpis(serving, 2022, headline_only=False)
    rows = _printed(capsys)
    assert {code for _, _, code, _ in rows} == set(KPIS)
    about = visible_text(render_html(load_report_data(serving))).split("附：指标说明")[1]
    for name, figure, code, _ in rows:
        # The appendix prints each KPI's 2022 figure beside its name.
        assert f"{name} {figure} " in about, code


def test_all_kpis_by_domain_in_display_order_with_targets(serving, capsys):
    assert print_kpis(serving, 2023, headline_only=False) == 0
    rows = _printed(capsys)
    codes = [code for _, _, code, _ in rows]
    assert codes[:4] == [
        "avg_trips_per_case",
        "online_case_rate",
        "one_window_cases",
        "cases_completed",
    ]
    targets = {code: target for _, _, code, target in rows if target}
    assert targets["contract_investment_signed"] == "400亿元"
    assert targets["avg_trips_per_case"] == "0.10次"
    assert targets["online_case_rate"] == "75%"


def test_a_copy_without_the_seed_is_refused_in_words(serving, tmp_path, capsys, monkeypatch):
    con = duckdb.connect(str(serving))
    con.execute("alter table seeds.kpi_definitions drop column unit_word")
    con.close()
    monkeypatch.setenv("KZDW_WAREHOUSE", str(serving.parent.parent / "warehouse.duckdb"))
    monkeypatch.delenv("KZDW_SERVING", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["kpis", "--year", "2022"]) == 2
    err = capsys.readouterr().err
    assert "seeds.kpi_definitions" in err and "unit_word" in err and "kzdw run" in err
