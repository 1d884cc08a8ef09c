"""Demo investment-promotion project register (investment_projects), January 2018 to June 2023.

Leads come in every week; some lead to talks, some to a contract, a start of construction and
production, some are dropped (终止). The register is exported quarterly: a project appears in a
quarter's export when it is new or moved on in that quarter, so each export holds the latest
version of what changed.

Signings, starts and production per year follow a plan: in 2022, 53 industrial projects signed
with a planned investment of exactly 289.9 亿元 (amounts in 0.5 亿元 steps but one, so the sum
is exact) and 31 industrial projects started; the first half of 2023 is about 40% of the way
to the year's targets (70 signed, 400 亿元 contracted, 50 started, 40 in production).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from sources.demo_files import LandingFile
from sources.demo_reference import (
    BRAND_CHARS,
    CLUSTER_PRODUCTS,
    DAY,
    INVESTOR_PLACES,
    INVESTOR_SUFFIXES,
    NON_INDUSTRIAL_PRODUCTS,
    day_number,
)

FIRST_DAY = date(2018, 1, 1)  # a Monday
LAST_DAY = date(2023, 6, 30)
# Per year: (industrial signed, other signed, industrial started, other started, in production).
PLAN: dict[int, tuple[int, int, int, int, int]] = {
    2018: (20, 8, 8, 3, 0),
    2019: (34, 16, 22, 9, 6),
    2020: (30, 14, 24, 10, 14),
    2021: (44, 18, 27, 12, 22),
    2022: (53, 20, 31, 13, 30),
    2023: (19, 9, 14, 6, 16),
}
# 2022's industrial projects: 289.9 亿元 in tenths of 亿元.
INDUSTRIAL_2022_TENTHS = 2_899
# First half of 2023: contracted investment (亿元), about 40% of the 400 target.
CONTRACT_2023_H1 = 160.0
LEADS_PER_WEEK = 4.2
NEVER = 10_000_000  # a day number far beyond the data: "has not happened"


def _year_bounds(year: int) -> tuple[int, int]:
    return day_number(date(year, 1, 1)), min(day_number(date(year, 12, 31)), day_number(LAST_DAY))


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + np.floor(rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def _assign(
    rng: np.random.Generator,
    candidates: np.ndarray,
    k: int,
    earliest: np.ndarray,
    year: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick k of the candidates and give each a day in `year`, not before its `earliest`."""
    lo, hi = _year_bounds(year)
    ok = candidates[earliest[candidates] <= hi]
    if len(ok) < k:
        raise ValueError(f"{year}: need {k} projects, only {len(ok)} can move on")
    chosen = np.sort(rng.choice(ok, k, replace=False))
    days = _uniform_days(rng, np.maximum(earliest[chosen], lo), np.full(k, hi))
    return chosen, days


def _amounts_2022(rng: np.random.Generator, k: int) -> np.ndarray:
    """k planned investments in tenths of 亿元 summing to exactly 289.9 亿元: all but the
    largest in 0.5 亿元 steps (exact in binary), so any order of summation gives 289.9."""
    draw = rng.lognormal(np.log(4.0), 0.7, k - 1)
    draw *= (INDUSTRIAL_2022_TENTHS - 180) / 10 / draw.sum()
    halves = np.maximum(np.round(draw * 2), 1).astype(np.int64) * 5
    last = INDUSTRIAL_2022_TENTHS - halves.sum()
    if last < 50:
        raise ValueError("2022 amounts do not leave a plausible last project")
    return np.concatenate([halves, [last]])


def build_projects(seed: int) -> list[LandingFile]:
    rng = np.random.default_rng([seed, 4])
    first, last = day_number(FIRST_DAY), day_number(LAST_DAY)

    # Leads: a few every week, on working days of the week.
    weeks = np.arange(first, last + 1, 7)
    per_week = rng.poisson(LEADS_PER_WEEK, len(weeks))
    lead = np.repeat(weeks, per_week) + rng.integers(0, 5, per_week.sum())
    lead = np.sort(lead[lead <= last])
    n = len(lead)
    industrial = rng.random(n) < 0.56
    never = np.full(n, NEVER)
    signed, started, produced, ended = never.copy(), never.copy(), never.copy(), never.copy()

    for year, (ind_s, oth_s, ind_b, oth_b, prod) in PLAN.items():
        lo, _ = _year_bounds(year)
        for flag, k in ((True, ind_s), (False, oth_s)):
            pool = np.flatnonzero((industrial == flag) & (signed == NEVER) & (lead >= lo - 540))
            chosen, days = _assign(rng, pool, k, lead + 30, year)
            signed[chosen] = days
        for flag, k in ((True, ind_b), (False, oth_b)):
            pool = np.flatnonzero((industrial == flag) & (signed < NEVER) & (started == NEVER))
            chosen, days = _assign(rng, pool, k, signed + 20, year)
            started[chosen] = days
        pool = np.flatnonzero((started < NEVER) & (produced == NEVER))
        chosen, days = _assign(rng, pool, prod, started + 180, year)
        produced[chosen] = days

    is_signed = signed < NEVER
    # Dropped: some leads that never signed, and a few signed projects that never started.
    drop = (~is_signed & (rng.random(n) < 0.18)) | (
        is_signed & (started == NEVER) & (rng.random(n) < 0.10)
    )
    after = np.where(is_signed, signed, lead) + rng.integers(30, 500, n)
    ended = np.where(drop & (after <= last), after, never)

    talk_hi = np.where(is_signed, signed, np.minimum(ended, lead + 150))
    has_talk = is_signed | (rng.random(n) < 0.55)
    talk = np.where(
        has_talk & (lead + 3 <= np.minimum(talk_hi, last)),
        _uniform_days(rng, lead + 3, np.maximum(np.minimum(talk_hi, last), lead + 3)),
        never,
    )

    # Amounts (tenths of 亿元) and land.
    planned = np.maximum(np.round(rng.lognormal(np.log(4.0), 0.8, n) * 2), 1).astype(np.int64) * 5
    planned = np.where(industrial, planned, np.maximum(planned * 6 // 10, 3))
    year_signed = signed.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    year_signed = np.where(is_signed, year_signed, 0)
    ind_2022 = np.flatnonzero(industrial & (year_signed == 2022))
    planned[ind_2022] = _amounts_2022(rng, len(ind_2022))[rng.permutation(len(ind_2022))]
    ratio = rng.uniform(0.6, 1.0, n)
    contract = np.maximum(np.round(planned * ratio), 1).astype(np.int64)
    h1 = np.flatnonzero(year_signed == 2023)
    contract[h1] = np.maximum(
        np.round(contract[h1] * CONTRACT_2023_H1 * 10 / contract[h1].sum()), 1
    ).astype(np.int64)
    planned[h1] = np.maximum(planned[h1], contract[h1])
    intensity = np.where(industrial, rng.uniform(250, 650, n), rng.uniform(100, 400, n))
    land = np.round(planned / 10 * 10_000 / intensity, 1)
    land = np.where(rng.random(n) < np.where(industrial, 0.2, 0.5), np.nan, land)
    estimate = np.where(
        rng.random(n) < 0.4, -1, np.maximum(np.round(planned * rng.uniform(0.7, 1.5, n)), 1)
    )

    brand = np.char.add(
        np.array(BRAND_CHARS)[rng.integers(0, len(BRAND_CHARS), n)],
        np.array(BRAND_CHARS)[rng.integers(0, len(BRAND_CHARS), n)],
    )
    cluster_names = np.array(list(CLUSTER_PRODUCTS))
    cluster = np.where(industrial, cluster_names[rng.integers(0, 4, n)], "其他")
    teams = np.array(list(NON_INDUSTRIAL_PRODUCTS))
    team = np.where(
        industrial,
        np.where(rng.random(n) < 0.8, "绿色工业", "乡镇街道"),
        teams[rng.integers(0, len(teams), n)],
    )
    product = np.array(
        [
            rng.choice(CLUSTER_PRODUCTS[c]) if ind else rng.choice(NON_INDUSTRIAL_PRODUCTS[t])
            for c, t, ind in zip(cluster, team, industrial, strict=True)
        ]
    )
    phase = np.where(rng.random(n) < 0.15, "（二期）", "")
    name = np.char.add(np.char.add(np.char.add(brand, product), phase), "项目")
    investor = np.char.add(
        np.char.add(np.array(INVESTOR_PLACES)[rng.integers(0, len(INVESTOR_PLACES), n)], brand),
        np.array(INVESTOR_SUFFIXES)[rng.integers(0, len(INVESTOR_SUFFIXES), n)],
    )
    lead_year = lead.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    seq = np.zeros(n, dtype=np.int64)
    for y in np.unique(lead_year):
        sel = np.flatnonzero(lead_year == y)
        seq[sel] = np.arange(1, len(sel) + 1)
    pid = np.char.add(np.char.add("ZS", lead_year.astype(str)), np.char.zfill(seq.astype(str), 4))

    # A few 2022 industrial signings were first exported with a provisional amount and
    # corrected in the next quarter's export.
    corrected = np.zeros(n, dtype=bool)
    corrected[rng.choice(ind_2022, 6, replace=False)] = True

    projects = pl.DataFrame(
        {
            "project_id": pid,
            "project_name": name,
            "investor": investor,
            "cluster": cluster,
            "team": team,
            "is_industrial": industrial,
            "planned": planned,
            "estimate": estimate,
            "contract": contract,
            "land_mu": pl.Series(land).fill_nan(None),
            "lead": lead,
            "talk": talk,
            "signed": signed,
            "started": started,
            "produced": produced,
            "ended": ended,
            "corrected": corrected,
        }
    )
    return _files(_versions(projects, rng))


STAGES = (
    ("lead", "线索"),
    ("talk", "洽谈"),
    ("signed", "签约"),
    ("started", "开工"),
    ("produced", "投产"),
    ("ended", "终止"),
)


def _quarter(days: pl.Expr) -> pl.Expr:
    t = pl.from_epoch(days * DAY, "s")
    return t.dt.year() * 10 + t.dt.quarter()


def _versions(p: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """One version per project and quarter in which it moved on, plus corrections."""
    events = pl.concat(
        [
            p.filter(pl.col(col) < NEVER).select(
                "project_id",
                pl.col(col).alias("day"),
                pl.lit(stage).alias("stage"),
                pl.lit(i).alias("order"),
            )
            for i, (col, stage) in enumerate(STAGES)
        ]
    ).with_columns(_quarter(pl.col("day")).alias("q"))
    # The latest event of each project in each quarter decides that quarter's version.
    latest = events.sort("project_id", "day", "order").group_by("project_id", "q").last()
    v = latest.join(p, on="project_id").with_columns(
        (pl.col("corrected") & (pl.col("q") == _quarter(pl.col("signed")))).alias("provisional")
    )
    # The correction goes out early in the next quarter, unless the project moved on then.
    next_quarter = (
        pl.from_epoch(pl.col("day") * DAY, "s").dt.offset_by("1q").dt.truncate("1q").dt.epoch("d")
        + 10
    )
    fixes = (
        v.filter(pl.col("provisional"))
        .with_columns(next_quarter.cast(pl.Int64).alias("day"), pl.lit(False).alias("provisional"))
        .with_columns(_quarter(pl.col("day")).alias("q"))
        .join(v.select("project_id", "q"), on=["project_id", "q"], how="anti")
    )
    v = pl.concat([v, fixes.select(v.columns)]).sort("project_id", "q")
    t = v.get_column("day").to_numpy() * DAY + 9 * 3600 + rng.integers(0, 9 * 3600, v.height)
    day = pl.col("day")

    def upto(c: str) -> pl.Expr:
        return pl.when(pl.col(c) <= day).then(pl.from_epoch(pl.col(c) * DAY, "s").dt.date())

    def yi(tenths: pl.Expr) -> pl.Expr:
        # Polars divides by multiplying with the reciprocal; rounding gives the double
        # nearest to the 0.1 step, so sums of amounts come out as they print.
        return (tenths / 10).round(1)

    is_signed = pl.col("signed") <= day
    tenths = pl.col("planned") + pl.when(pl.col("provisional")).then(5).otherwise(0)
    return (
        v.with_columns(pl.Series("t", t))
        .sort("t", "project_id")
        .select(
            "project_id",
            "project_name",
            "investor",
            "cluster",
            "team",
            "is_industrial",
            "stage",
            pl.when(is_signed)
            .then(yi(tenths))
            .when(pl.col("estimate") > 0)
            .then(yi(pl.col("estimate")))
            .alias("planned_investment"),
            pl.when(is_signed).then(yi(pl.col("contract"))).alias("contract_investment"),
            pl.when(is_signed).then(pl.col("land_mu")).alias("land_mu"),
            upto("lead").alias("lead_date"),
            upto("talk").alias("first_talk_date"),
            upto("signed").alias("signed_date"),
            upto("started").alias("started_date"),
            upto("produced").alias("production_date"),
            pl.from_epoch("t", "s").alias("updated_at"),
            "q",
        )
    )


def _files(v: pl.DataFrame) -> list[LandingFile]:
    files = []
    for (q,), part in sorted(v.partition_by("q", as_dict=True).items()):
        y, qn = divmod(q, 10)
        label = f"{y}Q{qn}"
        rows = part.drop("q")
        arrives = datetime(y + qn // 4, (qn % 4) * 3 + 1, 5, 10, 0)
        f = LandingFile("investment_projects", f"projects_{label}.csv", rows, arrives)
        if "2020Q1" <= label <= "2021Q3":
            f.fmt, f.name, f.excel_cells = "xlsx", f"projects_{label}.xlsx", True
        elif label == "2021Q4":
            f.extra_columns = {"备注": [None] * rows.height}
        elif label >= "2022Q1":
            f.fmt, f.name, f.date_format = "xlsx", f"projects_{label}.xlsx", "%Y/%m/%d"
        files.append(f)
    return files
