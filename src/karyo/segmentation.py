"""Segmentation by nearest labelled pixel: the generalised Voronoi diagram."""

from __future__ import annotations

import numpy as np

from . import _distance
from .internal import as_array, in_threads, strips

__all__ = ["gvoronoi"]

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
