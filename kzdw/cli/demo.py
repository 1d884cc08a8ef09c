"""`kzdw demo`: the deterministic demo landing set."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from kzdw.cli.common import MAX_DEMO_SCALE, Refused, natural, say, scale, writable_folder
from kzdw.settings import Settings

if TYPE_CHECKING:
    from sources.demo_files import LandingFile

# Least seconds between two progress lines.
PROGRESS_SECONDS = 10.0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from sources.demo import write_demo

    landing = settings.landing_dir
    if landing.exists() and any(p.is_file() for p in landing.rglob("*")) and not args.force:
        raise Refused(f"{landing} already holds files; pass --force to write the demo set over it")
    writable_folder(landing, "the landing folder")
    say(f"writing the demo landing set (scale {args.scale:g}) to {landing}")
    started = time.perf_counter()
    last_line = started

    def progress(f: LandingFile, summary: dict) -> None:
        # At a large scale the case months take minutes: a line now and then shows how far
        # it has got, without a line per file at the default scale.
        nonlocal last_line
        now = time.perf_counter()
        if now - last_line >= PROGRESS_SECONDS:
            last_line = now
            files, rows = sum(summary["files"].values()), sum(summary["rows"].values())
            say(f"  {f.source}/{f.name} written: {files} files, {rows:,} rows so far")

    summary = write_demo(landing, scale=args.scale, seed=args.seed, progress=progress)
    say(f"done in {time.perf_counter() - started:.1f} s: {summary}")
    return 0


def register(sub) -> None:
    demo = sub.add_parser("demo", help="write the deterministic demo landing set")
    demo.add_argument(
        "--scale",
        type=scale,
        default=1.0,
        help=f"multiply the case volume (above 0, at most {MAX_DEMO_SCALE:g})",
    )
    demo.add_argument("--seed", type=natural("--seed", 0, 2**31 - 1), default=2022)
    demo.add_argument("--force", action="store_true", help="write into a non-empty folder")
    demo.set_defaults(func=cmd_demo)
