"""A single-file HTML report of a batch: summary table, pictures and histograms.

The report is one self-contained HTML file (styles and histograms inline);
thumbnails and overlays are relative links to the PNG files written beside
it, so the folder can be moved or zipped as a whole. It lists the images
with quality-control flags first, shows the settings each image was
segmented with (resolved to numbers), the scores against a reference when
there is one, and links each full-resolution overlay. Histograms need
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

from karyo.nuclei.evaluate import SCORE_DESCRIPTIONS
from karyo.nuclei.outputs import OVERLAY_COLOURS, atomic_path
from karyo.nuclei.segment import QC_FLAGS

__all__ = ["write_report", "histogram_png"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fde8e8; }
tr.flagged td { background: #fff4d6; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 512px; max-height: 512px; height: auto; }
.note { color: #a33; }
.flag { font-weight: bold; color: #8a5a00; }
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


def _flags(result) -> tuple:
    return tuple(getattr(result, "flags", ()) or ())


def _number(value, digits: str = "g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(value, digits)


def _settings_used(results: Sequence, requested: Mapping | None) -> list[tuple[str, str, str]]:
    """(setting, requested value, value(s) used) rows: what each image was segmented with."""
    used: dict[str, list[str]] = {}
    for result in results:
        for key, value in (result.settings or {}).items():
            shown = str(value)
            values = used.setdefault(key, [])
            if shown not in values:
                values.append(shown)
    requested = dict(requested or {})
    rows = []
    for key in sorted(set(used) | set(requested)):
        values = used.get(key, [])
        shown = values[0] if len(values) == 1 else (
            "; ".join(values) + " (varies by image)" if values else "")
        rows.append((key, "" if key not in requested else str(requested[key]), shown))
    return rows


def write_report(path, results: Sequence, *, outputs: Mapping | None = None,
                 title: str = "karyo nuclei report", settings: Mapping | None = None,
                 scores: Mapping | None = None, overwrite: bool = False) -> Path:
    """Write the HTML report of a batch.

    Parameters
    ----------
    path : str or os.PathLike
        The report file (``report.html``).
    results : sequence of ImageResult
        The batch's results. Images with quality-control flags are listed
        first, then failed ones, then the rest, each in the given order.
    outputs : mapping of str to ImageOutputs, optional
        For each result's `name`, the files written for it: the thumbnail
        and the full-resolution overlay are shown and linked (relative to the
        report's folder).
    title : str, optional
    settings : mapping, optional
        The settings the run asked for; shown beside the values each image
        was actually segmented with (its result's resolved `settings`, where
        ``None`` became a number).
    scores : mapping of str to dict, optional
        For results' names, their scores against a reference
        (:func:`karyo.nuclei.evaluate.evaluate`): shown in a table with what
        each score means.
    overwrite : bool, optional
        Replace an existing report (else FileExistsError).

    Returns
    -------
    path : Path

    See Also
    --------
    karyo.nuclei.run.segment_folder : runs a batch and writes this report.

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
    scores = dict(scores or {})
    succeeded = [result for result in results if result.ok]
    flagged = [result for result in results if _flags(result)]
    ordered = (flagged + [result for result in results if not result.ok and not _flags(result)]
               + [result for result in succeeded if not _flags(result)])
    total = sum(result.count for result in succeeded)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(results)} images: {len(succeeded)} segmented, "
        f"{len(results) - len(succeeded)} failed, {len(flagged)} with quality-control flags; "
        f"{total} nuclei in all.</p>",
    ]
    parts += _quality_control(flagged)
    parts += ["<h2>Summary</h2>", "<table>",
              "<tr><th>image</th><th>status</th><th>nuclei</th><th>threshold</th>"
              "<th>nucleus diameter (px)</th><th>flags</th><th>seconds</th><th>error</th></tr>"]
    for result in ordered:
        threshold = "" if not result.ok else _number(result.threshold)
        row_class = ' class="failed"' if not result.ok else (
            ' class="flagged"' if _flags(result) else "")
        parts.append(f"<tr{row_class}>" + _cell(result.name) + _cell(result.status)
                     + _cell(result.count if result.ok else "", True) + _cell(threshold, True)
                     + _cell(_number(getattr(result, "nucleus_diameter", None), ".1f"), True)
                     + _cell(", ".join(_flags(result))) + _cell(f"{result.seconds:.2f}", True)
                     + _cell(result.error or "") + "</tr>")
    parts.append("</table>")
    parts += _scores(scores)
    rows = _settings_used(succeeded, settings)
    if rows:
        parts.append("<h2>Settings</h2><p>The values each image was segmented with; derived "
                     "settings (left to the recipe) are shown as the numbers used.</p><table>"
                     "<tr><th>setting</th><th>asked for</th><th>used</th></tr>")
        parts += [f"<tr><th>{html.escape(key)}</th>{_cell(asked)}{_cell(used)}</tr>"
                  for key, asked, used in rows]
        parts.append("</table>")
    parts += _histograms(succeeded)
    parts.append("<h2>Images</h2>")
    parts.append(f"<p>Nuclei are outlined in {_colour_name('nucleus')} and numbered by their "
                 f"label; objects the size filter rejected are outlined in "
                 f"{_colour_name('rejected')}. Click an overlay to open it at full "
                 "resolution.</p>")
    for result in ordered:
        written = outputs.get(result.name)
        if written is None or not result.ok:
            continue
        thumbnail = _link(written.thumbnail, folder)
        name = html.escape(result.name)
        flags = _flags(result)
        flag_text = (f' <span class="flag">flags: {html.escape(", ".join(flags))}</span>'
                     if flags else "")
        parts.append(f"<h3>{name}: {result.count} nuclei{flag_text}</h3>")
        parts.append(f'<figure><a href="{html.escape(thumbnail)}"><img src="'
                     f'{html.escape(thumbnail)}" alt="thumbnail of {name}"></a>'
                     "<figcaption>image</figcaption></figure>")
        if written.overlay is None:  # segmented tile by tile: too large to draw whole
            labels = html.escape(_link(written.labels, folder))
            parts.append(f'<p>Segmented tile by tile: the labels are in <a href="{labels}">'
                         f"{labels}</a> (OME-Zarr, multiscale; napari opens it).</p>")
            continue
        overlay = _link(written.overlay, folder)
        parts.append(f'<figure><a href="{html.escape(overlay)}"><img src="'
                     f'{html.escape(overlay)}" alt="nuclei of {name}" width="512" '
                     'loading="lazy"></a><figcaption>nuclei, outlined and numbered: <a href="'
                     f'{html.escape(overlay)}">full resolution</a></figcaption></figure>')
    parts += ["</body>", "</html>", ""]
    with atomic_path(path, overwrite=overwrite) as temporary:
        Path(temporary).write_text("\n".join(parts), encoding="utf-8")
    return path


def _colour_name(kind: str) -> str:
    names = {(255, 255, 0): "yellow", (255, 0, 255): "magenta", (0, 255, 255): "cyan"}
    return names.get(OVERLAY_COLOURS[kind], str(OVERLAY_COLOURS[kind]))


def _quality_control(flagged: Sequence) -> list[str]:
    parts = ["<h2>Quality control</h2>"]
    if not flagged:
        return parts + ["<p>No image was flagged.</p>"]
    parts.append("<table><tr><th>image</th><th>flag</th><th>what it means</th></tr>")
    for result in flagged:
        for flag in _flags(result):
            parts.append("<tr>" + _cell(result.name) + _cell(flag)
                         + _cell(QC_FLAGS.get(flag, "")) + "</tr>")
    parts.append("</table>")
    return parts


def _scores(scores: Mapping) -> list[str]:
    if not scores:
        return []
    names = list(next(iter(scores.values())))
    parts = ["<h2>Scores against the reference segmentation</h2><table><tr><th>image</th>"
             + "".join(f"<th>{html.escape(name)}</th>" for name in names) + "</tr>"]
    for image, values in scores.items():
        parts.append("<tr>" + _cell(image) + "".join(
            _cell(_number(values[name], ".4g") if not isinstance(values[name], int)
                  else values[name], True) for name in names) + "</tr>")
    parts.append("</table><dl>")
    parts += [f"<dt>{html.escape(name)}</dt><dd>{html.escape(SCORE_DESCRIPTIONS[name])}</dd>"
              for name in names if name in SCORE_DESCRIPTIONS]
    parts.append("</dl>")
    return parts


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
