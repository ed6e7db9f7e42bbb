"""A single-file HTML report of a batch: summary table, pictures and histograms.

The report is one self-contained HTML file (styles and histograms inline);
thumbnails and overlays are relative links to the PNG files written beside
it, so the folder can be moved or zipped as a whole. Histograms need
matplotlib (the ``karyo[report]`` extra); without it the report is still
written and says why the histograms are missing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from karyo.nuclei.outputs import atomic_path

__all__ = ["write_report", "histogram_png"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fde8e8; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 512px; max-height: 512px; image-rendering: pixelated; }
.note { color: #a33; }
"""


def histogram_png(values: np.ndarray, *, title: str, xlabel: str, bins: int = 40) -> bytes:
    """A PNG histogram of `values` drawn by matplotlib (Agg, no display needed).

    Raises ImportError if matplotlib is not installed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    values = np.asarray(values, np.float64)
    axes.hist(values[np.isfinite(values)], bins=bins, color="#4a7ab5", edgecolor="white")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("nuclei")
    figure.tight_layout()
    buffer = io.BytesIO()
    # No date or software version in the file, so reruns give the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _cell(value, number: bool = False) -> str:
    css = ' class="number"' if number else ""
    return f"<td{css}>{html.escape(str(value))}</td>"


def _link(path: Path | None, folder: Path) -> str | None:
    if path is None:
        return None
    return Path(os.path.relpath(path, folder)).as_posix()


def write_report(path, results: Sequence, *, outputs: Mapping | None = None,
                 title: str = "karyo nuclei report", settings: Mapping | None = None,
                 overwrite: bool = False) -> Path:
    """Write the HTML report of a batch.

    Parameters
    ----------
    path : str or os.PathLike
        The report file (``report.html``).
    results : sequence of ImageResult
        The batch's results, in the order to show them.
    outputs : mapping of str to ImageOutputs, optional
        For each result's `name`, the files written for it: the thumbnail
        and overlay are shown (linked relative to the report's folder).
    title : str, optional
    settings : mapping, optional
        The settings of the run, listed under the summary.
    overwrite : bool, optional
        Replace an existing report (else FileExistsError).

    Returns
    -------
    path : Path

    See Also
    --------
    karyo.nuclei.segment_many : produces the results.

    Notes
    -----
    The histograms pool every nucleus of the successful images: area in
    pixels and mean intensity, from each result's `areas` and
    `mean_intensities`. They are embedded as base64 PNG (``data:`` URIs).

    Examples
    --------
    >>> import tempfile, os
    >>> from karyo.nuclei.batch import ImageResult
    >>> folder = tempfile.mkdtemp()
    >>> results = [ImageResult(0, "a.png", count=3, threshold=12.0),
    ...            ImageResult(1, "b.png", status="failed", error="OSError: truncated")]
    >>> report = write_report(os.path.join(folder, "report.html"), results)
    >>> "OSError: truncated" in report.read_text()
    True
    """
    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence):
        raise TypeError("karyo.nuclei.write_report: `results` must be a sequence of "
                        f"ImageResult, got {type(results).__name__}")
    path = Path(path)
    folder = path.parent
    outputs = outputs or {}
    succeeded = [result for result in results if result.ok]
    total = sum(result.count for result in succeeded)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(results)} images: {len(succeeded)} segmented, "
        f"{len(results) - len(succeeded)} failed; {total} nuclei in all.</p>",
        "<h2>Summary</h2>", "<table>",
        "<tr><th>image</th><th>status</th><th>nuclei</th><th>threshold</th>"
        "<th>seconds</th><th>error</th></tr>",
    ]
    for result in results:
        threshold = "" if not result.ok or math.isnan(result.threshold) else f"{result.threshold:g}"
        row_class = "" if result.ok else ' class="failed"'
        parts.append(f"<tr{row_class}>" + _cell(result.name) + _cell(result.status)
                     + _cell(result.count if result.ok else "", True) + _cell(threshold, True)
                     + _cell(f"{result.seconds:.2f}", True) + _cell(result.error or "") + "</tr>")
    parts.append("</table>")
    if settings:
        parts.append("<h2>Settings</h2><table>")
        parts += [f"<tr><th>{html.escape(str(key))}</th>{_cell(settings[key])}</tr>"
                  for key in sorted(settings)]
        parts.append("</table>")
    parts += _histograms(succeeded)
    parts.append("<h2>Images</h2>")
    for result in succeeded:
        written = outputs.get(result.name)
        if written is None:
            continue
        thumbnail = _link(written.thumbnail, folder)
        overlay = _link(written.overlay, folder)
        name = html.escape(result.name)
        parts.append(f"<h3>{name}: {result.count} nuclei</h3>")
        parts.append(f'<figure><a href="{html.escape(thumbnail)}"><img src="'
                     f'{html.escape(thumbnail)}" alt="thumbnail of {name}"></a>'
                     "<figcaption>image</figcaption></figure>")
        parts.append(f'<figure><a href="{html.escape(overlay)}"><img src="'
                     f'{html.escape(overlay)}" alt="nuclei of {name}" width="512"></a>'
                     "<figcaption>nuclei, outlined and numbered</figcaption></figure>")
    parts += ["</body>", "</html>", ""]
    with atomic_path(path, overwrite=overwrite) as temporary:
        Path(temporary).write_text("\n".join(parts), encoding="utf-8")
    return path


def _histograms(results: Sequence) -> list[str]:
    parts = ["<h2>Nuclei</h2>"]
    areas = np.concatenate([np.asarray(r.areas, np.float64) for r in results] or [np.zeros(0)])
    intensities = np.concatenate([np.asarray(r.mean_intensities, np.float64) for r in results]
                                 or [np.zeros(0)])
    if areas.size == 0:
        return parts + ["<p>No nuclei were found, so there are no histograms.</p>"]
    try:
        pictures = [histogram_png(areas, title="Nucleus area", xlabel="area (pixels)"),
                    histogram_png(intensities, title="Nucleus mean intensity",
                                  xlabel="mean intensity")]
    except ImportError:
        return parts + ['<p class="note">Histograms of nucleus area and intensity are missing: '
                        "matplotlib is not installed (pip install 'karyo[report]').</p>"]
    for picture, alt in zip(pictures, ("histogram of nucleus areas",
                                       "histogram of nucleus mean intensities"), strict=True):
        encoded = base64.b64encode(picture).decode("ascii")
        parts.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{alt}"></figure>')
    return parts
