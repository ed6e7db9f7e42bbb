"""Local Binary Patterns: :func:`lbp` histograms and the per-pixel :func:`lbp_transform`."""

from __future__ import annotations

import numbers
import operator
from math import gcd

import numpy as np

from ..histogram import fullhistogram  # as in mahotas.features.lbp's namespace
from ..internal import INTEGER_KINDS, as_array
from . import _lbp

__all__ = ["count_binary1s", "fullhistogram", "lbp", "lbp_names", "lbp_transform"]

# Each point is one bit of a uint32 code.
MAX_POINTS = 32

# Kernel dtypes: every one converts exactly to float64, so comparing in it
# gives mahotas's float64 comparisons; other dtypes are converted to float64.
_NATIVE = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.int8, np.int16,
                                 np.int32, np.float32, np.float64)}

# Up to this many codes the histogram is a bincount; above, a sort.
_BINCOUNT_LIMIT = 1 << 24


def _check_radius_points(radius, points, fname: str) -> tuple[float, int]:
    if not isinstance(radius, numbers.Real):
        raise TypeError(f"karyo.{fname}: `radius` must be a real number, got "
                        f"{type(radius).__name__}")
    try:
        points = operator.index(points)
    except TypeError:
        raise TypeError(f"karyo.{fname}: `points` must be an integer, got "
                        f"{type(points).__name__}") from None
    if not 1 <= points <= MAX_POINTS:
        raise ValueError(f"karyo.{fname}: `points` must be between 1 and {MAX_POINTS} "
                         f"(one bit of the code each), got {points}")
    return float(radius), points


def _sample_maps(shape: tuple[int, int], radius: float, points: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Row and column read by each angle's sample, -1 where it falls outside the image.

    mahotas samples with ``interpolate.shift(image, radius*(dy, dx), order=1)``,
    which reads the single pixel ``round(k - s + 0.5)`` along each axis
    (rounding halves away from zero, in float64) and 0 outside the image;
    the arithmetic here is the same, operation for operation.
    """
    angles = np.linspace(0, 2 * np.pi, points + 1)[:-1]
    maps = []
    for axis, steps in enumerate((np.sin(angles), np.cos(angles))):
        length = shape[axis]
        table = np.empty((points, length), np.int64)
        positions = np.arange(length, dtype=np.float64)
        for a, step in enumerate(steps):
            # an infinite radius gives inf * 0 = NaN: outside, as in mahotas
            with np.errstate(invalid="ignore", over="ignore"):
                offset = -(radius * step)
                half = (positions + offset) + 0.5
                rounded = np.where(half > 0, np.floor(half + 0.5), np.ceil(half - 0.5))
                inside = (rounded >= 0) & (rounded < length)
            table[a] = np.where(inside, rounded, -1.0)
        maps.append(table)
    return maps[0], maps[1]


def _finite_samples(image: np.ndarray) -> np.ndarray:
    """The values mahotas's samples take where the image has NaN or infinity.

    Its interpolation adds the next pixel down, right and diagonally (mirrored
    at the last row and column) times a weight of 0: a non-finite one among
    them turns the sample into NaN.
    """
    finite = np.isfinite(image)
    rows, cols = image.shape
    below = np.r_[1:rows, max(rows - 2, 0)]
    right = np.r_[1:cols, max(cols - 2, 0)]
    poisoned = ~(finite[below, :] & finite[:, right] & finite[below][:, right])
    return np.where(poisoned, np.nan, image).astype(image.dtype)


def lbp_transform(image: np.ndarray, radius: float, points: int, ignore_zeros: bool = False,
                  preserve_shape: bool = True) -> np.ndarray:
    """Rotation-invariant Local Binary Pattern code of every pixel.

    Parameters
    ----------
    image : ndarray
        2-D image (bool, integer or floating point).
    radius : float
        Radius of the circle of samples, in pixels.
    points : int
        Number of samples on the circle, 1 to 32.
    ignore_zeros : bool, optional
        Return codes only for the nonzero pixels (in raster order). Requires
        ``preserve_shape=False``.
    preserve_shape : bool, optional
        Return an array shaped like `image` (default) instead of a 1-D one.

    Returns
    -------
    codes : ndarray of uint32
        Each pixel's code: bit ``a`` is set when the sample at angle
        ``2*pi*a/points`` is greater than the pixel, and the code is the
        smallest of its rotations by whole samples.

    See Also
    --------
    lbp : the histogram of these codes, compressed to the codes that occur.

    Notes
    -----
    The codes are mahotas's, pixel for pixel. mahotas samples the circle
    with its ``interpolate.shift(order=1)``, which reads one whole pixel
    rather than interpolating: the sample at angle ``t`` of pixel ``(y, x)``
    is the pixel ``(round(y - r sin t + 0.5), round(x - r cos t + 0.5))``
    (halves rounded away from zero), and 0 outside the image. karyo reads
    the same pixels. The comparisons are made in the image's dtype where it
    converts exactly to float64 (mahotas compares in float64), else in
    float64.

    References
    ----------
    T. Ojala, M. Pietikainen and T. Maenpaa, "Gray Scale and Rotation
    Invariant Texture Classification with Local Binary Patterns", ECCV 2000,
    LNCS 1842, pp. 404-420.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.lbp import lbp_transform
    >>> image = np.array([[0, 0, 0], [0, 5, 9], [0, 9, 9]], np.uint8)
    >>> lbp_transform(image, 1, 4)
    array([[1, 3, 1],
           [3, 3, 0],
           [1, 0, 0]], dtype=uint32)
    """
    fname = "features.lbp_transform"
    radius, points = _check_radius_points(radius, points, fname)
    if ignore_zeros and preserve_shape:
        raise ValueError(f"karyo.{fname}: `ignore_zeros` and `preserve_shape` cannot both "
                         "be True (the nonzero pixels do not form an image); pass "
                         "preserve_shape=False")
    image = as_array(image, fname, "image", min_ndim=2, max_ndim=2)
    if image.dtype.kind == "b":
        image = image.view(np.uint8)
    elif image.dtype not in _NATIVE:
        image = image.astype(np.float64)
    centres = np.ascontiguousarray(image)
    samples = centres
    if centres.dtype.kind == "f" and not np.isfinite(centres).all():
        samples = _finite_samples(centres)
    row_maps, col_maps = _sample_maps(centres.shape, radius, points)
    codes = np.empty(centres.shape, np.uint32)
    _lbp.binary_codes(centres, samples, row_maps, col_maps, codes)
    codes = codes.reshape(-1)
    _lbp.map_rotation_invariant(codes, points)
    if ignore_zeros:
        codes = codes[centres.reshape(-1) != 0]
    if preserve_shape:
        codes = codes.reshape(centres.shape)
    return codes


def _necklace_count(points: int) -> int:
    """Number of codes of `points` bits that are the smallest of their rotations.

    The binary necklaces: (1/p) * sum over rotations r of 2**gcd(r, p).
    """
    return sum(2 ** gcd(r, points) for r in range(points)) // points


def lbp(image: np.ndarray, radius: float, points: int, ignore_zeros: bool = False) -> np.ndarray:
    """Histogram of the rotation-invariant Local Binary Patterns of an image.

    Parameters
    ----------
    image : ndarray
        2-D image (bool, integer or floating point).
    radius : float
        Radius of the circle of samples, in pixels.
    points : int
        Number of samples on the circle, 1 to 32. Time and memory grow as
        ``2**points / points``.
    ignore_zeros : bool, optional
        Count only the nonzero pixels.

    Returns
    -------
    features : ndarray of float64
        One count per rotation-invariant code, in increasing order of the
        code: ``features[i]`` is the number of pixels whose code is the
        ``i``-th code that is the smallest of its rotations (see
        :func:`lbp_names`).

    See Also
    --------
    lbp_transform : the code of every pixel.
    lbp_names : a name for each feature.

    Notes
    -----
    The counts equal mahotas's. mahotas raises ValueError for an image with
    no pixel to count (empty, or all zero with ``ignore_zeros``); karyo
    returns all zeros.

    References
    ----------
    T. Ojala, M. Pietikainen and T. Maenpaa, "Gray Scale and Rotation
    Invariant Texture Classification with Local Binary Patterns", ECCV 2000,
    LNCS 1842, pp. 404-420.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import lbp
    >>> image = np.array([[0, 0, 0], [0, 5, 9], [0, 9, 9]], np.uint8)
    >>> lbp(image, 1, 4)
    array([3., 3., 3., 0., 0., 0.])
    """
    fname = "features.lbp"
    radius, points = _check_radius_points(radius, points, fname)
    codes = lbp_transform(image, radius, points, ignore_zeros=ignore_zeros,
                          preserve_shape=False)
    features = np.zeros(_necklace_count(points), np.float64)
    if codes.size == 0:
        return features
    largest = int(codes.max())
    # every code present is canonical, so at most this many canonical codes lie below it
    canonical = np.empty(min(largest + 1, features.size), np.uint32)
    found = _lbp.canonical_codes(points, largest, canonical)
    canonical = canonical[:found]
    if largest < _BINCOUNT_LIMIT:
        counts = np.bincount(codes, minlength=largest + 1)
        features[:found] = counts[canonical]
    else:
        present, counts = np.unique(codes, return_counts=True)
        features[np.searchsorted(canonical, present)] = counts
    return features


# Number of 1 bits in each byte value.
_BITS_IN_BYTE = np.array([bin(value).count("1") for value in range(256)], np.uint8)


def count_binary1s(array) -> np.ndarray:
    """Count the 1 bits in the binary representation of each integer.

    Parameters
    ----------
    array : array-like of integers (or bool)
        Values to count the bits of, any shape.

    Returns
    -------
    one_count : ndarray
        Same shape and dtype as `array`: ``one_count.flat[i]`` is the number
        of 1 bits of ``array.flat[i]``.

    Notes
    -----
    A negative value counts the 1 bits of its two's complement in the
    dtype's width (``-1`` as int16 has 16). mahotas's count for negative
    values depends on the largest value in the array; for non-negative
    values the two agree.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.lbp import count_binary1s
    >>> count_binary1s(np.array([0, 1, 7, 255], np.uint8))
    array([0, 1, 3, 8], dtype=uint8)
    """
    values = np.asarray(array)
    if values.dtype.kind not in INTEGER_KINDS:
        raise TypeError(f"karyo.features.lbp.count_binary1s: `array` must hold integers, "
                        f"got dtype {values.dtype}")
    native = np.require(values.reshape(-1), values.dtype.newbyteorder("="), "C")
    per_byte = _BITS_IN_BYTE[native.view(np.uint8)].reshape(native.size, native.itemsize)
    return per_byte.sum(axis=-1, dtype=np.intp).astype(native.dtype).reshape(values.shape)


def lbp_names(radius: float, points: int) -> list[str]:
    """Names of the features returned by :func:`lbp`, as mahotas names them.

    Parameters
    ----------
    radius : float
        Radius of the circle of samples, in pixels (used as written).
    points : int
        Number of samples on the circle, 1 to 32.

    Returns
    -------
    names : list of str
        ``f"lbp_r{radius}_p{points}_{i}"`` for each feature ``i``.

    Examples
    --------
    >>> from karyo.features.lbp import lbp_names
    >>> lbp_names(1, 4)
    ['lbp_r1_p4_0', 'lbp_r1_p4_1', 'lbp_r1_p4_2', 'lbp_r1_p4_3', 'lbp_r1_p4_4', 'lbp_r1_p4_5']
    """
    _check_radius_points(radius, points, "features.lbp_names")
    return [f"lbp_r{radius}_p{points}_{i}" for i in range(_necklace_count(operator.index(points)))]
