"""The leadership report (领导报告): the KPI marts of the serving copy as a self-contained HTML
page in Chinese, an Excel workbook and a PDF of the page.

`build_report` writes `report.html`, `report.xlsx` and `report.pdf` into
`<reports folder>/<as-of>/` (KZDW_REPORTS_DIR, by default `reports/` beside the warehouse), or
into the folder given.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kzdw.files import replace_atomically
from kzdw.report.data import NothingToReport, ReportData, ReportDataError, load_report_data
from kzdw.report.html import current_revisions, render_html
from kzdw.report.pdf import ChromiumNotFound, print_pdf

__all__ = [
    "ChromiumNotFound",
    "NothingToReport",
    "ReportDataError",
    "ReportFiles",
    "build_report",
    "default_out_dir",
]


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    xlsx: Path
    pdf: Path
    as_of: date
    data: ReportData

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return self.html, self.xlsx, self.pdf


def default_out_dir(reports_dir: Path, as_of: date) -> Path:
    """One folder per as-of date in the deployment's reports folder."""
    return reports_dir / as_of.isoformat()


def build_report(
    serving: Path, *, reports_dir: Path | None = None, out_dir: Path | None = None
) -> ReportFiles:
    """Read the serving copy and write the three files into `out_dir`, or into
    `<reports_dir>/<as-of>/`. The HTML first; then Chromium prints it to PDF (a process of
    its own) while the workbook is written. A missing Chromium (ChromiumNotFound) is raised
    once the workbook is in place, so the HTML and the workbook are still written."""
    if (reports_dir is None) == (out_dir is None):
        raise TypeError("give reports_dir or out_dir")
    # Here, not at the top: the code location imports this package, and every run's process
    # would import the workbook writer (≈0.3 s) that only a report uses.
    from kzdw.report.excel import write_workbook

    data = load_report_data(serving)
    out = out_dir if out_dir is not None else default_out_dir(reports_dir, data.as_of)
    out.mkdir(parents=True, exist_ok=True)
    html, xlsx, pdf = out / "report.html", out / "report.xlsx", out / "report.pdf"
    page = render_html(data)
    replace_atomically(html, lambda p: p.write_text(page, encoding="utf-8"))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-pdf") as printer:
        printing = printer.submit(print_pdf, html, pdf)
        replace_atomically(xlsx, lambda p: write_workbook(data, p))
        printing.result()
    return ReportFiles(html=html, xlsx=xlsx, pdf=pdf, as_of=data.as_of, data=data)


def summary(files: ReportFiles) -> dict[str, object]:
    """Figures about the report for logs and asset metadata."""
    statuses = [row.get("status") for row in files.data.scorecard]
    return {
        "as_of": files.as_of.isoformat(),
        "targets": len(statuses),
        "targets_met": statuses.count("达标"),
        "targets_warning": statuses.count("预警"),
        "targets_behind": statuses.count("落后"),
        "revisions_this_period": len(current_revisions(files.data)),
    }
