"""Edge detection: Sobel gradient magnitude and Difference of Gaussians."""

from __future__ import annotations

import numbers

import numpy as np

from .convolve import convolve, gaussian_filter  # noqa: F401 (convolve: as in mahotas.edge)
from .internal import as_array

__all__ = ["sobel", "dog"]


_HORIZONTAL_SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8.0
_VERTICAL_SOBEL = _HORIZONTAL_SOBEL.T.copy()


def _correlate_3x3(padded: np.ndarray, weights: np.ndarray, shape: tuple) -> np.ndarray:
    """Correlate with a 3x3 kernel, given the image padded by one pixel.

    Terms are added in the kernel's raster order, skipping zero weights, so
    that rounding (and hence ties between neighbours) is mahotas's.
    """
    rows, cols = shape
    result = np.zeros(shape, np.float64)
    for (i, j), weight in np.ndenumerate(weights):
        if weight != 0:
            result += padded[i:i + rows, j:j + cols] * weight
    return result


def _as_float_image(img, fname: str) -> np.ndarray:
    img = as_array(img, fname, "img", min_ndim=2, max_ndim=2)
    return np.array(img, dtype=np.float64)


def sobel(img: np.ndarray, just_filter: bool = False) -> np.ndarray:
    """Detect edges with the Sobel operator (tuned, as mahotas, to match MATLAB).

    Parameters
    ----------
    img : ndarray
        2-D image (bool, integer or float).
    just_filter : bool, optional
        If True, return the squared gradient magnitude instead of the binary
        edge map (default False).

    Returns
    -------
    edges : ndarray
        Boolean edge map; or float64 squared gradient magnitude if
        `just_filter`. A constant image returns an all-zero float64 image (as
        mahotas).

    See Also
    --------
    dog : edges as zero crossings of a Difference of Gaussians.

    Notes
    -----
    The image is rescaled to [0, 1] and correlated with the two 3x3 Sobel
    kernels (divided by 8) with nearest-pixel borders; the squared responses
    are added. Edges are the regional maxima of that magnitude whose root
    exceeds twice the root of its mean (Sobel and Feldman, "A 3x3 isotropic
    gradient operator for image processing", 1968; threshold as in MATLAB's
    ``edge``).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo import edge
    >>> image = np.zeros((6, 6))
    >>> image[:, 3:] = 1.0
    >>> edge.sobel(image, just_filter=True)[0].round(3)
    array([0.  , 0.  , 0.25, 0.25, 0.  , 0.  ])
    """
    from .morph import regmax

    img = _as_float_image(img, "edge.sobel")
    img -= img.min(initial=0.0) if img.size == 0 else img.min()
    value_range = np.ptp(img) if img.size else 0.0
    if value_range == 0:
        return img
    img /= value_range
    padded = np.pad(img, 1, mode="edge")
    vertical = _correlate_3x3(padded, _VERTICAL_SOBEL, img.shape)
    horizontal = _correlate_3x3(padded, _HORIZONTAL_SOBEL, img.shape)
    filtered = np.square(vertical, out=vertical)
    filtered += np.square(horizontal, out=horizontal)
    if just_filter:
        return filtered
    threshold = 2.0 * np.sqrt(filtered.mean())
    return regmax(filtered) & (np.sqrt(filtered) > threshold)


def dog(img: np.ndarray, sigma1: float = 2, multiplier: float = 1.001,
        just_filter: bool = False) -> np.ndarray:
    """Detect edges as zero crossings of a Difference of Gaussians (DoG).

    Parameters
    ----------
    img : ndarray
        2-D image (bool, integer or float).
    sigma1 : float, optional
        Standard deviation of the narrower Gaussian (default 2).
    multiplier : float, optional
        The wider Gaussian has ``sigma2 = sigma1 * multiplier`` (default
        1.001, as mahotas).
    just_filter : bool, optional
        If True, return the float64 DoG response instead of the edge map.

    Returns
    -------
    edges : ndarray
        Boolean edge map, or the DoG response if `just_filter`.

    See Also
    --------
    sobel : gradient-magnitude edges.
    karyo.convolve.gaussian_filter : the smoothing used here.

    Notes
    -----
    ``DoG = G(sigma2) * img - G(sigma1) * img`` with nearest-pixel borders
    approximates the Laplacian of Gaussian (Marr and Hildreth, "Theory of
    edge detection", Proc. R. Soc. Lond. B, 1980). An interior pixel is an
    edge where DoG changes sign towards its right or lower neighbour (or
    across it, when it is exactly 0) by more than 0.75 times the mean
    absolute response. Border pixels are never edges.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo import edge
    >>> image = np.zeros((12, 12))
    >>> image[:, 6:] = 1.0
    >>> edges = edge.dog(image, sigma1=1, multiplier=1.6)
    >>> np.flatnonzero(edges[6])
    array([5, 6])
    """
    for name, value in (("sigma1", sigma1), ("multiplier", multiplier)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"karyo.edge.dog: `{name}` must be a positive number, got {value!r}")
    img = _as_float_image(img, "edge.dog")
    narrow = gaussian_filter(img, sigma1, mode="nearest")
    wide = gaussian_filter(img, sigma1 * multiplier, mode="nearest")
    response = np.subtract(wide, narrow, out=wide)
    if just_filter:
        return response
    edges = np.zeros(img.shape, bool)
    if img.size == 0:
        return edges
    threshold = 0.75 * np.mean(np.abs(response))
    centre = response[1:-1, 1:-1]
    left, right = response[1:-1, :-2], response[1:-1, 2:]
    up, down = response[:-2, 1:-1], response[2:, 1:-1]
    inner = edges[1:-1, 1:-1]
    # Sign changes between the pixel and its neighbours (mahotas's four tests).
    inner |= (centre < 0) & (right > 0) & (np.abs(centre - right) > threshold)
    inner |= (left > 0) & (right < 0) & (np.abs(left - centre) > threshold)
    inner |= (centre < 0) & (down > 0) & (np.abs(centre - down) > threshold)
    inner |= (up > 0) & (centre < 0) & (np.abs(up - centre) > threshold)
    # Exact zeros between opposite signs.
    zero = centre == 0
    if zero.any():
        across = ((left < 0) & (right > 0)) | ((left > 0) & (right < 0))
        across &= np.abs(right - left) > threshold
        vertical = ((up < 0) & (down > 0)) | ((up > 0) & (down < 0))
        vertical &= np.abs(down - up) > threshold
        inner |= zero & (across | vertical)
    return edges
