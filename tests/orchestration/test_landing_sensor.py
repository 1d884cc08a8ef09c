"""The landing sensor requests a load once a file has stopped changing, and only once."""

import json
import os

import dagster as dg

from orchestration.lib.landing_sensor import build_landing_sensor, ready_files
from orchestration.lib.settings import WarehouseResource
from sources.contracts import SERVICE_ITEMS

S = 10**9  # one second in ns; the ticks below are at t = 100 s, 105 s, ... (clock_ns)


def test_ready_only_when_unchanged_across_two_ticks_and_only_once():
    ready, cursor = ready_files(None, {"a.csv": [10, 99 * S]}, clock_ns=100 * S)
    assert ready == []  # written 1 s ago
    ready, cursor = ready_files(cursor, {"a.csv": [20, 104 * S]}, clock_ns=105 * S)  # growing
    assert ready == []
    ready, cursor = ready_files(
        cursor, {"a.csv": [20, 104 * S], "b.csv": [5, 109 * S]}, clock_ns=110 * S
    )
    assert ready == ["a.csv"]
    ready, cursor = ready_files(
        cursor, {"a.csv": [20, 104 * S], "b.csv": [5, 109 * S]}, clock_ns=115 * S
    )
    assert ready == ["b.csv"]
    ready, cursor = ready_files(
        cursor, {"a.csv": [20, 104 * S], "b.csv": [5, 109 * S]}, clock_ns=120 * S
    )
    assert ready == []
    # a.csv loaded and archived, then a corrected a.csv arrives: a new version, loaded again.
    ready, cursor = ready_files(cursor, {"b.csv": [5, 109 * S]}, clock_ns=125 * S)
    ready, cursor = ready_files(
        cursor, {"a.csv": [21, 129 * S], "b.csv": [5, 109 * S]}, clock_ns=130 * S
    )
    assert ready == []
    ready, cursor = ready_files(
        cursor, {"a.csv": [21, 129 * S], "b.csv": [5, 109 * S]}, clock_ns=135 * S
    )
    assert ready == ["a.csv"]


def test_a_file_untouched_for_the_settle_time_is_ready_when_first_seen():
    # c.csv was last written 3 s before the tick (a finished file moved in); d.csv 2 s before.
    ready, cursor = ready_files(
        None, {"c.csv": [7, 97 * S], "d.csv": [7, 98 * S]}, clock_ns=100 * S
    )
    assert ready == ["c.csv"]
    ready, cursor = ready_files(
        cursor, {"c.csv": [7, 97 * S], "d.csv": [7, 98 * S]}, clock_ns=105 * S
    )
    assert ready == ["d.csv"]
    # Rewritten in place, even long ago: a file already seen waits for a second look.
    ready, cursor = ready_files(
        cursor, {"c.csv": [8, 50 * S], "d.csv": [7, 98 * S]}, clock_ns=110 * S
    )
    assert ready == []
    ready, cursor = ready_files(
        cursor, {"c.csv": [8, 50 * S], "d.csv": [7, 98 * S]}, clock_ns=115 * S
    )
    assert ready == ["c.csv"]


def test_sensor_evaluates_against_the_landing_folder(tmp_path):
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text("x", encoding="utf-8")
    os.utime(folder / "items.csv", (1_000, 1_000))  # written long ago, then moved in
    (folder / "items_new.csv").write_text("y", encoding="utf-8")  # written just now
    (folder / "items2.csv.part").write_text("still being written", encoding="utf-8")
    sensor = build_landing_sensor(SERVICE_ITEMS)
    warehouse = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    first = dg.build_sensor_context(resources={"warehouse": warehouse})
    request = sensor(first)
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == [dg.AssetKey(["raw", "service_items"])]
    assert request.tags["kzdw/files"] == "1"  # items.csv; items_new.csv waits for a 2nd look
    second = dg.build_sensor_context(cursor=first.cursor, resources={"warehouse": warehouse})
    request = sensor(second)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["kzdw/files"] == "1"
    assert "items_new.csv" in json.loads(second.cursor)["sent"]
    third = dg.build_sensor_context(cursor=second.cursor, resources={"warehouse": warehouse})
    assert isinstance(sensor(third), dg.SkipReason)
