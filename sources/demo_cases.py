"""Demo government-service cases (permit_cases), January 2018 to June 2023.

The platform exports a case again whenever it moves on: 已申请 when an online application
arrives, 已受理 when it is accepted, then 已办结 / 不予受理 / 已撤回, and once more when the
applicant rates it. One file per month holds the versions recorded that month, so a case
submitted in December and finished in January appears in both years' files.

Volumes grow over the years (about 60,000 cases in 2022 at scale 1). The intake mix is set so
that 2022's completed cases hold about 10,500 one-window (一窗综办) and 43,500 cross-region
(通办) cases. Trips are dealt out per submission month and completion year, each share rounded
against the running total of its completion year, so that the year's average is exactly the
year's target (0.11 in 2022) at any scale.

Cases are drawn one submission month at a time, each month from its own random stream, so that
the volume never has to fit in memory at once: `CaseFiles` keeps only the update months that a
later submission month can still add to (a case is exported for at most `lag` months after its
submission month) and hands each month's file out as soon as it is complete.
"""

from __future__ import annotations

from collections.abc import Iterator
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

# How long a case can keep moving, in the draws below and in the export window they imply:
# a late case overruns its promise by 1 to 3 working days; a rating, a withdrawal and a
# refusal come at most these many seconds after completion, acceptance and submission.
LATE_WORKDAYS = (1, 4)
RATING_DELAY = (3600, 3 * DAY)
WITHDRAWAL_DELAY = (3600, 5 * DAY)
DECISION_DELAY = (3600, 2 * DAY)

# Each case's versions, in the order they happen (the export's order on a tie of time).
STATUSES = ("已申请", "已受理", "不予受理", "已撤回", "已办结", "已办结")
APPLIED, ACCEPTED, REFUSED, WITHDRAWN, COMPLETED, RATED_LATER = range(len(STATUSES))

# demo_faults makes new keys from 999000 on in the running number of the day.
CASE_SEQ_LIMIT = 999_000


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _months_of(day_numbers: np.ndarray) -> np.ndarray:
    """month_index of each day number."""
    return day_numbers.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


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


class CaseFiles:
    """The permit_cases landing files in arrival order, generated one submission month at a
    time and handed out once no later submission month can add a version to them.

    `months_per_batch` submission months are drawn before the complete months are handed out:
    it changes how much is held at once, never what is written (each month draws from its own
    stream `[seed, 2, year, month]`; only the trips' running totals pass between months, in
    submission order). `most_months_held` records the most update months held at once, at
    most `lag + months_per_batch`."""

    def __init__(
        self,
        items: pl.DataFrame,
        company_codes: np.ndarray,
        scale: float,
        seed: int,
        months_per_batch: int = 1,
    ) -> None:
        if months_per_batch < 1:
            raise ValueError("months_per_batch must be at least 1")
        self.company_codes = company_codes
        self.seed = seed
        self.months_per_batch = months_per_batch
        self.months = _month_counts(scale)
        self.cal = WorkCalendar(date(2017, 12, 1), date(2024, 3, 31))
        self.pools = _pools(items, np.random.default_rng([seed, 2]))
        self.lag = self._lag_months()
        self.most_months_held = 0
        # Completed cases dealt trips so far, per completion year.
        self._dealt = dict.fromkeys(TRIPS, 0)

    def _lag_months(self) -> int:
        """How many months after its submission month a case can still be exported, from the
        draws' own limits: accepted by the next working day, completed at most the longest
        promise plus the latest overrun in working days after that, then rated; or withdrawn
        after acceptance, or refused after submission."""
        y, m, _ = self.months[0]
        days = np.arange(day_number(date(y, m, 1)), day_number(LAST_DAY) + 1)
        accept = self.cal.nth_workday_after(days, np.ones_like(days))
        longest = max(int(days_.max()) for _, _, days_ in self.pools.values())
        k = np.full_like(days, longest + LATE_WORKDAYS[1] - 1)
        done = self.cal.nth_workday_after(accept, k)
        # Each event falls before the end of its day; a delay below n days ends by day + n.
        latest = np.maximum.reduce(
            [
                done + RATING_DELAY[1] // DAY,
                accept + WITHDRAWAL_DELAY[1] // DAY,
                days + DECISION_DELAY[1] // DAY,
            ]
        )
        return int((_months_of(latest) - _months_of(days)).max())

    def __iter__(self) -> Iterator[LandingFile]:
        self._dealt = dict.fromkeys(TRIPS, 0)
        self.most_months_held = 0
        pending: dict[int, list[pl.DataFrame]] = {}
        for start in range(0, len(self.months), self.months_per_batch):
            batch = self.months[start : start + self.months_per_batch]
            for y, m, c in batch:
                s = month_index(y, m)
                for (u,), part in (
                    self._month_versions(y, m, c).partition_by("_month", as_dict=True).items()
                ):
                    if not s <= u <= s + self.lag:
                        raise AssertionError(f"a case of {y}-{m:02d} exported in month {u}")
                    pending.setdefault(u, []).append(part)
            self.most_months_held = max(self.most_months_held, len(pending))
            # Every version is recorded at or after its case's submission, so a month is
            # complete once its own submissions are drawn.
            last = month_index(*batch[-1][:2])
            for u in sorted(k for k in pending if k <= last):
                rows = _as_contract(pl.concat(pending.pop(u)))
                for f in _month_files(u, rows, self.seed):
                    yield f
                    del f
                del rows
        if pending:
            raise AssertionError(f"months never written: {sorted(pending)}")

    def _month_versions(self, y: int, m: int, n: int) -> pl.DataFrame:
        """Every exported version (up to the as-of) of the cases submitted in one month,
        with its update month in `_month`."""
        rng = np.random.default_rng([self.seed, 2, y, m])
        cal = self.cal

        # Intake, channel, applicant.
        shares = np.array(INTAKE_SHARES[y])
        intake = rng.choice(len(INTAKES), n, p=shares / shares.sum())
        online = rng.random(n) < ONLINE_SHARE[intake]
        legal_person = rng.random(n) < 0.25

        # Item and promised days, from the pool of the intake.
        item = np.empty(n, dtype="U15")
        promised = np.empty(n, dtype=np.int64)
        for k, name in enumerate(INTAKES):
            sel = np.flatnonzero(intake == k)
            codes, weight, days = self.pools["通办" if name.endswith("通办") else name]
            pick = rng.choice(len(codes), len(sel), p=weight)
            item[sel], promised[sel] = codes[pick], days[pick]

        # Submission: counters open on working days, online any day and hour.
        first = date(y, m, 1)
        following = date(y + m // 12, m % 12 + 1, 1)
        all_days = np.arange(day_number(first), day_number(following))
        work = cal.workdays_in(first, date.fromordinal(following.toordinal() - 1))
        d = np.where(
            online,
            all_days[rng.integers(0, len(all_days), n)],
            work[rng.integers(0, len(work), n)],
        )
        tod = np.where(
            online,
            np.where(
                rng.random(n) < 0.05,
                rng.integers(0, 7 * 3600, n),
                rng.integers(7 * 3600, 23 * 3600 + 1800, n),
            ),
            rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n),
        )
        submitted = d * DAY + tod

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
        k = np.where(
            late, promised + rng.integers(*LATE_WORKDAYS, n), np.minimum(on_time, promised)
        )
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
        decided = submitted + rng.integers(*DECISION_DELAY, n)
        withdrawn_at = accepted + rng.integers(*WITHDRAWAL_DELAY, n)

        # Year-end edge: a few online cases filed on New Year's Eve finish at 00:00:30 on 1 January.
        if m == 12 and y in (2021, 2022):
            eve = np.flatnonzero(done & online & (intake == 0))[:2]
            nye = day_number(date(y, 12, 31)) * DAY
            submitted[eve] = nye + 22 * 3600 + 15 * 60
            accepted[eve] = submitted[eve] + 60
            completed[eve] = nye + DAY + 30
            promised[eve] = 0
        if (y, m) == (2021, 1):
            item[np.flatnonzero(done)[:2]] = UNKNOWN_ITEM

        trips = self._deal_trips(rng, online, done, completed)

        rated = done & (rng.random(n) < 0.7)
        rating = rng.choice(len(RATINGS), n, p=RATING_WEIGHTS)
        rated_later = rated & (rng.random(n) < 0.15)
        rated_at = completed + rng.integers(*RATING_DELAY, n)

        applicant = np.empty(n, dtype="U18")
        people = np.flatnonzero(~legal_person)
        ages = (rng.choice(np.arange(0, 85), len(people)) * 365.25).astype(np.int64)
        ages += rng.integers(0, 365, len(people))
        applicant[people] = resident_ids(rng, sub_day[people] - ages)
        firms = np.flatnonzero(legal_person)
        applicant[firms] = self.company_codes[rng.integers(0, len(self.company_codes), len(firms))]
        applicant[rng.random(n) < 0.01] = ""

        cases = pl.DataFrame(
            {
                "case_id": _case_ids(submitted),
                "item_code": item,
                "online": online,
                "intake": intake.astype(np.int8),
                "legal_person": legal_person,
                "applicant_id": applicant,
                "submitted": submitted,
                "promised_days": promised,
            }
        ).with_columns(pl.col("applicant_id").replace("", None))

        none = np.full(n, -1, dtype=np.int64)
        first_trip = np.minimum(trips, 1)
        later = rated & rated_later
        direct = np.where(rated & ~later, rating, -1)
        # kind: (the cases that have it, then VERSION_COLUMNS).
        kinds = {
            APPLIED: (online, submitted, none, none, np.zeros(n, dtype=np.int64), none),
            ACCEPTED: (~refused, accepted, accepted, none, first_trip, none),
            REFUSED: (refused, decided, none, none, first_trip, none),
            WITHDRAWN: (withdrawn, withdrawn_at, accepted, none, first_trip, none),
            COMPLETED: (done, completed, accepted, completed, trips, direct),
            RATED_LATER: (later, rated_at, accepted, completed, trips, rating),
        }
        return _versions(cases, kinds)

    def _deal_trips(
        self,
        rng: np.random.Generator,
        online: np.ndarray,
        done: np.ndarray,
        completed: np.ndarray,
    ) -> np.ndarray:
        """In-person trips per case. A month's completed cases of each completion year get
        the trips that bring that year's running total to its target, rounded, so the year's
        total is round(target × cases) whatever the months: counter cases first (up to two
        trips each), then online ones (one trip each)."""
        finished = done & (completed <= AS_OF_END)
        trips = np.where(~online & ~done, 1, 0)
        done_year = _months_of(completed // DAY) // 12
        for y, avg in TRIPS.items():
            sel = np.flatnonzero(finished & (done_year == y))
            counter = rng.permutation(sel[~online[sel]])
            remote = rng.permutation(sel[online[sel]])
            before = self._dealt[y]
            self._dealt[y] += len(sel)
            total = int(round(avg * self._dealt[y])) - int(round(avg * before))
            at_counter = min(total, 2 * len(counter))
            if total - at_counter > len(remote):
                raise AssertionError(f"{total} trips for {len(sel)} cases completed in {y}")
            if len(counter):
                base, extra = divmod(at_counter, len(counter))
                trips[counter] = base
                trips[counter[:extra]] += 1
            trips[remote[: total - at_counter]] = 1
        return trips


VERSION_COLUMNS = ("updated", "accepted", "completed", "trips", "rating")


def _versions(cases: pl.DataFrame, kinds: dict[int, tuple[np.ndarray, ...]]) -> pl.DataFrame:
    """Every exported version up to the as-of, gathered from the case rows, with its update
    month in `_month`; times as seconds, -1 for none."""
    picked = {
        kind: np.flatnonzero(has & (updated <= AS_OF_END))
        for kind, (has, updated, *_) in kinds.items()
    }
    columns = {
        "kind": np.concatenate([np.full(len(sel), kind, np.int8) for kind, sel in picked.items()])
    }
    for j, name in enumerate(VERSION_COLUMNS, start=1):
        columns[name] = np.concatenate([kinds[kind][j][sel] for kind, sel in picked.items()])
    columns["rating"] = columns["rating"].astype(np.int8)
    columns["_month"] = _months_of(columns["updated"] // DAY)
    return cases[np.concatenate(list(picked.values()))].with_columns(
        pl.Series(name, values) for name, values in columns.items()
    )


def _case_ids(submitted: np.ndarray) -> np.ndarray:
    """500154 + the submission date + a running number within the day."""
    frame = pl.DataFrame({"t": submitted, "i": np.arange(len(submitted))}).sort("t", "i")
    frame = frame.with_columns(pl.from_epoch("t", "s").dt.strftime("%Y%m%d").alias("d"))
    frame = frame.with_columns((pl.int_range(pl.len()).over("d") + 1).alias("seq"))
    if frame.height and frame.get_column("seq").max() >= CASE_SEQ_LIMIT:
        raise AssertionError("more cases in a day than the case ids can number")
    frame = frame.sort("i").with_columns(
        ("500154" + pl.col("d") + pl.col("seq").cast(pl.String).str.zfill(6)).alias("id")
    )
    return frame.get_column("id").to_numpy()


def _as_contract(v: pl.DataFrame) -> pl.DataFrame:
    """A month's versions as the contract's typed columns, in the export's order."""
    ts = {c: pl.when(pl.col(c) >= 0).then(pl.from_epoch(c, "s")) for c in ("accepted", "completed")}
    rating = pl.col("rating").replace_strict(dict(enumerate(RATINGS)), default=None)
    intake = pl.col("intake").replace_strict(dict(enumerate(INTAKES)), return_dtype=pl.String)
    status = pl.col("kind").replace_strict(dict(enumerate(STATUSES)), return_dtype=pl.String)
    return v.sort("updated", "case_id", "kind").select(
        "case_id",
        "item_code",
        pl.when(pl.col("online"))
        .then(pl.lit("全程网办"))
        .otherwise(pl.lit("窗口办理"))
        .alias("channel"),
        intake.alias("intake"),
        pl.when(pl.col("legal_person"))
        .then(pl.lit("法人"))
        .otherwise(pl.lit("自然人"))
        .alias("applicant_type"),
        "applicant_id",
        pl.from_epoch("submitted", "s").alias("submitted_at"),
        ts["accepted"].alias("accepted_at"),
        ts["completed"].alias("completed_at"),
        status.alias("status"),
        "trips",
        "promised_days",
        rating.alias("rating"),
        pl.from_epoch("updated", "s").alias("updated_at"),
    )


def _month_files(month: int, rows: pl.DataFrame, seed: int) -> list[LandingFile]:
    """The file of one update month, in the platform's format of the time, and the files that
    came with it."""
    y, mo = divmod(month, 12)
    mo += 1
    m = f"{y}-{mo:02d}"
    arrives = datetime(y + mo // 12, mo % 12 + 1, 1, 2, 0)
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
    files = [f]
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
        rng = np.random.default_rng([seed, 2, y, mo, 1])
        sample = rows[np.sort(rng.choice(rows.height, min(30, rows.height), replace=False))]
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
