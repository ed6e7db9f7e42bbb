"""Per-nucleus measurements: one tidy row per labelled object.

A thin layer over :func:`karyo.regionprops.regionprops_table`: the same
values, in flat columns named as scikit-image names them, plus micrometre
twins of every length and area when the pixel size is known. ``COLUMNS`` is
the data dictionary of every column karyo writes (name -> unit, meaning),
which ``karyo columns`` prints and the documentation renders.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from karyo.internal import as_array
from karyo.regionprops import regionprops_table

__all__ = ["COLUMNS", "MEASURE_COLUMNS", "MICROMETRE_COLUMNS", "format_columns", "measure"]

_FNAME = "nuclei.measure"

#: The data dictionary: every per-nucleus column karyo writes, as
#: ``name -> (unit, meaning)``, in the order of the tables. ``image`` is in the
#: run-wide ``nuclei.csv`` only; the ``*_um*`` columns only when the pixel
#: size is known.
COLUMNS: dict[str, tuple[str, str]] = {
    "image": ("", "the input image (run-wide nuclei.csv only), as given on the command line"),
    "label": ("", "the nucleus's value in STEM_labels.tif (1, 2, ...)"),
    "area": ("px^2", "number of pixels"),
    "centroid_y": ("px", "mean row of the nucleus's pixels (0 is the centre of the top row)"),
    "centroid_x": ("px", "mean column of the nucleus's pixels (0 is the centre of the left "
                   "column)"),
    "bbox_min_y": ("px", "first row of the bounding box"),
    "bbox_min_x": ("px", "first column of the bounding box"),
    "bbox_max_y": ("px", "row after the last row of the bounding box "
                   "(labels[min_y:max_y, min_x:max_x] is the box)"),
    "bbox_max_x": ("px", "column after the last column of the bounding box"),
    "perimeter": ("px", "length of the outline: scikit-image's perimeter (Benkrid-Crookes "
                  "weights on the 4-connected boundary pixels)"),
    "equivalent_diameter_area": ("px", "diameter of the disc with the same area"),
    "axis_major_length": ("px", "major axis of the ellipse with the same second moments"),
    "axis_minor_length": ("px", "minor axis of the ellipse with the same second moments"),
    "orientation": ("rad", "angle between the rows axis and the major axis, -pi/2 to pi/2 "
                    "(scikit-image's)"),
    "eccentricity": ("", "of the ellipse with the same second moments: 0 a circle, towards 1 "
                     "a line"),
    "solidity": ("", "area / area_convex"),
    "extent": ("", "area / area of the bounding box"),
    "area_convex": ("px^2", "pixels of the convex hull image (scikit-image's)"),
    "intensity_mean": ("image units", "mean grey value of the nucleus's pixels"),
    "intensity_sum": ("image units", "sum of the grey values (integrated intensity)"),
    "intensity_min": ("image units", "lowest grey value"),
    "intensity_max": ("image units", "highest grey value"),
    "touches_border": ("", "True if the nucleus reaches the image edge (it may be cut)"),
    "area_um2": ("um^2", "area x pixel_size^2"),
    "perimeter_um": ("um", "perimeter x pixel_size"),
    "equivalent_diameter_um": ("um", "equivalent_diameter_area x pixel_size"),
    "axis_major_length_um": ("um", "axis_major_length x pixel_size"),
    "axis_minor_length_um": ("um", "axis_minor_length x pixel_size"),
    "centroid_y_um": ("um", "centroid_y x pixel_size"),
    "centroid_x_um": ("um", "centroid_x x pixel_size"),
}

#: Column names of the table returned by :func:`measure`, in order (without
#: a pixel size).
MEASURE_COLUMNS = tuple(name for name in COLUMNS if name != "image" and "_um" not in name)

#: The micrometre twins: column -> (the pixel column it scales, power of the
#: pixel size).
MICROMETRE_COLUMNS: dict[str, tuple[str, int]] = {
    "area_um2": ("area", 2),
    "perimeter_um": ("perimeter", 1),
    "equivalent_diameter_um": ("equivalent_diameter_area", 1),
    "axis_major_length_um": ("axis_major_length", 1),
    "axis_minor_length_um": ("axis_minor_length", 1),
    "centroid_y_um": ("centroid_y", 1),
    "centroid_x_um": ("centroid_x", 1),
}

# Our column -> the library's property (scikit-image's name).
_FROM_REGIONPROPS = {
    "label": "label", "area": "area", "centroid_y": "centroid-0", "centroid_x": "centroid-1",
    "bbox_min_y": "bbox-0", "bbox_min_x": "bbox-1", "bbox_max_y": "bbox-2",
    "bbox_max_x": "bbox-3", "perimeter": "perimeter",
    "equivalent_diameter_area": "equivalent_diameter_area",
    "axis_major_length": "axis_major_length", "axis_minor_length": "axis_minor_length",
    "orientation": "orientation", "eccentricity": "eccentricity", "solidity": "solidity",
    "extent": "extent", "area_convex": "area_convex", "intensity_mean": "intensity_mean",
    "intensity_sum": "intensity_sum", "intensity_min": "intensity_min",
    "intensity_max": "intensity_max",
}
_PROPERTIES = ("label", "area", "centroid", "bbox", "perimeter", "equivalent_diameter_area",
               "axis_major_length", "axis_minor_length", "orientation", "eccentricity",
               "solidity", "extent", "area_convex")
_INTENSITY_PROPERTIES = ("intensity_mean", "intensity_sum", "intensity_min", "intensity_max")


def measure(labels: np.ndarray, image: np.ndarray | None = None, *,
            pixel_size: float | None = None, as_frame: bool | None = None) -> Any:
    """Measure every labelled nucleus: size, position, shape and intensity.

    Parameters
    ----------
    labels : (M, N) array of non-negative integers (or bool)
        Label image: 0 is background, every positive value one object.
        Labels need not be consecutive; a bool array is one object, label 1.
    image : (M, N) array, optional
        Intensity image (bool, integer or float) of the same shape as
        `labels`. Without it the intensity columns are NaN.
    pixel_size : float, optional
        Micrometres per pixel. When given, every length and area column gets
        a micrometre twin (``MICROMETRE_COLUMNS``): ``area_um2 = area x
        pixel_size**2``, ``perimeter_um = perimeter x pixel_size``, ...
    as_frame : bool or None, optional
        True returns a pandas DataFrame, False a dict of 1-D numpy arrays.
        None (default) returns a DataFrame if pandas is installed.

    Returns
    -------
    table : pandas.DataFrame or dict of str to ndarray
        One row per label present, in increasing label order, with the
        columns of ``MEASURE_COLUMNS`` (then the micrometre columns), whose
        units and meanings ``COLUMNS`` gives. Names are scikit-image's where
        it has the quantity (``intensity_mean``, ``equivalent_diameter_area``,
        ``axis_major_length``...), and values equal its ``regionprops``.

    See Also
    --------
    karyo.regionprops.regionprops_table : the library table this is built on.
    karyo.nuclei.evaluate : score a segmentation against a reference.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.measure import measure
    >>> labels = np.zeros((6, 8), np.uint8)
    >>> labels[1:4, 1:4] = 1
    >>> labels[2:6, 5:8] = 7
    >>> table = measure(labels, labels * 10, pixel_size=0.5, as_frame=False)
    >>> table["label"].tolist(), table["area"].tolist(), table["area_um2"].tolist()
    ([1, 7], [9, 12], [2.25, 3.0])
    >>> table["centroid_y"].tolist(), table["intensity_mean"].tolist()
    ([2.0, 3.5], [10.0, 70.0])
    >>> table["touches_border"].tolist()
    [False, True]
    """
    labels = as_array(labels, _FNAME, "labels", min_ndim=2, max_ndim=2, kinds="bui")
    if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
        raise ValueError(f"karyo.{_FNAME}: `labels` has negative values (minimum "
                         f"{labels.min()}); expected 0 for background and positive labels")
    if image is not None:
        image = as_array(image, _FNAME, "image", min_ndim=2, max_ndim=2)
        if image.shape != labels.shape:
            raise ValueError(f"karyo.{_FNAME}: `image` has shape {image.shape}; expected "
                             f"the shape of `labels`, {labels.shape}")
    pixel_size = check_pixel_size(pixel_size, _FNAME)
    if as_frame is not None and not isinstance(as_frame, (bool, np.bool_)):
        raise TypeError(f"karyo.{_FNAME}: `as_frame` must be True, False or None, "
                        f"got {as_frame!r}")

    properties = _PROPERTIES + (_INTENSITY_PROPERTIES if image is not None else ())
    table = regionprops_table(labels, image, properties)
    columns: dict[str, np.ndarray] = {}
    for name in MEASURE_COLUMNS:
        if name in _FROM_REGIONPROPS and _FROM_REGIONPROPS[name] in table:
            columns[name] = table[_FROM_REGIONPROPS[name]]
        elif name in _INTENSITY_PROPERTIES:
            columns[name] = np.full(len(table["label"]), np.nan)
    height, width = labels.shape
    columns["touches_border"] = ((columns["bbox_min_y"] == 0) | (columns["bbox_min_x"] == 0)
                                 | (columns["bbox_max_y"] == height)
                                 | (columns["bbox_max_x"] == width))
    if pixel_size is not None:
        for name, (source, power) in MICROMETRE_COLUMNS.items():
            columns[name] = columns[source] * pixel_size ** power
    return _as_table(columns, as_frame)


def check_pixel_size(pixel_size, fname: str) -> float | None:
    """`pixel_size` as a positive finite float (or None), else an error naming it."""
    if pixel_size is None:
        return None
    if isinstance(pixel_size, (bool, np.bool_)) or not isinstance(
            pixel_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"karyo.{fname}: `pixel_size` must be a number of micrometres per "
                        f"pixel, got {pixel_size!r}")
    if not math.isfinite(pixel_size) or pixel_size <= 0:
        raise ValueError(f"karyo.{fname}: `pixel_size` must be a positive number of "
                         f"micrometres per pixel, got {pixel_size!r}")
    return float(pixel_size)


def format_columns(names=None) -> str:
    """The data dictionary as aligned text: one line per column (name, unit, meaning).

    Examples
    --------
    >>> print(format_columns(["label", "area_um2"]))
    label                                the nucleus's value in STEM_labels.tif (1, 2, ...)
    area_um2                  [um^2]     area x pixel_size^2
    """
    names = list(COLUMNS) if names is None else list(names)
    lines = []
    for name in names:
        unit, meaning = COLUMNS[name]
        lines.append(f"{name:<26}{f'[{unit}]' if unit else '':<11}{meaning}".rstrip())
    return "\n".join(lines)


def _as_table(columns: dict[str, np.ndarray], as_frame: bool | None) -> Any:
    if as_frame is False:
        return columns
    try:
        import pandas
    except ImportError:
        if as_frame:
            raise ImportError(f"karyo.{_FNAME}: `as_frame=True` needs pandas, which is not "
                              "installed; pass as_frame=False for a dict of arrays") from None
        return columns
    return pandas.DataFrame(columns)
