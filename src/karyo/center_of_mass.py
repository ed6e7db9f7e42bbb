"""Centre of mass (intensity-weighted centroid) of an image or of each labelled region."""

from __future__ import annotations

import numpy as np

from . import _center_of_mass
from .internal import INTEGER_KINDS, as_array

__all__ = ["center_of_mass"]


def center_of_mass(img: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Return the intensity-weighted centre of mass of `img` (or of each region).

    Parameters
    ----------
    img : ndarray
        Image of any number of dimensions (bool, integer or float); its
        values are the weights.
    labels : ndarray of int, optional
        Non-negative labels, same shape as `img`. If given, one centre is
        computed per label value ``0 .. labels.max()`` (region 0 included).

    Returns
    -------
    coords : ndarray of float64
        Shape ``(img.ndim,)`` without `labels`, ``(labels.max() + 1, img.ndim)``
        with them. A region (or image) of total weight 0 has NaN coordinates.

    See Also
    --------
    karyo.features.moments : raw and central moments of a 2-D image.

    Notes
    -----
    The centre along axis ``d`` is ``sum(img * coord_d) / sum(img)``. Without
    labels it is computed from the marginal sums of the image (one pass, no
    coordinate grids); with labels, a single raster pass accumulates the
    weighted sums per label (a first-order image moment, see Hu, "Visual
    pattern recognition by moment invariants", IRE Trans. Inf. Theory, 1962).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.center_of_mass import center_of_mass
    >>> image = np.zeros((5, 5))
    >>> image[1, 3] = 2.0
    >>> image[3, 3] = 2.0
    >>> center_of_mass(image)
    array([2., 3.])
    """
    img = as_array(img, "center_of_mass", "img", min_ndim=1)
    if labels is None:
        # C order whatever the layout, so that the sums (and their rounding) are the same.
        weights = np.ascontiguousarray(img, np.float64 if img.dtype.kind != "f" else None)
        total = weights.sum(dtype=np.float64)
        coords = np.empty(img.ndim, np.float64)
        all_axes = tuple(range(img.ndim))
        with np.errstate(invalid="ignore", divide="ignore"):
            for axis in all_axes:
                marginal = weights.sum(axis=all_axes[:axis] + all_axes[axis + 1:],
                                       dtype=np.float64)
                coords[axis] = np.dot(marginal, np.arange(img.shape[axis], dtype=np.float64))
            coords /= total
        if total == 0:
            coords[:] = np.nan  # weights that cancel out have no centre (as mahotas)
        return coords
    labels = as_array(labels, "center_of_mass", "labels", kinds=INTEGER_KINDS)
    if labels.shape != img.shape:
        raise ValueError(f"karyo.center_of_mass: `labels` has shape {labels.shape}; expected "
                         f"the shape of `img`, {img.shape}")
    n_labels = int(labels.max()) + 1 if labels.size else 1
    if labels.size and labels.min() < 0:
        raise ValueError("karyo.center_of_mass: `labels` has negative values; expected "
                         "non-negative labels")
    values = img.view(np.uint8) if img.dtype == bool else img
    if values.dtype.kind == "f" and values.dtype != np.float32:
        values = values.astype(np.float64, copy=False)
    totals = np.zeros((n_labels, 1 + img.ndim), np.float64)
    _center_of_mass.labeled_moments(np.ascontiguousarray(values).ravel(),
                              np.ascontiguousarray(labels, dtype=np.int64).ravel(),
                              np.array(img.shape, np.int64), totals)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = totals[:, 1:] / totals[:, :1]
    centres[totals[:, 0] == 0] = np.nan
    return centres
