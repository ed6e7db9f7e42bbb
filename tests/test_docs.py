"""The documentation builds (``make docs``): Sphinx, warnings as errors, into a temporary folder.

The build runs the gallery (examples/nuclei_tutorial.py, about 3 s) and
renders pages generated from the code: the API of every public module, the
command's help, the output columns and the notes on mahotas.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
pytest.importorskip("numpydoc", reason="the docs extra is not installed")
sys.path.insert(0, str(DOCS / "_ext"))
import karyo_docs  # noqa: E402


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
                          "-q", "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return out / "html"


def page_text(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


def test_api_pages(html):
    for module in karyo_docs.public_modules():
        assert (html / "api" / "generated" / f"{module}.html").is_file()
    morph = page_text(html / "api" / "generated" / "karyo.morph.html")
    assert "cwatershed" in morph and "Parameters" in morph
    flat = page_text(html / "api" / "flat.html")
    assert "karyo.labeled.label" in flat


def test_tutorial_in_the_gallery_with_its_figures(html):
    page = (html / "auto_examples" / "nuclei_tutorial.html").read_text(encoding="utf-8")
    figures = set(re.findall(r"sphx_glr_nuclei_tutorial_\d+\.png", page))
    assert len(figures) == 10
    assert all((html / "_images" / name).stat().st_size > 1000 for name in figures)
    assert "cwatershed" in page


def test_command_line_page(html):
    text = page_text(html / "cli.html")
    for command in ("segment", "count", "evaluate", "demo"):
        assert f"karyo {command}" in text
    assert "--out" in text


def test_output_columns_page(html):
    from karyo.nuclei.measure import COLUMNS
    from karyo.nuclei.outputs import SUMMARY_COLUMNS

    text = page_text(html / "outputs.html")
    assert "STEM_labels.tif" in text and "summary.csv" in text
    for column in [*COLUMNS, *SUMMARY_COLUMNS]:
        assert f"{column} " in text


def test_mahotas_page_collects_the_docstrings(html):
    notes = karyo_docs.mahotas_notes()
    assert len(notes) >= 10
    text = page_text(html / "mahotas.html")
    assert all(name in text for name, _ in notes)
