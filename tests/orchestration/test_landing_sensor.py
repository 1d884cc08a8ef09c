"""The landing sensor requests a load once a file has stopped changing, and only once."""

import json
import os

import dagster as dg

from orchestration.lib.landing_sensor import build_landing_sensor, carried, ready_files
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import SERVICE_ITEMS


class Ticks:
    """The sensor's rule tick after tick, carrying the cursor: each call gives the folder as
    {name: (size, last write, s)} and the tick's time (s), and returns the files ready."""

    def __init__(self) -> None:
        self.cursor: str | None = None

    def __call__(self, at: int, **files: tuple[int, int]) -> list[str]:
        now = {f"{name}.csv": [size, written * 10**9] for name, (size, written) in files.items()}
        ready, self.cursor = ready_files(self.cursor, now, clock_ns=at * 10**9)
        return ready


def test_ready_only_when_unchanged_across_two_ticks_and_only_once():
    tick = Ticks()
    assert tick(100, a=(10, 99)) == []  # written 1 s ago
    assert tick(105, a=(20, 104)) == []  # still growing
    assert tick(110, a=(20, 104), b=(5, 109)) == ["a.csv"]
    assert tick(115, a=(20, 104), b=(5, 109)) == ["b.csv"]
    assert tick(120, a=(20, 104), b=(5, 109)) == []
    # a.csv loaded and archived, then a corrected a.csv arrives: a new version, loaded again.
    tick(125, b=(5, 109))
    assert tick(130, a=(21, 129), b=(5, 109)) == []
    assert tick(135, a=(21, 129), b=(5, 109)) == ["a.csv"]


def test_a_file_untouched_for_the_settle_time_is_ready_when_first_seen():
    tick = Ticks()
    # c.csv was last written 3 s before the tick (a finished file moved in); d.csv 2 s before.
    assert tick(100, c=(7, 97), d=(7, 98)) == ["c.csv"]
    assert tick(105, c=(7, 97), d=(7, 98)) == ["d.csv"]
    # Rewritten in place, even long ago: a file already seen waits for a second look.
    assert tick(110, c=(8, 50), d=(7, 98)) == []
    assert tick(115, c=(8, 50), d=(7, 98)) == ["c.csv"]


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
    # The run builds the sensor's target: the raw table and what lies up to the serving copy.
    assert request.asset_selection is None
    assert sensor.asset_selection == carried(SERVICE_ITEMS)
    assert request.tags["kzdw/files"] == "1"  # items.csv; items_new.csv waits for a 2nd look
    # The run loads exactly the file version the sensor saw settle.
    [version] = request.run_config["ops"]["raw__service_items"]["config"]["files"]
    info = (folder / "items.csv").stat()
    assert version == {
        "key": b"items.csv".hex(),
        "name": "items.csv",
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
    }
    second = dg.build_sensor_context(cursor=first.cursor, resources={"warehouse": warehouse})
    request = sensor(second)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["kzdw/files"] == "1"
    assert b"items_new.csv".hex() in json.loads(second.cursor)["sent"]
    third = dg.build_sensor_context(cursor=second.cursor, resources={"warehouse": warehouse})
    assert isinstance(sensor(third), dg.SkipReason)
