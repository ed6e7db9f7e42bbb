"""Segment many images into an output folder: resumable, with tables and a report.

:func:`segment_folder` is what ``karyo segment`` and ``karyo demo`` run: it
segments the inputs (:func:`karyo.nuclei.segment_many`), writes each image's
files as soon as it is done (:mod:`karyo.nuclei.outputs`), and then the run's
``summary.csv``, ``nuclei.csv``, ``settings.toml``, ``report.html`` and,
with ``table_style="cellprofiler"``, ``cellprofiler/Image.csv`` and
``cellprofiler/Nuclei.csv``. With ``resume=True`` a folder left by an
interrupted run is completed: images whose files are all present are not
segmented again.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from karyo.nuclei.batch import ImageResult, segment_many
from karyo.nuclei.evaluate import evaluate
from karyo.nuclei.outputs import (
    ImageOutputs,
    format_settings_toml,
    image_outputs,
    read_label_tiff,
    remove_partial_files,
    tiled_image_outputs,
    unique_stems,
    write_cellprofiler_tables,
    write_image_outputs,
    write_run_table,
    write_settings_toml,
    write_summary_csv,
    write_thumbnail,
)
from karyo.nuclei.report import write_report
from karyo.nuclei.segment import DEFAULT_SETTINGS, RECIPES
from karyo.nuclei.tiled import needs_tiling

__all__ = ["RUN_FILES", "TABLE_STYLES", "RunFolderError", "RunResult", "segment_folder"]

#: The files of a run (besides each image's), in the output folder.
RUN_FILES = ("summary.csv", "nuclei.csv", "settings.toml", "report.html")
#: ``table_style`` values: karyo's tables only, or CellProfiler's too.
TABLE_STYLES = ("skimage", "cellprofiler")
_CELLPROFILER_FILES = ("cellprofiler/Image.csv", "cellprofiler/Nuclei.csv")
_SETTINGS_COMMENT = "karyo segment: the settings of this run (use with --config)"


class RunFolderError(ValueError):
    """The output folder cannot be used as asked: it holds results, or other settings' results."""


@dataclass
class RunResult:
    """What :func:`segment_folder` did.

    Attributes
    ----------
    results : list of ImageResult
        One per input, in input order (arrays dropped); images completed by
        an earlier run are rebuilt from their files.
    outputs : list of ImageOutputs
        Each input's files, in input order.
    out : Path
        The output folder; ``summary``, ``table`` (``nuclei.csv``),
        ``settings``, ``report`` are the run's files in it, ``cellprofiler``
        the two CellProfiler tables (or None).
    scores : dict of str to dict
        For each input with a reference segmentation (`truth`), the scores of
        :func:`karyo.nuclei.evaluate.evaluate`.
    already_done : int
        Inputs completed by an earlier run (``resume=True``).
    """

    results: list
    outputs: list
    out: Path
    summary: Path
    table: Path
    settings: Path
    report: Path
    cellprofiler: tuple[Path, Path] | None = None
    scores: dict = field(default_factory=dict)
    already_done: int = 0

    @property
    def failed(self) -> int:
        """The number of inputs that failed."""
        return sum(not result.ok for result in self.results)


def resolved_settings(recipe: str, settings: Mapping | None = None) -> dict:
    """Every setting of a run: the recipe's defaults, overridden by `settings`, and the recipe.

    Examples
    --------
    >>> resolved_settings("tutorial", {"sigma": 4.0})["sigma"]
    4.0
    """
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"karyo.nuclei.segment_folder: `recipe` must be one of "
                         f"{', '.join(RECIPES)}, got {recipe!r}")
    return {**DEFAULT_SETTINGS[recipe], **dict(settings or {}), "recipe": recipe}


def segment_folder(inputs: Sequence, out, *, recipe: str = "default",
                   settings: Mapping | None = None, resume: bool = False,
                   overwrite: bool = False, rois: bool = False, geojson: bool = False,
                   table_style: str = "skimage", jobs: int | None = None, scheduler=None,
                   on_result: Callable[[ImageResult], None] | None = None,
                   truth: Mapping | None = None) -> RunResult:
    """Segment the nuclei of many image files and write every output into one folder.

    Parameters
    ----------
    inputs : sequence of str or os.PathLike
        The image files (see :func:`karyo.nuclei.images.read_dna_image`).
        With the default recipe, a TIFF or OME-Zarr of more than
        ``karyo.nuclei.tiled.AUTO_TILE_PIXELS`` pixels is segmented tile by
        tile (:func:`karyo.nuclei.segment_tiled`, tiles of 2048): its labels
        go to ``STEM.ome.zarr`` and it has no full-size overlay, ROIs or GeoJSON.
    out : str or os.PathLike
        The output folder, created if needed.
    recipe : str, optional
        The segmentation recipe (``karyo.nuclei.segment.RECIPES``).
    settings : mapping, optional
        Settings of the recipe (``DEFAULT_SETTINGS[recipe]``) and of the
        input (``channel``, ``z``, ``time``, ``pixel_size``).
    resume : bool, optional
        Complete a folder left by an earlier run with the same settings:
        images whose files are all there are not segmented again.
    overwrite : bool, optional
        Replace results already in the folder. Without `resume` or
        `overwrite`, a folder holding results raises :class:`RunFolderError`.
    rois, geojson : bool, optional
        Also write ``STEM_rois.zip`` (ImageJ ROIs) and ``STEM.geojson``
        (QuPath detections) for each image.
    table_style : {'skimage', 'cellprofiler'}, optional
        ``'cellprofiler'`` also writes ``cellprofiler/Image.csv`` and
        ``cellprofiler/Nuclei.csv`` with CellProfiler's names.
    jobs, scheduler : optional
        How to spread the work (see :func:`karyo.nuclei.segment_many`).
    on_result : callable, optional
        Called with each new :class:`ImageResult` once its files are written
        (e.g. to show progress).
    truth : mapping of str to ndarray, optional
        Reference label images by input (as given in `inputs`): those
        inputs are scored (``RunResult.scores``, and in the report).

    Returns
    -------
    RunResult

    Raises
    ------
    RunFolderError
        `out` is a file; it holds results and neither `resume` nor
        `overwrite` is set; or `resume` meets a ``settings.toml`` of other
        settings.
    ValueError, TypeError
        Bad arguments, named.

    See Also
    --------
    karyo.nuclei.segment_many : the segmentation alone, results in memory.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, tifffile
    >>> from karyo.nuclei.run import segment_folder
    >>> folder = tempfile.mkdtemp()
    >>> yy, xx = np.mgrid[:120, :160]
    >>> image = (((yy - 60) ** 2 + (xx - 50) ** 2 < 30 ** 2) * 200).astype(np.uint8)
    >>> tifffile.imwrite(os.path.join(folder, "cells.tif"), image)
    >>> run = segment_folder([os.path.join(folder, "cells.tif")], os.path.join(folder, "out"),
    ...                      settings={"diameter": [40, 100], "pixel_size": 0.5}, jobs=1)
    >>> run.results[0].count, run.failed
    (1, 0)
    >>> sorted(path.name for path in run.out.iterdir())[:4]
    ['cells_labels.tif', 'cells_nuclei.csv', 'cells_overlay.png', 'cells_thumb.png']
    >>> again = segment_folder([os.path.join(folder, "cells.tif")], run.out, resume=True,
    ...                        settings={"diameter": [40, 100], "pixel_size": 0.5}, jobs=1)
    >>> again.already_done
    1
    """
    fname = "nuclei.segment_folder"
    if isinstance(inputs, (str, os.PathLike)):
        raise TypeError(f"karyo.{fname}: `inputs` must be a list of image files, not a single "
                        f"{type(inputs).__name__}; wrap one file in a list")
    names = [os.fspath(source) for source in inputs]
    if not names:
        raise ValueError(f"karyo.{fname}: `inputs` is empty: no images to segment")
    for flag, value in (("resume", resume), ("overwrite", overwrite), ("rois", rois),
                        ("geojson", geojson)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"karyo.{fname}: `{flag}` must be True or False, got {value!r}")
    if resume and overwrite:
        raise ValueError(f"karyo.{fname}: `resume` and `overwrite` exclude each other")
    if table_style not in TABLE_STYLES:
        raise ValueError(f"karyo.{fname}: `table_style` must be one of "
                         f"{', '.join(TABLE_STYLES)}, got {table_style!r}")
    used = resolved_settings(recipe, settings)
    settings_text = format_settings_toml(used)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)

    stems = unique_stems(names)
    # Images too large to hold whole are segmented tile by tile (the default recipe's).
    tiled = {index for index, name in enumerate(names)
             if recipe == "default" and needs_tiling(name)}
    outputs = [tiled_image_outputs(out, stem) if index in tiled else
               image_outputs(out, stem, rois=rois, geojson=geojson)
               for index, stem in enumerate(stems)]
    run_files = [out / name for name in RUN_FILES + _CELLPROFILER_FILES]
    existing = [path for written in outputs for path in written.existing()]
    existing += [path for path in run_files if path.exists()]
    if existing and not (overwrite or resume):
        raise RunFolderError(f"{out} already holds results (e.g. {existing[0].name}); use "
                             "--overwrite to replace them or --resume to complete them "
                             "(overwrite=True, resume=True)")
    previous_rows: dict[str, dict] = {}
    if resume:
        previous_settings = out / "settings.toml"
        if previous_settings.exists() and _strip_comments(
                previous_settings.read_text(encoding="utf-8")) != settings_text:
            raise RunFolderError(f"{previous_settings} differs from this run's settings; resume "
                                 f"with the same settings (e.g. --config {previous_settings}) "
                                 "or use --overwrite")
        previous_rows = _read_summary(out / "summary.csv")
    if resume or overwrite:  # leftovers of a killed run
        remove_partial_files([path for written in outputs for path in written.paths()]
                             + run_files)
    # Written first, so that a run killed midway leaves the settings resume checks.
    write_settings_toml(out / "settings.toml", used, overwrite=True, comment=_SETTINGS_COMMENT)

    todo = [index for index, written in enumerate(outputs)
            if not (resume and written.complete())]
    whole = [index for index in todo if index not in tiled]

    def write(result: ImageResult) -> None:
        if result.ok:
            try:
                write_image_outputs(outputs[whole[result.index]], result,
                                    overwrite=overwrite or resume)
            except Exception as error:  # noqa: BLE001 - a write failure fails only this image
                result.status, result.error = "failed", f"cannot write outputs: {error}"
        if on_result is not None:
            on_result(result)

    overrides = {key: value for key, value in used.items() if key != "recipe"}
    try:
        results = segment_many([names[index] for index in whole], recipe=recipe,
                               settings=overrides, jobs=jobs, scheduler=scheduler,
                               on_result=write, keep_arrays=False) if whole else []
    except KeyboardInterrupt:
        # Ctrl-C may land between creating a temporary file and the cleanup that
        # would remove it; what is left is swept here (what is whole stays).
        remove_partial_files([path for written in outputs for path in written.paths()])
        raise
    all_results: list = [None] * len(names)
    for position, result in enumerate(results):
        result.index = whole[position]
        all_results[result.index] = result
    for index in sorted(set(todo) & tiled):
        all_results[index] = _segment_large(index, names[index], stems[index], outputs[index],
                                            overrides, jobs, scheduler, resume)
        if on_result is not None:
            on_result(all_results[index])
    for index, written in enumerate(outputs):
        if all_results[index] is None:  # complete from an earlier run
            all_results[index] = _resumed_result(index, names[index], written,
                                                 previous_rows.get(names[index]))
    by_name = dict(zip(names, outputs, strict=True))
    scores = _scores(names, outputs, all_results, truth or {})

    summary = write_summary_csv(out / "summary.csv", all_results, outputs=by_name,
                                overwrite=True)
    succeeded = [(index, result) for index, result in enumerate(all_results) if result.ok]
    table = write_run_table(out / "nuclei.csv", [(result.name, outputs[index].table)
                                                 for index, result in succeeded],
                            overwrite=True)
    cellprofiler = None
    if table_style == "cellprofiler":
        cellprofiler = write_cellprofiler_tables(
            out / "cellprofiler",
            [{"number": index + 1, "path": result.name, "count": result.count,
              "threshold": result.threshold, "dtype": result.image_dtype or "float64",
              "table": outputs[index].table} for index, result in succeeded],
            overwrite=True)
    report = write_report(out / "report.html", all_results, outputs=by_name, settings=used,
                          scores=scores, overwrite=True)
    return RunResult(results=all_results, outputs=outputs, out=out, summary=summary,
                     table=table, settings=out / "settings.toml", report=report,
                     cellprofiler=cellprofiler, scores=scores,
                     already_done=len(names) - len(todo))


def _strip_comments(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


def _read_summary(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["image"]: row for row in csv.DictReader(stream)}


def _resumed_result(index: int, name: str, written: ImageOutputs,
                    previous_row: dict | None) -> ImageResult:
    """The result of an image completed by an earlier run, rebuilt from its files."""
    if written.labels.suffix == ".zarr":
        # A tiled image's labels carry no metadata: its summary row does.
        metadata = _summary_metadata(previous_row or {})
    else:
        _, metadata = read_label_tiff(written.labels)
    areas, means = _table_summaries(written.table)
    seconds = float(previous_row["seconds"]) if previous_row and previous_row.get("seconds") \
        else 0.0
    diameter = metadata.get("nucleus_diameter")
    return ImageResult(index=index, name=name, status="ok",
                       count=int(metadata.get("count", areas.size)),
                       threshold=float(metadata.get("threshold", math.nan)), seconds=seconds,
                       settings=metadata.get("settings", {}), areas=areas,
                       mean_intensities=means, flags=tuple(metadata.get("flags", ())),
                       nucleus_diameter=None if diameter is None else float(diameter),
                       pixel_size=metadata.get("pixel_size"), input=metadata.get("input", ""),
                       image_dtype=metadata.get("image_dtype", ""))


def _segment_large(index: int, name: str, stem: str, written: ImageOutputs, settings: dict,
                   jobs, scheduler, resume: bool) -> ImageResult:
    """One image of the run segmented tile by tile (:func:`karyo.nuclei.segment_tiled`)."""
    import zarr

    from karyo.nuclei.tiled import segment_tiled

    started = time.perf_counter()
    recipe_settings = {key: value for key, value in settings.items()
                       if key in DEFAULT_SETTINGS["default"] and
                       not (key == "channel" and value is None)}
    try:
        run = segment_tiled(name, written.table.parent, settings=recipe_settings, zarr=True,
                            scheduler=scheduler, workers=jobs, resume=resume, name=stem)
        root = zarr.open_group(str(written.labels), mode="r")
        image = root[root.attrs["multiscales"][0]["datasets"][-1]["path"]]
        write_thumbnail(written.thumbnail, image[:], overwrite=True)
        areas, means = _table_summaries(written.table)
    except Exception as error:  # noqa: BLE001 - a failure fails only this image
        return ImageResult.failure(index, name, error, seconds=time.perf_counter() - started)
    result = ImageResult(
        index=index, name=name, count=run.count, threshold=run.threshold,
        seconds=time.perf_counter() - started, settings=run.settings, areas=areas,
        mean_intensities=means, flags=run.flags, nucleus_diameter=run.nucleus_diameter,
        input=f"{image.dtype} image tile by tile: {run.tiles} tiles, {run.seam} nuclei across "
              f"seams, {run.second_pass} segmented again on a larger crop",
        image_dtype=str(image.dtype))
    if run.failed:
        result.status = "failed"
        result.error = f"{len(run.failed)} of {run.tiles} tiles failed: {run.failed[0]}"
    return result


def _table_summaries(table: Path) -> tuple[np.ndarray, np.ndarray]:
    """The areas and mean intensities of an image's nuclei, from its table."""
    with open(table, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    areas = np.array([int(float(row["area"])) for row in rows], np.int64)
    means = np.array([float(row["intensity_mean"]) if row.get("intensity_mean") else math.nan
                      for row in rows])
    return areas, means


def _summary_metadata(row: dict) -> dict:
    """What a row of ``summary.csv`` says of an image, as a label file's metadata would."""
    return {"count": int(row["count"]) if row.get("count") else 0,
            "threshold": float(row["threshold"]) if row.get("threshold") else math.nan,
            "nucleus_diameter": row.get("nucleus_diameter_px") or None,
            "flags": tuple(flag for flag in row.get("flags", "").split(";") if flag),
            "input": row.get("input", "")}


def _read_labels(written: ImageOutputs) -> np.ndarray:
    if written.labels.suffix == ".zarr":
        import zarr

        return zarr.open_group(str(written.labels), mode="r")["labels/nuclei/0"][:]
    return read_label_tiff(written.labels)[0]


def _scores(names: list[str], outputs: list[ImageOutputs], results: list,
            truth: Mapping) -> dict[str, dict]:
    unknown = sorted(set(map(str, truth)) - set(names))
    if unknown:
        raise ValueError(f"karyo.nuclei.segment_folder: `truth` has a reference for "
                         f"{unknown[0]!r}, which is not among the inputs")
    scores = {}
    for name, written, result in zip(names, outputs, results, strict=True):
        if name in truth and result.ok:
            scores[name] = evaluate(_read_labels(written), np.asarray(truth[name]))
    return scores
