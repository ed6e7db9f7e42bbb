"""Labelled images: connected components and per-region measurements.

The same functions, arguments and defaults as ``mahotas.labeled``. A labelled
image is an integer array where 0 is the background and each other value
names one region. ``label`` builds one from a binary image; the rest measure
(``labeled_size``, ``labeled_sum``, ``labeled_max``, ``labeled_min``,
``bbox``, ``perimeter``), edit (``relabel``, ``remove_regions``,
``remove_bordering``, ``filter_labeled``) or outline (``border``,
``borders``, ``bwperim``) one.
"""

from __future__ import annotations

import numpy as np

from . import _label
from .internal import (
    INTEGER_KINDS,
    PERIMETER_CODE_VALUES,
    as_array,
    as_lines,
    as_structuring_element,
    count_in_blocks,
    get_output,
    line_coordinates,
    neighbour_offsets,
    odd_sized,
    pixel_view,
)
from .morph import get_structuring_elem  # noqa: F401 (mahotas.labeled exposes it)

__all__ = [
    "bbox",
    "border",
    "borders",
    "bwperim",
    "filter_labeled",
    "is_same_labeling",
    "label",
    "labeled_max",
    "labeled_min",
    "labeled_size",
    "labeled_sum",
    "perimeter",
    "relabel",
    "remove_bordering",
    "remove_regions",
    "remove_regions_where",
]

_INT32_MAX = np.iinfo(np.int32).max
_MODES = ("nearest", "wrap", "reflect", "mirror", "constant", "ignore")
# mahotas's border modes as numpy.pad modes ('constant' and 'ignore' leave
# out-of-image neighbours out instead of padding)
_PAD_MODES = {"nearest": "edge", "wrap": "wrap", "reflect": "symmetric", "mirror": "reflect"}
_VALUE_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.uint32,
                                                  np.int32, np.uint64, np.int64, np.float32,
                                                  np.float64))


def label(array: np.ndarray, Bc=None, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Label the connected components of the nonzero pixels of `array`.

    Parameters
    ----------
    array : ndarray
        Image of any number of dimensions; bool, integer or float. Nonzero
        pixels are foreground.
    Bc : None, int or ndarray, optional
        Structuring element defining connectivity (default: the cross, i.e.
        4-connectivity in 2-D). An int is a neighbour count (4, 8; 6, 18, 26)
        or a city-block radius; an array is centred at ``shape // 2`` (also
        for an even size, as in mahotas). Connectivity is
        symmetric: ``q`` neighbours ``p`` if ``q - p`` or ``p - q`` is an
        offset of `Bc`.
    out : ndarray, optional
        C-contiguous int32 array of ``array.shape`` to write into.

    Returns
    -------
    labeled : ndarray of int32
        0 on the background; 1..`nr_objects` on the components, numbered in
        raster (C) order of each component's first pixel, as
        ``scipy.ndimage.label`` and ``mahotas.label`` number them.
    nr_objects : int
        The number of components (int32 holds up to 2**31 - 1).

    See Also
    --------
    relabel : renumber a labelled image to 1..n.
    labeled_size : the number of pixels of each label.

    Notes
    -----
    Two raster passes with a union-find table (Wu, Otoo & Suzuki 2009): the
    first gives each pixel a provisional label from its visited neighbours and
    records equivalences, the second writes the flattened final labels. Both
    work on runs of foreground along the last axis (He, Chao & Suzuki 2008):
    a run takes the label of the first run it touches in the neighbouring
    lines already visited and merges the others, and the output is written
    once, run by run. 2-D 4- and 8-connectivity have a specialised scan;
    other elements and dimensions use the same scan over a list of
    neighbour offsets.

    Unlike mahotas, pixels beyond the edge of the image are never neighbours
    (mahotas replicates the edge pixel, which can join pixels that `Bc` does
    not connect when `Bc` has holes).

    References
    ----------
    .. [1] K. Wu, E. Otoo, K. Suzuki, "Optimizing two-pass connected-component
       labeling algorithms", Pattern Anal. Appl. 12 (2009) 117-135.
    .. [2] L. He, Y. Chao, K. Suzuki, "A run-based two-scan labeling algorithm",
       IEEE Trans. Image Processing 17 (2008) 749-756.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> image = np.array([[1, 1, 0, 0],
    ...                   [0, 0, 0, 1],
    ...                   [1, 0, 1, 1]], dtype=bool)
    >>> labeled, n = mh.labeled.label(image)
    >>> n
    3
    >>> labeled
    array([[1, 1, 0, 0],
           [0, 0, 0, 2],
           [3, 0, 2, 2]], dtype=int32)
    """
    array = as_array(array, "label")
    element = as_structuring_element(Bc, array.ndim, "label")
    labeled = get_output(array, out, "label", np.int32)
    if array.size == 0:
        return labeled, 0
    # connectivity is symmetric; the centre is not a neighbour
    element = odd_sized(element)
    element = element | element[(slice(None, None, -1),) * array.ndim]
    element[tuple(s // 2 for s in element.shape)] = False
    fast_2d = _fast_2d_connectivity(element)
    if fast_2d is not None:
        image = array if array.ndim == 2 else array.reshape(1, -1)
        rows, cols = image.shape
        parent = np.empty(min(rows * ((cols + 1) // 2), _INT32_MAX) + 1, np.int32)
        count = _label.label_2d(pixel_view(image), labeled.reshape(rows, cols), parent,
                                fast_2d)
    else:
        offsets = neighbour_offsets(element)
        # the neighbours visited before a pixel: first nonzero coordinate < 0
        first_nonzero = np.argmax(offsets != 0, axis=1)
        before = offsets[np.arange(len(offsets)), first_nonzero] < 0
        offsets = np.ascontiguousarray(offsets[before], dtype=np.intp)
        # runs along the last axis are connected pieces only if the element
        # joins horizontal neighbours; otherwise each pixel is its own run
        runs_connected = bool(element[tuple(s // 2 for s in element.shape[:-1])
                                      + (element.shape[-1] // 2 - 1,)]
                              if element.shape[-1] > 1 else False)
        image = as_lines(array)
        lines, cols = image.shape
        most_runs = lines * ((cols + 1) // 2 if runs_connected else cols)
        parent = np.empty(min(most_runs, _INT32_MAX) + 1, np.int32)
        count = _label.label_nd(pixel_view(image), labeled.reshape(lines, cols),
                                np.array(array.shape, np.intp), offsets, parent,
                                runs_connected)
    if count < 0:
        raise ValueError(f"karyo.label: `array` has more than {_INT32_MAX} separate pieces of "
                         "foreground; int32 labels cannot number them")
    return labeled, int(count)


def _fast_2d_connectivity(element: np.ndarray):
    """False for the 4-connected cross, True for the 8-connected square, else None."""
    if element.ndim == 1:
        return False if element.shape == (3,) and element[0] else None
    if element.ndim != 2 or element.shape != (3, 3):
        return None
    if element[0, 1] and element[1, 0] and not element[0, 0] and not element[0, 2]:
        return False
    if element[0, 1] and element[1, 0] and element[0, 0] and element[0, 2]:
        return True
    return None


def _as_labels(labeled, fname: str, name: str = "labeled") -> np.ndarray:
    """An integer label image as int32 or int64 (the kernels' label types).

    Unsigned labels are viewed as signed of the same size, which is how
    mahotas reads them (it casts to C int).
    """
    labeled = as_array(labeled, fname, name, kinds=INTEGER_KINDS)
    if labeled.dtype in (np.int32, np.int64):
        return labeled
    if labeled.dtype.itemsize >= 4 and labeled.dtype.kind == "u":
        return labeled.view(np.int32 if labeled.dtype.itemsize == 4 else np.int64)
    return labeled.astype(np.int32)


def _as_values(array, labeled: np.ndarray, fname: str) -> np.ndarray:
    array = as_array(array, fname, "array", min_ndim=0)
    if array.shape != labeled.shape:
        raise ValueError(f"karyo.{fname}: `array` has shape {array.shape} but `labeled` has "
                         f"shape {labeled.shape}; expected the same shape")
    return array


def _label_count(labeled: np.ndarray, minlength=None) -> int:
    """The length of a per-label result: max label + 1 (at least 1 and `minlength`)."""
    top = int(labeled.max()) + 1 if labeled.size else 1
    if minlength is not None:
        top = max(top, int(minlength))
    return max(top, 0)


def labeled_size(labeled: np.ndarray) -> np.ndarray:
    """Number of pixels of each label.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image (any shape); labels must not be negative.

    Returns
    -------
    sizes : ndarray of uint32 (uint64 for 2**32 pixels or more)
        ``sizes[i] == np.sum(labeled == i)`` for ``i`` in ``0..labeled.max()``.

    See Also
    --------
    labeled_sum : the sum of an image's values in each region.

    Notes
    -----
    One pass over the pixels, counting into a table indexed by label (a
    histogram). An empty `labeled` gives ``[0]``; mahotas raises there, and
    it reads negative labels as huge unsigned ones, where karyo raises
    ValueError.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.labeled_size(np.array([[0, 1, 1], [2, 2, 2]]))
    array([1, 2, 3], dtype=uint32)
    """
    labels = _as_labels(labeled, "labeled_size")
    if labels.size == 0:
        return np.zeros(_label_count(labels), np.uint32)
    if labels.min() < 0:
        raise ValueError("karyo.labeled_size: `labeled` has negative labels; expected labels "
                         ">= 0 (0 is the background)")
    return count_in_blocks(_label.labeled_count, as_lines(labels), _label_count(labels))


def _reduce(array, labeled, fname: str, kind: str, minlength=None) -> np.ndarray:
    """Shared body of labeled_sum/max/min: one pass, result of ``array.dtype``."""
    labels = _as_labels(labeled, fname)
    values = _as_values(array, labels, fname)
    dtype = values.dtype
    result = np.zeros(_label_count(labels, minlength), dtype)
    if dtype == np.bool_:
        # a sum of booleans is their logical or, as in mahotas: the max of 0/1
        compute_dtype, kind = np.dtype(np.uint8), ("min" if kind == "min" else "max")
        values = values.view(np.uint8)
    elif dtype not in _VALUE_DTYPES:  # float16, longdouble: compute in float64
        compute_dtype = np.dtype(np.float64)
        values = values.astype(compute_dtype)
    else:
        compute_dtype = dtype
    output = np.empty(len(result), compute_dtype)
    if compute_dtype.kind == "f":
        lowest, highest = -np.inf, np.inf
    elif dtype == np.bool_:
        lowest, highest = 0, 1
    else:
        lowest, highest = np.iinfo(compute_dtype).min, np.iinfo(compute_dtype).max
    if labels.size == 0 or values.ndim == 0:
        output.fill({"sum": 0, "max": lowest, "min": highest}[kind])
        if values.ndim == 0 and labels.size:
            raise ValueError(f"karyo.{fname}: `array` is a scalar; expected an image")
    else:
        values2d, labels2d = as_lines(values), as_lines(labels)
        if kind == "sum":
            if compute_dtype.kind == "i":
                # Signed overflow is undefined in C; unsigned sums wrap to the same bits.
                unsigned = np.dtype(f"u{compute_dtype.itemsize}")
                _label.labeled_sum(values2d.view(unsigned), labels2d, output.view(unsigned))
            else:
                _label.labeled_sum(values2d, labels2d, output)
        elif kind == "max":
            _label.labeled_max(values2d, labels2d, output, lowest)
        else:
            _label.labeled_min(values2d, labels2d, output, highest)
    result[...] = output
    return result


def labeled_sum(array: np.ndarray, labeled: np.ndarray, minlength: int | None = None
                ) -> np.ndarray:
    """Sum of the values of `array` in each region of `labeled`.

    Parameters
    ----------
    array : ndarray
        Values (bool, integer or float), the same shape as `labeled`.
    labeled : ndarray of int
        Labelled image; negative labels are ignored.
    minlength : int, optional
        Minimum length of the result (pads with zeros).

    Returns
    -------
    sums : ndarray of ``array.dtype``
        ``sums[i] == np.sum(array[labeled == i])`` for ``i`` in
        ``0..labeled.max()``, computed in ``array.dtype`` as mahotas does
        (integers wrap around on overflow; for bool the sum is a logical or).

    See Also
    --------
    labeled_size, labeled_max, labeled_min

    Notes
    -----
    One pass over the pixels accumulating into a table indexed by label, like
    ``numpy.bincount`` with weights but in the input's own dtype. float16
    values are summed in float64 and rounded back.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.labeled_sum(np.array([1., 2., 3., 4.]), np.array([0, 1, 1, 2]))
    array([1., 5., 4.])
    """
    return _reduce(array, labeled, "labeled_sum", "sum", minlength)


def labeled_max(array: np.ndarray, labeled: np.ndarray) -> np.ndarray:
    """Maximum of the values of `array` in each region of `labeled`.

    Parameters
    ----------
    array : ndarray
        Values (bool, integer or float), the same shape as `labeled`.
    labeled : ndarray of int
        Labelled image; negative labels are ignored.

    Returns
    -------
    maxs : ndarray of ``array.dtype``
        ``maxs[i] == array[labeled == i].max()`` for ``i`` in
        ``0..labeled.max()``; a label with no pixel gets the lowest value of
        the dtype (-inf for floats).

    See Also
    --------
    labeled_min, labeled_sum

    Notes
    -----
    One pass over the pixels. Where mahotas starts float maxima at the
    smallest positive float, and so reports it for regions whose values are
    all negative, karyo starts at -inf and reports the true maximum.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.labeled_max(np.array([5, 2, 3, 4]), np.array([0, 1, 1, 2]))
    array([5, 3, 4])
    """
    return _reduce(array, labeled, "labeled_max", "max")


def labeled_min(array: np.ndarray, labeled: np.ndarray) -> np.ndarray:
    """Minimum of the values of `array` in each region of `labeled`.

    Parameters
    ----------
    array : ndarray
        Values (bool, integer or float), the same shape as `labeled`.
    labeled : ndarray of int
        Labelled image; negative labels are ignored.

    Returns
    -------
    mins : ndarray of ``array.dtype``
        ``mins[i] == array[labeled == i].min()`` for ``i`` in
        ``0..labeled.max()``; a label with no pixel gets the highest value of
        the dtype (+inf for floats, where mahotas gives the largest float).

    See Also
    --------
    labeled_max, labeled_sum

    Notes
    -----
    One pass over the pixels, keeping a running minimum per label.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.labeled_min(np.array([5, 2, 3, 4]), np.array([0, 1, 1, 2]))
    array([5, 2, 4])
    """
    return _reduce(array, labeled, "labeled_min", "min")


def bbox(f: np.ndarray, as_slice: bool = False):
    """Bounding box of each label of a labelled image.

    Parameters
    ----------
    f : ndarray of int
        Labelled image; negative labels are ignored.
    as_slice : bool, optional
        Return a list of tuples of slices instead of coordinates.

    Returns
    -------
    bboxes : ndarray of intp, shape ``(f.max() + 1, 2 * f.ndim)``
        ``bboxes[i]`` is ``(min_0, max_0, min_1, max_1, ...)`` (max excluded)
        for ``f == i``; all zeros for a label with no pixel.

    See Also
    --------
    karyo.bbox.bbox : the bounding box of the nonzero pixels of an image.

    Notes
    -----
    One raster pass updating a table of per-label extents.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.bbox(np.array([[0, 1, 1], [0, 0, 2]]))
    array([[0, 2, 0, 2],
           [0, 1, 1, 3],
           [1, 2, 2, 3]])
    """
    labels = _as_labels(f, "labeled.bbox", "f")
    boxes = np.zeros((_label_count(labels), 2 * labels.ndim), np.intp)
    if labels.size:
        _label.labeled_bbox(as_lines(labels), line_coordinates(labels.shape), boxes)
    if as_slice:
        return [tuple(slice(start, stop) for start, stop in box.reshape(-1, 2)) for box in boxes]
    return boxes


def _as_editable_labels(labeled, fname: str, inplace: bool) -> np.ndarray:
    """mahotas's rule: a new int32 copy, or (inplace) `labeled` itself if C int32."""
    if inplace:
        if not (isinstance(labeled, np.ndarray) and labeled.dtype == np.int32
                and labeled.flags.c_contiguous and labeled.flags.writeable):
            raise ValueError(f"karyo.{fname}: with inplace=True, `labeled` must be a writeable "
                             "C-contiguous int32 array")
        return labeled
    labeled = as_array(labeled, fname, "labeled", min_ndim=0, kinds=INTEGER_KINDS)
    return np.array(labeled, dtype=np.int32, order="C")


def relabel(labeled: np.ndarray, inplace: bool = False) -> tuple[np.ndarray, int]:
    """Renumber the labels of `labeled` to 1..n, keeping 0 as background.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    inplace : bool, optional
        Overwrite `labeled` (which must then be C-contiguous int32).

    Returns
    -------
    relabeled : ndarray of int32
        Labels numbered in raster order of their first pixel.
    nr_objs : int
        The number of labels other than 0.

    See Also
    --------
    label, remove_regions

    Notes
    -----
    One pass with a lookup table indexed by label when labels are
    nonnegative and not much larger than the image; otherwise the labels are
    first made dense with ``numpy.unique``.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.relabel(np.array([5, 0, 3, 5, 7]))
    (array([1, 0, 2, 1, 3], dtype=int32), 3)
    """
    relabeled = _as_editable_labels(labeled, "relabel", inplace)
    if relabeled.size == 0:
        return relabeled, 0
    flat = relabeled.reshape(-1)
    low, high = int(flat.min()), int(flat.max())
    if low >= 0 and high <= 4 * flat.size + 1024:
        table = np.full(high + 1, -1, np.int32)
        count = _label.relabel_dense(flat, table)
    else:
        values, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        new_labels = np.zeros(len(values), np.int32)
        objects = values != 0
        count = int(objects.sum())
        new_labels[np.flatnonzero(objects)[np.argsort(first[objects])]] = \
            np.arange(1, count + 1, dtype=np.int32)
        flat[...] = new_labels[inverse.reshape(-1)]
    return relabeled, int(count)


def _dense_labels(labels: np.ndarray) -> np.ndarray:
    """Flat labels as small nonnegative table indices, 0 staying 0."""
    if labels.size == 0 or (labels.min() >= 0 and labels.max() <= 4 * labels.size + 1024):
        return labels
    inverse = np.unique(labels, return_inverse=True)[1].reshape(-1) + 1
    inverse[labels == 0] = 0
    return inverse


def is_same_labeling(labeled0: np.ndarray, labeled1: np.ndarray) -> bool:
    """Whether two labelled images are the same up to renaming the labels.

    Parameters
    ----------
    labeled0, labeled1 : ndarray of int
        Labelled images of the same shape.

    Returns
    -------
    same : bool
        True if a one-to-one map of labels, taking 0 to 0, turns `labeled0`
        into `labeled1`.

    See Also
    --------
    relabel

    Notes
    -----
    Builds the map label0 -> label1 and its reverse with table writes, then
    checks that reading them back reproduces each image.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.is_same_labeling(np.array([0, 1, 1, 2]), np.array([0, 7, 7, 3]))
    True
    """
    first = _as_labels(labeled0, "is_same_labeling", "labeled0")
    second = _as_labels(labeled1, "is_same_labeling", "labeled1")
    if first.shape != second.shape:
        raise ValueError(f"karyo.is_same_labeling: `labeled0` has shape {first.shape} but "
                         f"`labeled1` has shape {second.shape}; expected the same shape")
    first = _dense_labels(np.ascontiguousarray(first).reshape(-1))
    second = _dense_labels(np.ascontiguousarray(second).reshape(-1))
    if first.size == 0:
        return True
    if first.dtype != second.dtype:
        first, second = first.astype(np.int64), second.astype(np.int64)
    forward = np.full(int(first.max()) + 1, -1, np.int64)
    backward = np.full(int(second.max()) + 1, -1, np.int64)
    forward[0] = backward[0] = 0
    return bool(_label.same_labeling(first, second, forward, backward))


def _zero_regions(labels: np.ndarray, regions: np.ndarray, source: np.ndarray | None = None
                  ) -> None:
    """Set to 0, in place, the pixels whose label is one of `regions` (int64, 1-D).

    With `source` (same shape and dtype), first copy it into `labels`: in the
    same pass where the kernel can.
    """
    regions = regions[regions != 0]
    if (source is not None and labels.dtype in (np.int32, np.int64) and labels.size
            and regions.size and labels.flags.c_contiguous and source.dtype == labels.dtype
            and regions.max() <= 4 * labels.size + 1024 and regions.min() > 0):
        remove = np.zeros(int(regions.max()) + 1, np.uint8)
        remove[regions] = 1
        _label.zero_labels(np.ascontiguousarray(source).reshape(-1), labels.reshape(-1), remove)
        return
    if source is not None:
        labels[...] = source
    if labels.size == 0 or regions.size == 0:
        return
    positive, negative = regions[regions > 0], regions[regions < 0]
    if negative.size:
        labels[np.isin(labels, negative)] = 0
    if positive.size == 0:
        return
    if positive.max() > 4 * labels.size + 1024:
        positive = positive[positive <= labels.max()]
        if positive.size == 0:
            return
    if labels.dtype in (np.int32, np.int64) and labels.flags.c_contiguous:
        remove = np.zeros(int(positive.max()) + 1, np.uint8)
        remove[positive] = 1
        _label.zero_labels(labels.reshape(-1), labels.reshape(-1), remove)
    else:
        labels[np.isin(labels, positive)] = 0


def remove_regions(labeled: np.ndarray, regions, inplace: bool = False) -> np.ndarray:
    """Set the pixels of the given regions to 0 (without renumbering the others).

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    regions : sequence of int
        Labels to remove (0 is ignored).
    inplace : bool, optional
        Overwrite `labeled` (which must then be C-contiguous int32).

    Returns
    -------
    removed : ndarray of int32

    See Also
    --------
    relabel : renumber the remaining regions to 1..n.
    remove_regions_where : the same, selecting regions with a boolean array.

    Notes
    -----
    A boolean table indexed by label marks the regions to remove; one
    gather over the pixels applies it.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.remove_regions(np.array([0, 1, 2, 3, 2]), [2])
    array([0, 1, 0, 3, 0], dtype=int32)
    """
    removed = _as_editable_labels(labeled, "remove_regions", inplace)
    regions = np.asarray(regions)
    if regions.size and regions.dtype.kind not in INTEGER_KINDS:
        raise TypeError(f"karyo.remove_regions: `regions` has dtype {regions.dtype}; expected "
                        "integer labels")
    _zero_regions(removed, regions.astype(np.int64).reshape(-1))
    return removed


def remove_regions_where(labeled: np.ndarray, conditions, inplace: bool = False) -> np.ndarray:
    """Remove each region ``i`` for which ``conditions[i]`` is true.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    conditions : 1-D array of bool
        Indexed by label, e.g. ``labeled_size(labeled) < 100``.
    inplace : bool, optional
        Overwrite `labeled` (which must then be C-contiguous int32).

    Returns
    -------
    removed : ndarray of int32

    See Also
    --------
    remove_regions

    Notes
    -----
    The labels are ``np.flatnonzero(conditions)``, removed as in
    ``remove_regions``.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> labeled = np.array([0, 1, 1, 2, 3, 3, 3])
    >>> mh.labeled.remove_regions_where(labeled, mh.labeled.labeled_size(labeled) < 2)
    array([0, 1, 1, 0, 3, 3, 3], dtype=int32)
    """
    conditions = np.asarray(conditions)
    if conditions.ndim != 1:
        raise ValueError("karyo.remove_regions_where: `conditions` must be 1-D (indexed by "
                         f"label), got shape {conditions.shape}")
    return remove_regions(labeled, np.flatnonzero(conditions), inplace=inplace)


def remove_bordering(labeled: np.ndarray, rsize=1, out: np.ndarray | None = None) -> np.ndarray:
    """Remove the regions that come within `rsize` pixels of the image's edge.

    Parameters
    ----------
    labeled : ndarray
        Labelled image: integer labels, or float (or bool) labels compared
        as they are, as in mahotas.
    rsize : int or tuple of int, optional
        Width of the edge band, one value or one per axis (default 1: the
        regions touching the edge).
    out : ndarray, optional
        Where to write the result (same shape and dtype as `labeled`); pass
        `labeled` itself to work in place.

    Returns
    -------
    slabeled : ndarray of ``labeled.dtype``

    See Also
    --------
    filter_labeled, remove_regions

    Notes
    -----
    The labels found in the edge band of each axis are removed from the whole
    image with one table lookup.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.remove_bordering(np.array([[1, 0, 0], [0, 2, 0], [0, 0, 0]]))
    array([[0, 0, 0],
           [0, 2, 0],
           [0, 0, 0]])
    """
    # any numeric labels, as in mahotas: float labels (from an image reader or
    # a division) are compared as they are
    labels = as_array(labeled, "remove_bordering", "labeled")
    if isinstance(rsize, tuple):
        if len(rsize) != labels.ndim:
            raise ValueError(f"karyo.remove_bordering: `rsize` has {len(rsize)} values; "
                             f"expected one per axis ({labels.ndim})")
        widths = rsize
    else:
        widths = (rsize,) * labels.ndim
    if not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in widths):
        raise TypeError(f"karyo.remove_bordering: `rsize` must be an int or a tuple of ints, "
                        f"got {rsize!r}")
    bordering = []
    for axis, width in enumerate(widths):
        for band in (slice(width), slice(labels.shape[axis] - width, None)):
            index = [slice(None)] * labels.ndim
            index[axis] = band
            bordering.append(np.unique(labels[tuple(index)]))
    result = get_output(labels, out, "remove_bordering")
    if labels.dtype.kind in "bf":
        regions = np.unique(np.concatenate(bordering)) if bordering else np.empty(0)
        removed = np.isin(labels, regions[regions != 0])
        if result is not labels:
            result[...] = labels
        result[removed] = 0
        return result
    regions = np.unique(np.concatenate(bordering)).astype(np.int64) if bordering \
        else np.empty(0, np.int64)
    _zero_regions(result, regions, source=None if result is labeled else labels)
    return result


_remove_bordering = remove_bordering


def _shifted_pairs(shape: tuple, offset):
    """Slices (here, there) with there = here + offset, both inside the image."""
    here, there = [], []
    for size, step in zip(shape, offset, strict=True):
        step = int(step)
        here.append(slice(max(0, -step), size - max(0, step)))
        there.append(slice(max(0, step), size + min(0, step)))
    return tuple(here), tuple(there)


def border(labeled: np.ndarray, i: int, j: int, Bc=None, out: np.ndarray | None = None,
           always_return: bool = True):
    """The pixels on the border between regions `i` and `j`.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    i, j : int
        The two labels.
    Bc : None, int or ndarray, optional
        Neighbourhood (default: the cross).
    out : ndarray of bool, optional
        Where to write the result.
    always_return : bool, optional
        If False and no pixel is on the border, return None.

    Returns
    -------
    border_img : ndarray of bool or None
        True at pixels labelled `i` with a neighbour labelled `j`, and at
        pixels labelled `j` with a neighbour labelled `i`.

    See Also
    --------
    borders : the border pixels between any two labels.

    Notes
    -----
    The neighbour at offset ``o`` of ``p`` is ``p + o`` for each nonzero
    element of `Bc` (as in mahotas); pixels beyond the edge are not
    neighbours. One vectorised comparison of shifted views per offset.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.border(np.array([[1, 2, 0], [1, 0, 2]]), 1, 2)
    array([[ True,  True, False],
           [False, False, False]])
    """
    labels = as_array(labeled, "border", "labeled", kinds=INTEGER_KINDS)
    element = as_structuring_element(Bc, labels.ndim, "border")
    result = get_output(labels, out, "border", bool)
    result.fill(False)
    # the labels as the image's dtype, as mahotas casts them
    first = np.array(i).astype(labels.dtype)
    second = np.array(j).astype(labels.dtype)
    is_first, is_second = labels == first, labels == second
    for offset in neighbour_offsets(element, include_centre=True):
        here, there = _shifted_pairs(labels.shape, offset)
        result[here] |= (is_first[here] & is_second[there]) | (is_second[here] & is_first[there])
    if not always_return and not result.any():
        return None
    return result


def borders(labeled: np.ndarray, Bc=None, out: np.ndarray | None = None,
            mode: str = "constant") -> np.ndarray:
    """The pixels with a neighbour of a different label.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    Bc : None, int or ndarray, optional
        Neighbourhood (default: the cross).
    out : ndarray of bool, optional
        Where to write the result.
    mode : {'constant', 'ignore', 'nearest', 'wrap', 'reflect', 'mirror'}, optional
        What lies beyond the edge. 'constant' and 'ignore' (as mahotas
        does for both) leave it out; the others extend the image as in
        ``scipy.ndimage``.

    Returns
    -------
    border_img : ndarray of bool

    See Also
    --------
    border, bwperim

    Notes
    -----
    One vectorised comparison of shifted views per offset of `Bc`; the
    extending modes pad a copy by the radius of `Bc` first.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.borders(np.array([[1, 1, 2, 2]]))
    array([[False,  True,  True, False]])
    """
    labels = as_array(labeled, "borders", "labeled")
    if mode not in _MODES:
        raise ValueError(f"karyo.borders: `mode` is {mode!r}; expected one of {_MODES}")
    element = as_structuring_element(Bc, labels.ndim, "borders")
    result = get_output(labels, out, "borders", bool)
    result.fill(False)
    if labels.size == 0:
        return result
    offsets = neighbour_offsets(element)
    if mode in _PAD_MODES:
        radius = [(s // 2, s // 2) for s in element.shape]
        padded = np.pad(labels, radius, mode=_PAD_MODES[mode])
        inner = tuple(slice(r, r + size) for (r, _), size in zip(radius, labels.shape, strict=True))
        for offset in offsets:
            there = tuple(slice(s.start + int(o), s.stop + int(o))
                          for s, o in zip(inner, offset, strict=True))
            result |= labels != padded[there]
    else:
        for offset in offsets:
            here, there = _shifted_pairs(labels.shape, offset)
            result[here] |= labels[here] != labels[there]
    return result


def bwperim(bw: np.ndarray, n: int = 4, mode: str = "constant") -> np.ndarray:
    """The perimeter pixels of the objects in a binary image.

    Parameters
    ----------
    bw : ndarray
        Binary image (nonzero is foreground).
    n : int, optional
        Connectivity, 4 or 8 (default 4).
    mode : str, optional
        What lies beyond the edge, as in `borders` (default 'constant': the
        image edge is not a perimeter by itself).

    Returns
    -------
    perim : ndarray of bool
        Foreground pixels with a background neighbour.

    See Also
    --------
    borders, perimeter

    Notes
    -----
    ``bw & borders(bw, n, mode=mode)``, as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.bwperim(np.pad(np.ones((3, 3), bool), 1)).astype(int)[1:4, 1:4]
    array([[1, 1, 1],
           [1, 0, 1],
           [1, 1, 1]])
    """
    foreground = as_array(bw, "bwperim", "bw") != 0
    return foreground & borders(foreground, n, mode=mode)


# Benkrid & Crookes: each perimeter pixel's 3x3 neighbourhood code, weighted
# by these values, gives its contribution to the perimeter length
_PERIMETER_WEIGHTS = np.array([[10, 2, 10], [2, 1, 2], [10, 2, 10]], np.uint8)


def perimeter(bwimage: np.ndarray, n: int = 4, mode: str = "constant") -> float:
    """Estimated total perimeter length of the objects in a 2-D binary image.

    Parameters
    ----------
    bwimage : ndarray
        2-D binary image.
    n : int, optional
        Connectivity of the perimeter pixels, passed to `bwperim`.
    mode : str, optional
        Passed to `bwperim`.

    Returns
    -------
    p : float

    See Also
    --------
    bwperim

    Notes
    -----
    Each perimeter pixel is classified by its 3x3 neighbourhood of perimeter
    pixels (weights 1, 2 on edges, 10 on corners, the image extended by
    reflection) and contributes 1, sqrt(2) or (1 + sqrt(2)) / 2.

    References
    ----------
    .. [1] K. Benkrid, D. Crookes, "Design and FPGA implementation of a
       perimeter estimator", Queen's University of Belfast.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> float(mh.labeled.perimeter(np.pad(np.ones((3, 3), bool), 2)))
    8.0
    """
    image = as_array(bwimage, "perimeter", "bwimage", min_ndim=2, max_ndim=2)
    perim = bwperim(image, n, mode).view(np.uint8)
    padded = np.pad(perim, 1, mode="symmetric")
    rows, cols = perim.shape
    codes = np.zeros(perim.shape, np.uint8)
    for dy in range(3):
        for dx in range(3):
            codes += padded[dy:dy + rows, dx:dx + cols] * _PERIMETER_WEIGHTS[dy, dx]
    histogram = np.bincount(codes.reshape(-1), minlength=50)
    return float(np.dot(histogram[:50], PERIMETER_CODE_VALUES))


def filter_labeled(labeled: np.ndarray, remove_bordering: bool = False,
                   min_size: int | None = None, max_size: int | None = None
                   ) -> tuple[np.ndarray, int]:
    """Keep only the regions that meet size and border conditions, renumbered.

    Parameters
    ----------
    labeled : ndarray of int
        Labelled image.
    remove_bordering : bool, optional
        Remove the regions touching the image's edge.
    min_size, max_size : int, optional
        Keep regions with at least / at most this many pixels.

    Returns
    -------
    filtered : ndarray of int32
    nr : int
        The number of regions kept.

    See Also
    --------
    remove_bordering, remove_regions, relabel

    Notes
    -----
    ``labeled_size`` measures the regions, ``remove_regions`` drops the
    failing ones and ``relabel`` renumbers the rest, as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo as mh
    >>> mh.labeled.filter_labeled(np.array([[1, 0, 2, 2], [0, 0, 2, 0]]), min_size=2)
    (array([[0, 0, 1, 1],
           [0, 0, 1, 0]], dtype=int32), 1)
    """
    filtered = _as_editable_labels(labeled, "filter_labeled", inplace=False)
    if remove_bordering:
        filtered, count = relabel(_remove_bordering(filtered), inplace=True)
    else:
        count = int(filtered.max()) if filtered.size else 0
    to_keep = np.ones(count + 1, bool)
    if min_size is not None or max_size is not None:
        sizes = labeled_size(filtered)
        if min_size:
            to_keep &= sizes >= min_size
        if max_size:
            to_keep &= sizes <= max_size
    to_keep[0] = True
    filtered = remove_regions(filtered, np.flatnonzero(~to_keep), inplace=True)
    return relabel(filtered, inplace=True)
