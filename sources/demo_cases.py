"""Demo government-service cases (permit_cases), January 2018 to June 2023.

The platform exports a case again whenever it moves on: 已申请 when an online application
arrives, 已受理 when it is accepted, then 已办结 / 不予受理 / 已撤回, and once more when the
applicant rates it. One file per month holds the versions recorded that month, so a case
submitted in December and finished in January appears in both years' files.

Volumes grow over the years (about 60,000 cases in 2022 at scale 1). The intake mix is set so
that 2022's completed cases hold about 10,500 one-window (一窗综办) and 43,500 cross-region
(通办) cases, and trips are dealt out per completion year so that the average is exactly the
year's target (0.11 in 2022) at any scale.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from sources.demo_files import LandingFile
from sources.demo_reference import DAY, WorkCalendar, day_number, resident_ids, seconds

LAST_DAY = date(2023, 6, 30)
AS_OF_END = seconds(LAST_DAY, 23, 59, 59)
LAST_YEAR = 2023

# Cases submitted per year at scale 1 (2023: January to June).
YEAR_CASES = {2018: 30_000, 2019: 36_000, 2020: 40_000, 2021: 50_000, 2022: 60_000, 2023: 33_000}
MONTH_WEIGHTS = np.array([0.9, 0.7, 1.05, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 0.9, 1.05, 1.1])

INTAKES = ("网上申报", "一窗综办", "部门窗口", "跨省通办", "川渝通办", "五省通办")
INTAKE_SHARES = {
    2018: (0.35, 0.0, 0.65, 0.0, 0.0, 0.0),
    2019: (0.35, 0.10, 0.55, 0.0, 0.0, 0.0),
    2020: (0.25, 0.15, 0.25, 0.10, 0.25, 0.0),
    2021: (0.10, 0.17, 0.13, 0.20, 0.35, 0.05),
    2022: (0.04, 0.1825, 0.0235, 0.27, 0.402, 0.082),
    2023: (0.04, 0.18, 0.03, 0.27, 0.40, 0.08),
}
# Share of each intake handled fully online (the rest at a counter).
ONLINE_SHARE = np.array([1.0, 0.3, 0.0, 0.8, 0.8, 0.8])
# Average in-person trips per completed case, by completion year (群众平均跑动次数).
TRIPS = {2018: 0.9, 2019: 0.6, 2020: 0.35, 2021: 0.18, 2022: 0.11, 2023: 0.09}
RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
RATING_WEIGHTS = np.array([0.85, 0.12, 0.025, 0.004, 0.001])
# Codes of a municipal catalogue the district's does not list: reported, not rejected.
UNKNOWN_ITEM = "500154999QT0001"


def _month_counts(scale: float) -> list[tuple[int, int, int]]:
    out = []
    for year, total in YEAR_CASES.items():
        months = 6 if year == LAST_YEAR else 12
        w = MONTH_WEIGHTS[:months] / MONTH_WEIGHTS[:months].sum()
        for m in range(months):
            out.append((year, m + 1, int(round(total * scale * w[m]))))
    return out


def _pools(items: pl.DataFrame, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, ...]]:
    """Item codes each intake draws from, with a popularity weight and promised days."""
    base = items.filter(pl.col("in_use_2022") & (pl.col("created") == 0))
    rules = {
        "网上申报": pl.col("online_2022"),
        "一窗综办": pl.col("one_window_2022"),
        "部门窗口": ~pl.col("one_window_2022"),
        "通办": pl.col("high_frequency_2022"),
    }
    pools = {}
    for key, rule in rules.items():
        p = base.filter(rule)
        weight = rng.pareto(1.2, p.height) + 0.05
        weight = np.where(p.get_column("high_frequency_2022").to_numpy(), weight * 4, weight)
        pools[key] = (
            p.get_column("item_code").to_numpy().astype(str),
            weight / weight.sum(),
            p.get_column("promised_days").to_numpy(),
        )
    return pools


def build_cases(
    items: pl.DataFrame, company_codes: np.ndarray, scale: float, seed: int
) -> list[LandingFile]:
    rng = np.random.default_rng([seed, 2])
    cal = WorkCalendar(date(2017, 12, 1), date(2024, 3, 31))
    months = _month_counts(scale)
    n = sum(c for _, _, c in months)
    year = np.repeat([y for y, _, _ in months], [c for _, _, c in months])

    # Intake, channel, applicant.
    intake = np.empty(n, dtype=int)
    for y, shares in INTAKE_SHARES.items():
        sel = np.flatnonzero(year == y)
        intake[sel] = rng.choice(len(INTAKES), len(sel), p=np.array(shares) / sum(shares))
    online = rng.random(n) < ONLINE_SHARE[intake]
    legal_person = rng.random(n) < 0.25

    # Item and promised days, from the pool of the intake.
    pools = _pools(items, rng)
    item = np.empty(n, dtype="U15")
    promised = np.empty(n, dtype=np.int64)
    for k, name in enumerate(INTAKES):
        sel = np.flatnonzero(intake == k)
        codes, weight, days = pools["通办" if name.endswith("通办") else name]
        pick = rng.choice(len(codes), len(sel), p=weight)
        item[sel], promised[sel] = codes[pick], days[pick]

    # Submission: counters open on working days, online any day and hour.
    submitted = np.empty(n, dtype=np.int64)
    start = 0
    for y, m, c in months:
        first = date(y, m, 1)
        last = date(y + m // 12, m % 12 + 1, 1)
        all_days = np.arange(day_number(first), day_number(last))
        work = cal.workdays_in(first, date.fromordinal(last.toordinal() - 1))
        sl = slice(start, start + c)
        d = np.where(
            online[sl],
            all_days[rng.integers(0, len(all_days), c)],
            work[rng.integers(0, len(work), c)],
        )
        tod = np.where(
            online[sl],
            np.where(
                rng.random(c) < 0.05,
                rng.integers(0, 7 * 3600, c),
                rng.integers(7 * 3600, 23 * 3600 + 1800, c),
            ),
            rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, c),
        )
        submitted[sl] = d * DAY + tod
        start += c

    # Acceptance.
    sub_day = submitted // DAY
    sub_tod = submitted % DAY
    in_hours = cal.is_workday(sub_day) & (sub_tod < 16 * 3600 + 1800)
    next_work = cal.nth_workday_after(sub_day, np.ones(n, dtype=np.int64))
    accepted = np.where(
        ~online,
        submitted + rng.integers(60, 900, n),
        np.where(
            in_hours,
            submitted + rng.integers(300, 7200, n),
            next_work * DAY + 9 * 3600 + rng.integers(0, 5400, n),
        ),
    )

    # Completion: the k-th working day after acceptance; a few cases run late.
    u = rng.random(n)
    on_time = np.floor(u**1.5 * (promised + 1)).astype(np.int64)
    late = rng.random(n) < np.where(promised == 0, 0.03, 0.015)
    k = np.where(late, promised + rng.integers(1, 4, n), np.minimum(on_time, promised))
    acc_day = accepted // DAY
    done_day = cal.nth_workday_after(acc_day, k)
    completed = np.where(
        k == 0,
        np.minimum(accepted + rng.integers(600, 10_800, n), acc_day * DAY + DAY - 1),
        done_day * DAY + 9 * 3600 + rng.integers(0, int(8.5 * 3600), n),
    )

    outcome = rng.random(n)
    refused = outcome < 0.02
    withdrawn = (outcome >= 0.02) & (outcome < 0.035)
    done = ~refused & ~withdrawn
    decided = submitted + rng.integers(3600, 2 * DAY, n)
    withdrawn_at = accepted + rng.integers(3600, 5 * DAY, n)

    # Year-end edge: a few online cases filed on New Year's Eve finish at 00:00:30 on 1 January.
    for y in (2021, 2022):
        eve = np.flatnonzero(
            (year == y)
            & done
            & online
            & (intake == 0)
            & (submitted // DAY >= day_number(date(y, 12, 1)))
        )[:2]
        nye = day_number(date(y, 12, 31)) * DAY
        submitted[eve] = nye + 22 * 3600 + 15 * 60
        accepted[eve] = submitted[eve] + 60
        completed[eve] = nye + DAY + 30
        promised[eve] = 0
    unknown = np.flatnonzero((year == 2021) & done)[:2]
    item[unknown] = UNKNOWN_ITEM

    # Trips, dealt per completion year so the year's average is exact at any scale.
    finished = done & (completed <= AS_OF_END)
    trips = np.where(~online & ~done, 1, 0)
    done_year = (completed // DAY).astype("datetime64[D]").astype("datetime64[Y]").astype(int)
    done_year += 1970
    for y, avg in TRIPS.items():
        sel = np.flatnonzero(finished & (done_year == y))
        counter = rng.permutation(sel[~online[sel]])
        remote = rng.permutation(sel[online[sel]])
        total = int(round(avg * len(sel)))
        at_counter = min(total, 2 * len(counter))
        if len(counter):
            base, extra = divmod(at_counter, len(counter))
            trips[counter] = base
            trips[counter[:extra]] += 1
        trips[remote[: total - at_counter]] = 1

    rated = done & (rng.random(n) < 0.7)
    rating = rng.choice(len(RATINGS), n, p=RATING_WEIGHTS)
    rated_later = rated & (rng.random(n) < 0.15)
    rated_at = completed + rng.integers(3600, 3 * DAY, n)

    applicant = np.empty(n, dtype="U18")
    people = np.flatnonzero(~legal_person)
    ages = (rng.choice(np.arange(0, 85), len(people)) * 365.25).astype(np.int64)
    ages += rng.integers(0, 365, len(people))
    applicant[people] = resident_ids(rng, sub_day[people] - ages)
    firms = np.flatnonzero(legal_person)
    applicant[firms] = company_codes[rng.integers(0, len(company_codes), len(firms))]
    applicant[rng.random(n) < 0.01] = ""

    cases = pl.DataFrame(
        {
            "case_id": _case_ids(submitted),
            "item_code": item,
            "channel": np.where(online, "全程网办", "窗口办理"),
            "intake": np.array(INTAKES)[intake],
            "applicant_type": np.where(legal_person, "法人", "自然人"),
            "applicant_id": applicant,
            "submitted": submitted,
            "promised_days": promised,
        }
    ).with_columns(pl.col("applicant_id").replace("", None))
    versions = _versions(
        cases,
        online=online,
        accepted=accepted,
        completed=completed,
        decided=decided,
        withdrawn_at=withdrawn_at,
        refused=refused,
        withdrawn=withdrawn,
        done=done,
        trips=trips,
        rated=rated,
        rated_later=rated_later,
        rating=rating,
        rated_at=rated_at,
    )
    return _files(versions, rng)


def _case_ids(submitted: np.ndarray) -> np.ndarray:
    """500154 + the submission date + a running number within the day."""
    frame = pl.DataFrame({"t": submitted, "i": np.arange(len(submitted))}).sort("t", "i")
    frame = frame.with_columns(pl.from_epoch("t", "s").dt.strftime("%Y%m%d").alias("d"))
    frame = frame.with_columns((pl.int_range(pl.len()).over("d") + 1).alias("seq"))
    frame = frame.sort("i").with_columns(
        ("500154" + pl.col("d") + pl.col("seq").cast(pl.String).str.zfill(6)).alias("id")
    )
    return frame.get_column("id").to_numpy()


def _versions(cases: pl.DataFrame, **s: np.ndarray) -> pl.DataFrame:
    """Every exported version of every case (gathered from the case rows), up to the as-of."""
    n = cases.height
    none = np.full(n, -1, dtype=np.int64)
    zero = np.zeros(n, dtype=np.int64)
    parts = []

    def part(
        mask: np.ndarray,
        status: str,
        updated: np.ndarray,
        accepted: np.ndarray,
        completed: np.ndarray,
        trips: np.ndarray,
        rating: np.ndarray,
    ) -> None:
        sel = np.flatnonzero(mask)
        parts.append(
            cases[sel].with_columns(
                pl.lit(status).alias("status"),
                pl.Series("accepted", accepted[sel]),
                pl.Series("completed", completed[sel]),
                pl.Series("trips", trips[sel]),
                pl.Series("rating", rating[sel]),
                pl.Series("updated", updated[sel]),
            )
        )

    online, done, refused = s["online"], s["done"], s["refused"]
    first_trip = np.minimum(s["trips"], 1)
    later = s["rated"] & s["rated_later"]
    unrated = none
    # 已申请: online applications, on arrival.
    part(online, "已申请", cases["submitted"].to_numpy(), none, none, zero, unrated)
    # 已受理: every case that was accepted (counter cases start here).
    part(~refused, "已受理", s["accepted"], s["accepted"], none, first_trip, unrated)
    part(refused, "不予受理", s["decided"], none, none, first_trip, unrated)
    part(s["withdrawn"], "已撤回", s["withdrawn_at"], s["accepted"], none, first_trip, unrated)
    direct = np.where(s["rated"] & ~later, s["rating"], -1)
    part(done, "已办结", s["completed"], s["accepted"], s["completed"], s["trips"], direct)
    # Rated after completion: the case is exported once more.
    part(later, "已办结", s["rated_at"], s["accepted"], s["completed"], s["trips"], s["rating"])

    v = pl.concat(parts).filter(pl.col("updated") <= AS_OF_END)
    ts = {c: pl.when(pl.col(c) >= 0).then(pl.from_epoch(c, "s")) for c in ("accepted", "completed")}
    rating = pl.col("rating").replace_strict(dict(enumerate(RATINGS)), default=None)
    return v.sort("updated", "case_id").select(
        "case_id",
        "item_code",
        "channel",
        "intake",
        "applicant_type",
        "applicant_id",
        pl.from_epoch("submitted", "s").alias("submitted_at"),
        ts["accepted"].alias("accepted_at"),
        ts["completed"].alias("completed_at"),
        "status",
        "trips",
        "promised_days",
        rating.alias("rating"),
        pl.from_epoch("updated", "s").alias("updated_at"),
    )


def _files(v: pl.DataFrame, rng: np.random.Generator) -> list[LandingFile]:
    v = v.with_columns(pl.col("updated_at").dt.strftime("%Y-%m").alias("_month"))
    files: list[LandingFile] = []
    for (m,), part in sorted(v.partition_by("_month", as_dict=True).items()):
        y, mo = int(m[:4]), int(m[5:])
        arrives = datetime(y + mo // 12, mo % 12 + 1, 1, 2, 0)
        rows = part.drop("_month")
        f = LandingFile("permit_cases", f"cases_{m}.csv", rows, arrives)
        if y == 2018:
            # The old platform exported GB18030 with slashes in its times.
            f.encoding, f.timestamp_format = "gb18030", "%Y/%m/%d %H:%M:%S"
        elif m <= "2019-06":
            f.encoding = "utf-8-sig"
        elif m == "2019-10":
            f.english_headers = True
        elif m == "2020-03":
            f.fmt, f.name = "jsonl", f"cases_{m}.jsonl"
        elif m == "2021-06":
            f.fmt, f.name = "parquet", f"cases_{m}.parquet"
        elif m == "2021-11":
            f.padded = True
        elif m == "2022-08":
            f.extra_columns = {"数据来源": ["渝快办"] * rows.height}
        files.append(f)
        if m == "2022-03":
            files.append(
                LandingFile(
                    "permit_cases",
                    "cases_2022-03_resend.csv",
                    rows,
                    datetime(2022, 4, 3, 9, 30),
                    copy_of=f.name,
                )
            )
        if m == "2020-05":
            # A hand-made supplement without the 受理方式 column: the whole file is set aside.
            sample = rows.sample(30, seed=int(rng.integers(1 << 31))).sort("updated_at", "case_id")
            files.append(
                LandingFile(
                    "permit_cases",
                    "cases_2020-05_supplement.csv",
                    sample,
                    datetime(2020, 6, 2, 15, 0),
                    drop_columns=("intake",),
                )
            )
    return files
