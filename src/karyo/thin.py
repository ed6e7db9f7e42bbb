"""Morphological thinning of binary images to one-pixel-wide skeletons."""

from __future__ import annotations

import numpy as np

from . import _thin
from .internal import as_array, as_int

__all__ = ["thin"]


def thin(binimg: np.ndarray, max_iter: int = -1) -> np.ndarray:
    """Thin the foreground of `binimg` to a one-pixel-wide skeleton.

    Parameters
    ----------
    binimg : ndarray
        2-D binary image (bool, or numbers where nonzero is foreground).
    max_iter : int, optional
        Maximum number of iterations (each applies all 8 templates); -1
        (default) iterates until nothing changes.

    Returns
    -------
    skeleton : ndarray
        Same shape and dtype as `binimg`: 1 (True) on the skeleton, 0
        elsewhere.

    See Also
    --------
    karyo.morph.hitmiss : the template matching used at each step.

    Notes
    -----
    Sequential thinning by hit-or-miss with the 8 rotations of the two
    Golay templates (an edge and a corner template; Gonzalez and Woods,
    *Digital Image Processing*, sec. 9.5.5): at each step every foreground
    pixel matching the template is removed at once. Iterations stop when a
    full round of 8 templates removes nothing. Only contour pixels can
    match a template, so the kernel tracks the contour instead of scanning
    the whole image at each step.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thin import thin
    >>> bar = np.zeros((5, 7), bool)
    >>> bar[1:4, 1:6] = True
    >>> thin(bar).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 1, 0],
           [0, 1, 1, 1, 1, 1, 0],
           [0, 1, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    """
    max_iter = as_int(max_iter, "thin", "max_iter")
    binimg = as_array(binimg, "thin", "binimg", min_ndim=2, max_ndim=2)
    result = np.zeros_like(binimg)
    rows = np.flatnonzero(binimg.any(axis=1))
    if rows.size == 0:
        return result
    cols = np.flatnonzero(binimg.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = binimg[top:bottom, left:right]
    framed = np.zeros((box.shape[0] + 2, box.shape[1] + 2), np.uint8)
    framed[1:-1, 1:-1] = box != 0
    _thin.thin(framed, int(max_iter))
    # As mahotas: the skeleton is 0/1 in the input's dtype.
    result[top:bottom, left:right] = framed[1:-1, 1:-1]
    return result
