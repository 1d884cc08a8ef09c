"""scripts/install-system-packages.sh: nothing to do when Chromium, the fonts and Java are there;
otherwise apt-get installs exactly what is missing."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install-system-packages.sh"


@pytest.fixture
def fake_bin(tmp_path) -> Path:
    """apt-get and sudo that only record how they were called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {log}\n')
    (bin_dir / "sudo").write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
    for tool in ("apt-get", "sudo"):
        (bin_dir / tool).chmod(0o755)
    for tool in ("id", "true"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir


def _run(path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_does_nothing_when_everything_is_installed(fake_bin):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("Chromium is not installed here")
    proc = _run(f"{fake_bin}:{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and not (fake_bin.parent / "calls.log").exists()


def test_installs_what_is_missing(fake_bin):
    # Only the fake tools on PATH: no Chromium, no fontconfig, no poppler.
    proc = _run(str(fake_bin))
    assert proc.returncode == 0, proc.stderr
    calls = (fake_bin.parent / "calls.log").read_text().splitlines()
    assert calls == [
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk "
        "fonts-wqy-microhei poppler-utils openjdk-17-jre-headless",
    ]


def test_says_what_to_install_without_apt(fake_bin):
    (fake_bin / "apt-get").unlink()
    proc = _run(str(fake_bin))
    assert proc.returncode == 1
    assert (
        "install chromium fonts-noto-cjk fonts-wqy-microhei poppler-utils openjdk-17-jre-headless"
        in proc.stderr
    )
