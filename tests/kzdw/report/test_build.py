"""The three files, `kzdw report`, the Dagster asset, and a missing Chromium, on the fixture."""

import re
import subprocess
import sys

import dagster as dg
import pytest

from kzdw.report import build_report, default_out_dir
from kzdw.report.pdf import ChromiumNotFound, find_chromium
from tests.kzdw.report.browser import cjk_font_families, pdf_font_families
from tests.kzdw.report.fixture import AS_OF


def test_three_files(report):
    assert [p.name for p in report.paths] == ["report.html", "report.xlsx", "report.pdf"]
    assert report.as_of == AS_OF
    assert report.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert report.xlsx.read_bytes()[:2] == b"PK"
    assert report.pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(report.html.parent.glob(".*partial"))


def test_pdf_has_the_text_in_a_chinese_font(report):
    # Chinese printed with a font that has no Chinese glyphs comes out as boxes: the PDF's
    # fonts must include one of the installed families that cover Chinese.
    assert pdf_font_families(report.pdf) & cjk_font_families()
    text = _pdf_text(report.pdf)
    assert "开州区营商环境与招商引资指标报告" in text
    assert "100425户" in text and "0.11次" in text
    assert "本期有1项已发布数据因补报或更正而修订" in text
    assert "2022年线索" in text and "附：指标说明" in text


def _pdf_text(pdf) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_every_page_is_numbered_of_the_total(report):
    pages = _pdf_text(report.pdf).split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        assert f"第{n}页/共{len(pages)}页" in re.sub(r"\s+", "", page), n


def _pdffonts(pdf) -> list[dict[str, str]]:
    """pdffonts' table, one dict per font, cut at the columns its dashed line marks."""
    lines = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    names = [lines[0][a:b].strip() or lines[0][a:].split()[0] for a, b in spans]
    return [
        {name: line[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)}
        for line in lines[2:]
    ]


def test_every_font_is_embedded_and_chinese_is_a_cid_font(report):
    if "WenQuanYi Micro Hei" not in cjk_font_families():
        pytest.fail(
            "no TrueType Chinese font: install fonts-wqy-microhei (Chromium prints Noto CJK, "
            "an OpenType-CFF font, as Type 3 glyph drawings, not as an embedded font)"
        )
    fonts = _pdffonts(report.pdf)
    assert fonts
    for font in fonts:
        assert font["emb"] == "yes", font
        # A CID font (Identity-H) holds any of the page's characters; no Type 3 drawings.
        assert font["type"].startswith("CID"), font
        assert font["encoding"] == "Identity-H", font
    assert any("WenQuanYiMicroHei" in f["name"] for f in fonts)


def test_default_folder_is_one_per_as_of_date(tmp_path):
    assert default_out_dir(tmp_path / "reports", AS_OF) == tmp_path / "reports" / "2023-06-30"


def test_kzdw_report_prints_the_three_paths(serving):
    # The fixture's serving copy is <root>/serving/warehouse.duckdb: the deployment of the
    # warehouse <root>/warehouse.duckdb, whose reports go to <root>/reports/.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(serving.parent),
        "KZDW_WAREHOUSE": str(serving.parent.parent / "warehouse.duckdb"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "kzdw.cli", "report"],
        cwd=serving.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = serving.parent.parent / "reports" / "2023-06-30"
    assert proc.stdout.split() == [
        str(folder / "report.html"),
        str(folder / "report.xlsx"),
        str(folder / "report.pdf"),
    ]
    assert all((folder / name).stat().st_size > 0 for name in ("report.html", "report.pdf"))


def test_without_serving_copy_the_command_says_what_to_do(tmp_path, capsys, monkeypatch):
    from kzdw.cli import main

    monkeypatch.setenv("KZDW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert main(["report", "--out", str(tmp_path / "out")]) == 2
    assert "no serving copy" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_without_chromium_the_error_names_the_package(serving, tmp_path, capsys, monkeypatch):
    from kzdw.cli import main

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ChromiumNotFound, match=r"apt-get install chromium fonts-noto-cjk"):
        find_chromium()
    monkeypatch.setenv("KZDW_WAREHOUSE", str(serving.parent.parent / "warehouse.duckdb"))
    assert main(["report", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "the PDF is not" in err and "`chromium`" in err
    # The page and the workbook do not wait for the printer.
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"report.html", "report.xlsx"}


def test_asset(serving, tmp_path, monkeypatch):
    from orchestration.defs.reports.assets import leadership
    from orchestration.lib.warehouse import WarehouseResource

    spec = next(iter(leadership.specs))
    assert spec.key == dg.AssetKey(["reports", "leadership"])
    assert spec.group_name == "reports"
    assert dg.AssetKey(["serving", "warehouse"]) in {d.asset_key for d in spec.deps}
    assert leadership.op.pool is None
    assert spec.automation_condition is not None  # runs after each new serving copy
    resource = WarehouseResource(
        warehouse=str(tmp_path / "live" / "warehouse.duckdb"),
        serving=str(serving),
        reports_dir=str(tmp_path / "reports"),
    )
    result = dg.materialize([leadership], resources={"warehouse": resource})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["as_of"].value == "2023-06-30"
    assert metadata["pdf"].value == str(tmp_path / "reports" / "2023-06-30" / "report.pdf")
    assert (metadata["targets"].value, metadata["targets_met"].value) == (8, 4)
    assert metadata["revisions_this_period"].value == 1
    # Only the serving copy was read: the live warehouse was never created.
    assert not (tmp_path / "live" / "warehouse.duckdb").exists()


def test_build_report_into_a_given_folder(serving, tmp_path):
    files = build_report(serving, out_dir=tmp_path / "given")
    assert files.html.parent == tmp_path / "given"
