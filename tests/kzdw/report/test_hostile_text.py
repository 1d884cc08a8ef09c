"""Text from a source file is data in every file of the report: in the workbook a text cell
(never a formula, a link or a number), in the page escaped text (never markup), in the PDF the
literal text. The fixture's breakdowns, revision file names, a KPI name and a status reason
carry hostile values."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import zipfile
from datetime import date, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import fastexcel
import pytest

from kzdw.report.data import load_report_data
from kzdw.report.excel import write_workbook
from kzdw.report.formatting import visible
from kzdw.report.html import CSP, render_html
from kzdw.report.pdf import print_pdf
from tests.kzdw.report.fixture import AS_OF, build_fixture

HYPERLINK = '=HYPERLINK("http://example.invalid","x")'
DDE = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTES = "\"quoted\" & 'single'"
ANSI = "\x1b[31mred"
# xlsxwriter copies a string of this shape into sharedStrings.xml as XML: this one would add a
# shared string and shift every later cell's text by one.
RICH = "<r><t>x</t></r></si><si><r><t>y</t></r>"
HOSTILE = (
    HYPERLINK,
    DDE,
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    SCRIPT,
    IMG,
    QUOTES,
    ANSI,
    "第一行\n第二行",
    "http://example.invalid/a",
    "0012",
    "1e5",
    "发票\u202egpj.exe",
    RICH,
)
FORMULA_LIKE = tuple(v for v in HOSTILE if v[0] in "=+-@\t\r")

SHEET_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _hostile_serving(path: Path) -> Path:
    build_fixture(path)
    con = duckdb.connect(str(path))
    try:
        # One breakdown item and one revision of this period per hostile value.
        con.executemany(
            "insert into marts.kpi_breakdowns values ('cases_completed', '办结办件量', 'count', "
            "'year', date '2023-01-01', date '2023-12-31', 'township', '乡镇街道', ?, ?, ?)",
            [(value, 100 - i, AS_OF) for i, value in enumerate(HOSTILE)],
        )
        con.executemany(
            "insert into marts.kpi_revisions values ('entities_new', '新增市场主体', 'month', "
            "?, ?, 10, 11, date '2023-06-15', ?, ?, ?, '42')",
            [
                (date(2021, 1 + i % 12, 1), date(2021, 1 + i % 12, 28), AS_OF, _at(i), value)
                for i, value in enumerate(HOSTILE)
            ],
        )
        # KPI names reach every screen from the seed (and the marts copy them from it).
        for table in ("seeds.kpi_definitions", "marts.kpi_values"):
            con.execute(
                f"update {table} set kpi_name_zh = ? where kpi_code = 'entities_new'", [HYPERLINK]
            )
        con.execute(
            "update seeds.kpi_definitions set kpi_name_zh = ? where kpi_code = 'projects_started'",
            [SCRIPT],
        )
        con.execute(
            "update marts.kpi_scorecard set kpi_name_zh = ?, status_reason = ? "
            "where kpi_code = 'projects_started'",
            [SCRIPT, IMG + " " + QUOTES],
        )
    finally:
        con.close()
    return path


def _at(i: int) -> datetime:
    return datetime(2023, 7, 1, 6, i)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    data = load_report_data(_hostile_serving(root / "serving" / "warehouse.duckdb"))
    html = root / "report.html"
    html.write_text(render_html(data), encoding="utf-8")
    xlsx = root / "report.xlsx"
    sheets = write_workbook(data, xlsx)
    return data, html, xlsx, sheets


# --- the workbook -------------------------------------------------------------------------


def _unescape_xlsx(text: str) -> str:
    # Excel's _xHHHH_ for a control character; _x005F_ for a literal underscore before one.
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _si_text(si: ElementTree.Element) -> str:
    return _unescape_xlsx("".join(t.text or "" for t in si.iter(f"{{{SHEET_NS['m']}}}t")))


def _read_cells(xlsx: Path, sheets: list[str]) -> dict[str, dict[str, tuple[str, str, int]]]:
    """sheet -> cell ref -> (type, text, style index), read from the package's XML."""
    with zipfile.ZipFile(xlsx) as z:
        sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
        strings = [_si_text(si) for si in sst.findall("m:si", SHEET_NS)]
        assert len(strings) == int(sst.get("uniqueCount"))
        out = {}
        for index, name in enumerate(sheets, start=1):
            root = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{index}.xml"))
            cells = {}
            for c in root.iter(f"{{{SHEET_NS['m']}}}c"):
                kind = c.get("t", "n")
                v = c.find("m:v", SHEET_NS)
                text = "" if v is None else v.text or ""
                if kind == "s":
                    text = strings[int(text)]
                cells[c.get("r")] = (kind, text, int(c.get("s", "0")))
            out[name] = cells
    return out


def _column(cells: dict[str, tuple[str, str, int]], header: str) -> list[tuple[str, str, int]]:
    letter = next(
        re.match(r"[A-Z]+", ref).group(0)
        for ref, (_, text, _) in cells.items()
        if re.fullmatch(r"[A-Z]+1", ref) and text == header
    )
    rows = sorted(
        (int(ref[len(letter) :]), cell)
        for ref, cell in cells.items()
        if re.fullmatch(rf"{letter}\d+", ref)
    )
    return [cell for row, cell in rows if row > 1]


def test_the_workbook_has_no_formula_and_no_link(hostile):
    _, _, xlsx, _ = hostile
    with zipfile.ZipFile(xlsx) as z:
        for name in z.namelist():
            body = z.read(name).decode("utf-8")
            assert not re.search(r"<f[ >]", body), name
            assert "<hyperlink" not in body and "/hyperlink" not in body, name
            assert "externalLink" not in body, name


def test_every_hostile_value_is_a_text_cell_as_it_was(hostile):
    _, _, xlsx, sheets = hostile
    cells = _read_cells(xlsx, sheets)
    files = _column(cells["修订说明"], "引起修订的文件")
    items = _column(cells["分项统计"], "分项")
    for column in (files, items):
        written = {text: kind for kind, text, _ in column}
        for value in HOSTILE:
            assert written.get(value) == "s", value
    # Nothing shifted: the text beside each item is still its own.
    assert [text for _, text, _ in items if text in HOSTILE] == list(HOSTILE)
    header = [t for ref, (_, t, _) in cells["经营主体"].items() if re.fullmatch(r"[A-Z]+1", ref)]
    assert f"{HYPERLINK}（户）" in header


def test_text_that_starts_like_a_formula_keeps_its_quote_prefix(hostile):
    _, _, xlsx, sheets = hostile
    with zipfile.ZipFile(xlsx) as z:
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
    xfs = styles.find("m:cellXfs", SHEET_NS).findall("m:xf", SHEET_NS)
    quoted = {i for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}
    column = _column(_read_cells(xlsx, sheets)["修订说明"], "引起修订的文件")
    for _, text, style in column:
        assert (style in quoted) == text.startswith(FORMULA_LIKE), text


def test_a_spreadsheet_reader_gets_the_text_back(hostile):
    _, _, xlsx, _ = hostile
    sheet = fastexcel.read_excel(str(xlsx)).load_sheet_by_name("修订说明").to_polars()
    files = sheet["引起修订的文件"].to_list()
    assert files[: len(HOSTILE)] == list(reversed(HOSTILE))  # latest revision first


# --- the page -----------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_page_holds_the_values_as_escaped_text(hostile):
    _, html, _, _ = hostile
    page = html.read_text(encoding="utf-8")
    for raw in ("<script", "<img", "\x1b", "\u202e", "\r"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&quot;quoted&quot; &amp; &#x27;single&#x27;" in page
    assert "\\x1b[31mred" in page and "发票\\u202egpj.exe" in page
    assert "&lt;r&gt;&lt;t&gt;x&lt;/t&gt;&lt;/r&gt;" in page
    # The revisions table: one cell per file, reading back as the value shown visibly.
    parser = _Tags()
    parser.feed(page)
    for value in HOSTILE:
        assert visible(value) in parser.cells, value
    # The bar chart's labels are cut to 9 characters after the escapes are made visible.
    assert '"bar-label">&lt;script&gt;…</text>' in page
    assert '"bar-label">\\t=1+1</text>' in page and '"bar-label">=HYPERLI…</text>' in page


def test_no_data_reaches_markup(hostile):
    _, html, _, _ = hostile
    parser = _Tags()
    parser.feed(html.read_text(encoding="utf-8"))
    tags = {tag for tag, _ in parser.tags}
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
        "section", "div", "span", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
        "figure", "figcaption", "footer", "svg", "line", "polyline", "circle", "text", "rect",
        "polygon", "b",
    }  # fmt: skip
    names = {name for _, attrs in parser.tags for name in attrs}
    assert not {n for n in names if n.startswith("on")}
    assert not names & {"href", "src", "srcset", "style", "action", "formaction", "xlink:href"}
    # The policy is the page's first rule, before any text from the data.
    metas = [attrs for tag, attrs in parser.tags if tag == "meta"]
    assert metas[1] == {"http-equiv": "Content-Security-Policy", "content": CSP}
    assert "script-src" not in CSP and "default-src 'none'" in CSP


# --- the PDF ------------------------------------------------------------------------------

needs_pdf = pytest.mark.skipif(
    not (
        shutil.which("pdftotext") and (shutil.which("chromium") or shutil.which("chromium-browser"))
    ),
    reason="needs chromium and pdftotext",
)


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@needs_pdf
def test_the_pdf_prints_the_values_as_literal_text(hostile, tmp_path):
    _, html, _, _ = hostile
    text = _pdf_text(print_pdf(html, tmp_path / "report.pdf"))
    assert "\x1b" not in text and "\u202e" not in text
    squeezed = _squeeze(text)
    for value in HOSTILE:
        assert _squeeze(visible(value)) in squeezed, value


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the handler's API)
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


@needs_pdf
def test_the_printer_fetches_nothing(listener, tmp_path):
    # A page without the report's policy: the printer itself stays off the network.
    where, hits = listener
    page = tmp_path / "page.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<link rel='stylesheet' href='http://{where}/css'></head><body><p>printed</p>"
        f"<img src='http://{where}/img'><img src='http://localhost:{where.split(':')[1]}/b'>"
        "</body></html>",
        encoding="utf-8",
    )
    assert "printed" in _pdf_text(print_pdf(page, tmp_path / "page.pdf"))
    assert hits == []


@needs_pdf
def test_script_that_slipped_into_the_page_does_not_run(hostile, listener, tmp_path):
    _, html, _, _ = hostile
    where, hits = listener
    slipped = (
        "<p id='slipped'>BEFORE</p><script>document.getElementById('slipped').textContent="
        f"'SCRIPT-RAN'; fetch('http://{where}/js');</script>"
    )
    page = tmp_path / "page.html"
    page.write_text(
        html.read_text(encoding="utf-8").replace("</body>", slipped + "</body>"),
        encoding="utf-8",
    )
    text = _pdf_text(print_pdf(page, tmp_path / "page.pdf"))
    assert "BEFORE" in text and "SCRIPT-RAN" not in text
    assert hits == []
