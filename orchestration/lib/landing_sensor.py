"""A sensor per landing folder: a file that has stopped changing becomes a run that loads it.

A file still being written is not picked up half-way: a file is ready when nothing has
written to it for SETTLE_SECONDS, that is when its size and modification time are the same on
two looks in a row, or, on the look that first sees it, when it was last modified at least
SETTLE_SECONDS before (a file that was complete before it was moved in is taken at once). A
tick that sees a file too young looks again once the file could have settled (at most
SETTLE_SECONDS later), so a new file is taken on the tick that first sees it.
Names ending in .part, .tmp or .crdownload are never read, so a writer that may pause for
longer mid-file writes under such a name and renames. The cursor holds what the last tick saw
and which versions of which files runs were requested for, each file by its name's bytes (as
hex), and the run it requests loads exactly those versions (`LoadConfig`).

The run carries the file all the way to the analysts: the raw asset and every asset between it
and the serving copy (the models that read it, their tests and checks, the KPI table, the
copy), one run instead of a load followed by an automation run, so a dropped file reaches the
serving copy after one run start. Declarative automation sees those assets updated after
their inputs and requests nothing more of them; it still starts what follows the copy (the
report) and every build that no file started.
"""

import hashlib
import json
import time

import dagster as dg

from orchestration.lib.ingest import file_versions
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import Source
from sources.landing import SETTLE_SECONDS, scan

# Seconds between ticks (the Dagster daemon's sensor loop runs every 5 s at most).
SENSOR_INTERVAL_SECONDS = 5

SERVING = dg.AssetKey(["serving", "warehouse"])


def carried(source: Source) -> dg.AssetSelection:
    """What a landing run builds: the source's raw asset, and what lies between it and the
    serving copy (the copy included)."""
    raw = dg.AssetSelection.assets(dg.AssetKey(["raw", source.name]))
    return raw.downstream() & dg.AssetSelection.assets(SERVING).upstream()


def sensor_name(source: Source) -> str:
    return f"{source.name}_file_landed_sensor"


def ready_files(
    cursor: str | None, now: dict[str, list[int]], clock_ns: int | None = None
) -> tuple[list[str], str]:
    """(files to load now, new cursor) from the previous cursor and the folder as it is now
    ({file name: [size, mtime_ns]}), at `clock_ns` (time.time_ns() when not given)."""
    state = json.loads(cursor) if cursor else {}
    seen, sent = state.get("seen", {}), state.get("sent", {})
    settled_before = (time.time_ns() if clock_ns is None else clock_ns) - SETTLE_SECONDS * 10**9
    ready = sorted(
        n
        for n, sig in now.items()
        if sent.get(n) != sig
        and (seen.get(n) == sig or (n not in seen and sig[1] <= settled_before))
    )
    # Forget files that left the folder (loaded and archived), remember what was requested.
    sent = {n: sig for n, sig in sent.items() if n in now} | {n: now[n] for n in ready}
    return ready, json.dumps({"seen": now, "sent": sent}, sort_keys=True)


def _settling_wait(cursor: str, ready: list[str], now: dict[str, list[int]]) -> float:
    """Seconds until every file that is neither ready nor requested has gone SETTLE_SECONDS
    without a change (0 when there is none)."""
    sent = json.loads(cursor)["sent"]
    waiting = [sig for n, sig in now.items() if n not in ready and sent.get(n) != sig]
    if not waiting:
        return 0.0
    youngest = max(sig[1] for sig in waiting) / 1e9
    return min(float(SETTLE_SECONDS), max(0.0, youngest + SETTLE_SECONDS - time.time())) or 0.1


def build_landing_sensor(source: Source) -> dg.SensorDefinition:
    raw_key = dg.AssetKey(["raw", source.name])

    @dg.sensor(
        name=sensor_name(source),
        description=f"Watches the landing folder's {source.name}/ and requests a load of "
        f"raw.{source.name} when files there have stopped changing (same size and time on two "
        f"looks up to {SETTLE_SECONDS} s apart, or untouched for {SETTLE_SECONDS} s when first "
        "seen). The same run builds what depends on it up to the serving copy (models, KPIs, "
        "checks, the copy); the "
        "report follows the new copy through declarative automation (kzdw_automation_sensor).",
        asset_selection=carried(source),
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        def look() -> tuple[dict, dict]:
            listing = scan(warehouse.settings.landing_dir, source)
            by_key = {f.key: f for f in listing.files}
            return by_key, {key: [f.size, f.mtime_ns] for key, f in by_key.items()}

        by_key, now = look()
        ready, cursor = ready_files(context.cursor, now)
        wait = _settling_wait(cursor, ready, now)
        if wait:
            # A file that has just arrived: look again once it could have settled, in this
            # tick, instead of waiting for the next (the daemon ticks every 5 s at most).
            time.sleep(wait)
            first_look, first_ready = by_key, ready
            by_key, now = look()
            more, cursor = ready_files(cursor, now)
            # Files ready on the first look are taken as they were then (a file replaced
            # since is a new version, for a later tick).
            ready = sorted(set(first_ready) | set(more))
            by_key = {**by_key, **{key: first_look[key] for key in first_ready}}
            now = {key: [f.size, f.mtime_ns] for key, f in by_key.items()}
        context.update_cursor(cursor)
        if not ready:
            return dg.SkipReason(f"no file in {source.name}/ ready to load")
        digest = hashlib.sha256(json.dumps({n: now[n] for n in ready}).encode()).hexdigest()
        files = [by_key[key] for key in ready]
        return dg.RunRequest(
            run_key=f"{source.name}:{digest[:16]}",
            run_config={
                "ops": {raw_key.to_python_identifier(): {"config": {"files": file_versions(files)}}}
            },
            tags={"kzdw/source": source.name, "kzdw/files": str(len(ready))},
        )

    return _sensor
