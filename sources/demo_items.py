"""Demo service-item catalogue (service_items): a full catalogue at the start, change files
as the reforms moved on, a full re-export, and a 2023 revision.

The catalogue's state at the end of 2022 is fixed first, to the district's published figures
(169 high-frequency items, 492 one-window items in 18 departments, 27/8/22/184 reformed items,
over 94% of licensing items fully online); the history before it and the 2023 revision are then
laid around that state, so no earlier or later version can move a 2022 figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from sources.demo_files import LandingFile
from sources.demo_reference import (
    DEPARTMENT_JOINING_2023,
    ITEM_TYPES,
    ONE_WINDOW_DEPARTMENTS,
    catalogue_entries,
    clock,
)

# The catalogue's exports: (when the versions were recorded, file name, how it was exported).
SNAPSHOTS: tuple[tuple[datetime, str], ...] = (
    (datetime(2018, 1, 2, 9, 0), "catalogue_full_2018-01.xlsx"),
    (datetime(2018, 7, 2, 9, 0), "catalogue_changes_2018-H2.csv"),
    (datetime(2019, 7, 1, 9, 0), "catalogue_changes_2019.csv"),
    (datetime(2020, 7, 1, 9, 0), "catalogue_changes_2020.csv"),
    (datetime(2021, 7, 1, 9, 0), "catalogue_full_2021.csv"),
    (datetime(2022, 7, 1, 9, 0), "catalogue_changes_2022-H1.csv"),
    (datetime(2022, 12, 20, 9, 0), "catalogue_changes_2022-H2.csv"),
    (datetime(2023, 3, 15, 9, 0), "catalogue_revision_2023.jsonl"),
)
FULL_EXPORTS = (0, 4)
LAST_2022 = 6
REVISION_2023 = 7

# Published 2022 figures (FIGURES.md).
HIGH_FREQUENCY_2022 = 169
ONE_WINDOW_2022 = 492
REFORMS_2022 = {"直接取消审批": 27, "审批改为备案": 8, "实行告知承诺": 22, "优化审批服务": 184}
ONLINE_LICENSING_SHARE_2022 = 0.955

NEVER = 99
PROMISED_DAYS = {
    "XK": (1, 3, 5, 7, 10, 15, 20),
    "QR": (0, 1, 3, 5),
    "JF": (3, 5, 10, 15),
    "GG": (0, 0, 1, 3),
    "QT": (0, 1, 3),
}


@dataclass
class Catalogue:
    """What the case generator needs to know about the items (one row per item)."""

    items: pl.DataFrame
    files: list[LandingFile]


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    if k > len(candidates):
        raise ValueError(f"need {k} items, only {len(candidates)} candidates")
    return np.sort(rng.choice(candidates, k, replace=False))


def _from_index(rng: np.random.Generator, lo: np.ndarray, hi: int, early: float) -> np.ndarray:
    """A snapshot index in [lo, hi] per item, the first one with probability `early`."""
    span = np.maximum(hi - lo, 0) + 1
    idx = lo + np.floor(rng.random(len(lo)) * span).astype(int)
    return np.where(rng.random(len(lo)) < early, lo, idx)


def build_catalogue(seed: int) -> Catalogue:
    rng = np.random.default_rng([seed, 3])
    entries = catalogue_entries()
    n = len(entries)
    dept = np.array([e[0] for e in entries])
    tcode = np.array([e[1] for e in entries])
    name = np.array([e[2] for e in entries])
    code = np.array([e[3] for e in entries])
    is_licence = tcode == "XK"
    in_18 = np.isin(dept, ONE_WINDOW_DEPARTMENTS)

    # When each item enters the catalogue: most are there from the first export.
    created = np.where(rng.random(n) < 0.86, 0, rng.integers(1, LAST_2022 + 1, n))
    new_2023 = _pick(rng, np.flatnonzero(created > 0), 30)
    created[new_2023] = REVISION_2023
    exists = created <= LAST_2022
    idx = np.arange(n)

    # --- the state at the end of 2022 --------------------------------------------------------
    retired_at = np.full(n, NEVER)
    reform = np.full(n, None, dtype=object)
    reform_at = np.full(n, NEVER)
    can_retire = exists & (created <= LAST_2022 - 1)
    cancelled = _pick(rng, idx[can_retire & is_licence], REFORMS_2022["直接取消审批"])
    lo = np.maximum(created[cancelled] + 1, 2)
    reform[cancelled] = "直接取消审批"
    reform_at[cancelled] = _from_index(rng, lo, LAST_2022, 0.0)
    retired_at[cancelled] = reform_at[cancelled]
    free = can_retire & (reform == None)  # noqa: E711 (element-wise on an object array)
    others = _pick(rng, idx[free & ~in_18 | free & (rng.random(n) < 0.08)], 60)
    retired_at[others] = _from_index(rng, created[others] + 1, LAST_2022, 0.0)
    in_use = exists & (retired_at == NEVER)

    one_window_at = np.full(n, NEVER)
    eligible = idx[in_use & in_18]
    per_dept = np.concatenate(
        [_pick(rng, eligible[dept[eligible] == d], 2) for d in ONE_WINDOW_DEPARTMENTS]
    )
    rest = np.setdiff1d(eligible, per_dept)
    one_window = np.sort(
        np.concatenate([per_dept, _pick(rng, rest, ONE_WINDOW_2022 - len(per_dept))])
    )
    one_window_at[one_window] = _from_index(rng, np.maximum(created[one_window], 2), LAST_2022, 0.3)

    high_at = np.full(n, NEVER)
    high = np.concatenate(
        [
            _pick(rng, one_window, 120),
            _pick(rng, np.setdiff1d(idx[in_use], one_window), HIGH_FREQUENCY_2022 - 120),
        ]
    )
    high_at[high] = _from_index(rng, np.maximum(created[high], 3), LAST_2022, 0.3)

    licences_in_use = idx[in_use & is_licence]
    taken = np.array([], dtype=int)
    for kind in ("审批改为备案", "实行告知承诺", "优化审批服务"):
        chosen = _pick(rng, np.setdiff1d(licences_in_use, taken), REFORMS_2022[kind])
        reform[chosen] = kind
        reform_at[chosen] = _from_index(rng, np.maximum(created[chosen], 2), LAST_2022, 0.2)
        taken = np.concatenate([taken, chosen])

    online_at = np.full(n, NEVER)
    n_online_licences = int(np.ceil(ONLINE_LICENSING_SHARE_2022 * len(licences_in_use)))
    online = np.concatenate(
        [
            _pick(rng, licences_in_use, n_online_licences),
            _pick(rng, idx[exists & ~is_licence], int(0.7 * (exists & ~is_licence).sum())),
        ]
    )
    online_at[online] = _from_index(rng, created[online], LAST_2022, 0.35)

    # --- the 2023 revision: later changes that must leave every 2022 figure alone ---------
    r = REVISION_2023
    joining = idx[in_use & (dept == DEPARTMENT_JOINING_2023)]
    one_window_at[_pick(rng, joining, 12)] = r
    one_window_at[_pick(rng, idx[in_use & in_18 & (one_window_at == NEVER)], 10)] = r
    high_at[_pick(rng, idx[in_use & (high_at == NEVER)], 12)] = r
    optimised = _pick(rng, np.setdiff1d(licences_in_use, taken), 6)
    reform[optimised], reform_at[optimised] = "优化审批服务", r
    online_at[_pick(rng, idx[in_use & (online_at == NEVER)], 15)] = r
    retired_at[_pick(rng, idx[in_use], 8)] = r
    one_window_at[new_2023[:6]] = r
    online_at[new_2023] = r

    # --- versions: an item is exported when it first appears, whenever its state changes,
    # and in every full export ------------------------------------------------------------
    promised = np.array([rng.choice(PROMISED_DAYS[t]) for t in tcode])
    rows = []
    previous = None
    for j, (at, _) in enumerate(SNAPSHOTS):
        state = {
            "online_enabled": online_at <= j,
            "high_frequency": high_at <= j,
            "one_window": one_window_at <= j,
            "reform": np.where(reform_at <= j, reform, None),
            "item_status": np.where(retired_at <= j, "停用", "在用"),
        }
        present = created <= j
        if j in FULL_EXPORTS:
            emit = present
        else:
            changed = created == j
            for k, v in state.items():
                changed |= v != previous[k]
            emit = present & changed
        previous = state
        sel = np.flatnonzero(emit)
        minutes = np.sort(rng.integers(0, 8 * 60, len(sel)))
        rows.append(
            pl.DataFrame(
                {
                    "item_code": code[sel],
                    "item_name": name[sel],
                    "item_type": [ITEM_TYPES[t] for t in tcode[sel]],
                    "department": dept[sel],
                    "online_enabled": state["online_enabled"][sel],
                    "high_frequency": state["high_frequency"][sel],
                    "one_window": state["one_window"][sel],
                    "reform": pl.Series(state["reform"][sel].tolist(), dtype=pl.String),
                    "item_status": state["item_status"][sel],
                    "updated_at": clock(at) + minutes * 60,
                    "_snapshot": np.full(len(sel), j),
                }
            )
        )
    versions = pl.concat(rows).with_columns(pl.from_epoch("updated_at", "s"))

    items = pl.DataFrame(
        {
            "item_code": code,
            "department": dept,
            "type_code": tcode,
            "created": created,
            "in_use_2022": in_use,
            "one_window_2022": one_window_at <= LAST_2022,
            "high_frequency_2022": high_at <= LAST_2022,
            "online_2022": online_at <= LAST_2022,
            "promised_days": promised,
        }
    )
    return Catalogue(items=items, files=_files(versions))


def _files(versions: pl.DataFrame) -> list[LandingFile]:
    by_snapshot = {
        j: versions.filter(pl.col("_snapshot") == j).drop("_snapshot")
        for j in range(len(SNAPSHOTS))
    }
    at = [s[0] for s in SNAPSHOTS]
    names = [s[1] for s in SNAPSHOTS]

    def arrival(j: int) -> datetime:
        return at[j].replace(hour=20)

    files = [
        LandingFile(
            "service_items", names[0], by_snapshot[0], arrival(0), fmt="xlsx", excel_cells=True
        ),
        LandingFile(
            "service_items",
            names[1],
            by_snapshot[1],
            arrival(1),
            encoding="gb18030",
            timestamp_format="%Y/%m/%d %H:%M:%S",
        ),
        LandingFile("service_items", names[2], by_snapshot[2], arrival(2), flag_words=("Y", "N")),
        LandingFile(
            "service_items",
            names[3],
            by_snapshot[3],
            arrival(3),
            english_headers=True,
            flag_words=("1", "0"),
        ),
        LandingFile("service_items", names[4], by_snapshot[4], arrival(4), encoding="utf-8-sig"),
        LandingFile("service_items", names[5], by_snapshot[5], arrival(5)),
        # The year-end change file is exported to the minute.
        LandingFile(
            "service_items",
            names[6],
            _with_halfwidth_names(by_snapshot[6]),
            arrival(6),
            timestamp_format="%Y-%m-%d %H:%M",
        ),
        LandingFile(
            "service_items",
            names[7],
            by_snapshot[7],
            arrival(7),
            fmt="jsonl",
            flag_words=("true", "false"),
        ),
    ]
    # The next morning the catalogue office re-sends a few year-end rows with their names
    # corrected and the same update time: on that tie the later file wins.
    fixed = by_snapshot[6].filter(pl.col("item_name").str.contains("（")).head(4)
    files.append(
        LandingFile(
            "service_items",
            "catalogue_changes_2022-H2_fix.csv",
            fixed,
            at[6].replace(day=21, hour=10),
            timestamp_format="%Y-%m-%d %H:%M",
        )
    )
    return files


def _with_halfwidth_names(frame: pl.DataFrame) -> pl.DataFrame:
    """The year-end export printed half-width brackets in the first few bracketed names."""
    bracketed = frame.get_column("item_name").str.contains("（")
    first = bracketed & (bracketed.cum_sum() <= 4)
    return frame.with_columns(
        pl.when(first)
        .then(pl.col("item_name").str.replace("（", "(").str.replace("）", ")"))
        .otherwise(pl.col("item_name"))
        .alias("item_name")
    )
