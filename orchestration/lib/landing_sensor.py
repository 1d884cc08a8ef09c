"""A sensor per landing folder: a file that has stopped changing becomes a run that loads it.

A file still being written is not picked up half-way: a file is ready when its size and
modification time are the same on two ticks in a row (and names ending in .part, .tmp or
.crdownload are never read, so a writer can also write under such a name and rename). The
cursor holds what the last tick saw and which versions of which files runs were requested for.
"""

import hashlib
import json

import dagster as dg

from orchestration.lib.settings import WarehouseResource
from sources.contracts import Source
from sources.loader import landing_files

# Seconds between ticks; a file is loaded one to two intervals after its last write.
SENSOR_INTERVAL_SECONDS = 5


def sensor_name(source: Source) -> str:
    return f"{source.name}_file_landed_sensor"


def ready_files(cursor: str | None, now: dict[str, list[int]]) -> tuple[list[str], str]:
    """(files to load now, new cursor) from the previous cursor and the folder as it is now
    ({file name: [size, mtime_ns]})."""
    state = json.loads(cursor) if cursor else {}
    seen, sent = state.get("seen", {}), state.get("sent", {})
    ready = sorted(n for n, sig in now.items() if seen.get(n) == sig and sent.get(n) != sig)
    # Forget files that left the folder (loaded and archived), remember what was requested.
    sent = {n: sig for n, sig in sent.items() if n in now} | {n: now[n] for n in ready}
    return ready, json.dumps({"seen": now, "sent": sent}, sort_keys=True)


def build_landing_sensor(source: Source) -> dg.SensorDefinition:
    raw_key = dg.AssetKey(["raw", source.name])

    @dg.sensor(
        name=sensor_name(source),
        description=f"Watches the landing folder's {source.name}/ and requests a load of "
        f"raw.{source.name} when files there have stopped changing (same size and time on two "
        "ticks). What depends on it (models, KPIs, checks, the serving copy) follows through "
        "declarative automation (kzdw_automation_sensor).",
        asset_selection=[raw_key],
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        now = {}
        for path in landing_files(warehouse.landing_path, source):
            stat = path.stat()
            now[path.name] = [stat.st_size, stat.st_mtime_ns]
        ready, cursor = ready_files(context.cursor, now)
        context.update_cursor(cursor)
        if not ready:
            return dg.SkipReason(f"no file in {source.name}/ ready to load")
        digest = hashlib.sha256(json.dumps({n: now[n] for n in ready}).encode()).hexdigest()
        return dg.RunRequest(
            run_key=f"{source.name}:{digest[:16]}",
            asset_selection=[raw_key],
            tags={"kzdw/source": source.name, "kzdw/files": str(len(ready))},
        )

    return _sensor
