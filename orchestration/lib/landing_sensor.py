"""One sensor over every landing folder: files that have stopped changing become one run that
loads them.

A file still being written is not picked up half-way: a file is ready when nothing has written
to it for SETTLE_SECONDS, that is when its size and modification time are the same on two looks
in a row, or, on the look that first sees it, when it was last modified at least SETTLE_SECONDS
before or was moved in whole (renamed in after its last write: `LandingFile.moved_in_whole`, or
seen renamed in by the tick's watch); either way a file that was complete before it was moved
in is taken at once. Each tick watches the folders for up to WATCH_SECONDS
(`sources.landing_watch`): a file that arrives meanwhile is looked at the moment it lands, and
a file seen too young is looked at again once it could have settled, so a new file is taken by
the tick that sees it arrive; files that follow it less than GATHER_SECONDS apart go in the
same run. Names ending in .part, .tmp or .crdownload are never read, so a writer that may pause
for longer mid-file writes under such a name and renames. The cursor holds, source by source,
what the last look saw and which versions of which files runs were requested for, each file by
its name's bytes (as hex), and the run it requests loads exactly those versions (`LoadConfig`).

The run carries the files all the way to the analysts: the raw asset of every source with a
file ready and every asset between them and the serving copy (the models that read them, their
tests and checks, the KPI table, the copy), one run instead of a load followed by an
automation run, so a dropped file reaches the serving copy after one run start. Files of
several sources ready on the same tick (a day's exports, delivered together) go in the same
run: one dbt build and one copy instead of one per source, which would queue one after another
for the one writer. Declarative automation sees those assets updated after their inputs and
requests nothing more of them; it still starts what follows the copy (the report) and every
build that no file started.
"""

import hashlib
import json
import time
from collections.abc import Collection, Sequence
from pathlib import Path

import dagster as dg

from orchestration.lib.automation import MINIMUM_INTERVAL_SECONDS
from orchestration.lib.ingest import file_versions
from orchestration.lib.warehouse import ENGINE_TAG, WarehouseResource
from sources.contracts import Source
from sources.landing import SETTLE_SECONDS, scan
from sources.landing_watch import FolderWatch

SERVING = dg.AssetKey(["serving", "warehouse"])

SENSOR_NAME = "landing_sensor"

# How long a tick watches the folders for a file to arrive before it ends with nothing to
# load. The daemon starts a tick every 5 s (MIN_INTERVAL_LOOP_TIME, not configurable) and the
# next one at once when a tick took longer: a tick that watches for most of that time sees a
# file the moment it lands, instead of on the next tick, up to 5 s later. Kept under the
# loop's 5 s so that the daemon still has its pause between loops.
WATCH_SECONDS = 4.5
# Once a file is ready, how long the tick waits for another to arrive before it requests the
# run: files moved in one after the other (a day's exports) go in one run, for the cost of this
# wait on every run.
GATHER_SECONDS = 1.0


def carried(*sources: Source) -> dg.AssetSelection:
    """What a landing run builds: the sources' raw assets, and what lies between them and the
    serving copy (the copy included)."""
    raw = dg.AssetSelection.assets(*(dg.AssetKey(["raw", s.name]) for s in sources))
    return raw.downstream() & dg.AssetSelection.assets(SERVING).upstream()


def ready_files(
    state: dict | None,
    now: dict[str, list[int]],
    clock_ns: int | None = None,
    whole: Collection[str] = (),
) -> tuple[list[str], dict]:
    """(files to load now, new state) of one folder from its state after the previous tick and
    the folder as it is now ({file name: [size, mtime_ns]}, the names in `whole` moved in
    whole), at `clock_ns` (time.time_ns() when not given)."""
    state = state or {}
    seen, sent = state.get("seen", {}), state.get("sent", {})
    settled_before = (time.time_ns() if clock_ns is None else clock_ns) - SETTLE_SECONDS * 10**9
    ready = sorted(
        n
        for n, sig in now.items()
        if sent.get(n) != sig
        and (seen.get(n) == sig or (n not in seen and (sig[1] <= settled_before or n in whole)))
    )
    # Forget files that left the folder (loaded and archived), remember what was requested.
    sent = {n: sig for n, sig in sent.items() if n in now} | {n: now[n] for n in ready}
    return ready, {"seen": now, "sent": sent}


def _settling_wait(state: dict, ready: list[str], now: dict[str, list[int]]) -> float:
    """Seconds until every file of a folder that is neither ready nor requested has gone
    SETTLE_SECONDS without a change (0 when there is none)."""
    sent = state["sent"]
    waiting = [sig for n, sig in now.items() if n not in ready and sent.get(n) != sig]
    if not waiting:
        return 0.0
    youngest = max(sig[1] for sig in waiting) / 1e9
    return min(float(SETTLE_SECONDS), max(0.0, youngest + SETTLE_SECONDS - time.time())) or 0.1


class _Folder:
    """One source's landing folder as one tick sees it: its files, their signatures
    ([size, mtime_ns] by key), the ones ready to load, and the folder's new state."""

    def __init__(
        self, landing_dir: str, source: Source, state: dict | None, watch: FolderWatch
    ) -> None:
        self.landing_dir, self.source, self.previous, self.watch = landing_dir, source, state, watch
        self.look()

    def _look(self) -> tuple[dict, dict[str, list[int]]]:
        by_key = {f.key: f for f in scan(self.landing_dir, self.source).files}
        return by_key, {key: [f.size, f.mtime_ns] for key, f in by_key.items()}

    def _whole(self, files: dict) -> set[str]:
        return {key for key, f in files.items() if f.moved_in_whole or self.watch.moved_in(f)}

    def look(self) -> None:
        """The folder as it is now, against the previous tick's state: what is ready is what
        the tick would take had it first looked now."""
        self.files, self.now = self._look()
        self.ready, self.state = ready_files(self.previous, self.now, whole=self._whole(self.files))

    def wait(self) -> float:
        return _settling_wait(self.state, self.ready, self.now)

    def arrivals_wait(self) -> float:
        """`wait`, of the files the previous tick had not seen (those that settle by age)."""
        seen = (self.previous or {}).get("seen", {})
        new = {key: sig for key, sig in self.now.items() if key not in seen}
        return _settling_wait(self.state, self.ready, new)

    def look_again(self) -> None:
        """The second look of a tick, once the young files could have settled. Files ready on
        the first look are taken as they were then (a file replaced since is a new version,
        for a later tick)."""
        files, now = self._look()
        more, self.state = ready_files(self.state, now, whole=self._whole(files))
        first = {key: self.files[key] for key in self.ready}
        self.ready = sorted(set(self.ready) | set(more))
        self.files = files | first
        self.now = {key: [f.size, f.mtime_ns] for key, f in self.files.items()}


def _ready_keys(folders: list[_Folder]) -> set[tuple[str, str]]:
    return {(folder.source.name, key) for folder in folders for key in folder.ready}


def _look_until_ready(folders: list[_Folder], watch: FolderWatch, watch_seconds: float) -> None:
    """Looks at the folders until a file is ready or `watch_seconds` have passed, looking again
    whenever a file arrives (or a file seen young could have settled). Once one is ready,
    files that keep arriving less than GATHER_SECONDS apart join it (a day's exports moved in
    one after the other: one run). Then, if files seen young could still settle, looks once
    more when they could have, so that they go in this run too."""
    deadline = time.monotonic() + watch_seconds
    while not any(folder.ready for folder in folders):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        settling = max(folder.arrivals_wait() for folder in folders)
        watch.wait(min(settling, remaining) if settling else remaining)
        for folder in folders:
            folder.look()
    gathering_until = time.monotonic() + watch_seconds
    gathered, last_arrival = _ready_keys(folders), time.monotonic()
    while gathered and time.monotonic() < gathering_until:
        left = last_arrival + GATHER_SECONDS - time.monotonic()
        if left <= 0:
            break
        watch.wait(left)
        for folder in folders:
            folder.look()
        if not _ready_keys(folders) <= gathered:
            gathered |= _ready_keys(folders)
            last_arrival = time.monotonic()
    wait = max(folder.wait() for folder in folders)
    if wait:
        time.sleep(wait)
        for folder in folders:
            folder.look_again()


def build_landing_sensor(
    sources: Sequence[Source], watch_seconds: float = WATCH_SECONDS
) -> dg.SensorDefinition:
    folders = ", ".join(f"{s.name}/" for s in sources)

    @dg.sensor(
        name=SENSOR_NAME,
        description=f"Watches the landing folders ({folders}), each tick for up to "
        f"{WATCH_SECONDS:g} s, and requests a load of each source whose files there have "
        f"stopped changing (same size and time on two looks up to {SETTLE_SECONDS} s apart; "
        f"when first seen, untouched for {SETTLE_SECONDS} s or renamed in after the last "
        "write). "
        "Files of several sources ready on the same tick go in one run. The run builds what "
        "depends on them up to the serving copy (models, KPIs, checks, the copy); the report "
        "follows the new copy through declarative automation (kzdw_automation_sensor).",
        asset_selection=carried(*sources),
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        state = json.loads(context.cursor) if context.cursor else {}
        landing_dir = warehouse.settings.landing_dir
        with FolderWatch(Path(landing_dir) / s.name for s in sources) as watch:
            seen = [_Folder(landing_dir, s, state.get(s.name), watch) for s in sources]
            _look_until_ready(seen, watch, watch_seconds)
        context.update_cursor(json.dumps({f.source.name: f.state for f in seen}, sort_keys=True))
        ready = [folder for folder in seen if folder.ready]
        if not ready:
            return dg.SkipReason(f"no file ready to load in {folders}")
        versions = {f.source.name: {key: f.now[key] for key in f.ready} for f in ready}
        digest = hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()
        selection = carried(*(f.source for f in ready))
        return dg.RunRequest(
            run_key=f"landing:{digest[:16]}",
            asset_selection=sorted(
                selection.resolve(context.repository_def.asset_graph), key=lambda k: k.path
            ),
            run_config={
                "ops": {
                    dg.AssetKey(["raw", f.source.name]).to_python_identifier(): {
                        "config": {"files": file_versions([f.files[key] for key in f.ready])}
                    }
                    for f in ready
                }
            },
            tags={
                "kzdw/sources": ",".join(f.source.name for f in ready),
                "kzdw/files": str(sum(len(f.ready) for f in ready)),
                ENGINE_TAG: warehouse.settings.engine,
            },
        )

    return _sensor
