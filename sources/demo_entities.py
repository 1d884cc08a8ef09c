"""Demo market-entity registration events (market_entities), 2000 to June 2023.

Entities are born (设立), changed (变更), deregistered (注销) or revoked (吊销) year by year
from a plan whose stock reaches exactly 94,473 entities at the end of 2021 and 100,425 at the
end of 2022 (净增长6.3%), with 12,000 registrations in 2022 (新增市场主体1.2万户). Exits are
drawn from entities alive at the start of their year, so every year-end stock is exact by
construction; revoked entities may later be deregistered as well, and a few exited ones are
re-established. Events before 2018 arrive as one migrated history file, later ones monthly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from sources.demo_files import LandingFile
from sources.demo_reference import (
    BRAND_CHARS,
    COOP_KINDS,
    DAY,
    ENTERPRISE_TRADES,
    SHOP_KINDS,
    TOWNSHIP_WEIGHTS,
    TOWNSHIPS,
    WorkCalendar,
    credit_codes,
    day_number,
    person_names,
    resident_ids,
    seconds,
)

FIRST_YEAR = 2000
LAST_DAY = date(2023, 6, 30)
AS_OF_END = seconds(LAST_DAY, 23, 59, 59)

# Stock at the end of 2021 and 2022 (FIGURES.md: 100,425 and 6.3% net growth).
STOCK_2021 = 94_473
STOCK_2022 = 100_425

# The yearly plan from 2008 on: fresh registrations, exits, re-establishments.
PLAN: dict[int, tuple[int, int, int]] = {
    2008: (4_200, 800, 0),
    2009: (4_600, 1_000, 0),
    2010: (5_200, 1_200, 0),
    2011: (5_600, 1_500, 0),
    2012: (6_200, 1_800, 0),
    2013: (6_800, 2_100, 0),
    2014: (8_200, 2_600, 0),
    2015: (9_000, 3_000, 0),
    2016: (9_800, 3_400, 8),
    2017: (10_400, 3_900, 9),
    2018: (10_800, 4_300, 10),
    2019: (11_400, 4_800, 12),
    2020: (10_600, 4_700, 10),
    2021: (11_800, 5_400, 12),
    # 2022: 11,986 + 14 = 12,000 registrations; exits make the stock 100,425.
    2022: (11_986, 11_986 + 14 - (STOCK_2022 - STOCK_2021), 14),
    2023: (6_300, 2_900, 7),
}
EARLY_EXITS = (0, 150, 250, 350, 450, 550, 650, 750)  # 2000-2007
EARLY_SHAPE = np.array([0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2, 1.3])
# Share of 企业 registrations finished within two hours (the 2-hour reform took hold in 2019).
WITHIN_2H = {2018: 0.35, 2019: 0.7, 2020: 0.93, 2021: 0.985, 2022: 0.995, 2023: 0.996}
# Returning-migrant founders (鸿雁兴开); the flag exists from 2019.
RETURNEE_SHARE = {2019: 0.25, 2020: 0.32, 2021: 0.4, 2022: 0.48, 2023: 0.62}
TYPES = ("企业", "个体工商户", "农民专业合作社")
KIND_DIGIT = {"企业": "1", "个体工商户": "2", "农民专业合作社": "3"}


def yearly_plan() -> dict[int, tuple[int, int, int]]:
    """(fresh, exits, re-established) per year, the early years sized so that the stock at
    the end of 2021 is exactly STOCK_2021."""
    later = sum(f + r - e for y, (f, e, r) in PLAN.items() if y <= 2021)
    early_fresh = STOCK_2021 - later + sum(EARLY_EXITS)
    share = EARLY_SHAPE / EARLY_SHAPE.sum() * early_fresh
    counts = np.floor(share).astype(int)
    counts[np.argsort(share - counts)[::-1][: early_fresh - counts.sum()]] += 1
    plan = {FIRST_YEAR + i: (int(c), EARLY_EXITS[i], 0) for i, c in enumerate(counts)}
    plan.update(PLAN)
    return plan


@dataclass
class EntityEvents:
    # Credit codes of enterprises and cooperatives alive at the end (permit-case applicants).
    company_codes: np.ndarray
    files: list[LandingFile]


def _working_days(cal: WorkCalendar, year: int) -> np.ndarray:
    last = min(date(year, 12, 31), LAST_DAY)
    if year >= 2018:
        return cal.workdays_in(date(year, 1, 1), last)
    days = np.arange(day_number(date(year, 1, 1)), day_number(last) + 1)
    # 1970-01-01 was a Thursday: weekday 0 = Monday.
    return days[(days + 3) % 7 < 5]


class _Entities:
    """Attributes of every entity ever registered, grown as the plan registers them."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parts: list[pl.DataFrame] = []
        self.count = 0

    def register(self, year: int, first_days: np.ndarray) -> np.ndarray:
        rng, n = self.rng, len(first_days)
        ids = np.arange(self.count, self.count + n)
        self.count += n
        coop = 0.06 if year < 2016 else 0.025
        company = 0.24 if year < 2012 else 0.3
        etype = np.array(TYPES)[rng.choice(3, n, p=[company, 1 - company - coop, coop])]
        township = np.array(TOWNSHIPS)[rng.choice(len(TOWNSHIPS), n, p=TOWNSHIP_WEIGHTS)]
        brand = np.char.add(
            np.array(BRAND_CHARS)[rng.integers(0, len(BRAND_CHARS), n)],
            np.array(BRAND_CHARS)[rng.integers(0, len(BRAND_CHARS), n)],
        )
        trade = rng.integers(0, len(ENTERPRISE_TRADES), n)
        trade_word = np.array([t[1] for t in ENTERPRISE_TRADES])[trade]
        prefix = np.where(rng.random(n) < 0.5, "重庆", "重庆市开州区")
        company_name = np.char.add(np.char.add(np.char.add(prefix, brand), trade_word), "有限公司")
        shop_kind = rng.integers(0, len(SHOP_KINDS), n)
        shop = np.array([k for _, k in SHOP_KINDS])[shop_kind]
        shop_name = np.char.add(np.char.add(np.char.add("开州区", township), brand), shop)
        crop = np.array(COOP_KINDS)[rng.integers(0, len(COOP_KINDS), n)]
        coop_name = np.char.add(
            np.char.add(np.char.add(np.char.add("开州区", township), brand), crop), "专业合作社"
        )
        name = np.select(
            [etype == "企业", etype == "个体工商户"], [company_name, shop_name], coop_name
        )
        section = np.select(
            [etype == "企业", etype == "个体工商户"],
            [
                np.array([t[0] for t in ENTERPRISE_TRADES])[trade],
                np.array([section for section, _ in SHOP_KINDS])[shop_kind],
            ],
            "A",
        ).astype(object)
        section[rng.random(n) < (0.08 if year < 2010 else 0.01)] = None
        capital = np.select(
            [etype == "企业", etype == "个体工商户"],
            [
                rng.choice(
                    [10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000],
                    n,
                    p=[0.06, 0.08, 0.1, 0.2, 0.22, 0.12, 0.08, 0.07, 0.04, 0.02, 0.01],
                ),
                rng.choice([1, 2, 3, 5, 8, 10, 20, 30, 50], n),
            ],
            rng.choice([10, 50, 100, 200, 300, 500], n),
        ).astype(float)
        capital[(etype == "个体工商户") & (rng.random(n) < 0.5)] = np.nan
        age_days = (rng.integers(22, 61, n) * 365.25 + rng.integers(0, 365, n)).astype(int)
        births = first_days - age_days
        rep_name = person_names(rng, n).astype(object)
        rep_id = resident_ids(rng, births).astype(object)
        missing = rng.random(n) < (0.04 if year < 2010 else 0.002)
        rep_name[missing] = None
        rep_id[missing] = None
        modern = (year >= 2016) | ((year == 2015) & (first_days >= day_number(date(2015, 10, 1))))
        kind = np.array([KIND_DIGIT[t] for t in etype])
        self.parts.append(
            pl.DataFrame(
                {
                    "entity": ids,
                    "uscc": credit_codes(kind, ids, np.broadcast_to(modern, n)),
                    "entity_name": name,
                    "entity_type": etype,
                    "industry_section": pl.Series(section.tolist(), dtype=pl.String),
                    "township": township,
                    "registered_capital": pl.Series(capital).fill_nan(None),
                    "legal_rep_name": pl.Series(rep_name.tolist(), dtype=pl.String),
                    "legal_rep_id": pl.Series(rep_id.tolist(), dtype=pl.String),
                }
            )
        )
        return ids

    def frame(self) -> pl.DataFrame:
        return pl.concat(self.parts)


def _times(rng: np.random.Generator, days: np.ndarray, n: int) -> np.ndarray:
    """Completion times on the given working days, 09:00-17:30."""
    d = days[rng.integers(0, len(days), n)]
    return d * DAY + 9 * 3600 + rng.integers(0, int(8.5 * 3600), n)


def build_entity_events(seed: int) -> EntityEvents:
    rng = np.random.default_rng([seed, 1])
    cal = WorkCalendar(date(2017, 12, 1), date(2024, 3, 31))
    plan = yearly_plan()
    ents = _Entities(rng)
    alive = np.zeros(0, dtype=bool)
    last_exit = np.zeros(0, dtype="<U2")  # the kind of the entity's latest exit, if any
    exit_year = np.zeros(0, dtype=int)
    events: list[dict[str, np.ndarray]] = []

    def add(kind: str, who: np.ndarray, done: np.ndarray, took: np.ndarray, year: int) -> None:
        events.append(
            {
                "entity": who,
                "event_type": np.full(len(who), kind),
                "completed": done,
                "submitted": done - took,
                "year": np.full(len(who), year),
            }
        )

    for year, (fresh, exits, reborn) in sorted(plan.items()):
        days = _working_days(cal, year)
        grow = fresh
        alive = np.concatenate([alive, np.zeros(grow, dtype=bool)])
        last_exit = np.concatenate([last_exit, np.full(grow, "")])
        exit_year = np.concatenate([exit_year, np.zeros(grow, dtype=int)])

        # Exits: entities alive at the start of the year.
        leaving = np.sort(rng.choice(np.flatnonzero(alive), exits, replace=False))
        revoked = rng.random(exits) < 0.25
        done = _times(rng, days, exits)
        took = np.where(revoked, rng.integers(1, 10, exits), rng.integers(1, 21, exits)) * DAY
        took = took + rng.integers(0, 6 * 3600, exits)
        for kind, mask in (("吊销", revoked), ("注销", ~revoked)):
            add(kind, leaving[mask], done[mask], took[mask], year)

        # Revoked in an earlier year and deregistered now: the second exit changes nothing.
        pool = np.flatnonzero(~alive & (last_exit == "吊销") & (exit_year < year))
        k = min(len(pool), int(0.04 * exits))
        if k:
            second = np.sort(rng.choice(pool, k, replace=False))
            add("注销", second, _times(rng, days, k), rng.integers(1, 21, k) * DAY, year)
            last_exit[second] = "注销"
        alive[leaving] = False
        last_exit[leaving] = np.where(revoked, "吊销", "注销")
        exit_year[leaving] = year

        # Re-established: exited in an earlier year, registered again under the same code.
        back = np.zeros(0, dtype=int)
        if reborn:
            pool = np.flatnonzero(~alive & (exit_year > 0) & (exit_year < year))
            pool = pool[~np.isin(pool, second)] if k else pool
            back = np.sort(rng.choice(pool, reborn, replace=False))
            add("设立", back, _times(rng, days, reborn), _setup_time(rng, year, reborn), year)
            alive[back] = True
            last_exit[back] = ""

        # Fresh registrations.
        done = _times(rng, days, fresh)
        ids = ents.register(year, done // DAY)
        alive[ids] = True
        add("设立", ids, done, _setup_time(rng, year, fresh), year)

        # Changes: entities alive all year.
        stay = np.flatnonzero(alive)
        stay = stay[~np.isin(stay, np.concatenate([ids, back]))]
        k = int(0.04 * len(stay) * (0.5 if year == LAST_DAY.year else 1))
        changed = np.sort(rng.choice(stay, k, replace=False))
        add(
            "变更",
            changed,
            _times(rng, days, k),
            rng.integers(1, 6, k) * DAY + rng.integers(0, 4 * 3600, k),
            year,
        )

        if year == 2021:
            assert alive.sum() == STOCK_2021
        if year == 2022:
            assert alive.sum() == STOCK_2022

    ev = pl.concat([pl.DataFrame(e) for e in events])
    attrs = ents.frame()
    ev = ev.join(attrs, on="entity", how="left").sort(
        "completed", "entity", "event_type", maintain_order=True
    )
    ev = _with_ids_and_flags(rng, ev)
    ev = _with_corrections(rng, ev)
    firms = alive & (attrs.get_column("entity_type").to_numpy() != "个体工商户")
    return EntityEvents(attrs.get_column("uscc").to_numpy()[firms], _files(ev))


def _setup_time(rng: np.random.Generator, year: int, n: int) -> np.ndarray:
    """Seconds from application to registration. From 2018 most 企业 set-ups finish within
    two hours; a few take exactly two hours (which still counts as within)."""
    fast_share = WITHIN_2H.get(year, 0.0)
    fast = rng.random(n) < fast_share
    quick = rng.integers(15 * 60, 2 * 3600, n)
    quick = np.where(rng.random(n) < 0.01, 2 * 3600, quick)
    slow = np.where(
        year >= 2018,
        rng.integers(2 * 3600 + 1, 3 * DAY, n),
        rng.integers(1, 6, n) * DAY + rng.integers(0, 8 * 3600, n),
    )
    return np.where(fast, quick, slow)


def _with_ids_and_flags(rng: np.random.Generator, ev: pl.DataFrame) -> pl.DataFrame:
    n = ev.height
    year = ev.get_column("year").to_numpy()
    is_setup = ev.get_column("event_type").to_numpy() == "设立"
    share = np.array([RETURNEE_SHARE.get(int(y), 0.0) for y in range(FIRST_YEAR, 2024)])
    returnee = rng.random(n) < share[year - FIRST_YEAR]
    flag = np.where(returnee, True, False).astype(object)
    # The flag was added in 2019; at first only returnees were marked.
    flag[(year < 2019) | ~is_setup] = None
    flag[(year < 2021) & ~returnee] = None
    exported = ev.get_column("completed").to_numpy() + rng.integers(60, 1_800, n)
    exported = np.minimum(exported, AS_OF_END)
    ev = ev.with_columns(
        pl.Series("is_returnee", flag.tolist(), dtype=pl.Boolean),
        pl.Series("updated", exported),
        pl.from_epoch("completed", "s").dt.strftime("%Y%m%d").alias("_day"),
    )
    seq = ev.select(pl.int_range(pl.len()).over("_day") + 1).to_series()
    return ev.with_columns(
        ("DJ" + pl.col("_day") + seq.cast(pl.String).str.zfill(4)).alias("event_id")
    ).drop("_day")


def _with_corrections(rng: np.random.Generator, ev: pl.DataFrame) -> pl.DataFrame:
    """A few recent events are corrected weeks later (the township was recorded wrongly): the
    first export carries the mistake, a later monthly file the corrected version."""
    recent = ev.filter(pl.col("year") >= 2018)
    k = int(0.004 * recent.height)
    later = recent.sample(k, seed=int(rng.integers(1 << 31))).sort("event_id")
    later = later.with_columns(
        pl.col("updated") + pl.Series(rng.integers(3 * DAY, 60 * DAY, k))
    ).filter(pl.col("updated") <= AS_OF_END)
    true_index = (
        later.get_column("township")
        .replace_strict({t: i for i, t in enumerate(TOWNSHIPS)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    wrong = (true_index + rng.integers(1, len(TOWNSHIPS), later.height)) % len(TOWNSHIPS)
    mistakes = pl.DataFrame(
        {"event_id": later.get_column("event_id"), "_wrong": np.array(TOWNSHIPS)[wrong]}
    )
    first = (
        ev.join(mistakes, on="event_id", how="left")
        .with_columns(pl.coalesce("_wrong", "township").alias("township"))
        .drop("_wrong")
    )
    return pl.concat([first, later]).sort("updated", "event_id")


def _as_contract(ev: pl.DataFrame) -> pl.DataFrame:
    return ev.select(
        "event_id",
        "uscc",
        "entity_name",
        "entity_type",
        "industry_section",
        "township",
        "registered_capital",
        "event_type",
        pl.from_epoch("submitted", "s").alias("submitted_at"),
        pl.from_epoch("completed", "s").alias("completed_at"),
        "is_returnee",
        "legal_rep_name",
        "legal_rep_id",
        pl.from_epoch("updated", "s").alias("updated_at"),
    )


def _files(ev: pl.DataFrame) -> list[LandingFile]:
    month = pl.from_epoch("updated", "s").dt.strftime("%Y-%m")
    ev = ev.with_columns(month.alias("_month"))
    files = [
        LandingFile(
            "market_entities",
            "entities_history_2000-2017.parquet",
            _as_contract(ev.filter(pl.col("_month") < "2018-01")),
            datetime(2018, 1, 5, 10, 0),
            fmt="parquet",
        )
    ]
    for (m,), part in sorted(
        ev.filter(pl.col("_month") >= "2018-01").partition_by("_month", as_dict=True).items()
    ):
        y, mo = int(m[:4]), int(m[5:])
        arrives = datetime(y + mo // 12, mo % 12 + 1, 1, 3, 0)
        f = LandingFile("market_entities", f"entities_{m}.csv", _as_contract(part), arrives)
        if m in ("2020-01", "2020-02"):
            f.fmt, f.name, f.excel_cells = "xlsx", f"entities_{m}.xlsx", True
        elif m == "2022-10":
            f.fmt, f.name = "xlsx", f"entities_{m}.xlsx"
        elif m.startswith("2019"):
            f.encoding, f.timestamp_format = "gb18030", "%Y/%m/%d %H:%M:%S"
        elif m.startswith("2021"):
            f.flag_words = ("Y", "N")
        files.append(f)
    return files
