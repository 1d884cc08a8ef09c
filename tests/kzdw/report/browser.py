"""What a reader's browser makes of the report: the rendered DOM's text and a screenshot, from
headless Chromium, and a look at the screenshot's pixels without an imaging library."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

from kzdw.report.pdf import run_chromium


class _Text(HTMLParser):
    """The text a reader sees: everything but <style>, <script> and <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


def dump_dom(html: Path) -> str:
    proc = run_chromium(["--dump-dom", html.resolve().as_uri()])
    assert proc.returncode == 0 and proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2400) -> Path:
    proc = run_chromium(
        [f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri()]
    )
    assert png.exists(), proc.stderr[-2000:]
    return png


def png_size_and_busy_rows(png: Path) -> tuple[int, int, int]:
    """(width, height, rows that are not a single colour).

    A one-colour row stays, after any PNG row filter, its first pixel followed by one repeated
    byte value; a row with text, lines or bars does not. So the rows can be counted from the
    filtered data, without undoing the filters.
    """
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    raw = zlib.decompress(b"".join(idat))
    stride = 1 + width * channels
    busy = 0
    for y in range(height):
        row = raw[y * stride + 1 + channels : (y + 1) * stride]
        if row and row.count(row[0]) != len(row):
            busy += 1
    return width, height, busy


def cjk_font_families() -> set[str]:
    """Installed font families with Chinese glyphs (fontconfig's view, as Chromium's)."""
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True
    ).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",")}


def pdf_font_families(pdf: Path) -> set[str]:
    """The installed font families whose fonts the PDF embeds: pdffonts names each by its
    PostScript name, spaces dropped, after a subset tag (AAAAAA+WenQuanYiMicroHei)."""
    lines = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    embedded = {line.split()[0].split("+", 1)[-1] for line in lines if line.strip()}
    out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=True)
    installed = {name.strip() for line in out.stdout.splitlines() for name in line.split(",")}
    return {family for family in installed if family.replace(" ", "") in embedded}
