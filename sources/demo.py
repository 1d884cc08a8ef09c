"""The deterministic demo landing set (`kzdw demo`), calibrated to Kaizhou's published figures.

`write_demo` writes, for all four sources, the files the district's systems would have dropped
into the landing folder from 2018 to June 2023 (market-entity events back to 2000), in the
formats and with the flaws real exports have. The same seed gives byte-identical files with the
same modification times, whose order is the intended arrival order.

On this data the 2022 KPIs reproduce /work/shared/seed/FIGURES.md (see the modules):
- `demo_entities`: entity stock 100,425 at the end of 2022, +6.3%, 12,000 new registrations;
- `demo_cases`: trips 0.11 per case, ~10,500 one-window and ~43,500 cross-region cases;
- `demo_items`: 169 high-frequency, 492 one-window items in 18 departments, reforms 27/8/22/184;
- `demo_projects`: 53 industrial projects signed for 289.9 亿元, 31 started;
- `demo_faults`: rows breaking every contract rule, which a correct loader rejects.
`scale` multiplies the case volume only; the 2022 ratios hold at any scale, the case counts
are calibrated at scale 1.

The files are produced and written one at a time, the cases a month at a time
(`demo_cases.CaseFiles`), so memory stays about the same at any scale: only the entities,
items and projects, which do not scale, are built whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path

from sources.contracts import SOURCES
from sources.demo_cases import CaseFiles
from sources.demo_entities import build_entity_events
from sources.demo_faults import HOSTS, add_faults
from sources.demo_files import LandingFile, write_landing_file
from sources.demo_items import build_catalogue
from sources.demo_projects import build_projects


def demo_files(
    scale: float = 1.0, seed: int = 2022, *, months_per_batch: int = 1
) -> Iterator[LandingFile]:
    """Every demo landing file, rule-breaking rows included, one at a time in writing order
    (a re-delivery after its original). `months_per_batch` is how many submission months of
    cases are drawn at a time (see `CaseFiles`): it changes the memory held, not the files."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    catalogue = build_catalogue(seed)
    entities = build_entity_events(seed)
    cases = CaseFiles(
        catalogue.items, entities.company_codes, scale, seed, months_per_batch=months_per_batch
    )
    return _with_faults(chain(entities.files, cases, catalogue.files, build_projects(seed)))


def _with_faults(files: Iterator[LandingFile]) -> Iterator[LandingFile]:
    hosts = set()
    for f in files:
        if add_faults(f):
            hosts.add(f.name)
        yield f
        # Drop the file before the next one is made: a month of cases is big at scale.
        del f
    if hosts != set(HOSTS):
        raise AssertionError(f"fault hosts never written: {sorted(set(HOSTS) - hosts)}")


def write_demo(
    landing_dir: Path,
    scale: float = 1.0,
    seed: int = 2022,
    *,
    months_per_batch: int = 1,
    progress: Callable[[LandingFile, dict], None] | None = None,
) -> dict:
    """Write the demo landing set into `landing_dir/<source>/` and return a summary: files and
    rows (data rows, rule-breaking ones included) per source. `progress`, if given, is called
    after each file with it and the summary so far.

    Files of the same names are overwritten; other files in the folders are left alone."""
    landing_dir = Path(landing_dir)
    summary: dict = {
        "landing_dir": str(landing_dir),
        "scale": scale,
        "seed": seed,
        "files": dict.fromkeys(SOURCES, 0),
        "rows": dict.fromkeys(SOURCES, 0),
    }
    for f in demo_files(scale, seed, months_per_batch=months_per_batch):
        folder = landing_dir / f.source
        folder.mkdir(parents=True, exist_ok=True)
        write_landing_file(f, folder)
        summary["files"][f.source] += 1
        summary["rows"][f.source] += f.row_count
        if progress is not None:
            progress(f, summary)
        del f
    return summary
