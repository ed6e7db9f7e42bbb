"""Display helpers: contrast stretching and colour composites, as ``mahotas.stretch``.

Results are bit-identical to mahotas. Integer images take an exact shortcut:
the mahotas formula is evaluated once per grey level into a lookup table, and
the table is indexed by the image, so no float64 copy of the image is made.
"""

from __future__ import annotations

import math

import numpy as np

from . import _stretch
from .internal import as_array

__all__ = ["as_rgb", "overlay", "stretch", "stretch_rgb"]

# A lookup table pays when it has fewer entries than the image has pixels
# (and stays small enough to sit in cache).
_MAX_TABLE_SIZE = 1 << 17
_LOOKUP_BLOCK = 1 << 16


def _output_range(arg0, arg1, fname: str) -> tuple:
    if arg0 is None:
        if arg1 is not None:
            raise ValueError(f"karyo.{fname}: `arg1` (max) given without `arg0` (min)")
        return 0, 255
    for name, value in (("arg0", arg0), ("arg1", arg1)):
        if value is not None and (isinstance(value, (bool, np.bool_))
                                  or not isinstance(value, (int, float, np.integer, np.floating))):
            raise TypeError(f"karyo.{fname}: `{name}` must be a number, got "
                            f"{type(value).__name__}")
    return (0, arg0) if arg1 is None else (arg0, arg1)


def _output_dtype(dtype, fname: str) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"karyo.{fname}: `dtype` must be a numpy dtype, got {dtype!r}") from None
    if dtype.kind not in "buif":
        raise TypeError(f"karyo.{fname}: `dtype` is {dtype}; expected a numeric dtype")
    return dtype


def stretch(img, arg0=None, arg1=None, dtype=np.uint8) -> np.ndarray:
    """Contrast-stretch `img` linearly to ``[0, 255]``, ``[0, max]`` or ``[min, max]``.

    Called as ``stretch(img)``, ``stretch(img, max)`` or
    ``stretch(img, min, max)``, with an optional ``dtype=``, as in mahotas.

    Parameters
    ----------
    img : array-like
        Input image of any shape; bool, integer or floating point. Not modified.
    arg0 : number, optional
        ``max`` of the output range when `arg1` is omitted, else its ``min``.
    arg1 : number, optional
        ``max`` of the output range, when `arg0` is its ``min``.
    dtype : dtype, optional
        Output dtype (default ``np.uint8``).

    Returns
    -------
    stretched : ndarray
        Same shape as `img`, of type `dtype`:
        ``(img - img.min()) * ((max - min) / ptp(img)) + min``, cast to `dtype`
        (so truncated towards zero for integer dtypes).

    See Also
    --------
    stretch_rgb : the same, per channel of a colour image.
    as_rgb : stretch three channels into one RGB image.

    Notes
    -----
    Linear min-max normalisation, computed in float64 exactly as mahotas does.
    For integer images the formula is evaluated once per grey level between
    ``img.min()`` and ``img.max()`` and applied through a lookup table, which
    gives the same bits without a float64 copy of the image.

    Edge cases (mahotas raises or returns garbage for the last three):

    - a constant image becomes ``min`` everywhere (as mahotas);
    - an empty image gives an empty array of `dtype` (mahotas raises);
    - NaN values are ignored when finding the input range, and NaN pixels
      become ``min`` in an integer output (NaN in a float output); an all-NaN
      image is treated as constant. Mahotas propagates NaN to every pixel.
    - the range is that of the finite values, and -inf and +inf become
      ``min`` and ``max``; in mahotas they make the result undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.stretch import stretch
    >>> stretch(np.array([10, 20, 30]))
    array([  0, 127, 255], dtype=uint8)
    >>> stretch(np.array([10, 20, 30]), 1, 5)
    array([1, 3, 5], dtype=uint8)
    """
    low, high = _output_range(arg0, arg1, "stretch")
    dtype = _output_dtype(dtype, "stretch")
    image = as_array(img, "stretch", "img", min_ndim=0)
    if image.size == 0:
        return np.empty(image.shape, dtype)
    if image.dtype.kind == "f":
        return _stretch_float(image, low, high, dtype)
    if image.dtype == bool:
        image = image.view(np.uint8)
    if image.dtype.itemsize == 8:
        # 64-bit values are not exact in float64: round them as mahotas does
        shifted = image.astype(np.float64)
        shifted -= shifted.min()
        ptp = shifted.max()
        if not ptp:
            return _constant(image.shape, low, dtype)
        return _mahotas_formula(shifted, ptp, low, high, dtype)
    smallest, largest = int(image.min()), int(image.max())
    if largest == smallest:
        return _constant(image.shape, low, dtype)
    levels = largest - smallest + 1
    if image.dtype.itemsize <= 2 and (1 << (8 * image.dtype.itemsize)) <= 2 * image.size:
        # one entry per possible value, indexed by the bits of the pixel itself:
        # no shifted copy of the image, signed or not
        table = np.zeros(1 << (8 * image.dtype.itemsize), dtype)
        present = np.arange(smallest, largest + 1).astype(image.dtype)
        table[present.view(f"u{image.dtype.itemsize}")] = _mahotas_formula(
            np.arange(levels, dtype=np.float64), float(levels - 1), low, high, dtype)
        return _look_up(table, image.view(f"u{image.dtype.itemsize}"))
    if levels <= _MAX_TABLE_SIZE and levels <= image.size:
        table = _mahotas_formula(np.arange(levels, dtype=np.float64), float(levels - 1),
                                 low, high, dtype)
        return _look_up(table, np.subtract(image, smallest, dtype=np.intp))
    shifted = np.subtract(image, smallest, dtype=np.float64)
    return _mahotas_formula(shifted, float(levels - 1), low, high, dtype)


def _stretch_float_to_uint8(image: np.ndarray, low, high) -> np.ndarray | None:
    """The common case (a float image to uint8) in two passes of a kernel: the
    same rules and the same float64 arithmetic as the general path below,
    which handles the constant images (None)."""
    values = np.ascontiguousarray(image).reshape(-1)
    smallest, largest = float(values.min()), float(values.max())  # SIMD; NaN propagates
    all_finite = math.isfinite(smallest) and math.isfinite(largest)
    if not all_finite:
        smallest, largest, n_finite = _stretch.finite_range(values)
        if n_finite == 0:
            return None
    if smallest == largest:
        return None
    stretched = np.empty(image.shape, np.uint8)
    _stretch.stretch_to_uint8(values, stretched.reshape(-1), smallest, largest,
                              float(high - low) / (largest - smallest), float(low), all_finite)
    return stretched


def _look_up(table: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``table[indices]``, in cache-sized blocks.

    ``np.take`` converts small-integer indices to intp before gathering; a
    block at a time, that conversion stays in cache (3x faster than fancy
    indexing on a megapixel image).
    """
    flat = np.ascontiguousarray(indices).reshape(-1)
    looked_up = np.empty(flat.shape, table.dtype)
    for start in range(0, flat.size, _LOOKUP_BLOCK):
        stop = start + _LOOKUP_BLOCK
        # mode="clip" lets take write straight into `out` (indices are in range)
        np.take(table, flat[start:stop], out=looked_up[start:stop], mode="clip")
    return looked_up.reshape(indices.shape)


def _mahotas_formula(shifted: np.ndarray, ptp, low, high, dtype: np.dtype) -> np.ndarray:
    # same float64 operations in the same order as mahotas, for identical rounding
    shifted *= float(high - low) / ptp
    if low:
        shifted += low
    return shifted.astype(dtype, copy=False)


def _constant(shape: tuple, low, dtype: np.dtype) -> np.ndarray:
    constant = np.zeros(shape, dtype)
    if low:
        constant += low
    return constant


def _stretch_float(image: np.ndarray, low, high, dtype: np.dtype) -> np.ndarray:
    if dtype == np.uint8 and image.dtype in (np.float32, np.float64):
        stretched = _stretch_float_to_uint8(image, low, high)
        if stretched is not None:
            return stretched
    smallest, largest = image.min(), image.max()
    nan_mask = None
    if not (np.isfinite(smallest) and np.isfinite(largest)):
        if np.isnan(smallest):
            nan_mask = np.isnan(image)
        valid = image[np.isfinite(image)]
        if valid.size == 0:
            constant = _constant(image.shape, low, dtype)
            constant[image == np.inf] = high
            if nan_mask is not None and dtype.kind == "f":
                constant[nan_mask] = np.nan
            return constant
        smallest, largest = valid.min(), valid.max()
        image = np.clip(image, smallest, largest)  # -inf and +inf to the ends of the range
    shifted = image.astype(np.float64, copy=True)
    shifted -= np.float64(smallest)
    ptp = np.float64(largest) - np.float64(smallest)
    if not ptp:
        constant = _constant(image.shape, low, dtype)
        if nan_mask is not None and dtype.kind == "f":
            constant[nan_mask] = np.nan
        return constant
    if nan_mask is not None and dtype.kind != "f":
        shifted[nan_mask] = 0.0
    return _mahotas_formula(shifted, ptp, low, high, dtype)


def stretch_rgb(img, arg0=None, arg1=None, dtype=np.uint8) -> np.ndarray:
    """Contrast-stretch each channel of a colour image independently.

    Parameters
    ----------
    img : array-like
        ``(h, w)`` grey image (stretched as a whole) or ``(h, w, c)`` colour
        image (each of the ``c`` channels stretched on its own). Not modified.
    arg0, arg1 : number, optional
        Output range, as in :func:`stretch`.
    dtype : dtype, optional
        Output dtype (default ``np.uint8``).

    Returns
    -------
    stretched : ndarray
        Same shape as `img`, of type `dtype`.

    See Also
    --------
    stretch : the formula and its edge cases.

    Notes
    -----
    Per-channel linear min-max normalisation (mahotas ``stretch_rgb``); the
    channels are written into one preallocated output rather than stacked.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.stretch import stretch_rgb
    >>> rgb = np.array([[[0, 10, 5], [2, 20, 5]]])
    >>> stretch_rgb(rgb)
    array([[[  0,   0,   0],
            [255, 255,   0]]], dtype=uint8)
    """
    image = as_array(img, "stretch_rgb", "img", min_ndim=2, max_ndim=3)
    if image.ndim == 2:
        return stretch(image, arg0, arg1, dtype)
    channels = [stretch(image[:, :, channel], arg0, arg1, dtype)
                for channel in range(image.shape[2])]
    if not channels:
        return np.empty(image.shape, _output_dtype(dtype, "stretch_rgb"))
    return np.stack(channels, axis=-1)


def as_rgb(r, g, b) -> np.ndarray:
    """Combine three channels into one RGB uint8 image, stretching each.

    Parameters
    ----------
    r, g, b : array-like, number or None
        The red, green and blue channels, all of the same shape; at least one
        must be an array. An array channel is contrast-stretched to 0..255
        (:func:`stretch`); a number fills its channel with that value (cast to
        uint8, not stretched); None is a black channel.

    Returns
    -------
    rgb : ndarray of uint8
        ``(h, w, 3)`` for 2-D channels (``(1, n, 3)`` for 1-D ones, as
        ``np.dstack``); ``(..., 3)`` for channels of 3 or more dimensions.

    See Also
    --------
    overlay : a grey image with boolean masks drawn in colour.
    stretch : the stretching applied to each channel.

    Notes
    -----
    Each channel is stretched independently, so channels on very different
    scales are all visible. For channels of 3 or more dimensions mahotas
    concatenates them along axis 2, which is not an RGB image; karyo stacks
    them on a new last axis instead.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.stretch import as_rgb
    >>> as_rgb(np.array([[0, 1]]), None, 7)
    array([[[  0,   0,   7],
            [255,   0,   7]]], dtype=uint8)
    """
    channels = [None if c is None else np.asanyarray(c) for c in (r, g, b)]
    shapes = [c.shape for c in channels if c is not None and c.shape != ()]
    if not shapes:
        raise ValueError("karyo.as_rgb: at least one of `r`, `g`, `b` must be an array "
                         "(the others may be None or numbers)")
    shape = shapes[0]
    if any(s != shape for s in shapes):
        described = [" . " if c is None else c.shape for c in channels]
        raise ValueError(f"karyo.as_rgb: `r`, `g`, `b` must have the same shape; got {described}")
    planes = []
    for name, channel in zip("rgb", channels, strict=True):
        if channel is None:
            planes.append(np.zeros(shape, np.uint8))
        elif channel.shape == ():
            planes.append(np.broadcast_to(np.asarray(channel).astype(np.uint8), shape))
        else:
            if channel.dtype.kind not in "buif":
                raise TypeError(f"karyo.as_rgb: `{name}` has dtype {channel.dtype}; expected "
                                "bool, integer or floating-point values")
            planes.append(stretch(channel))
    if len(shape) <= 2:
        return np.dstack(planes)
    return np.stack(planes, axis=-1)


def overlay(gray, red=None, green=None, blue=None,
            if_gray_dtype_not_uint8: str = "stretch") -> np.ndarray:
    """Colour image of a grey image with boolean masks drawn at full intensity.

    Parameters
    ----------
    gray : array-like, 2-D
        Greyscale background, ideally uint8.
    red, green, blue : array-like, optional
        Masks of the same shape as `gray` (any dtype, nonzero = drawn): each
        sets its channel to 255 where it is true.
    if_gray_dtype_not_uint8 : {'stretch', 'error'}, optional
        What to do when `gray` is not uint8: ``'stretch'`` it to 0..255
        (default), or raise an ``'error'``.

    Returns
    -------
    overlaid : ndarray of uint8, shape ``(h, w, 3)``

    See Also
    --------
    as_rgb : combine three channels into one image.
    stretch : the conversion applied to a non-uint8 `gray`.

    Notes
    -----
    Each channel is ``max(gray, 255 * mask)``, as mahotas computes it, done
    as a bitwise or with a uint8 mask (no int64 temporaries).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.stretch import overlay
    >>> overlay(np.array([[10, 20]], np.uint8), red=np.array([[True, False]]))
    array([[[255,  10,  10],
            [ 20,  20,  20]]], dtype=uint8)
    """
    if if_gray_dtype_not_uint8 not in ("stretch", "error"):
        raise ValueError("karyo.overlay: `if_gray_dtype_not_uint8` must be 'stretch' or "
                         f"'error', got {if_gray_dtype_not_uint8!r}")
    image = as_array(gray, "overlay", "gray", min_ndim=2, max_ndim=2)
    if image.dtype != np.uint8:
        if if_gray_dtype_not_uint8 == "error":
            raise ValueError(f"karyo.overlay: `gray` has dtype {image.dtype}; expected uint8 "
                             "(or pass if_gray_dtype_not_uint8='stretch')")
        image = stretch(image)
    masks = []
    for name, mask in (("red", red), ("green", green), ("blue", blue)):
        if mask is not None:
            mask = np.asanyarray(mask)
            if mask.shape != image.shape:
                raise ValueError(f"karyo.overlay: `{name}` has shape {mask.shape}; expected "
                                 f"{image.shape} (the shape of `gray`)")
            if mask.dtype != bool:
                mask = mask.astype(bool)
        masks.append(mask)
    # 255 * mask is 0 - mask in uint8, and max(gray, 0 or 255) is gray | that
    return np.stack([image if mask is None else image | np.negative(mask.view(np.uint8))
                     for mask in masks], axis=-1)
