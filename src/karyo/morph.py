"""Mathematical morphology, regional extrema and seeded watershed (mahotas-compatible).

Every function keeps mahotas's name, signature, defaults and output dtype:
``Bc`` is the structuring element (None = the cross, an int = a connectivity,
or an array of any size, centred at ``shape // 2``), borders extend the
nearest pixel, and ``out=``
follows the shared convention of :func:`karyo.internal.get_output`.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _morph, _watershed
from .internal import (
    INTEGER_KINDS,
    as_array,
    as_int,
    as_structuring_element,
    check_dtype,
    get_output,
    kernel_view,
    neighbour_offsets,
)

__all__ = [
    "cdilate",
    "cerode",
    "circle_se",
    "close",
    "close_holes",
    "cwatershed",
    "dilate",
    "disk",
    "erode",
    "get_structuring_elem",
    "hitmiss",
    "locmax",
    "locmin",
    "majority_filter",
    "open",
    "regmax",
    "regmin",
    "subm",
    "tophat_close",
    "tophat_open",
]

# dtypes the compiled kernels take directly; bool runs as uint8 (0/1).
_KERNEL_DTYPES = frozenset(np.dtype(t) for t in (
    np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
    np.float32, np.float64))


# ------------------------------------------------------------------ helpers

def _resolve_out(out, output, fname: str):
    """mahotas's deprecated ``output=`` alias of ``out=``."""
    if output is not None:
        warnings.warn(f"karyo.{fname}: `output` is deprecated; use `out` (same meaning)",
                      DeprecationWarning, stacklevel=3)
        if out is None:
            out = output
    return out


def _check_kernel_dtype(array: np.ndarray, fname: str, name: str) -> None:
    if array.dtype != np.bool_ and array.dtype not in _KERNEL_DTYPES:
        raise TypeError(f"karyo.{fname}: `{name}` has dtype {array.dtype}; expected bool, "
                        "a (u)int8..64 or float32/float64 array")


def _flat(array: np.ndarray) -> np.ndarray:
    """Flat C-contiguous view (a copy only if needed) in a kernel dtype: bool as uint8."""
    return kernel_view(np.ascontiguousarray(array)).reshape(-1)


def _limits(dtype: np.dtype):
    """(lowest, highest) of `dtype`: the values mahotas reads as -inf and +inf."""
    if dtype == np.bool_:
        return 0, 1
    if dtype.kind == "f":
        return -np.inf, np.inf
    info = np.iinfo(dtype)
    return info.min, info.max


def _weighted_footprint(Bc: np.ndarray, dtype: np.dtype):
    """Offsets and additive weights of a (possibly non-flat) structuring element.

    mahotas's rule: for bool images the nonzero elements form a flat footprint;
    otherwise every element takes part as an additive weight, except those
    equal to the dtype's lowest value (read as -infinity). So with the usual
    0/1 cross, unsigned images use the 5 cross pixels (+1 each) while signed
    and float images use all 9 (+0 on the corners).
    """
    if dtype == np.bool_:
        offsets = neighbour_offsets(Bc, include_centre=True)
        return offsets, np.zeros(len(offsets), np.uint8)
    lowest, _ = _limits(dtype)
    taking_part = Bc != lowest
    centre = np.array(Bc.shape) // 2
    offsets = np.ascontiguousarray(np.argwhere(taking_part) - centre, dtype=np.intp)
    weights = np.ascontiguousarray(Bc[taking_part], dtype=dtype)
    return offsets, weights


def _shape_vector(array: np.ndarray) -> np.ndarray:
    return np.array(array.shape, dtype=np.intp)


def _grey_morphology(A, Bc, out, output, fname: str, kernel) -> np.ndarray:
    image = as_array(A, fname, "A")
    _check_kernel_dtype(image, fname, "A")
    if image.ndim > 32:
        raise ValueError(f"karyo.{fname}: `A` has {image.ndim} dimensions; at most 32 supported")
    element = as_structuring_element(Bc, image.ndim, fname, dtype=image.dtype)
    out = get_output(image, _resolve_out(out, output, fname), fname)
    if image.size == 0:
        return out
    if np.shares_memory(image, out):
        image = image.copy()
    offsets, weights = _weighted_footprint(element, image.dtype)
    kernel_dtype = np.uint8 if image.dtype == np.bool_ else image.dtype
    lowest, highest = _limits(image.dtype)
    kernel(_flat(image), out.reshape(-1).view(kernel_dtype), _shape_vector(image),
           offsets, weights, lowest, highest)
    return out


# ------------------------------------------------------------------ structuring elements

def get_structuring_elem(A: np.ndarray, Bc) -> np.ndarray:
    """Return the structuring element for an operation on `A`, with `A`'s dtype.

    Parameters
    ----------
    A : ndarray
        The array the element will be used on (only its ndim and dtype matter).
    Bc : None, int or array_like
        None: the cross (city-block radius 1). An int: a neighbour count (4 or 8
        in 2-D; 6, 18 or 26 in 3-D) or a city-block radius. An array: used as
        given (cast to ``A.dtype``); it needs ``A.ndim`` dimensions. Its
        centre is at ``shape // 2``, as in mahotas, also for an even size.

    Returns
    -------
    Bc_out : ndarray
        C-contiguous structuring element of dtype ``A.dtype``.

    See Also
    --------
    disk : a round structuring element.

    Notes
    -----
    Same meaning as ``mahotas.get_structuring_elem``; the elements are the
    3**ndim neighbourhoods of the given city-block radius.

    Examples
    --------
    >>> import numpy as np
    >>> int(get_structuring_elem(np.zeros((4, 4), np.uint8), 8).sum())
    9
    """
    A = np.asanyarray(A)
    return as_structuring_element(Bc, A.ndim, "get_structuring_elem", dtype=A.dtype)


def disk(radius: int, dim: int = 2) -> np.ndarray:
    """Return a boolean disk (ball) of the given `radius` in `dim` dimensions.

    Parameters
    ----------
    radius : int
        Radius in pixels (>= 0); the array has ``2 * radius + 1`` pixels per axis.
    dim : int, optional
        Number of dimensions (default 2).

    Returns
    -------
    D : ndarray of bool
        True where the squared distance to the centre is below ``radius**2``.

    See Also
    --------
    get_structuring_elem, circle_se

    Notes
    -----
    As in mahotas the inequality is strict, so ``disk(1)`` is the centre pixel
    alone and ``disk(0)`` is a single False pixel.

    Examples
    --------
    >>> disk(2).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    dim = as_int(dim, "disk", "dim", low=1)
    radius = as_int(radius, "disk", "radius", low=0)
    squared = (np.indices((2 * radius + 1,) * dim) - radius) ** 2
    return squared.sum(0) < radius ** 2


def circle_se(radius: int) -> np.ndarray:
    """Return a boolean 2-D disc of the given `radius` (the same as ``disk(radius)``).

    Parameters
    ----------
    radius : int
        Radius in pixels, positive.

    Returns
    -------
    circle : ndarray of bool

    See Also
    --------
    disk

    Notes
    -----
    Kept for mahotas compatibility.

    Examples
    --------
    >>> int(circle_se(1).sum())
    1
    """
    if not radius > 0:
        raise ValueError(f"karyo.circle_se: `radius` must be positive, got {radius}")
    return disk(int(radius), 2)


# ------------------------------------------------------------------ dilation and erosion

def dilate(A: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Morphological dilation: binary for bool `A`, greyscale otherwise.

    Parameters
    ----------
    A : ndarray
        Image of any dimension: bool, (u)int8..64, float32 or float64.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross); see :func:`get_structuring_elem`.
        For greyscale images it is non-flat: each element adds its value, and
        elements equal to the dtype's lowest value (0 for unsigned) are left out.
    out : ndarray, optional
        C-contiguous output of ``A``'s shape and dtype.
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    dilated : ndarray
        Same shape and dtype as `A`.

    See Also
    --------
    erode, close, cdilate

    Notes
    -----
    ``out[p] = max_j A[q] + Bc[j]`` over the pixels q with ``clamp(q + o_j) == p``
    (mahotas's scatter with nearest-pixel borders), with saturating arithmetic
    and the dtype's lowest value acting as -infinity. Each offset is applied to
    whole rows at a time so the inner loop vectorises (the row-shift scheme of
    e.g. Soille, *Morphological Image Analysis*, 2003, ch. 3).

    Examples
    --------
    >>> import numpy as np
    >>> dilate(np.eye(3, dtype=bool)).astype(int)
    array([[1, 1, 0],
           [1, 1, 1],
           [0, 1, 1]])
    """
    return _grey_morphology(A, Bc, out, output, "dilate", _morph.dilate)


def erode(A: np.ndarray, Bc=None, out: np.ndarray | None = None,
          output: np.ndarray | None = None) -> np.ndarray:
    """Morphological erosion: binary for bool `A`, greyscale otherwise.

    Parameters
    ----------
    A : ndarray
        Image of any dimension: bool, (u)int8..64, float32 or float64.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross). For greyscale images each
        element subtracts its value; elements equal to the dtype's lowest
        value are left out.
    out : ndarray, optional
        C-contiguous output of ``A``'s shape and dtype.
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    eroded : ndarray
        Same shape and dtype as `A`.

    See Also
    --------
    dilate, open, cerode

    Notes
    -----
    ``out[p] = min_j A[clamp(p + o_j)] - Bc[j]`` with saturating arithmetic and
    nearest-pixel borders (as mahotas), computed one whole row per offset so
    the inner loop vectorises (Soille, *Morphological Image Analysis*, 2003).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((5, 5), bool)
    >>> image[1:4, 1:4] = True
    >>> int(erode(image).sum())
    1
    """
    return _grey_morphology(A, Bc, out, output, "erode", _morph.erode)


def open(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
         output: np.ndarray | None = None) -> np.ndarray:
    """Morphological opening: erosion followed by dilation with the same `Bc`.

    Parameters
    ----------
    f : ndarray
        Binary or integer image.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    out : ndarray, optional
        Output array (C-contiguous, same shape and dtype as `f`).
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    opened : ndarray

    See Also
    --------
    close, erode, dilate

    Notes
    -----
    Removes bright structures smaller than `Bc` (Serra, *Image Analysis and
    Mathematical Morphology*, 1982).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((5, 5), bool)
    >>> image[2, 2] = True
    >>> bool(open(image).any())
    False
    """
    image = as_array(f, "open", "f")
    check_dtype(image, INTEGER_KINDS, "open", "f")
    eroded = erode(image, Bc, out=_resolve_out(out, output, "open"))
    return dilate(eroded.copy(), Bc, out=eroded)


def close(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
          output: np.ndarray | None = None) -> np.ndarray:
    """Morphological closing: dilation followed by erosion with the same `Bc`.

    Parameters
    ----------
    f : ndarray
        Binary or integer image.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    out : ndarray, optional
        Output array (C-contiguous, same shape and dtype as `f`).
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    closed : ndarray

    See Also
    --------
    open, dilate, erode, close_holes

    Notes
    -----
    Fills dark structures smaller than `Bc` (Serra, 1982).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.ones((5, 5), bool)
    >>> image[2, 2] = False
    >>> bool(close(image).all())
    True
    """
    image = as_array(f, "close", "f")
    check_dtype(image, INTEGER_KINDS, "close", "f")
    dilated = dilate(image, Bc, out=_resolve_out(out, output, "close"))
    return erode(dilated.copy(), Bc, out=dilated)


def cdilate(f: np.ndarray, g: np.ndarray, Bc=None, n: int = 1) -> np.ndarray:
    """Conditional dilation of `f` under `g`, repeated `n` times (or until stable).

    Parameters
    ----------
    f : ndarray
        Binary or integer image (the marker).
    g : ndarray or number
        Conditioning image (the mask): the shape of `f`, or one that
        broadcasts to it, such as a single value (``np.minimum``'s rule, as
        in mahotas).
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    n : int, optional
        Number of iterations (default 1).

    Returns
    -------
    y : ndarray
        ``min(dilate(y_prev), g)`` after `n` steps, starting from ``min(f, g)``.

    See Also
    --------
    dilate, cerode

    Notes
    -----
    Iterated to stability this is morphological reconstruction by dilation
    (Vincent, IEEE Trans. Image Process. 2(2), 1993).

    Examples
    --------
    >>> import numpy as np
    >>> seed = np.zeros(5, bool); seed[0] = True
    >>> cdilate(seed, np.array([1, 1, 0, 1, 1], bool), n=10).astype(int)
    array([1, 1, 0, 0, 0])
    """
    marker = as_array(f, "cdilate", "f")
    check_dtype(marker, INTEGER_KINDS, "cdilate", "f")
    mask = as_array(g, "cdilate", "g", min_ndim=0)
    if mask.ndim > marker.ndim or any(
            m not in (1, s) for m, s in zip(mask.shape[::-1], marker.shape[::-1], strict=False)):
        raise ValueError(f"karyo.cdilate: `g` has shape {mask.shape}; expected {marker.shape} "
                         "(the shape of `f`) or a shape that broadcasts to it, such as a "
                         "single value")
    if isinstance(g, (bool, int, float)):
        mask = g  # a Python number takes `f`'s dtype where it fits (numpy's rule, as mahotas)
    element = get_structuring_elem(marker, Bc)
    current = np.minimum(marker, mask)
    for _ in range(int(n)):
        previous = current
        current = np.minimum(dilate(current, element), mask)
        if np.array_equal(current, previous):
            break
    return current


def cerode(f: np.ndarray, g: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Conditional erosion of `f` over `g`: ``max(erode(max(f, g)), g)``.

    Parameters
    ----------
    f : ndarray
        Binary or integer image.
    g : ndarray
        Conditioning image, same shape.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    out : ndarray, optional
        Output array.
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    conditionally_eroded : ndarray

    See Also
    --------
    erode, cdilate

    Notes
    -----
    The dual of :func:`cdilate` (Soille, *Morphological Image Analysis*, 2003).

    Examples
    --------
    >>> import numpy as np
    >>> cerode(np.ones(3, bool), np.array([0, 1, 0], bool)).astype(int)
    array([1, 1, 1])
    """
    image = as_array(f, "cerode", "f")
    mask = as_array(g, "cerode", "g")
    if mask.shape != image.shape:
        raise ValueError(f"karyo.cerode: `g` has shape {mask.shape}; expected {image.shape} "
                         "(the shape of `f`)")
    image = np.maximum(image, mask)
    check_dtype(image, INTEGER_KINDS, "cerode", "f")
    eroded = erode(image, Bc, out=_resolve_out(out, output, "cerode"))
    return np.maximum(eroded, mask, out=eroded)


def close_holes(ref: np.ndarray, Bc=None) -> np.ndarray:
    """Fill the holes of a binary image: background not connected to the border.

    Parameters
    ----------
    ref : ndarray
        Binary image (any nonzero value is foreground), 2-D as in mahotas.
    Bc : None, int or ndarray, optional
        Connectivity of the background (default: the cross).

    Returns
    -------
    closed : ndarray of bool
        Superset of `ref` with its holes filled.

    See Also
    --------
    close

    Notes
    -----
    The background's parts connected by `Bc` that touch the image border stay
    background; the others are holes (Soille, 2003, sec. 6.3.7, computed by
    labelling rather than by flooding from the border).

    Examples
    --------
    >>> import numpy as np
    >>> ring = np.ones((3, 3), bool); ring[1, 1] = False
    >>> bool(close_holes(ring).all())
    True
    """
    # Imported here: karyo.labeled imports this module.
    from .labeled import label

    image = as_array(ref, "close_holes", "ref", min_ndim=2, max_ndim=2)
    foreground = np.ascontiguousarray(image, dtype=bool)
    element = as_structuring_element(Bc, 2, "close_holes")
    if foreground.size == 0:
        return foreground.copy()
    # The background's connected parts (label 0 is the foreground); those on
    # the border are background, the others holes. Labelling is a union-find
    # pass over the pixels, about 9x faster than flooding from the border.
    background, count = label(~foreground, Bc=element)
    outside = np.zeros(count + 1, bool)
    outside[0] = True
    for side in (background[0], background[-1], background[:, 0], background[:, -1]):
        outside[side] = True
    return foreground | ~outside[background]


def majority_filter(img: np.ndarray, N: int = 3, out: np.ndarray | None = None,
                    output: np.ndarray | None = None) -> np.ndarray:
    """Binary majority filter over N x N windows (2-D).

    Parameters
    ----------
    img : ndarray
        2-D image, read as binary (nonzero = True).
    N : int, optional
        Window size, odd (an even size is raised by one with a warning).
    out : ndarray, optional
        Bool output array.
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    filtered : ndarray of bool
        True where at least ``N * N // 2`` pixels of the window are True.

    See Also
    --------
    karyo.convolve.rank_filter

    Notes
    -----
    Window sums come from a summed-area table (Crow, SIGGRAPH 1984), so the
    cost does not grow with N. As in mahotas, only windows entirely inside
    the image, except the last row and column of windows, are evaluated; the
    remaining pixels are False.

    Examples
    --------
    >>> import numpy as np
    >>> majority_filter(np.ones((5, 5), bool)).astype(int)[2]
    array([0, 1, 1, 0, 0])
    """
    image = as_array(img, "majority_filter", "img", min_ndim=2, max_ndim=2)
    image = image.astype(bool, copy=False)
    out = get_output(image, _resolve_out(out, output, "majority_filter"), "majority_filter",
                     dtype=bool)
    if isinstance(N, (bool, np.bool_)) or not isinstance(N, (int, np.integer)):
        raise TypeError(f"karyo.majority_filter: `N` must be an int, got {type(N).__name__}")
    if N <= 1:
        raise ValueError(f"karyo.majority_filter: `N` (the filter size) must be > 1, got {N}")
    if not N & 1:
        warnings.warn("karyo.majority_filter: `N` must be odd; adding 1", stacklevel=2)
        N += 1
    out[...] = False
    rows, cols = image.shape
    if rows < N or cols < N:
        return out
    table = np.zeros((rows + 1, cols + 1), np.int64)
    np.cumsum(np.cumsum(image, 0, dtype=np.int64), 1, out=table[1:, 1:])
    n_y, n_x = rows - N, cols - N
    counts = (table[N:N + n_y, N:N + n_x] - table[:n_y, N:N + n_x]
              - table[N:N + n_y, :n_x] + table[:n_y, :n_x])
    out[N // 2:N // 2 + n_y, N // 2:N // 2 + n_x] = counts >= N * N // 2
    return out


def hitmiss(input: np.ndarray, Bc: np.ndarray, out: np.ndarray | None = None,
            output: np.ndarray | None = None) -> np.ndarray:
    """Hit-or-miss transform with a template of 0 (miss), 1 (hit) and 2 (don't care).

    Parameters
    ----------
    input : ndarray
        Binary or integer image.
    Bc : ndarray
        Template, same ndim as `input`, centred at ``shape // 2``; values 0,
        1 or 2. As in mahotas, pixels closer to the border than
        ``shape // 2`` (along the last axis, than the template reaches) are 0.
    out : ndarray, optional
        Output array, same shape and dtype as `input` (or bool for uint8 input).
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    filtered : ndarray
        1 where every 0/1 of the template matches the image, else 0; pixels
        closer to the border than half the template are 0 (as mahotas).

    See Also
    --------
    erode, dilate

    Notes
    -----
    The template is matched as one erosion of the image and one of its
    complement (Serra, 1982); each element is a shifted whole-array compare.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([[0, 0, 0, 0, 0], [0, 1, 1, 1, 1], [0, 0, 1, 1, 1]])
    >>> hitmiss(image, np.array([[0, 0, 0], [2, 1, 1], [2, 1, 1]]))[1]
    array([0, 0, 1, 1, 0])
    """
    image = as_array(input, "hitmiss", "input", kinds=INTEGER_KINDS)
    template = as_array(Bc, "hitmiss", "Bc", kinds=INTEGER_KINDS)
    if template.ndim != image.ndim:
        raise ValueError(f"karyo.hitmiss: `Bc` has {template.ndim} dimensions; expected "
                         f"{image.ndim} (the same as `input`)")
    if template.size == 0:
        raise ValueError(f"karyo.hitmiss: `Bc` has shape {template.shape}; expected at least "
                         "one element along every axis")
    out = _resolve_out(out, output, "hitmiss")
    result_dtype = image.dtype
    if out is None:
        out = np.empty(image.shape, result_dtype)
    elif not isinstance(out, np.ndarray) or out.shape != image.shape:
        raise ValueError(f"karyo.hitmiss: `out` must be an array of shape {image.shape}")
    elif out.dtype != image.dtype and not (out.dtype == np.bool_ and image.dtype == np.uint8):
        raise TypeError(f"karyo.hitmiss: `out` has dtype {out.dtype}; expected {image.dtype}")
    values = image.view(np.uint8) if image.dtype == np.bool_ else image
    if template.dtype != image.dtype:
        template = template.astype(values.dtype)
    else:
        template = template.view(values.dtype) if image.dtype == np.bool_ else template
    match = np.zeros(image.shape, bool)
    # mahotas's margins: shape // 2 pixels at either end of every axis, except
    # that along the last axis a template of even size also matches at the
    # pixel shape // 2 from the end (its centre is at shape // 2, so it
    # reaches one pixel less forward than back)
    before = [s // 2 for s in template.shape]
    after = before[:-1] + [template.shape[-1] - 1 - before[-1]]
    if all(n > 2 * b for n, b in zip(image.shape, before, strict=True)):
        inner = tuple(slice(b, n - a) for n, b, a in zip(image.shape, before, after, strict=True))
        match[inner] = True
        centre = np.array(before)
        for position in np.argwhere(template != 2):
            wanted = template[tuple(position)]
            shift = position - centre
            shifted = tuple(slice(b + s, n - a + s) for n, b, a, s in
                            zip(image.shape, before, after, shift, strict=True))
            match[inner] &= values[shifted] == wanted
    out[...] = match
    return out


def subm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Saturating subtraction ``a - b`` (clips at the dtype's range instead of wrapping).

    Parameters
    ----------
    a, b : ndarray
        Arrays of the same dtype and shape.
    out : ndarray, optional
        Output; pass `a` to subtract in place.

    Returns
    -------
    c : ndarray

    See Also
    --------
    tophat_open, tophat_close

    Notes
    -----
    Computed in a wider type and clipped (integers); floats subtract normally.

    Examples
    --------
    >>> import numpy as np
    >>> subm(np.array([10, 10, 10], np.uint8), np.array([5, 10, 15], np.uint8))
    array([5, 0, 0], dtype=uint8)
    """
    a = as_array(a, "subm", "a")
    b = as_array(b, "subm", "b")
    if a.dtype != b.dtype:
        raise ValueError(f"karyo.subm: `a` ({a.dtype}) and `b` ({b.dtype}) must have the same "
                         "dtype")
    out = get_output(a, out, "subm")
    if a.dtype.kind == "f":
        np.subtract(a, b, out=out)
    elif a.dtype == np.bool_:
        np.logical_and(a, ~b, out=out)
    elif a.dtype.kind == "u":
        np.subtract(a, np.minimum(a, b), out=out)
    else:
        info = np.iinfo(a.dtype)
        if a.dtype.itemsize < 8:
            np.clip(a.astype(np.int64) - b, info.min, info.max, out=out, casting="unsafe")
        else:
            difference = a - b
            # Overflow iff the operands' signs differ and the result's sign is b's.
            overflow = ((a < 0) != (b < 0)) & ((difference < 0) != (a < 0))
            out[...] = np.where(overflow, np.where(a < 0, info.min, info.max), difference)
    return out


def tophat_open(f: np.ndarray, Bc=None, out: np.ndarray | None = None) -> np.ndarray:
    """White top-hat: ``f - open(f)`` (saturating): bright details smaller than `Bc`.

    Parameters
    ----------
    f : ndarray
        Binary or integer image.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    out : ndarray, optional
        Output array.

    Returns
    -------
    fopen : ndarray

    See Also
    --------
    tophat_close, open

    Notes
    -----
    Meyer's top-hat transform (Serra, 1982).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((5, 5), np.uint8); image[2, 2] = 9
    >>> int(tophat_open(image)[2, 2])
    9
    """
    image = as_array(f, "tophat_open", "f")
    out = get_output(image, out, "tophat_open")
    return subm(image, open(image, Bc), out=out)


def tophat_close(f: np.ndarray, Bc=None, out: np.ndarray | None = None) -> np.ndarray:
    """Black top-hat: ``close(f) - f`` (saturating): dark details smaller than `Bc`.

    Parameters
    ----------
    f : ndarray
        Binary or integer image.
    Bc : None, int or ndarray, optional
        Structuring element (default: the cross).
    out : ndarray, optional
        Output array.

    Returns
    -------
    fclosed : ndarray

    See Also
    --------
    tophat_open, close

    Notes
    -----
    Meyer's top-hat transform (Serra, 1982).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((5, 5), 9, np.uint8); image[2, 2] = 0
    >>> int(tophat_close(image)[2, 2])
    9
    """
    image = as_array(f, "tophat_close", "f")
    out = get_output(image, out, "tophat_close")
    return subm(close(image, Bc), image, out=out)


# ------------------------------------------------------------------ regional extrema

def _extrema(f, Bc, out, output, fname: str, kernel, is_min: bool) -> np.ndarray:
    image = as_array(f, fname, "f")
    _check_kernel_dtype(image, fname, "f")
    element = as_structuring_element(Bc, image.ndim, fname, dtype=image.dtype)
    out = get_output(image, _resolve_out(out, output, fname), fname, dtype=bool)
    if image.size == 0:
        return out
    offsets = neighbour_offsets(element).astype(np.intp, copy=False)
    kernel(_flat(image), out.reshape(-1).view(np.uint8), _shape_vector(image),
           offsets, is_min)
    return out


_EXTREMA_NOTES = """
    Parameters
    ----------
    f : ndarray
        Image of any dimension and dtype (bool, integers, float32/64).
    Bc : None, int or ndarray, optional
        Neighbourhood (default: the cross); its centre is ignored.
    out : ndarray, optional
        C-contiguous bool output of `f`'s shape.
    output : ndarray, optional
        Deprecated alias of `out`.

    Returns
    -------
    filtered : ndarray of bool
"""


def locmax(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Local maxima: pixels that no neighbour exceeds.
    {params}
    See Also
    --------
    regmax : regional maxima, a subset of the local maxima.
    locmin

    Notes
    -----
    A pixel is kept unless some neighbour (border coordinates clamped to the
    nearest pixel, as mahotas) is strictly greater; NaN never exceeds. One
    vectorised pass per neighbour offset over whole rows.

    Examples
    --------
    >>> import numpy as np
    >>> locmax(np.array([0, 2, 1, 1, 0])).astype(int)
    array([0, 1, 0, 1, 0])
    """
    return _extrema(f, Bc, out, output, "locmax", _morph.locmin_max, False)


def locmin(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Local minima: pixels that no neighbour undercuts.
    {params}
    See Also
    --------
    regmin : regional minima, a subset of the local minima.
    locmax

    Notes
    -----
    The dual of :func:`locmax`.

    Examples
    --------
    >>> import numpy as np
    >>> locmin(np.array([3, 1, 2, 2, 3])).astype(int)
    array([0, 1, 0, 1, 0])
    """
    return _extrema(f, Bc, out, output, "locmin", _morph.locmin_max, True)


def regmax(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Regional maxima: plateaus with no neighbour at least as high outside them.
    {params}
    See Also
    --------
    locmax : local maxima (a superset).
    regmin

    Notes
    -----
    Local maxima first (vectorised passes over whole rows); then, in raster
    order, a candidate with a non-candidate neighbour at least as high is
    not regional and its whole candidate plateau is erased by one flood, so
    each plateau is visited once (Soille, *Morphological Image Analysis*,
    2003, sec. 6.3.5). Neighbours outside the image are ignored in the second
    step, as in mahotas, so results equal mahotas's for every Bc.

    Examples
    --------
    >>> import numpy as np
    >>> regmax(np.array([0, 2, 2, 3, 0, 1])).astype(int)
    array([0, 0, 0, 1, 0, 1])
    """
    return _extrema(f, Bc, out, output, "regmax", _morph.regmin_max, False)


def regmin(f: np.ndarray, Bc=None, out: np.ndarray | None = None,
           output: np.ndarray | None = None) -> np.ndarray:
    """Regional minima: plateaus with no neighbour at least as low outside them.
    {params}
    See Also
    --------
    locmin : local minima (a superset).
    regmax, cwatershed

    Notes
    -----
    The dual of :func:`regmax` (same algorithm with the order reversed).

    Examples
    --------
    >>> import numpy as np
    >>> regmin(np.array([3, 1, 1, 0, 2, 2])).astype(int)
    array([0, 0, 0, 1, 0, 0])
    """
    return _extrema(f, Bc, out, output, "regmin", _morph.regmin_max, True)


for _function in (locmax, locmin, regmax, regmin):
    _function.__doc__ = _function.__doc__.replace("{params}", _EXTREMA_NOTES)


# ------------------------------------------------------------------ seeded watershed

def _flat_deltas(offsets: np.ndarray, shape: tuple) -> np.ndarray:
    strides = np.ones(len(shape), np.intp)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    return np.ascontiguousarray(offsets @ strides, dtype=np.intp)


def _border_flags(shape: tuple, offsets: np.ndarray) -> np.ndarray:
    """1 where some neighbour offset could leave the image, else 0."""
    border = np.ones(shape, np.uint8)
    reach = np.abs(offsets).max(0) if len(offsets) else np.zeros(len(shape), np.intp)
    border[tuple(slice(r, n - r) for r, n in zip(reach, shape, strict=True))] = 0
    return border.reshape(-1)


def _flood_geometry(shape: tuple, offsets: np.ndarray):
    """Offsets that can land inside the image, the padding they need, the padded shape.

    An offset at least as long as its axis always leaves the image, so it can
    never label a pixel: dropping it bounds the padding by the image itself.
    """
    inside = (np.abs(offsets) < np.array(shape)).all(axis=1)
    offsets = np.ascontiguousarray(offsets[inside])
    reach = (np.abs(offsets).max(0) if len(offsets) else np.zeros(len(shape))).astype(np.intp)
    padded_shape = tuple(int(n + 2 * r) for n, r in zip(shape, reach, strict=True))
    return offsets, reach, padded_shape


def _ranks_if_few(relief: np.ndarray):
    """uint16 ranks of `relief`'s values (NaN last) if it holds at most 65536 of them, else None.

    Flooding the ranks with the bucket queue pops pixels in exactly the order
    the heap would: equal values share a rank and pop first-in first-out.
    """
    values = np.sort(relief, axis=None)
    n_distinct = 1 + np.count_nonzero(values[1:] != values[:-1])
    if values.dtype.kind == "f":
        # NaN != NaN counted every NaN after the first as a new value.
        n_distinct -= max(np.count_nonzero(np.isnan(values)) - 1, 0)
    if n_distinct > 65536:
        return None
    return np.unique(relief, return_inverse=True)[1].reshape(relief.shape).astype(np.uint16)


def _flood_padded(relief: np.ndarray, seeds: np.ndarray, narrow, offsets: np.ndarray,
                  reach: np.ndarray, padded_shape: tuple, return_lines: bool):
    """cwatershed on copies padded so that no pixel needs a border test."""
    interior = tuple(slice(r, r + n) for r, n in zip(reach, relief.shape, strict=True))
    if relief.dtype.itemsize <= 2:
        # 8/16-bit keys for the bucket queue; flipping the sign bit maps
        # signed order onto unsigned order.
        key_dtype = np.uint8 if relief.dtype.itemsize == 1 else np.uint16
        keys = np.zeros(padded_shape, key_dtype)
        if relief.dtype.kind == "i":
            np.bitwise_xor(relief.view(key_dtype),
                           key_dtype(1 << (8 * relief.dtype.itemsize - 1)), out=keys[interior])
        else:
            keys[interior] = relief.view(key_dtype)
        flood = _watershed.flood_buckets
    else:
        keys = np.zeros(padded_shape, relief.dtype)
        keys[interior] = relief
        flood = _watershed.flood_heap
    labels = np.ones(padded_shape, narrow)  # nonzero padding: looks labelled, never queued
    labels[interior] = seeds
    lines = np.zeros(padded_shape, np.uint8) if return_lines else np.zeros(0, np.uint8)
    flood(keys.reshape(-1), labels.reshape(-1), lines.reshape(-1),
          np.array(padded_shape, np.intp), reach, _flat_deltas(offsets, padded_shape))
    labels = labels[interior].astype(np.int64)
    if return_lines:
        return labels, lines[interior].astype(bool)
    return labels


def cwatershed(surface: np.ndarray, markers: np.ndarray, Bc=None, return_lines: bool = False):
    """Seeded watershed: grow the labelled `markers` over `surface`, lowest first.

    Parameters
    ----------
    surface : ndarray
        Relief to flood, any dimension: bool, integers, float32/float64.
    markers : ndarray
        Seeds: integer (or bool) labels, same shape; 0 is unlabelled.
    Bc : None, int or ndarray, optional
        Neighbourhood (default: the cross).
    return_lines : bool, optional
        Also return the separating lines.

    Returns
    -------
    W : ndarray of int64
        Region label of every pixel (0 where no seed can reach).
    WL : ndarray of bool
        Only if `return_lines`: pixels where two regions meet.

    See Also
    --------
    regmin : seeds from regional minima.
    karyo.labeled.label

    Notes
    -----
    Priority flooding (Meyer, *Topographic distance and watershed lines*,
    Signal Processing 38, 1994) with mahotas's exact rules: seeds enter the
    queue in raster order; a popped pixel hands its label to every
    unlabelled neighbour, which enters with its own surface value; ties pop
    in entry order (FIFO). A long double surface floods as the ranks of its
    values. 8- and 16-bit surfaces, and others holding at
    most 65536 distinct values (flooded as their ranks), use a bucket queue:
    one ring buffer per value and a two-level bitmap to find the lowest;
    other surfaces use a binary heap keyed by (value, entry order). The
    flood runs on copies padded by one neighbourhood reach, with the padding
    marked as labelled, so no pixel tests the border. NaN floods last (after
    every number), a rule mahotas leaves undefined. A line pixel is one that,
    while queued, meets a neighbour of another region.

    Examples
    --------
    >>> import numpy as np
    >>> surface = np.array([0, 1, 2, 1, 0], np.uint8)
    >>> cwatershed(surface, np.array([1, 0, 0, 0, 2]))
    array([1, 1, 1, 2, 2])
    """
    relief = as_array(surface, "cwatershed", "surface")
    seeds = as_array(markers, "cwatershed", "markers", kinds=INTEGER_KINDS)
    if relief.shape != seeds.shape:
        raise ValueError(f"karyo.cwatershed: `markers` has shape {seeds.shape}; expected "
                         f"{relief.shape} (the shape of `surface`)")
    if relief.dtype == np.float16:
        relief = relief.astype(np.float32)
    long_double = relief.dtype.kind == "f" and relief.dtype.itemsize > 8
    if not long_double:
        _check_kernel_dtype(relief, "cwatershed", "surface")
    element = as_structuring_element(Bc, relief.ndim, "cwatershed", dtype=relief.dtype)
    if long_double:
        # flooded as the ranks of its values: the same order, with no value
        # merged into another as a cast to float64 could (NaN ranks last)
        relief = np.unique(relief, return_inverse=True)[1].reshape(relief.shape)
    if relief.dtype.itemsize > 2 and relief.size:
        ranks = _ranks_if_few(relief)
        relief = ranks if ranks is not None else relief
    # The flood runs on the narrowest labels that hold the markers (the label
    # array is read at random, so its size decides the cache misses).
    narrow = None
    if seeds.size:
        lowest, highest = seeds.min(), seeds.max()
        for candidate in (np.uint8, np.uint16, np.int32):
            if np.iinfo(candidate).min <= lowest and highest <= np.iinfo(candidate).max:
                narrow = candidate
                break
    if relief.size:
        offsets = neighbour_offsets(element).astype(np.intp, copy=False)
        offsets, reach, padded_shape = _flood_geometry(relief.shape, offsets)
        padded_size = int(np.prod(padded_shape))
        # The padded flood packs indices (and labels or entry orders) into 32
        # bits each; padding that would dwarf the image (many short axes)
        # floods with border tests instead.
        if narrow is not None and padded_size < 2**31 and padded_size <= 4 * relief.size + 4096:
            return _flood_padded(relief, seeds, narrow, offsets, reach, padded_shape,
                                 return_lines)
    labels = np.array(seeds, dtype=np.int64, order="C", copy=True)
    lines = np.zeros(relief.shape, bool) if return_lines else None
    if relief.size:
        deltas = _flat_deltas(offsets, relief.shape)
        # mahotas skips an offset that lands on the pixel itself in flat indexing.
        offsets, deltas = np.ascontiguousarray(offsets[deltas != 0]), deltas[deltas != 0]
        narrow = narrow if relief.dtype.itemsize <= 2 else None  # the heap takes int64
        flood_labels = labels.astype(narrow) if narrow is not None else labels
        entry_type = np.empty(0, np.int32 if relief.size < 2**31 else np.int64)
        arguments = (flood_labels.reshape(-1),
                     lines.view(np.uint8).reshape(-1) if return_lines else np.empty(0, np.uint8),
                     _border_flags(relief.shape, offsets), _shape_vector(relief),
                     np.ascontiguousarray(offsets).reshape(len(offsets), relief.ndim), deltas)
        flat = _flat(relief)
        if relief.dtype in (np.bool_, np.uint8, np.uint16):
            _watershed.flood_buckets_bordered(flat, arguments[0], entry_type, *arguments[1:])
        elif relief.dtype == np.int8:
            _watershed.flood_buckets_bordered(flat.view(np.uint8) ^ np.uint8(0x80),
                                              arguments[0], entry_type, *arguments[1:])
        elif relief.dtype == np.int16:
            _watershed.flood_buckets_bordered(flat.view(np.uint16) ^ np.uint16(0x8000),
                                              arguments[0], entry_type, *arguments[1:])
        else:
            _watershed.flood_heap_bordered(flat, *arguments)
        if narrow is not None:
            labels = flood_labels.astype(np.int64)
    if return_lines:
        return labels, lines
    return labels
