"""Distance transforms: how far each foreground pixel lies from the background."""

from __future__ import annotations

import numpy as np

from . import _distance
from .internal import as_array, in_threads, strips

__all__ = ["distance"]

_METRICS = ("euclidean2", "euclidean")
# the 2-D kernels count rows in int32 with 2**30 meaning "no background"
_MAX_ROWS_2D = 1 << 30


def distance(bw: np.ndarray, metric: str = "euclidean2") -> np.ndarray:
    """Euclidean distance from each foreground pixel to the nearest background pixel.

    ``dmap[p] = min { |p - p'|**2 : bw[p'] == 0 }``, in any number of
    dimensions; background pixels get 0.

    Parameters
    ----------
    bw : ndarray
        Binary image, at least 1-D. Nonzero pixels are the foreground, zero
        pixels the background (so a label image can be passed as it is).
        Boolean, integer or floating point.
    metric : {'euclidean2', 'euclidean'}, optional
        'euclidean2' (default) returns squared distances, which are whole
        numbers; 'euclidean' returns their square root.

    Returns
    -------
    dmap : ndarray of float64
        Distance map, the shape of `bw`. If `bw` has no background pixel at
        all, every pixel is infinitely far from it: `dmap` is ``inf``
        everywhere. An empty (0-size) `bw` gives an empty `dmap`.

    See Also
    --------
    karyo.segmentation.gvoronoi : label of the nearest labelled pixel.
    scipy.ndimage.distance_transform_edt : the same distances, unsquared.

    Notes
    -----
    Exact Euclidean distance transform by separable passes (Felzenszwalb and
    Huttenlocher): a pair of linear sweeps along the first axis finds each
    pixel's nearest background pixel in its column; each further axis then
    takes, along every line, the lower envelope of the parabolas
    ``f[v] + (q - v)**2``, in linear time per line. Squared distances are
    computed exactly.

    mahotas returns a large finite number (it depends on the shape) where
    there is no background and fails on empty input; its 1-D and 3-D
    results are capped by that number on elongated images. karyo returns
    ``inf`` and exact distances instead.

    References
    ----------
    P. F. Felzenszwalb and D. P. Huttenlocher, "Distance Transforms of
    Sampled Functions", Theory of Computing 8(19):415-428, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.distance import distance
    >>> bw = np.array([[0, 1, 1, 1, 1]], dtype=bool)
    >>> distance(bw)
    array([[ 0.,  1.,  4.,  9., 16.]])
    >>> distance(bw, metric='euclidean')
    array([[0., 1., 2., 3., 4.]])
    """
    fname = "distance"
    if not isinstance(metric, str) or metric not in _METRICS:
        raise ValueError(f"karyo.{fname}: `metric` must be 'euclidean2' or 'euclidean', "
                         f"got {metric!r}")
    bw = as_array(bw, fname, "bw")
    sqdist = np.empty(bw.shape, np.float64)
    take_root = metric == "euclidean"
    if bw.size == 0:
        return sqdist
    if bw.ndim == 2 and bw.shape[0] < _MAX_ROWS_2D:
        # columns, then rows, each pass shared between threads by strips
        foreground = _foreground_bytes(bw).reshape(bw.shape)
        column_dist = np.empty(bw.shape, np.int32)
        in_threads(lambda start, stop: _distance.edt_2d_columns(foreground, column_dist, start,
                                                                stop),
                   strips(bw.shape[1]), bw.size)
        in_threads(lambda start, stop: _distance.edt_2d_rows(column_dist, sqdist, take_root,
                                                             start, stop),
                   strips(bw.shape[0]), bw.size)
        return sqdist
    _distance.squared_edt(_foreground_bytes(bw), np.array(bw.shape, np.int64),
                          sqdist.reshape(-1))
    if take_root:
        np.sqrt(sqdist, out=sqdist)
    return sqdist


def _foreground_bytes(bw: np.ndarray) -> np.ndarray:
    """`bw != 0` as a flat C-contiguous uint8 array (a view when `bw` already is one)."""
    if bw.dtype == np.bool_:
        return np.ascontiguousarray(bw).reshape(-1).view(np.uint8)
    return (bw != 0).reshape(-1).view(np.uint8)
