"""The landing sensor requests a load once a file has stopped changing, and only once; files of
several sources ready on one tick go in one run."""

import os
import threading
import time

import dagster as dg
import pytest

from orchestration.lib.landing_sensor import (
    GATHER_SECONDS,
    WATCH_SECONDS,
    build_landing_sensor,
    carried,
    ready_files,
)
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import MARKET_ENTITIES, PERMIT_CASES, SERVICE_ITEMS, SOURCES
from sources.landing import SETTLE_SECONDS, LandingFile
from tests.waiting import later as _dropped_later


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def _context(defs, tmp_path, cursor=None):
    warehouse = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    return dg.build_sensor_context(
        cursor=cursor, definitions=defs, resources={"warehouse": warehouse}
    )


def _moved_in(folder, name: str, text: str = "x") -> None:
    """A finished file moved into the folder: written long ago."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    os.utime(folder / name, (1_000, 1_000))


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


def test_a_file_renamed_in_after_its_last_write_is_ready_when_first_seen():
    # e.csv and f.csv were both written 1 s before the tick; e.csv was then renamed in.
    now = {"e.csv": [7, 99 * 10**9], "f.csv": [7, 99 * 10**9]}
    ready, state = ready_files(None, now, clock_ns=100 * 10**9, whole={"e.csv"})
    assert ready == ["e.csv"]
    # f.csv, written in place, is taken on the second look.
    assert ready_files(state, now, clock_ns=105 * 10**9, whole={"e.csv"})[0] == ["f.csv"]
    # A file already seen is not taken for having been renamed since: it waits for a look
    # that finds it unchanged, like any other.
    ready, state = ready_files(None, {"g.csv": [1, 99 * 10**9]}, clock_ns=100 * 10**9)
    grown = {"g.csv": [2, 104 * 10**9]}
    assert ready_files(state, grown, clock_ns=105 * 10**9, whole={"g.csv"})[0] == []


def test_a_part_file_renamed_in_is_taken_on_the_tick_without_waiting(defs, tmp_path):
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    part = folder / "items.csv.part"
    part.write_text("written under a .part name", encoding="utf-8")
    time.sleep(0.05)  # the rename's time is later than the last write's, on any clock tick
    part.rename(folder / "items.csv")
    sensor = build_landing_sensor(list(SOURCES.values()))
    started = time.monotonic()
    request = sensor(_context(defs, tmp_path))
    assert time.monotonic() - started < SETTLE_SECONDS - 1  # no second look
    assert isinstance(request, dg.RunRequest)
    [version] = request.run_config["ops"]["raw__service_items"]["config"]["files"]
    assert version["name"] == "items.csv"


def test_sensor_evaluates_against_the_landing_folder(defs, graph, tmp_path):
    folder = tmp_path / "landing" / "service_items"
    _moved_in(folder, "items.csv")
    (folder / "items2.csv.part").write_text("still being written", encoding="utf-8")
    sensor = build_landing_sensor(list(SOURCES.values()))
    first = _context(defs, tmp_path)
    (folder / "items_new.csv").write_text("y", encoding="utf-8")  # written just now
    os.utime(folder / "items_new.csv")
    started = time.monotonic()
    request = sensor(first)
    waited = time.monotonic() - started
    assert isinstance(request, dg.RunRequest)
    # The run builds the source's raw table and what lies up to the serving copy; nothing of
    # the sources without a file.
    assert set(request.asset_selection) == carried(SERVICE_ITEMS).resolve(graph)
    assert dg.AssetKey(["raw", "permit_cases"]) not in request.asset_selection
    assert request.tags["kzdw/sources"] == "service_items"
    # items.csv at once; items_new.csv after a second look in the same tick, once it could
    # have settled.
    assert request.tags["kzdw/files"] == "2"
    assert SETTLE_SECONDS - 0.5 < waited < SETTLE_SECONDS + 2
    # The run loads exactly the file versions the sensor saw settle.
    assert set(request.run_config["ops"]) == {"raw__service_items"}
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
    # Requested once: the next tick watches for a file to arrive, sees none, and skips.
    second = _context(defs, tmp_path, cursor=first.cursor)
    started = time.monotonic()
    assert isinstance(sensor(second), dg.SkipReason)
    assert WATCH_SECONDS - 0.5 < time.monotonic() - started < WATCH_SECONDS + 1


def test_files_of_two_sources_ready_on_one_tick_are_one_run(defs, graph, tmp_path):
    landing = tmp_path / "landing"
    _moved_in(landing / "permit_cases", "cases_day.csv")
    _moved_in(landing / "market_entities", "entities_day.csv")
    sensor = build_landing_sensor(list(SOURCES.values()))
    first = _context(defs, tmp_path)
    request = sensor(first)
    assert isinstance(request, dg.RunRequest)
    selected = set(request.asset_selection)
    # Both raw tables, the models of each, one KPI table and one copy; not the sources with
    # no file.
    assert selected == carried(PERMIT_CASES, MARKET_ENTITIES).resolve(graph)
    assert selected == carried(PERMIT_CASES).resolve(graph) | carried(MARKET_ENTITIES).resolve(
        graph
    )
    assert {
        dg.AssetKey(["raw", "permit_cases"]),
        dg.AssetKey(["raw", "market_entities"]),
        dg.AssetKey(["staging", "stg_permit_cases__cases"]),
        dg.AssetKey(["marts", "kpi_values"]),
        dg.AssetKey(["serving", "warehouse"]),
    } <= selected
    assert dg.AssetKey(["raw", "service_items"]) not in selected
    assert request.tags["kzdw/sources"] == "market_entities,permit_cases"
    assert request.tags["kzdw/files"] == "2"
    ops = request.run_config["ops"]
    assert set(ops) == {"raw__permit_cases", "raw__market_entities"}
    assert [v["name"] for v in ops["raw__permit_cases"]["config"]["files"]] == ["cases_day.csv"]
    assert [v["name"] for v in ops["raw__market_entities"]["config"]["files"]] == [
        "entities_day.csv"
    ]
    # A file of a third source on the next tick is a run of its own; the two already
    # requested are not requested again.
    _moved_in(landing / "service_items", "items.csv")
    second = _context(defs, tmp_path, cursor=first.cursor)
    again = sensor(second)
    assert isinstance(again, dg.RunRequest)
    assert set(again.run_config["ops"]) == {"raw__service_items"}
    assert again.run_key != request.run_key
    # Dagster resolves the request onto the code location's asset job, with the checks of the
    # selected assets (the freshness checks of both sources, the KPI checks), none of the
    # others.
    tick = defs.resolve_sensor_def("landing_sensor").evaluate_tick(_context(defs, tmp_path))
    [resolved] = tick.run_requests
    assert set(resolved.asset_selection) == carried(
        PERMIT_CASES, MARKET_ENTITIES, SERVICE_ITEMS
    ).resolve(graph)
    checks = {(k.asset_key.to_user_string(), k.name) for k in resolved.asset_check_keys}
    assert ("raw/permit_cases", "permit_cases_is_fresh") in checks
    assert ("raw/service_items", "service_items_is_fresh") in checks
    assert not any(a == "raw/investment_projects" for a, _ in checks)


def test_a_file_still_growing_during_the_second_look_waits_for_a_later_tick(defs, tmp_path):
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
    # No watching for arrivals: the tick's one look more is what is tested.
    sensor = build_landing_sensor(list(SOURCES.values()), watch_seconds=0)
    try:
        first = _context(defs, tmp_path)
        assert isinstance(sensor(first), dg.SkipReason)
    finally:
        stop.set()
        writer.join()
    second = _context(defs, tmp_path, cursor=first.cursor)
    request = sensor(second)
    assert isinstance(request, dg.RunRequest)
    [version] = request.run_config["ops"]["raw__service_items"]["config"]["files"]
    assert version["size"] == growing.stat().st_size


def test_a_file_renamed_in_during_a_tick_is_taken_the_moment_it_lands(defs, tmp_path, monkeypatch):
    """The tick watches the folders: a `.part` renamed in while it watches is requested at
    once, even where the change time cannot tell a rename from the last write (the same clock
    tick: here made so for every file)."""
    monkeypatch.setattr(LandingFile, "moved_in_whole", property(lambda self: False))
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    renamed = {}

    def drop() -> None:
        (folder / "cases.csv.part").write_text("written under a .part name", encoding="utf-8")
        (folder / "cases.csv.part").rename(folder / "cases.csv")
        renamed["at"] = time.monotonic()

    sensor = build_landing_sensor(list(SOURCES.values()))
    started = time.monotonic()
    dropper = _dropped_later(1.0, drop)
    request = sensor(_context(defs, tmp_path))
    returned = time.monotonic()
    dropper.join()
    assert isinstance(request, dg.RunRequest)
    [version] = request.run_config["ops"]["raw__permit_cases"]["config"]["files"]
    assert version["name"] == "cases.csv"
    assert renamed["at"] - started > 0.9  # it arrived while the tick watched
    # Requested once no other file followed it for GATHER_SECONDS, not SETTLE_SECONDS later.
    assert GATHER_SECONDS - 0.1 < returned - renamed["at"] < GATHER_SECONDS + 0.5 < SETTLE_SECONDS


def test_files_moved_in_one_after_the_other_go_in_one_run(defs, graph, tmp_path):
    """A day's exports moved in one after the other, less than GATHER_SECONDS apart, are one
    run; a file that follows later is left for the next tick."""
    landing = tmp_path / "landing"
    for source in ("permit_cases", "market_entities", "service_items"):
        (landing / source).mkdir(parents=True)

    def drop(source: str, name: str) -> None:
        _moved_in(landing / source, f"{name}.part")
        (landing / source / f"{name}.part").rename(landing / source / name)

    def day() -> None:
        drop("permit_cases", "cases_day.csv")
        time.sleep(GATHER_SECONDS / 2)
        drop("market_entities", "entities_day.csv")
        time.sleep(GATHER_SECONDS * 2)
        drop("service_items", "items.csv")

    sensor = build_landing_sensor(list(SOURCES.values()))
    context = _context(defs, tmp_path)
    dropper = _dropped_later(0.5, day)
    request = sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["kzdw/sources"] == "market_entities,permit_cases"
    assert set(request.asset_selection) == carried(PERMIT_CASES, MARKET_ENTITIES).resolve(graph)
    dropper.join()
    later = sensor(_context(defs, tmp_path, cursor=context.cursor))
    assert isinstance(later, dg.RunRequest)
    assert later.tags["kzdw/sources"] == "service_items"


def test_a_file_written_in_place_during_a_tick_is_taken_once_it_has_settled(defs, tmp_path):
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    written = {}

    def drop() -> None:
        (folder / "items.csv").write_text("written in place", encoding="utf-8")
        written["at"] = time.monotonic()

    sensor = build_landing_sensor(list(SOURCES.values()))
    dropper = _dropped_later(0.5, drop)
    request = sensor(_context(defs, tmp_path))
    returned = time.monotonic()
    dropper.join()
    assert isinstance(request, dg.RunRequest)
    assert request.tags["kzdw/files"] == "1"
    # Taken SETTLE_SECONDS after its last write (and GATHER_SECONDS without another file
    # arriving), in the tick that saw it arrive.
    taken = returned - written["at"]
    assert SETTLE_SECONDS + GATHER_SECONDS - 0.1 < taken < SETTLE_SECONDS + GATHER_SECONDS + 0.5


def test_a_tick_that_sees_no_file_arrive_skips_after_watching(defs, tmp_path):
    folder = tmp_path / "landing" / "permit_cases"
    folder.mkdir(parents=True)
    (folder / "cases.csv.part").write_text("still being written", encoding="utf-8")
    sensor = build_landing_sensor(list(SOURCES.values()), watch_seconds=1)
    started = time.monotonic()
    skipped = sensor(_context(defs, tmp_path))
    assert isinstance(skipped, dg.SkipReason)
    assert 0.9 < time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("sensor_name", "daemon"),
    [("landing_sensor", "sensor"), ("kzdw_automation_sensor", "asset_daemon")],
)
def test_every_loop_of_the_daemon_ticks_the_sensor(defs, sensor_name, daemon):
    """The daemon's loop comes round every few seconds and ticks a sensor whose minimum interval
    has passed since its previous tick began, by Dagster's own rule (`is_under_min_interval`).
    That tick began a moment after its own loop did: the next loop must still tick it, or a
    file waits a whole loop more (ticks were 5 and 10 s apart in turn with a minimum of 5 s)."""
    from types import SimpleNamespace

    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import SensorInstigatorData
    from dagster._daemon import asset_daemon, sensor

    loop = {
        "sensor": sensor.MIN_INTERVAL_LOOP_TIME,
        "asset_daemon": asset_daemon.MIN_INTERVAL_LOOP_SECONDS,
    }[daemon]
    definition = defs.get_sensor_def(sensor_name)
    previous_tick_began = time.time() - loop + 0.5  # half a second into the previous loop
    state = SimpleNamespace(
        instigator_type=InstigatorType.SENSOR,
        instigator_data=SensorInstigatorData(last_tick_start_timestamp=previous_tick_began),
    )
    remote = SimpleNamespace(min_interval_seconds=definition.minimum_interval_seconds)
    assert not sensor.is_under_min_interval(state, remote)
    # What the rule says of a tick that began only now: wait.
    state.instigator_data = SensorInstigatorData(last_tick_start_timestamp=time.time())
    assert sensor.is_under_min_interval(state, remote)
