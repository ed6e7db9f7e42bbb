"""karyo.nuclei.report: the HTML report of a batch."""

from __future__ import annotations

import html
import sys
from html.parser import HTMLParser

import pytest
from test_nuclei_batch import standin_segment, synthetic_nuclei

from karyo.nuclei import outputs
from karyo.nuclei.batch import ImageResult, segment_many
from karyo.nuclei.report import write_report


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.links = [], []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "img":
            self.sources.append(attributes["src"])
        if tag == "a":
            self.links.append(attributes["href"])


def _batch(tmp_path):
    images = {"first <b>.png": synthetic_nuclei(1), "second.png": synthetic_nuclei(2)}
    results = segment_many(images, jobs=1, segmenter=standin_segment)
    results.append(ImageResult(2, "broken.png", status="failed",
                               error="OSError: truncated <file>"))
    out = tmp_path / "out"
    out.mkdir()
    written = {}
    for stem, result in zip(outputs.unique_stems([r.name for r in results[:2]]), results[:2],
                            strict=True):
        written[result.name] = outputs.write_image_outputs(outputs.image_outputs(out, stem),
                                                           result)
    return results, written, out


def _parse(path):
    parser = _Images()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_report_links_pictures_and_lists_every_image(tmp_path):
    results, written, out = _batch(tmp_path)
    report = write_report(out / "report.html", results, outputs=written,
                          settings={"recipe": "default"})
    text = report.read_text(encoding="utf-8")
    assert "first &lt;b&gt;.png" in text and "<b>.png" not in text  # names are escaped
    assert "OSError: truncated &lt;file&gt;" in text
    for result in results[:2]:
        assert f"<td class=\"number\">{result.count}</td>" in text
    parsed = _parse(report)
    relative = [src for src in parsed.sources + parsed.links if not src.startswith("data:")]
    # thumbnail and overlay, as image and link, plus the overlay's full-resolution link
    assert len(relative) == 10
    assert "image-rendering: pixelated" not in text
    assert all(not src.startswith("/") and (out / src).is_file() for src in relative)
    histograms = [src for src in parsed.sources if src.startswith("data:image/png;base64,")]
    assert len(histograms) == 2
    with pytest.raises(FileExistsError):
        write_report(out / "report.html", results, outputs=written)


def test_report_without_matplotlib_says_why(tmp_path, monkeypatch):
    results, written, out = _batch(tmp_path)
    for name in [module for module in sys.modules if module.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    report = write_report(out / "report.html", results, outputs=written)
    text = report.read_text(encoding="utf-8")
    assert "matplotlib is not installed" in text
    assert not [src for src in _parse(report).sources if src.startswith("data:")]


def test_report_of_failures_only(tmp_path):
    failed = [ImageResult(0, "a.png", status="failed", error="FileNotFoundError: a.png")]
    report = write_report(tmp_path / "report.html", failed)
    assert "No nuclei were found" in report.read_text(encoding="utf-8")


def test_report_rejects_bad_results(tmp_path):
    with pytest.raises(TypeError, match="results"):
        write_report(tmp_path / "report.html", "a.png")


def test_report_lists_flagged_images_first_with_settings_used_and_scores(tmp_path):
    results = [ImageResult(0, "clean.png", count=3, threshold=12.0,
                           settings={"sigma": 1.5, "diameter": [30, 120]}),
               ImageResult(1, "odd.png", count=1, threshold=10.0, flags=("few_nuclei",),
                           settings={"sigma": 1.5, "diameter": [30, 120]}, nucleus_diameter=41.5)]
    scores = {"clean.png": {"jaccard_index": 2.04, "f1": 0.9, "n_pred": 3}}
    report = write_report(tmp_path / "report.html", results,
                          settings={"sigma": None, "diameter": [30, 120]}, scores=scores)
    text = report.read_text(encoding="utf-8")
    summary = text[text.index("<h2>Summary</h2>"):]
    assert summary.index("odd.png") < summary.index("clean.png")
    assert "few_nuclei" in text and "41.5" in text
    settings = text[text.index("<h2>Settings</h2>"):]
    assert "<th>sigma</th><td>None</td><td>1.5</td>" in settings
    assert "2.04" in text and "can exceed 1" in text



def test_quality_control_says_what_each_flag_means(tmp_path):
    # the explanations are karyo.nuclei.segment.QC_FLAGS (once read from the
    # package, where `segment` is the function, so the column stayed empty)
    from karyo.nuclei.segment import QC_FLAGS

    flagged = ImageResult(0, "odd.png", count=0, threshold=10.0, flags=("empty",))
    text = write_report(tmp_path / "report.html", [flagged]).read_text(encoding="utf-8")
    control = text[text.index("<h2>Quality control</h2>"):]
    assert html.escape(QC_FLAGS["empty"]) in control
