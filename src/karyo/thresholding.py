"""Thresholds: global ones of integer images, :func:`otsu` and :func:`rc`
(Riddler-Calvard), and the local (adaptive) :func:`bernsen` and :func:`gbernsen`.

The global functions return **the numeric threshold**; the binary image is
``image > threshold``. With ``ignore_zeros=True`` only the non-zero pixels are
considered (the background of a masked image). The local ones return the
binary image itself.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _histogram
from .histogram import fullhistogram
from .internal import as_array, as_structuring_element

__all__ = ["bernsen", "gbernsen", "otsu", "otsu_of_histogram", "rc", "rc_of_histogram",
           "soft_threshold"]


def otsu(img, ignore_zeros: bool = False) -> int:
    """Compute Otsu's threshold of an integer image.

    Parameters
    ----------
    img : ndarray of unsigned integers (or bool)
        Input image, any number of dimensions (e.g. uint8 or uint16).
        Signed integer images are accepted if they have no negative value.
    ignore_zeros : bool, optional
        Whether to leave zero-valued pixels out of the computation
        (default: False).

    Returns
    -------
    T : int
        The threshold: ``img > T`` is the foreground.

    See Also
    --------
    rc : the Riddler-Calvard (iterative intermeans) threshold.
    karyo.histogram.fullhistogram : the histogram the threshold is computed from.

    Notes
    -----
    Otsu's method picks the T that maximises the between-class variance
    ``n_B(T) n_O(T) (mu_B(T) - mu_O(T))^2`` of the pixels at most T (B) and
    above T (O). One pass builds the histogram; one pass over its bins
    updates the class means incrementally, exactly as mahotas does, so ties
    resolve to the same T.

    References: N. Otsu, "A threshold selection method from gray-level
    histograms", IEEE Trans. Systems, Man and Cybernetics 9(1), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import otsu
    >>> image = np.array([[10, 12, 11], [200, 210, 205]], np.uint8)
    >>> otsu(image)
    12
    """
    hist = fullhistogram(_integer_image(img, "otsu")).astype(np.float64)
    if ignore_zeros:
        hist[0] = 0
    return int(_histogram.otsu(hist))


def rc(img, ignore_zeros: bool = False):
    """Compute the Riddler-Calvard threshold of an integer image.

    Parameters
    ----------
    img : ndarray of unsigned integers (or bool)
        Input image, any number of dimensions. Signed integer images are
        accepted if they have no negative value.
    ignore_zeros : bool, optional
        Whether to leave zero-valued pixels out of the computation
        (default: False).

    Returns
    -------
    T : float
        The threshold, halfway between the mean of the pixels at most t and
        the mean of those above t. As in mahotas, it is the int maximum
        value (or 0) when no split exists (e.g. a constant image).

    See Also
    --------
    otsu : Otsu's threshold.

    Notes
    -----
    The Riddler-Calvard (isodata / intermeans) rule: ``T = (mu_below(t) +
    mu_above(t)) / 2``. Following mahotas, t scans upwards from 0 and the scan
    stops once t reaches the current estimate; cumulative counts and moments
    of the histogram make each step O(1), so the scan costs one pass over the
    bins instead of mahotas's Python loop.

    References: T. W. Ridler and S. Calvard, "Picture thresholding using an
    iterative selection method", IEEE Trans. Systems, Man and Cybernetics
    8(8), 1978.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import rc
    >>> float(rc(np.array([10, 10, 30, 30], np.uint8)))
    20.0
    """
    img = _integer_image(img, "rc")
    hist = fullhistogram(img)
    if ignore_zeros:
        if hist[0] == img.size:
            return 0
        hist[0] = 0
    threshold, assigned = _histogram.riddler_calvard(hist)
    if not assigned:
        return int(threshold)
    return np.float64(threshold)


def otsu_of_histogram(hist) -> int:
    """Otsu's threshold of a histogram: what :func:`otsu` computes from an image's.

    For an image too large to hold, or read a tile at a time: add the tiles'
    histograms, then threshold the sum.

    Parameters
    ----------
    hist : 1-D array of non-negative counts
        ``hist[v]`` pixels have value ``v``.

    Returns
    -------
    T : int
        The threshold: the bin T for which ``value > T`` is the foreground.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import otsu, otsu_of_histogram
    >>> image = np.array([[10, 12, 11], [200, 210, 205]], np.uint8)
    >>> otsu_of_histogram(np.bincount(image.ravel())) == otsu(image)
    True
    """
    hist = _histogram_counts(hist, "otsu_of_histogram")
    return int(_histogram.otsu(np.ascontiguousarray(hist, dtype=np.float64)))


def rc_of_histogram(hist):
    """The Riddler-Calvard threshold of a histogram: what :func:`rc` computes from an image's.

    Parameters
    ----------
    hist : 1-D array of non-negative counts
        ``hist[v]`` pixels have value ``v``; at most 2**32 - 1 in a bin.

    Returns
    -------
    T : float or int
        As :func:`rc`.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import rc_of_histogram
    >>> float(rc_of_histogram(np.bincount([10, 10, 30, 30])))
    20.0
    """
    hist = _histogram_counts(hist, "rc_of_histogram")
    if hist.size and hist.max() > np.iinfo(np.uint32).max:
        raise ValueError("karyo.rc_of_histogram: `hist` must count at most 2**32 - 1 pixels in "
                         "a bin")
    threshold, assigned = _histogram.riddler_calvard(np.ascontiguousarray(hist, dtype=np.uint32))
    if not assigned:
        return int(threshold)
    return np.float64(threshold)


def _histogram_counts(hist, fname: str) -> np.ndarray:
    """`hist` as a 1-D array of whole, non-negative counts, or a ValueError naming it."""
    hist = as_array(hist, fname, "hist", min_ndim=1, max_ndim=1, kinds="buif")
    if hist.size == 0:
        raise ValueError(f"karyo.{fname}: `hist` must have at least one bin")
    if hist.dtype.kind == "f" and not (np.isfinite(hist).all() and (hist == np.rint(hist)).all()):
        raise ValueError(f"karyo.{fname}: `hist` must hold whole counts")
    if (hist < 0).any():
        raise ValueError(f"karyo.{fname}: `hist` must hold counts >= 0")
    return hist


def soft_threshold(f, tval):
    """Shrink values towards zero by `tval`; those within ``[-tval, tval]`` become 0.

    Parameters
    ----------
    f : ndarray
        Input array (floating point or integer).
    tval : scalar
        The non-negative threshold.

    Returns
    -------
    thresholded : ndarray
        ``sign(f) * max(|f| - tval, 0)``, of the same dtype as `f`.

    See Also
    --------
    otsu : a data-driven threshold.

    Notes
    -----
    Soft thresholding is the proximal operator of the L1 norm, used for
    wavelet denoising: D. L. Donoho, "De-noising by soft-thresholding", IEEE
    Trans. Information Theory 41(3), 1995.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import soft_threshold
    >>> soft_threshold(np.array([-3., -1., 0.5, 2.]), 1.)
    array([-2.,  0.,  0.,  1.])
    """
    f = as_array(f, "soft_threshold", "f", min_ndim=0)
    if not np.isscalar(tval) or isinstance(tval, (str, bytes, complex)):
        raise TypeError(f"karyo.soft_threshold: `tval` must be a real scalar, got {tval!r}")
    # Integer images keep their dtype when tval is an integer (as in mahotas).
    dtype = f.dtype if f.dtype.kind == "f" or float(tval).is_integer() else np.float64
    if dtype.kind == "b":
        dtype = np.dtype(np.float64)
    shrunk = np.where(f > tval, f - tval, np.where(f < -tval, f + tval, 0))
    return shrunk.astype(dtype, copy=False)


def bernsen(f, radius: int, contrast_threshold, gthresh=None) -> np.ndarray:
    """Bernsen's local threshold, over a disk around each pixel.

    Parameters
    ----------
    f : ndarray
        2-D image (bool, integer or float).
    radius : int
        Radius of the disk that defines "local": the pixels at a distance
        strictly less than `radius` (as :func:`karyo.morph.circle_se`).
    contrast_threshold : number
        Where the local range (max - min) is below this, the region is
        considered uniform and the global threshold is used instead.
    gthresh : number, optional
        The global threshold for those uniform regions (default 128).

    Returns
    -------
    thresholded : ndarray of bool
        Same shape as `f`.

    See Also
    --------
    gbernsen : the same with any neighbourhood.
    otsu : a global threshold.

    Notes
    -----
    ``gbernsen(f, circle_se(radius), contrast_threshold, gthresh)``: a pixel
    is foreground if it is above the midrange ``(max + min) / 2`` of its
    neighbourhood, or, where the neighbourhood's contrast is low, above
    `gthresh`. J. Bernsen, "Dynamic thresholding of grey-level images",
    Proc. 8th Int. Conf. on Pattern Recognition, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import bernsen
    >>> image = np.array([[10, 10, 200, 200]] * 4, np.uint8)
    >>> bernsen(image, 2, 50).astype(int)
    array([[0, 0, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 1, 1]])
    """
    from .morph import circle_se

    fname = "bernsen"
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, numbers.Real):
        raise TypeError(f"karyo.{fname}: `radius` must be an integer, got {radius!r}")
    if radius != int(radius):
        raise ValueError(f"karyo.{fname}: `radius` must be a whole number, got {radius!r} "
                         "(mahotas builds an even-sized disk from it, which has no centre)")
    if not radius > 0:
        raise ValueError(f"karyo.{fname}: `radius` must be positive, got {radius!r}")
    if gthresh is None:
        gthresh = 128
    return _gbernsen(f, circle_se(int(radius)), contrast_threshold, gthresh, fname, ndim=2)


def gbernsen(f, se, contrast_threshold, gthresh) -> np.ndarray:
    """Generalised Bernsen local threshold, over the neighbourhood `se`.

    Parameters
    ----------
    f : ndarray
        Image (bool, integer or float), 1-D to 3-D.
    se : ndarray
        Structuring element defining "local": its nonzero elements, centred
        on each pixel (at ``shape // 2``). Same number of dimensions as `f`.
    contrast_threshold : number
        Where the local range (max - min) is below this, the neighbourhood
        is considered uniform and `gthresh` is used instead.
    gthresh : number
        The global threshold for those uniform regions.

    Returns
    -------
    thresholded : ndarray of bool
        Same shape as `f`.

    See Also
    --------
    bernsen : with a disk.
    karyo.convolve.rank_filter : the local maximum and minimum used here.

    Notes
    -----
    The local maximum and minimum are rank filters with mahotas's border
    (``mode='reflect'``); a pixel is foreground if it exceeds the midrange
    ``max / 2 + min / 2`` or, where ``max - min < contrast_threshold``, if it
    exceeds `gthresh`. Unlike mahotas, the range of a signed integer image
    cannot wrap around (mahotas computes it in the image's own type, so e.g.
    an int8 neighbourhood holding -128 and 127 has range -1 there); bool
    images are accepted (mahotas cannot subtract them).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.thresholding import gbernsen
    >>> image = np.array([3, 3, 9, 9, 9, 2], np.uint8)
    >>> gbernsen(image, np.ones(3, bool), 4, 5).astype(int)
    array([0, 0, 1, 1, 1, 0])
    """
    return _gbernsen(f, se, contrast_threshold, gthresh, "gbernsen")


def _gbernsen(f, se, contrast_threshold, gthresh, fname: str, ndim: int | None = None
              ) -> np.ndarray:
    from .convolve import rank_filter

    f = as_array(f, fname, "f", min_ndim=ndim or 1, max_ndim=ndim or 3)
    if f.dtype == np.float16:
        f = f.astype(np.float32)  # exact; the rank filters read 32 and 64 bits
    elif f.dtype.kind == "f" and f.dtype.itemsize > 8:
        raise TypeError(f"karyo.{fname}: `f` has dtype {f.dtype}; expected at most 64-bit "
                        "floating point values")
    if not isinstance(se, np.ndarray) and not isinstance(se, (list, tuple)):
        raise TypeError(f"karyo.{fname}: `se` must be an array (the neighbourhood), got "
                        f"{type(se).__name__}")
    se = as_structuring_element(se, f.ndim, fname)
    for name, value in (("contrast_threshold", contrast_threshold), ("gthresh", gthresh)):
        if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)):
            raise TypeError(f"karyo.{fname}: `{name}` must be a real number, got {value!r}")
    size = int(np.count_nonzero(se))
    if size == 0:
        raise ValueError(f"karyo.{fname}: `se` has no nonzero element, so no pixel has a "
                         "neighbourhood")
    if f.dtype == bool:
        f = f.view(np.uint8)
    if f.size == 0:
        return np.zeros(f.shape, bool)
    local_max = rank_filter(f, se, size - 1)
    local_min = rank_filter(f, se, 0)
    if f.dtype.kind == "i":
        # max >= min, so their difference fits the unsigned type of the same
        # size, where modular subtraction gives it exactly
        unsigned = np.dtype(f"u{f.dtype.itemsize}")
        contrast = np.subtract(local_max.view(unsigned), local_min.view(unsigned))
    else:
        contrast = np.subtract(local_max, local_min)
    # halves first, as mahotas: the sum could overflow
    midrange = local_max / 2.0
    midrange += local_min / 2.0
    uniform = contrast < contrast_threshold
    return np.where(uniform, f > gthresh, f > midrange)


def _integer_image(img, fname: str) -> np.ndarray:
    img = np.asanyarray(img)
    if img.dtype.kind not in "bui":
        raise TypeError(f"karyo.{fname}: `img` has dtype {img.dtype}; expected an integer "
                        "image (e.g. uint8 or uint16)")
    return img
