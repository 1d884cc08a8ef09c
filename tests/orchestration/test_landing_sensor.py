"""The landing sensor requests a load once a file has stopped changing, and only once."""

import os
import threading
import time

import dagster as dg

from orchestration.lib.landing_sensor import build_landing_sensor, carried, ready_files
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import SERVICE_ITEMS
from sources.landing import SETTLE_SECONDS


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
    (folder / "items2.csv.part").write_text("still being written", encoding="utf-8")
    sensor = build_landing_sensor(SERVICE_ITEMS)
    warehouse = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    first = dg.build_sensor_context(resources={"warehouse": warehouse})
    (folder / "items_new.csv").write_text("y", encoding="utf-8")  # written just now
    os.utime(folder / "items_new.csv")
    started = time.monotonic()
    request = sensor(first)
    waited = time.monotonic() - started
    assert isinstance(request, dg.RunRequest)
    # The run builds the sensor's target: the raw table and what lies up to the serving copy.
    assert request.asset_selection is None
    assert sensor.asset_selection == carried(SERVICE_ITEMS)
    # items.csv at once; items_new.csv after a second look in the same tick, once it could
    # have settled.
    assert request.tags["kzdw/files"] == "2"
    assert SETTLE_SECONDS - 0.5 < waited < SETTLE_SECONDS + 2
    # The run loads exactly the file versions the sensor saw settle.
    versions = request.run_config["ops"]["raw__service_items"]["config"]["files"]
    expected = []
    for name in ("items.csv", "items_new.csv"):
        info = (folder / name).stat()
        expected.append(
            {
                "key": name.encode().hex(),
                "name": name,
                "size": info.st_size,
                "mtime_ns": info.st_mtime_ns,
            }
        )
    assert versions == expected
    second = dg.build_sensor_context(cursor=first.cursor, resources={"warehouse": warehouse})
    started = time.monotonic()
    assert isinstance(sensor(second), dg.SkipReason)  # requested once, no waiting
    assert time.monotonic() - started < 1


def test_a_file_still_growing_during_the_second_look_waits_for_a_later_tick(tmp_path):
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    growing = folder / "items.csv"
    growing.write_text("x", encoding="utf-8")
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            with growing.open("a", encoding="utf-8") as f:
                f.write("x")
            time.sleep(0.2)

    writer = threading.Thread(target=write)
    writer.start()
    sensor = build_landing_sensor(SERVICE_ITEMS)
    warehouse = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    try:
        first = dg.build_sensor_context(resources={"warehouse": warehouse})
        assert isinstance(sensor(first), dg.SkipReason)
    finally:
        stop.set()
        writer.join()
    second = dg.build_sensor_context(cursor=first.cursor, resources={"warehouse": warehouse})
    request = sensor(second)
    assert isinstance(request, dg.RunRequest)
    [version] = request.run_config["ops"]["raw__service_items"]["config"]["files"]
    assert version["size"] == growing.stat().st_size
