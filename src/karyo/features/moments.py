"""Raw and central image moments of a 2-D image."""

from __future__ import annotations

import numpy as np

from ..internal import as_array

__all__ = ["moments"]


def moments(img: np.ndarray, p0: float, p1: float, cm=None, convert_to_float: bool = True,
            normalize: bool = False, normalise: bool = False):
    """Return the (p0, p1) moment of `img`: ``sum(img[y, x] * y**p0 * x**p1)``.

    Parameters
    ----------
    img : ndarray
        2-D image.
    p0, p1 : number
        Powers of the row and column coordinates.
    cm : pair of float, optional
        Centre: with it, coordinates are taken relative to it (central
        moments).
    convert_to_float : bool, optional
        Compute integer images in float64 (default True).
    normalize, normalise : bool, optional
        Divide each coordinate-power vector by its sum.

    Returns
    -------
    moment : float

    See Also
    --------
    karyo.center_of_mass

    Notes
    -----
    Separable: the image is multiplied by the column powers (a matrix-vector
    product), then by the row powers (Hu, "Visual pattern recognition by
    moment invariants", IRE Trans. Inf. Theory, 1962).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import moments
    >>> float(moments(np.ones((3, 3)), 1, 0))
    9.0
    """
    img = as_array(img, "features.moments", "img", min_ndim=2, max_ndim=2)
    if normalise:
        normalize = True
    if img.dtype.kind != "f" and convert_to_float:
        img = img.astype(np.float64)
    rows, cols = img.shape
    column_powers = np.arange(cols, dtype=float)
    if cm is not None:
        column_powers -= cm[1]
    column_powers **= p1
    if normalize:
        column_powers /= column_powers.sum()
    row_powers = np.arange(rows, dtype=float)
    if cm is not None:
        row_powers -= cm[0]
    row_powers **= p0
    if normalize:
        row_powers /= row_powers.sum()
    return np.dot(np.dot(img, column_powers), row_powers)
