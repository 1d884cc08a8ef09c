"""China's official working-day calendar as dbt seeds, from the `chinesecalendar` package.

Two seeds come out of it (run `python -m sources.calendar`):

- `cn_calendar_years.csv`: each year the calendar covers and the State Council notice that set
  that year's holidays. A date in a year not listed here is unknown, never a working day.
- `cn_calendar_days.csv`: only the exceptions to "Monday to Friday work, weekends off":
  public holidays that fall on a weekday and make-up working days (调休) that fall on a weekend.

The package covers 2004-2026. An operator adds a later year by appending that year's rows by
hand from the State Council's notice; regenerating keeps rows of years the package does not
know, so such additions survive an upgrade of the package.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib.metadata import version
from pathlib import Path

from chinese_calendar.constants import Holiday, holidays, workdays

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
YEARS_FILE = SEEDS_DIR / "cn_calendar_years.csv"
DAYS_FILE = SEEDS_DIR / "cn_calendar_days.csv"

YEARS_HEADER = ("calendar_year", "notice_zh", "source")
DAYS_HEADER = ("calendar_date", "day_type", "holiday_name_zh", "holiday_name_en", "notice_year")

# Years whose arrangement the State Council changed after the yearly notice; the package
# already holds the changed days, the seed names every notice they come from.
_EXTRA_NOTICES: dict[int, tuple[str, ...]] = {
    2015: ("国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知",),
    2019: ("国务院办公厅关于调整2019年劳动节假期安排的通知",),
    2020: ("国务院办公厅关于延长2020年春节假期的通知",),
}

_ZH_BY_EN = {h.value: h.chinese for h in Holiday}


def _notice_year(day: dt.date, holiday_en: str) -> int:
    # The New Year's Day bridge in late December is set by the next year's notice.
    if day.month == 12 and holiday_en == Holiday.new_years_day.value:
        return day.year + 1
    return day.year


def covered_years() -> list[int]:
    """Every year the installed `chinesecalendar` package has the official arrangement for."""
    years = {d.year for d in holidays}
    return list(range(min(years), max(years) + 1))


def calendar_years() -> list[dict[str, str]]:
    """Rows of `cn_calendar_years.csv` for the years the package covers."""
    source = f"chinesecalendar {version('chinesecalendar')}"
    rows = []
    for year in covered_years():
        notices = (f"国务院办公厅关于{year}年部分节假日安排的通知", *_EXTRA_NOTICES.get(year, ()))
        rows.append({"calendar_year": str(year), "notice_zh": "；".join(notices), "source": source})
    return rows


def exception_days() -> list[dict[str, str]]:
    """Rows of `cn_calendar_days.csv`: weekday holidays and weekend make-up working days."""
    first, last = covered_years()[0], covered_years()[-1]
    rows = []
    for kind, days in (("holiday", holidays), ("workday", workdays)):
        for day, name_en in days.items():
            is_weekend = day.weekday() >= 5
            # Weekend holidays and weekday workdays match the default week: not exceptions.
            if (kind == "holiday") == is_weekend:
                continue
            if not first <= _notice_year(day, name_en) <= last:
                continue
            rows.append(
                {
                    "calendar_date": day.isoformat(),
                    "day_type": kind,
                    "holiday_name_zh": _ZH_BY_EN.get(name_en, name_en),
                    "holiday_name_en": name_en,
                    "notice_year": str(_notice_year(day, name_en)),
                }
            )
    return sorted(rows, key=lambda r: r["calendar_date"])


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _to_csv(header: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def expected_seeds(years_file: Path = YEARS_FILE, days_file: Path = DAYS_FILE) -> dict[Path, str]:
    """Text of both seed files: the package's years plus any later years already in the files."""
    package_years = {str(y) for y in covered_years()}
    later_years = [r for r in _read(years_file) if r["calendar_year"] not in package_years]
    later_days = [r for r in _read(days_file) if r["notice_year"] not in package_years]
    years = sorted(calendar_years() + later_years, key=lambda r: r["calendar_year"])
    days = sorted(exception_days() + later_days, key=lambda r: r["calendar_date"])
    return {years_file: _to_csv(YEARS_HEADER, years), days_file: _to_csv(DAYS_HEADER, days)}


def main() -> None:
    for path, text in expected_seeds().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
