"""Bounding boxes of the nonzero pixels of an image (mahotas's ``mahotas.bbox``)."""

from __future__ import annotations

import numpy as np

from . import _label
from .internal import as_array, as_lines, line_coordinates, pixel_view

__all__ = ["bbox", "croptobbox"]


def bbox(img: np.ndarray, border: int | None = None, as_slice: bool = False):
    """Bounding box of the nonzero pixels of `img`, in any number of dimensions.

    Parameters
    ----------
    img : ndarray
        Image (bool, integer or float); nonzero pixels are inside the box.
    border : int, optional
        Grow the box by this many pixels on each side; the lower bounds are
        clipped at 0 (as in mahotas, the upper ones are left for slicing to
        clip).
    as_slice : bool, optional
        Return a tuple of slices instead of coordinates.

    Returns
    -------
    coords : ndarray of intp, shape ``(2 * img.ndim,)``
        ``(min_0, max_0, min_1, max_1, ...)``, max excluded, so that
        ``img[min_0:max_0, min_1:max_1]`` holds every nonzero pixel; all
        zeros if there is none.
    s : tuple of slice
        The same box as slices, if `as_slice`.

    See Also
    --------
    croptobbox : `img` cut down to this box.
    karyo.labeled.bbox : the box of each label of a labelled image.

    Notes
    -----
    Each line along the last axis is scanned from both ends up to its first
    and last nonzero pixel, so the pixels inside the box are not read.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.bbox import bbox
    >>> bbox(np.array([[0, 0, 0], [0, 1, 1]]))
    array([1, 2, 1, 3])
    """
    image = as_array(img, "bbox", "img", min_ndim=0)
    if image.ndim == 0:
        return np.array([], dtype=np.intp)
    coords = np.zeros(2 * image.ndim, np.intp)
    if image.size:
        _label.nonzero_bbox(pixel_view(as_lines(image)), line_coordinates(image.shape), coords)
    if border:
        coords = coords.reshape(-1, 2)
        coords[:, 0] = np.maximum(coords[:, 0] - border, 0)
        coords[:, 1] += border
        coords = coords.reshape(-1)
    if as_slice:
        return tuple(slice(start, stop) for start, stop in coords.reshape(-1, 2))
    return coords


def croptobbox(img: np.ndarray, border: int | None = None) -> np.ndarray:
    """`img` cut down to the bounding box of its nonzero pixels (a view).

    Parameters
    ----------
    img : ndarray
        Image.
    border : int, optional
        Keep this many extra pixels on each side, within the image.

    Returns
    -------
    nimg : ndarray
        A view of `img`.

    See Also
    --------
    bbox

    Notes
    -----
    ``img[bbox(img, border, as_slice=True)]``.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.bbox import croptobbox
    >>> croptobbox(np.array([[0, 0, 0], [0, 1, 1]]))
    array([[1, 1]])
    """
    image = as_array(img, "croptobbox", "img", min_ndim=0)
    return image[bbox(image, border=border, as_slice=True)]
