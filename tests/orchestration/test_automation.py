"""Declarative automation, evaluated by Dagster itself on an ephemeral instance: a mart rebuilt
with a failed blocking check keeps the serving copy and the report from publishing; rebuilt
with its checks passing, both follow."""

import dagster as dg
import pytest

SERVING = dg.AssetKey(["serving", "warehouse"])
REPORT = dg.AssetKey(["reports", "leadership"])


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def _blocking_check(defs, key: dg.AssetKey) -> str:
    graph = defs.resolve_asset_graph()
    return next(
        spec.name
        for assets_def in graph.assets_defs
        for spec in assets_def.check_specs
        if spec.asset_key == key and spec.blocking
    )


@pytest.mark.parametrize(
    "mart", ["kpi_breakdowns", "kpi_scorecard", "kpi_revisions", "dim_service_items"]
)
def test_a_failed_blocking_check_on_any_mart_stops_the_publish(defs, mart):
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if graph.get(key).is_materializable:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0  # everything is up to date

    key = dg.AssetKey(["marts", mart])
    check = _blocking_check(defs, key)

    def rebuilt(passed: bool, cursor):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=key,
                check_name=check,
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        )
        return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)

    failed = rebuilt(False, first.cursor)
    assert failed.get_num_requested(SERVING) == 0
    assert failed.get_num_requested(REPORT) == 0
    passed = rebuilt(True, failed.cursor)
    assert passed.get_num_requested(SERVING) == 1
    # The report prints the new copy: requested with it, never on the mart's update alone.
    assert passed.get_num_requested(REPORT) == 1


def test_the_serving_copy_and_the_report_depend_on_what_they_read(defs):
    from kzdw.report.data import TABLES_READ

    graph = defs.resolve_asset_graph()
    dbt_keys = {k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "marts")}
    assert dbt_keys <= set(graph.get(SERVING).parent_keys)
    assert set(graph.get(REPORT).parent_keys) == {SERVING} | {
        dg.AssetKey(list(t)) for t in TABLES_READ
    }


@pytest.mark.parametrize(
    "sources", [("permit_cases",), ("market_entities",), ("permit_cases", "market_entities")]
)
def test_after_a_landing_run_automation_requests_the_report_and_nothing_it_built(defs, sources):
    from orchestration.lib.landing_sensor import carried
    from sources.contracts import SOURCES

    graph = defs.resolve_asset_graph()
    raw = {dg.AssetKey(["raw", source]) for source in sources}
    selected = carried(*(SOURCES[source] for source in sources)).resolve(graph)
    # The run carries the raw tables, the models that read them, the KPI table and the copy;
    # not the other sources' raw tables or models, nor the report.
    assert raw | {SERVING, dg.AssetKey(["marts", "kpi_values"])} <= selected
    assert REPORT not in selected
    assert dg.AssetKey(["raw", "service_items"]) not in selected
    assert dg.AssetKey(["staging", "stg_service_items__items"]) not in selected

    instance = dg.DagsterInstance.ephemeral()
    for key in graph.toposorted_asset_keys:
        if graph.get(key).is_materializable:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0
    # The landing run: each selected asset once, inputs before what reads them, as a run
    # materialises them.
    for key in graph.toposorted_asset_keys:
        if key in selected:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {key for key in graph.get_all_asset_keys() if after.get_num_requested(key)}
    assert requested == {REPORT}
