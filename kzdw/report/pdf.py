"""Headless Chromium: prints the report's HTML to PDF (and, for tests, screenshots and the
rendered DOM). The Debian packages `chromium` and `fonts-noto-cjk` are installed by
`scripts/install-system-packages.sh` (`make setup`); `fonts-wqy-microhei` gives the PDF a
TrueType Chinese font, which Chromium embeds as a CID font (it prints Noto CJK, an
OpenType-CFF font, as Type 3 glyph drawings instead).

Page numbers (第 N 页 / 共 M 页) are the page's own CSS @page margin boxes (html.CSS), which
Chromium prints from version 131 on; its header and footer templates stay off."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from kzdw.files import replace_atomically

CHROMIUM_NAMES = ("chromium", "chromium-browser")
INSTALL_HINT = (
    "install the Debian/Ubuntu package `chromium` (and `fonts-noto-cjk`, `fonts-wqy-microhei` "
    "for Chinese glyphs): `sudo apt-get install chromium fonts-noto-cjk fonts-wqy-microhei`, "
    "or run `make setup`, which calls scripts/install-system-packages.sh"
)


# Nothing the page names is fetched: every host name, IP literals and localhost included, fails
# to resolve, and anything that got past that would go to a proxy on a closed port; Chromium's
# own background traffic is off too. JavaScript is off by the page's own Content-Security-Policy
# (html.CSP): Chromium's switch for it (--blink-settings=scriptEnabled=false) also stops the
# headless --print-to-pdf and --dump-dom, which then exit 0 without writing anything.
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-pings",
)


class ChromiumNotFound(RuntimeError):
    """No Chromium binary on PATH."""


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFound(
        f"headless Chromium is needed to print the report to PDF, and neither "
        f"{' nor '.join(CHROMIUM_NAMES)} is on PATH: {INSTALL_HINT}"
    )


def run_chromium(args: list[str], timeout: float = 180.0) -> subprocess.CompletedProcess:
    """Chromium headless with a throw-away profile and no network: runs in parallel with
    other instances, as root in a container (--no-sandbox), without a GPU."""
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="kzdw-chromium-") as profile:
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *OFFLINE_FLAGS,
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print the page to PDF as Chromium's print dialog would, with the page's own @page size,
    margins and page numbers, and no browser header or footer."""
    pdf.parent.mkdir(parents=True, exist_ok=True)

    def write(partial: Path) -> None:
        proc = run_chromium(
            [
                f"--print-to-pdf={partial}",
                "--no-pdf-header-footer",
                html.resolve().as_uri(),
            ]
        )
        if not partial.exists() or partial.stat().st_size == 0:
            raise RuntimeError(
                f"Chromium did not print {html} to PDF (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-1500:]}"
            )

    replace_atomically(pdf, write)
    return pdf
