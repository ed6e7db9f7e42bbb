"""Zernike moments: rotation-invariant shape descriptors of a 2-D image."""

from __future__ import annotations

import math

import numpy as np

from ..center_of_mass import center_of_mass
from ..internal import as_array

__all__ = ["zernike_moments", "zernike"]


def zernike(im: np.ndarray, degree: int, radius: float, cm=None) -> np.ndarray:
    """Deprecated argument order of :func:`zernike_moments` (kept for mahotas code)."""
    import warnings

    warnings.warn("karyo.features.zernike: deprecated, use zernike_moments(im, radius, degree)",
                  DeprecationWarning, stacklevel=2)
    return zernike_moments(im, radius, degree, cm)


def zernike_moments(im: np.ndarray, radius: float, degree: int = 8, cm=None) -> np.ndarray:
    """Return the absolute values of the Zernike moments of `im` up to `degree`.

    Parameters
    ----------
    im : ndarray
        2-D image (its values weight the pixels).
    radius : float
        Radius of the disc (around the centre) where moments are computed.
    degree : int, optional
        Maximum degree n (default 8).
    cm : pair of float, optional
        Centre; default: the image's centre of mass.

    Returns
    -------
    zvalues : ndarray of float64
        ``|A_nl|`` for n = 0..degree and l = 0..n with n - l even, in that
        order (25 values for degree 8).

    See Also
    --------
    karyo.center_of_mass

    Notes
    -----
    ``A_nl = (n+1)/pi * sum p(x, y) conj(V_nl(x, y))`` over the pixels of the
    unit disc with positive value, p normalised to sum 1 and V_nl the Zernike
    polynomial (radial polynomial times ``exp(i l theta)``). Khotanzad and
    Hong, "Invariant image recognition by Zernike moments", IEEE PAMI, 1990.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import zernike_moments
    >>> disc = (np.hypot(*np.mgrid[-10:11, -10:11]) <= 8).astype(float)
    >>> round(float(zernike_moments(disc, 10)[0]), 4)
    0.3183
    """
    fname = "features.zernike_moments"
    im = as_array(im, fname, "im", min_ndim=2, max_ndim=2)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"karyo.{fname}: `degree` must be a non-negative int, got {degree!r}")
    if not radius > 0:
        raise ValueError(f"karyo.{fname}: `radius` must be positive, got {radius!r}")
    if cm is None:
        centre_y, centre_x = center_of_mass(im)
    else:
        centre_y, centre_x = cm
    rows, cols = im.shape
    ys = (np.arange(rows, dtype=np.float64) - centre_y) / radius
    xs = (np.arange(cols, dtype=np.float64) - centre_x) / radius
    distance = np.sqrt(xs[np.newaxis, :] ** 2 + ys[:, np.newaxis] ** 2)
    np.maximum(distance, 1e-9, out=distance)
    inside = (distance <= 1.0) & (im > 0)
    weights = np.asarray(im[inside], np.float64)
    weights /= weights.sum()
    yy, xx = np.nonzero(inside)
    distance = distance[inside]
    angle = (xs[xx] / distance) + 1j * (ys[yy] / distance)
    angle_powers = [np.ones_like(angle), angle]
    for power in range(2, degree + 1):
        angle_powers.append(angle ** power)
    distance_powers = {0: np.ones_like(distance)}
    zvalues = []
    for n in range(degree + 1):
        for l in range(n % 2, n + 1, 2):  # noqa: E741 (l is the standard name)
            radial = np.zeros_like(distance)
            for m in range((n - l) // 2 + 1):
                coefficient = ((-1) ** m * math.factorial(n - m)
                               / (math.factorial(m) * math.factorial((n - 2 * m + l) // 2)
                                  * math.factorial((n - 2 * m - l) // 2)))
                power = n - 2 * m
                if power not in distance_powers:
                    distance_powers[power] = distance ** power
                radial += coefficient * distance_powers[power]
            value = np.dot(weights, np.conj(radial * angle_powers[l]))
            zvalues.append(abs(value * (n + 1) / math.pi))
    return np.array(zvalues)
