"""Segmentation by nearest labelled pixel: the generalised Voronoi diagram."""

from __future__ import annotations

import numbers

import numpy as np

from . import _distance, _slic
from .internal import as_array, in_threads, strips

__all__ = ["gvoronoi", "slic"]

# labels are copied as raw bits, so any dtype maps to the unsigned one of its size
_BITS_BY_ITEMSIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _fits_2d_kernel(shape: tuple[int, ...]) -> bool:
    # the 2-D kernel counts rows in int32 from 2**30, which means "none", and
    # compares the fractions where parabolas cross by 64-bit products
    if len(shape) != 2:
        return False
    rows, cols = shape
    return rows < 1 << 29 and (rows**2 + cols**2) * 2 * cols < 1 << 62


def gvoronoi(labeled: np.ndarray) -> np.ndarray:
    """Generalised Voronoi diagram: each pixel gets the label of the nearest labelled pixel.

    Parameters
    ----------
    labeled : ndarray
        Label image, at least 1-D, such as returned by ``karyo.label``:
        0 is unlabelled, any other value a label. Boolean, integer or
        floating point.

    Returns
    -------
    segmented : ndarray
        Same shape and dtype as `labeled` (C-contiguous): ``segmented[p]`` is
        ``labeled[p']`` for the labelled pixel ``p'`` nearest to ``p`` in
        Euclidean distance. All zeros when nothing is labelled.

    See Also
    --------
    karyo.distance : distance to the nearest background pixel.
    scipy.ndimage.distance_transform_edt : with ``return_indices=True``, the
        nearest pixel itself.

    Notes
    -----
    A nearest-feature transform computed by the separable exact Euclidean
    distance transform of Felzenszwalb and Huttenlocher, which carries, with
    each distance, the position of the pixel it was measured to: linear
    sweeps along the first axis, then the lower envelope of parabolas along
    each further axis. In 2-D, the crossings of parabolas are compared as
    exact integer fractions, with no division, and each winning label is
    read once and written over its whole span of the row.

    Where several labelled pixels are equally near, the winner is the one
    with the smallest index along the last axis, then along the previous
    axes, which is mahotas's rule: the result equals mahotas's everywhere in
    2-D. mahotas accepts only 2-D images; karyo accepts any number of
    dimensions.

    References
    ----------
    P. F. Felzenszwalb and D. P. Huttenlocher, "Distance Transforms of
    Sampled Functions", Theory of Computing 8(19):415-428, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.segmentation import gvoronoi
    >>> labeled = np.array([[1, 0, 0, 0, 0, 2]])
    >>> gvoronoi(labeled)
    array([[1, 1, 1, 2, 2, 2]])
    """
    fname = "segmentation.gvoronoi"
    labeled = as_array(labeled, fname, "labeled")
    if labeled.size == 0:
        return np.zeros(labeled.shape, labeled.dtype)
    labels = np.ascontiguousarray(labeled)
    bits = _BITS_BY_ITEMSIZE[labels.dtype.itemsize]
    if _fits_2d_kernel(labels.shape):
        if labels.dtype.kind == "f":
            # the kernel tests bits, and -0.0, unlabelled, has a nonzero bit
            labels = np.where(labels == 0, labels.dtype.type(0), labels)
        # the kernel writes every pixel (0 when nothing is labelled)
        segmented = np.empty(labels.shape, labels.dtype)
        labels, out = labels.view(bits), segmented.view(bits)
        # The rows of the nearest labelled pixel along columns go in the
        # output itself when its pixels have room for an int32 (in the first
        # columns of its int32 view).
        if labels.itemsize >= 4:
            nearest = out.view(np.int32)
        else:
            nearest = np.empty(labels.shape, np.int32)
        in_threads(lambda start, stop: _distance.voronoi_2d_columns(labels, nearest, start, stop),
                   strips(labels.shape[1]), labels.size)
        in_threads(lambda start, stop: _distance.voronoi_2d_rows(labels, nearest, out, start,
                                                                 stop),
                   strips(labels.shape[0]), labels.size)
        return segmented
    unlabelled = (labels == 0).view(np.uint8)
    segmented = np.zeros(labels.shape, labels.dtype)
    sqdist = np.empty(labels.size, np.float64)
    nearest = np.empty(labels.size, np.int64)
    _distance.nearest_background(unlabelled.reshape(-1), np.array(labels.shape, np.int64),
                                 sqdist, nearest)
    if np.isinf(sqdist[0]):
        # nothing labelled: every pixel stays 0
        return segmented
    _distance.take_labels(labels.reshape(-1).view(bits), nearest,
                          segmented.reshape(-1).view(bits))
    return segmented


# slic's kernel reads these channel dtypes as they are (each converts exactly
# to float32, mahotas's working type); others are converted to float32 first.
_SLIC_CHANNELS = {np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32)}


def _truncated_whole_number(value, name: str, fname: str) -> int:
    """`value` (a finite real number) truncated to an int, as mahotas's C++ does."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"karyo.{fname}: `{name}` must be a whole number, got "
                        f"{type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"karyo.{fname}: `{name}` must be finite, got {value}")
    return int(value)


def slic(array: np.ndarray, spacer: int = 16, m: float = 1.0,
         max_iters: int = 128) -> tuple[np.ndarray, int]:
    """SLIC superpixels: a local k-means over colour and position.

    Parameters
    ----------
    array : ndarray
        Image of shape (rows, cols, 3) (bool, integer or floating point).
        The three channels are used as they are: for the original method,
        convert an RGB image to L*a*b* first (``karyo.colors.rgb2lab``).
    spacer : int, optional
        Distance in pixels between the initial seeds, which sit at
        ``array[spacer//2::spacer, spacer//2::spacer]``. At least 1, and
        ``spacer//2`` must be less than both rows and cols (at least one seed).
    m : float, optional
        Weight of position against colour: the distance is
        ``colour**2 + (m/spacer)**2 * position**2``. Finite, ``|m| < 1e9``.
    max_iters : int, optional
        Largest number of k-means iterations (it stops earlier when no pixel
        changes superpixel). A negative value means 128, as in mahotas.

    Returns
    -------
    segmented : ndarray of int32 (np.intc)
        Shape (rows, cols), the superpixel of every pixel, numbered from 1.
    n_segments : int
        The number of seeds; some numbers may end up with no pixel.

    See Also
    --------
    karyo.colors.rgb2lab : the colour space SLIC was designed for.

    Notes
    -----
    Seeds start on a grid; each iteration assigns every pixel within
    ``2*spacer`` (along each axis) of a centre to the nearest centre, then
    moves each centre to the mean of its pixels. Finally, pixels that are not
    4-connected through their own superpixel to the pixel under its centre
    are given to the first superpixel that reaches them, growing every
    superpixel from its centre in order of squared distance to it.

    The result equals mahotas's exactly: the same float32 arithmetic and
    order of operations, the same truncation of colours and centres to
    integers before squaring (and the same 32-bit wrap-around for colours
    more than 46340 apart), and the same order among equally near pixels in
    the final growth (that of libstdc++'s ``std::priority_queue``). mahotas
    crashes when ``spacer//2`` places no seed in the image and returns
    undefined labels for ``max_iters=0``; karyo raises ValueError.

    References
    ----------
    R. Achanta, A. Shaji, K. Smith, A. Lucchi, P. Fua and S. Susstrunk,
    "SLIC Superpixels Compared to State-of-the-art Superpixel Methods",
    IEEE TPAMI 34(11):2274-2282, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.segmentation import slic
    >>> image = np.zeros((4, 6, 3), np.uint8)
    >>> image[:, 3:] = 200
    >>> segmented, n = slic(image, spacer=3)
    >>> n
    2
    >>> segmented
    array([[1, 1, 1, 2, 2, 2],
           [1, 1, 1, 2, 2, 2],
           [1, 1, 1, 2, 2, 2],
           [1, 1, 1, 2, 2, 2]], dtype=int32)
    """
    fname = "segmentation.slic"
    array = as_array(array, fname, "array", min_ndim=3, max_ndim=3)
    if array.shape[2] != 3:
        raise ValueError(f"karyo.{fname}: `array` has shape {array.shape}; expected "
                         "(rows, cols, 3), three channels such as L*a*b*")
    spacer = _truncated_whole_number(spacer, "spacer", fname)
    if not 1 <= spacer <= 46340:
        # 46340**2 is the largest square in mahotas's 32-bit int
        raise ValueError(f"karyo.{fname}: `spacer` must be between 1 and 46340, got {spacer}")
    if not isinstance(m, numbers.Real):
        raise TypeError(f"karyo.{fname}: `m` must be a real number, got {type(m).__name__}")
    if not abs(float(m)) < 1e9:
        raise ValueError(f"karyo.{fname}: `m` must be finite with |m| < 1e9, got {m}")
    max_iters = _truncated_whole_number(max_iters, "max_iters", fname)
    if max_iters == 0:
        raise ValueError(f"karyo.{fname}: `max_iters` must be at least 1 (or negative for "
                         "the default 128), got 0")
    max_iters = 128 if max_iters < 0 else min(max_iters, 2**31 - 1)
    rows, cols = array.shape[:2]
    segmented = np.zeros((rows, cols), np.intc)
    if rows == 0 or cols == 0:
        return segmented, 0
    if spacer // 2 >= min(rows, cols):
        raise ValueError(f"karyo.{fname}: `spacer`={spacer} places no seed in an image of "
                         f"{rows}x{cols} pixels (seeds start at spacer//2 = {spacer // 2} on "
                         f"each axis); use spacer <= {2 * min(rows, cols) - 1}")
    if rows * cols >= 2**31:
        raise ValueError(f"karyo.{fname}: `array` has {rows * cols} pixels; at most 2**31 - 1 "
                         "are supported (mahotas's 32-bit pixel index)")
    if array.dtype.kind == "b":
        array = array.view(np.uint8)
    elif array.dtype not in _SLIC_CHANNELS:
        array = array.astype(np.float32)
    image = np.ascontiguousarray(array)
    n = rows * cols
    colour = np.empty((3, n), np.int32)
    _slic.truncated_channels(image, colour)
    if max(int(colour.max()), 0) - min(int(colour.min()), 0) <= 2364 and spacer <= 1446:
        # every sum of squares stays below 2**24: exact, and faster, in float32
        colour = colour.astype(np.float32)
    half = spacer // 2
    seed_rows, seed_cols = np.meshgrid(np.arange(half, rows, spacer),
                                       np.arange(half, cols, spacer), indexing="ij")
    centroids = np.empty((seed_rows.size, 5), np.float32)
    centroids[:, :3] = image[seed_rows.ravel(), seed_cols.ravel()]
    centroids[:, 3] = seed_rows.ravel()
    centroids[:, 4] = seed_cols.ravel()
    counts = np.empty(len(centroids), np.int32)
    distance = np.empty(n, np.float32)
    # -1 until a window reaches the pixel (with a seed in the image, all do
    # in the first iteration); labels start at -2, so the first always changes
    assigned = np.full(n, -1, np.int32)
    labels = segmented.reshape(-1)
    labels.fill(-2)
    weight = _slic.distance_weight(float(m), spacer)
    chunks = [(colour, centroids, distance, assigned, rows, cols, spacer, weight, start, stop)
              for start, stop in strips(rows)]
    # each pixel is compared with about 16 centroids
    work = 16 * n
    # threads move disjoint ranges of centroids, each summing in raster order
    movers = [(image, labels, centroids, counts, first, stop)
              for first, stop in strips(len(centroids))]
    for _ in range(max_iters):
        in_threads(_slic.assign, chunks, work)
        if not _slic.copy_if_changed(assigned, labels):
            break
        in_threads(_slic.move_centroids, movers, n)
    _slic.enforce_connectivity(segmented, centroids)
    return segmented, len(centroids)
