"""The landing sensor requests a load once a file has stopped changing, and only once."""

import os

import dagster as dg

from orchestration.lib.landing_sensor import build_landing_sensor, ready_files
from orchestration.lib.settings import WarehouseResource
from sources.contracts import SERVICE_ITEMS


def test_ready_only_when_unchanged_across_two_ticks_and_only_once():
    ready, cursor = ready_files(None, {"a.csv": [10, 1]})
    assert ready == []
    ready, cursor = ready_files(cursor, {"a.csv": [20, 2]})  # still growing
    assert ready == []
    ready, cursor = ready_files(cursor, {"a.csv": [20, 2], "b.csv": [5, 3]})
    assert ready == ["a.csv"]
    ready, cursor = ready_files(cursor, {"a.csv": [20, 2], "b.csv": [5, 3]})
    assert ready == ["b.csv"]
    ready, cursor = ready_files(cursor, {"a.csv": [20, 2], "b.csv": [5, 3]})
    assert ready == []
    # a.csv loaded and archived, then a corrected a.csv arrives: a new version, loaded again.
    ready, cursor = ready_files(cursor, {"b.csv": [5, 3]})
    ready, cursor = ready_files(cursor, {"a.csv": [21, 9], "b.csv": [5, 3]})
    ready, cursor = ready_files(cursor, {"a.csv": [21, 9], "b.csv": [5, 3]})
    assert ready == ["a.csv"]


def test_sensor_evaluates_against_the_landing_folder(tmp_path):
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text("x", encoding="utf-8")
    (folder / "items2.csv.part").write_text("still being written", encoding="utf-8")
    os.utime(folder / "items.csv", (1_000, 1_000))
    sensor = build_landing_sensor(SERVICE_ITEMS)
    warehouse = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    first = dg.build_sensor_context(resources={"warehouse": warehouse})
    assert isinstance(sensor(first), dg.SkipReason)
    second = dg.build_sensor_context(cursor=first.cursor, resources={"warehouse": warehouse})
    request = sensor(second)
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == [dg.AssetKey(["raw", "service_items"])]
    assert request.tags["kzdw/files"] == "1"
    third = dg.build_sensor_context(cursor=second.cursor, resources={"warehouse": warehouse})
    assert isinstance(sensor(third), dg.SkipReason)
