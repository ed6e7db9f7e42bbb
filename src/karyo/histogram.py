"""Histograms of integer images: :func:`fullhistogram`."""

from __future__ import annotations

import numpy as np

from . import _histogram
from .internal import as_array, count_in_blocks

__all__ = ["fullhistogram"]

# A histogram has img.max() + 1 bins: beyond this many (1 GiB of counts) the
# request is almost surely a mistake (e.g. a label or ID image), not a picture.
MAX_BINS = 2**28


def as_nonnegative_integer_pixels(img, fname: str) -> np.ndarray:
    """Return the pixels of `img` as a 1-D unsigned array (a view where possible).

    Signed integers are accepted when no value is negative (mahotas raises a
    RuntimeError for any signed type); they are viewed as the unsigned type of
    the same width.
    """
    img = as_array(img, fname, "img", min_ndim=0, kinds="bui")
    if img.size == 0:
        raise ValueError(f"karyo.{fname}: `img` is empty (shape {img.shape}); the histogram "
                         "of an empty image is undefined")
    if img.dtype.kind == "i":
        if img.min() < 0:
            raise ValueError(f"karyo.{fname}: `img` has negative values (dtype {img.dtype}); "
                             "expected non-negative integers")
        img = img.view(img.dtype.str.replace("i", "u"))
    elif img.dtype.kind == "b":
        img = img.view(np.uint8)
    # ravel(order="K") copies only when the pixels are not one contiguous block.
    return img.ravel(order="K")


def fullhistogram(img) -> np.ndarray:
    """Count the pixels of every value from 0 to ``img.max()``.

    Afterwards ``hist[i] == (img == i).sum()`` for every ``i``.

    Parameters
    ----------
    img : ndarray of unsigned integers (or bool)
        Input image, any number of dimensions. Signed integer images are
        accepted if they have no negative value.

    Returns
    -------
    hist : ndarray of np.uintc (uint32; uint64 for 2**32 pixels or more)
        Of size ``img.max() + 1`` (2 for a boolean image).

    Raises
    ------
    ValueError
        If `img` is empty, has negative values, or has values of
        ``MAX_BINS`` (2**28) or more, whose histogram would not fit sensibly
        in memory.

    See Also
    --------
    karyo.thresholding.otsu : a threshold computed from this histogram.
    numpy.bincount : the same counts as int64, for flattened arrays.

    Notes
    -----
    One pass over the pixels, counting into four interleaved sub-histograms
    that are summed at the end: pixels with equal neighbours (flat background)
    would otherwise serialise on the store-to-load dependency of one bin. The
    counts are 32-bit, as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.histogram import fullhistogram
    >>> fullhistogram(np.array([[0, 1, 1], [3, 1, 0]], np.uint8))
    array([2, 3, 0, 1], dtype=uint32)
    """
    pixels = as_nonnegative_integer_pixels(img, "fullhistogram")
    if pixels.dtype == np.uint8:
        counts = count_in_blocks(_histogram.histogram, pixels, 256)
        if np.asarray(img).dtype == bool:
            return counts[:2].copy()
        top = int(np.flatnonzero(counts)[-1])
        return counts[:top + 1].copy()
    top = int(pixels.max())
    if top >= MAX_BINS:
        raise ValueError(f"karyo.fullhistogram: `img` has values up to {top}, which would need "
                         f"a histogram of {top + 1} bins (the limit is {MAX_BINS}); rescale "
                         "the image (e.g. to uint16) first")
    return count_in_blocks(_histogram.histogram, pixels, top + 1)
