"""Euler number (Euler characteristic) of a 2-D binary image."""

from __future__ import annotations

import numpy as np

from .convolve import convolve  # noqa: F401 (mahotas.euler exposes it)
from .internal import as_array

__all__ = ["euler"]

# Contribution of each 2x2 quad, indexed by its bit code
# 1 * top-left + 2 * top-right + 4 * bottom-left + 8 * bottom-right.
_QUAD_WEIGHTS = {
    4: np.array([0, 1, 1, 0, 1, 0, 2, -1, 1, 2, 0, -1, 0, -1, -1, 0]) / 4.0,
    8: np.array([0, 1, 1, 0, 1, 0, -2, -1, 1, -2, 0, -1, 0, -1, -1, 0]) / 4.0,
}
_MODES = ("reflect", "nearest", "wrap", "mirror", "constant", "ignore")


def euler(f: np.ndarray, n: int = 8, mode: str = "constant") -> float:
    """Return the Euler number of the binary image `f`.

    The Euler number is the number of objects minus the number of holes.

    Parameters
    ----------
    f : ndarray
        2-D binary image (bool, or numbers that are all 0 or 1).
    n : {8, 4}, optional
        Connectivity of the foreground (default 8).
    mode : {'constant', 'reflect', 'nearest', 'wrap', 'mirror', 'ignore'}, optional
        How the image is extended before its first row and column (default
        'constant', i.e. background).

    Returns
    -------
    euler_nr : float
        The Euler number (a multiple of 0.25; an integer whenever the
        foreground does not touch the last row or column).

    See Also
    --------
    karyo.label : count the objects themselves.

    Notes
    -----
    Each 2x2 quad of pixels is classified by its bit pattern and a table
    gives its contribution (Gray's quad counting; see Dey, Bhattacharya and
    Nandy, "A fast algorithm for computing the Euler number of an image and
    its VLSI implementation", VLSI Design 2000, doi:10.1109/ICVD.2000.812628).
    As in mahotas, every pixel is the bottom-right corner of one quad, so the
    image is extended (by `mode`) past its top and left borders only.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.euler import euler
    >>> ring = np.zeros((5, 5), bool)
    >>> ring[1:4, 1:4] = True
    >>> ring[2, 2] = False
    >>> euler(ring)
    0.0
    """
    if isinstance(n, bool) or n not in (4, 8):
        raise ValueError(f"karyo.euler: `n` (connectivity) must be 4 or 8, got {n!r}")
    if mode not in _MODES:
        raise ValueError(f"karyo.euler: `mode` must be one of {_MODES}, got {mode!r}")
    f = as_array(f, "euler", "f", min_ndim=2, max_ndim=2)
    if f.dtype != bool:
        if not np.all((f == 0) | (f == 1)):
            raise ValueError("karyo.euler: `f` is not binary; expected only 0 and 1 values")
        f = f != 0
    rows, cols = f.shape
    if f.size == 0:
        return 0.0
    extended = np.empty((rows + 1, cols + 1), np.uint8)
    extended[1:, 1:] = f
    if mode in ("constant", "ignore"):
        extended[0, :] = 0
        extended[:, 0] = 0
    else:
        first_row = _extension_index(rows, mode)
        first_col = _extension_index(cols, mode)
        extended[0, 1:] = f[first_row]
        extended[1:, 0] = f[:, first_col]
        extended[0, 0] = f[first_row, first_col]
    codes = extended[1:, 1:] << 3
    codes |= extended[1:, :-1] << 2
    codes |= extended[:-1, 1:] << 1
    codes |= extended[:-1, :-1]
    counts = np.bincount(codes.ravel(), minlength=16)
    return float(np.dot(counts, _QUAD_WEIGHTS[n]))


def _extension_index(size: int, mode: str) -> int:
    """Index of the pixel that stands for position -1 under `mode`."""
    if mode == "wrap":
        return size - 1
    if mode == "mirror":
        return min(1, size - 1)
    return 0
