"""SURF (Speeded-Up Robust Features): interest points and their descriptors.

The layout of ``mahotas.features.surf``: :func:`integral` images and
:func:`sum_rect` over them, the Fast-Hessian detector :func:`interest_points`,
the 64-value :func:`descriptors`, both at once with :func:`surf`, descriptors on
a regular grid with :func:`dense`, and :func:`show_surf` to draw the points.
The points, their order and the descriptors are mahotas's (which ports dlib's
implementation), including its choices that differ from the SURF paper (a
0.36 weight on Dxy, Gaussian weights with pi = 3.1415926535898).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..internal import as_array
from ..polygon import line
from . import _surf

__all__ = ["dense", "descriptors", "integral", "interest_points", "show_surf", "sum_rect",
           "surf"]

_INT_MAX = 2**31 - 1
# An integer image whose total stays below this integrates exactly in float64
# whatever the order of the additions (mahotas's recurrence adds two sums).
_EXACT_LIMIT = 2**52


def _fname(name: str) -> str:
    return f"features.surf.{name}"


def _as_image(f, fname: str) -> np.ndarray:
    image = as_array(f, _fname(fname), "f", min_ndim=2, max_ndim=2, kinds="biuf")
    if image.dtype == np.float16:
        raise TypeError(f"karyo.{_fname(fname)}: `f` has dtype float16, which mahotas does "
                        "not support either; convert it (e.g. f.astype(np.float32))")
    return image


def _as_integral(f, is_integral: bool, fname: str) -> np.ndarray:
    """The float64, C-contiguous integral image of `f` (or `f` itself, checked)."""
    if not is_integral:
        return integral(f)
    image = _as_image(f, fname)
    if image.dtype != np.float64:
        raise TypeError(f"karyo.{_fname(fname)}: with is_integral=True, `f` must be a float64 "
                        f"integral image (see integral()), got dtype {image.dtype}")
    return np.ascontiguousarray(image)


def _as_count(value, fname: str, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"karyo.{_fname(fname)}: `{name}` must be an integer, got a bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"karyo.{_fname(fname)}: `{name}` must be an integer, got "
                        f"{type(value).__name__}") from None
    if not minimum <= value <= _INT_MAX:
        raise ValueError(f"karyo.{_fname(fname)}: `{name}` must be an integer from {minimum} "
                         f"to {_INT_MAX}, got {value}")
    return value


def _as_max_points(max_points, fname: str):
    """None or a negative count mean every point (as in mahotas); else a count."""
    if max_points is None:
        return None
    if isinstance(max_points, (bool, np.bool_)):
        raise TypeError(f"karyo.{_fname(fname)}: `max_points` must be None or an integer, "
                        "got a bool")
    try:
        max_points = operator.index(max_points)
    except TypeError:
        raise TypeError(f"karyo.{_fname(fname)}: `max_points` must be None or an integer, got "
                        f"{type(max_points).__name__}") from None
    return None if max_points < 0 else max_points


def _as_threshold(threshold, fname: str) -> float:
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise TypeError(f"karyo.{_fname(fname)}: `threshold` must be a number, got "
                        f"{type(threshold).__name__}") from None
    # mahotas passes the threshold as a C float: compare with the same value
    with np.errstate(over="ignore"):
        return float(np.float32(threshold))


def integral(f, in_place: bool = False, dtype=np.double) -> np.ndarray:
    """Compute the integral image (summed-area table) of a 2-D image.

    Parameters
    ----------
    f : ndarray
        2-D input image (bool, integer or floating point).
    in_place : bool, optional
        Whether to overwrite `f` with its integral, in its own dtype (default:
        False). `dtype` is then ignored.
    dtype : dtype, optional
        dtype of the result (default: float64).

    Returns
    -------
    fi : ndarray
        ``fi[y, x] = f[:y+1, :x+1].sum()``, of `dtype` (or `f` itself when
        `in_place`). Integer dtypes wrap around on overflow, as in mahotas.

    See Also
    --------
    sum_rect : the sum over a rectangle, from an integral image.

    Notes
    -----
    Floating-point results follow mahotas's recurrence ``fi[y, x] = f[y, x] +
    ((fi[y-1, x] + fi[y, x-1]) - fi[y-1, x-1])`` exactly, so they are
    bit-identical. An integer image whose sums are exact in float64 (every
    uint8 or uint16 image) takes a faster running-row-sum path with the same
    values, without the float64 copy of the input.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import integral
    >>> integral(np.array([[1, 2], [3, 4]], np.uint8))
    array([[ 1.,  3.],
           [ 4., 10.]])
    """
    if in_place:
        return _integral_in_place(f)
    image = _as_image(f, "integral")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"karyo.features.surf.integral: `dtype` {dtype!r} is not a numpy "
                        "dtype") from None
    if dtype.kind not in "biuf" or dtype == np.float16:
        raise TypeError(f"karyo.features.surf.integral: `dtype` must be bool, integer or "
                        f"float32/float64/longdouble, got {dtype}")
    if dtype == np.float64 and image.dtype.kind in "biu" and _sums_are_exact(image):
        source = np.ascontiguousarray(image)
        if source.dtype == np.bool_:
            source = source.view(np.uint8)
        out = np.empty(image.shape, np.float64)
        _surf.integral_exact(source, out)
        return out
    work = np.array(image, dtype=dtype.newbyteorder("="), order="C", copy=True)
    _integrate(work)
    return work


def _sums_are_exact(image: np.ndarray) -> bool:
    if image.size == 0:
        return True
    if image.dtype.itemsize <= 2:
        largest = max(abs(int(np.iinfo(image.dtype).min)), int(np.iinfo(image.dtype).max)) \
            if image.dtype != np.bool_ else 1
    else:
        largest = max(abs(int(image.min())), abs(int(image.max())))
    return largest * image.size < _EXACT_LIMIT


def _integrate(work: np.ndarray) -> None:
    """mahotas's integral of a C-contiguous native `work`, in place, in its own dtype."""
    if work.dtype.kind == "f":
        _surf.integral_recurrence(work)
    elif work.dtype == np.bool_:
        _surf.integral_bool(work.view(np.uint8))
    elif work.size:
        # Integer arithmetic wraps modulo 2**bits, where the order of additions
        # does not matter: two cumulative sums give mahotas's values.
        np.cumsum(work, axis=0, dtype=work.dtype, out=work)
        np.cumsum(work, axis=1, dtype=work.dtype, out=work)


def _integral_in_place(f) -> np.ndarray:
    if not isinstance(f, np.ndarray):
        raise TypeError("karyo.features.surf.integral: with in_place=True, `f` must be a "
                        f"numpy array, got {type(f).__name__}")
    _as_image(f, "integral")
    if not f.flags.writeable:
        raise ValueError("karyo.features.surf.integral: `f` is read-only; it cannot be "
                         "overwritten with in_place=True")
    if f.flags.c_contiguous and f.dtype.isnative:
        _integrate(f)
    else:
        work = np.array(f, dtype=f.dtype.newbyteorder("="), order="C", copy=True)
        _integrate(work)
        f[...] = work
    return f


def sum_rect(integral, y0, x0, y1, x1) -> float:
    """Sum of the image over a rectangle, from its integral image (mahotas's rule).

    Parameters
    ----------
    integral : ndarray
        2-D integral image (see :func:`integral`), not empty.
    y0, x0, y1, x1 : int
        Corners of the rectangle.

    Returns
    -------
    total : float
        ``(I[y1-1, x1-1] - I[y0-1, x1-1]) - (I[y1-1, x0-1] - I[y0-1, x0-1])``
        with `I` the integral image, ``y0-1``, ``x0-1`` clamped at 0 and
        ``y1-1``, ``x1-1`` at the last row and column, in the
        integral's dtype (integers wrap as in C), as a float: the sum of
        ``f[y0:y1, x0:x1]`` when y0 and x0 are at least 1.

    See Also
    --------
    integral : builds the integral image.

    Notes
    -----
    This is the rectangle sum SURF's box filters use (``_surf.sum_rect`` in
    mahotas, which does not list it in ``mahotas.features.surf``). Because
    the low corners are clamped rather than treated as zero, a rectangle
    touching row or column 0 leaves that row or column out. Where mahotas
    would read outside the integral image (``y1 < 1``), the index is
    clamped to it.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import integral, sum_rect
    >>> image = np.arange(16).reshape(4, 4)
    >>> float(sum_rect(integral(image), 1, 2, 3, 4)), int(image[1:3, 2:4].sum())
    (34.0, 34)
    """
    table = as_array(integral, _fname("sum_rect"), "integral", min_ndim=2, max_ndim=2,
                     kinds="biuf")
    if table.size == 0:
        raise ValueError("karyo.features.surf.sum_rect: `integral` is empty")
    corners = [_as_coordinate(value, name)
               for value, name in ((y0, "y0"), (x0, "x0"), (y1, "y1"), (x1, "x1"))]
    if table.dtype == np.float64:
        return _surf.sum_rect_double(np.ascontiguousarray(table), *corners)
    n0, n1 = table.shape
    top, left = max(corners[0] - 1, 0), max(corners[1] - 1, 0)
    bottom, right = min(corners[2] - 1, n0 - 1), min(corners[3] - 1, n1 - 1)
    flat = np.ascontiguousarray(table).reshape(-1)
    # mahotas addresses the buffer as y * n1 + x (x == -1 reads the previous row)
    A, B, C, D = (flat[min(max(y * n1 + x, 0), flat.size - 1)]
                  for y, x in ((top, left), (top, right), (bottom, left), (bottom, right)))
    if table.dtype.kind == "f":
        return float((D - B) - (C - A))
    if table.dtype.itemsize < 4:  # C promotes these to int: no wrap-around
        return float((int(D) - int(B)) - (int(C) - int(A)))
    A, B, C, D = (np.array([v], table.dtype) for v in (A, B, C, D))
    return float(((D - B) - (C - A))[0])


def _as_coordinate(value, name: str) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"karyo.features.surf.sum_rect: `{name}` must be an integer, got "
                        f"{type(value).__name__}") from None
    if abs(value) > _INT_MAX // 2:
        raise ValueError(f"karyo.features.surf.sum_rect: `{name}` = {value} is out of range")
    return value


def _octaves_with_room(shape, nr_octaves: int, nr_scales: int, initial_step_size: int) -> int:
    """How many octaves can hold a point: beyond that, the border fills the octave."""
    count = 0
    for octave in range(nr_octaves):
        step = initial_step_size * 2**octave
        if step > 2**29:
            break
        border = math.ceil(3 * (2.0 ** (octave + 1) * (nr_scales + 1) + 1) / 2.0)
        if 2 * border + 3 > min(shape[0] // step, shape[1] // step):
            break
        count += 1
    return count


def _detect(table: np.ndarray, nr_octaves: int, nr_scales: int, initial_step_size: int,
            threshold: float) -> np.ndarray:
    octaves = _octaves_with_room(table.shape, nr_octaves, nr_scales, initial_step_size)
    if octaves == 0:
        return np.zeros((0, 5), np.float64)
    return _surf.interest_points(table, octaves, nr_scales, initial_step_size, threshold)


def interest_points(f, nr_octaves: int = 4, nr_scales: int = 6, initial_step_size: int = 1,
                    threshold: float = 0.1, max_points=None,
                    is_integral: bool = False) -> np.ndarray:
    """Find SURF interest points (the Fast-Hessian detector).

    Parameters
    ----------
    f : ndarray
        2-D image, or its float64 integral image if `is_integral`.
    nr_octaves : int, optional
        Number of octaves (default: 4).
    nr_scales : int, optional
        Number of scales per octave (default: 6).
    initial_step_size : int, optional
        Sampling step of the first octave, in pixels (default: 1).
    threshold : float, optional
        Minimum detector response (default: 0.1). Compared, as in mahotas, in
        single precision.
    max_points : int, optional
        Return at most this many points (the strongest). Default: all.
    is_integral : bool, optional
        Whether `f` is already an integral image (default: False).

    Returns
    -------
    points : ndarray of float64, shape (N, 5)
        One row *(y, x, scale, score, laplacian)* per point, strongest first.

    See Also
    --------
    descriptors : SURF descriptors at given points.
    surf : detection and descriptors together.

    Notes
    -----
    Each octave samples the determinant of the box-filter Hessian
    (``Dxx Dyy - 0.36 Dxy**2``) at `nr_scales` filter sizes; the maxima of
    3x3x3 blocks that are also maxima of their neighbourhood and exceed
    `threshold` are refined by fitting a quadric. Points of equal score come
    in mahotas's (libstdc++'s unstable sort) order.

    References: H. Bay, A. Ess, T. Tuytelaars, L. Van Gool, "SURF: Speeded Up
    Robust Features", Computer Vision and Image Understanding 110(3), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import interest_points
    >>> yy, xx = np.mgrid[:96, :96]
    >>> blob = 255 * np.exp(-((yy - 48.) ** 2 + (xx - 48.) ** 2) / 50)
    >>> points = interest_points(blob, nr_octaves=2, threshold=1)
    >>> points.shape[1], bool(np.allclose(points[0, :2], 48, atol=1))
    (5, True)
    """
    fname = "interest_points"
    nr_octaves = _as_count(nr_octaves, fname, "nr_octaves")
    nr_scales = _as_count(nr_scales, fname, "nr_scales")
    initial_step_size = _as_count(initial_step_size, fname, "initial_step_size")
    threshold = _as_threshold(threshold, fname)
    max_points = _as_max_points(max_points, fname)
    table = _as_integral(f, is_integral, fname)
    points = _detect(table, nr_octaves, nr_scales, initial_step_size, threshold)
    if max_points is not None:
        points = points[:max_points].copy()
    return points


def _as_points(points, fname: str) -> np.ndarray:
    points = as_array(points, _fname(fname), "interest_points", min_ndim=2, max_ndim=2)
    if points.shape[1] != 5:
        raise ValueError(f"karyo.{_fname(fname)}: `interest_points` must have 5 columns "
                         f"(y, x, scale, score, laplacian), got shape {points.shape}")
    return np.ascontiguousarray(points, dtype=np.float64)


def descriptors(f, interest_points, is_integral: bool = False,
                descriptor_only: bool = False) -> np.ndarray:
    """Compute SURF descriptors at given interest points.

    Parameters
    ----------
    f : ndarray
        2-D image, or its float64 integral image if `is_integral`.
    interest_points : ndarray, shape (N, 5)
        Points as returned by :func:`interest_points`: *(y, x, scale, score,
        laplacian)*; only the first three are used.
    is_integral : bool, optional
        Whether `f` is already an integral image (default: False).
    descriptor_only : bool, optional
        Whether to return only the 64 descriptor values (default: False).

    Returns
    -------
    points : ndarray of float64, shape (M, 70) (or (M, 64))
        One row *(y, x, scale, score, laplacian, angle, D_0, ..., D_63)* per
        point further than ``(31 * scale) // 2`` pixels from every border (the
        others are left out, as in mahotas), in the input order.

    See Also
    --------
    interest_points : finds the points.
    surf : detection and descriptors together.

    Notes
    -----
    The orientation is that of the largest sum of Gaussian-weighted Haar
    responses (radius 6 scales) inside a pi/3 window; the descriptor sums the
    Haar responses and their absolute values over a 4x4 grid of 5x5 samples
    in the rotated frame, normalised to unit length.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import descriptors
    >>> image = np.random.default_rng(0).random((64, 64))
    >>> rows = descriptors(image, [[32., 32., 2., 1., 1.]])
    >>> rows.shape, bool(np.isclose(np.linalg.norm(rows[0, 6:]), 1))
    ((1, 70), True)
    """
    fname = "descriptors"
    points = _as_points(interest_points, fname)
    table = _as_integral(f, is_integral, fname)
    result = _surf.descriptors(table, points, points.shape[0])
    return result[:, 6:] if descriptor_only else result


def surf(f, nr_octaves: int = 4, nr_scales: int = 6, initial_step_size: int = 1,
         threshold: float = 0.1, max_points=1024, descriptor_only: bool = False) -> np.ndarray:
    """Detect SURF interest points and compute their descriptors.

    Parameters
    ----------
    f : ndarray
        2-D image.
    nr_octaves : int, optional
        Number of octaves (default: 4).
    nr_scales : int, optional
        Number of scales per octave (default: 6).
    initial_step_size : int, optional
        Sampling step of the first octave, in pixels (default: 1).
    threshold : float, optional
        Minimum detector response (default: 0.1).
    max_points : int, optional
        Only the `max_points` strongest points are considered (default: 1024;
        None or a negative value: all). Those too near the border are then
        left out, so fewer may be returned.
    descriptor_only : bool, optional
        Whether to return only the 64 descriptor values (default: False).

    Returns
    -------
    points : ndarray of float64, shape (N, 70) (or (N, 64))
        One row *(y, x, scale, score, laplacian, angle, D_0, ..., D_63)* per
        point, strongest first.

    See Also
    --------
    interest_points, descriptors : the two halves.
    dense : descriptors on a regular grid.

    Notes
    -----
    :func:`interest_points` followed by :func:`descriptors` on one integral
    image, as mahotas computes it.

    References: H. Bay, A. Ess, T. Tuytelaars, L. Van Gool, "SURF: Speeded Up
    Robust Features", Computer Vision and Image Understanding 110(3), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import surf
    >>> yy, xx = np.mgrid[:128, :128]
    >>> blob = 255 * np.exp(-((yy - 64.) ** 2 + (xx - 64.) ** 2) / 50)
    >>> surf.surf(blob, nr_octaves=2, threshold=1).shape
    (1, 70)
    """
    fname = "surf"
    nr_octaves = _as_count(nr_octaves, fname, "nr_octaves")
    nr_scales = _as_count(nr_scales, fname, "nr_scales")
    initial_step_size = _as_count(initial_step_size, fname, "initial_step_size")
    threshold = _as_threshold(threshold, fname)
    max_points = _as_max_points(max_points, fname)
    table = integral(f)
    points = _detect(table, nr_octaves, nr_scales, initial_step_size, threshold)
    limit = points.shape[0] if max_points is None else min(max_points, points.shape[0])
    result = _surf.descriptors(table, points, limit)
    return result[:, 6:] if descriptor_only else result


def dense(f, spacing, scale=None, is_integral: bool = False,
          include_interest_point: bool = False) -> np.ndarray:
    """Compute SURF descriptors on a regular grid of points.

    Parameters
    ----------
    f : ndarray
        2-D image, or its float64 integral image if `is_integral`.
    spacing : int
        Distance between grid points, in pixels (``int(spacing)`` must be at
        least 1). The grid starts at ``int(spacing / 2)``.
    scale : float, optional
        Scale of every point (default: ``sqrt(spacing)``).
    is_integral : bool, optional
        Whether `f` is already an integral image (default: False).
    include_interest_point : bool, optional
        Whether to return the 70-value rows of :func:`descriptors` rather
        than only the 64 descriptor values (default: False).

    Returns
    -------
    descriptors : ndarray of float64, shape (N, 64) (or (N, 70))
        One row per grid point far enough from the border, in mahotas's order
        (by column, then by row).

    See Also
    --------
    descriptors : descriptors at given points.
    surf : descriptors at detected points.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import dense
    >>> image = np.random.default_rng(0).random((64, 64))
    >>> dense(image, 16, scale=1.0).shape
    (4, 64)
    """
    fname = "dense"
    image = _as_image(f, fname)
    try:
        step = int(spacing)
        start = int(spacing / 2)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"karyo.{_fname(fname)}: `spacing` must be a finite number, got "
                        f"{spacing!r}") from None
    if step < 1:
        raise ValueError(f"karyo.{_fname(fname)}: `spacing` must be at least 1, got {spacing}")
    if scale is None:
        scale = np.sqrt(spacing)
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise TypeError(f"karyo.{_fname(fname)}: `scale` must be a number, got "
                        f"{type(scale).__name__}") from None
    rows = np.arange(start, image.shape[0], step)
    cols = np.arange(start, image.shape[1], step)
    # mahotas's order: for each column, every row
    grid_rows, grid_cols = np.meshgrid(rows, cols)
    count = grid_rows.size
    points = np.empty((count, 5), np.float64)
    points[:, 0] = grid_rows.ravel()
    points[:, 1] = grid_cols.ravel()
    points[:, 2] = scale
    points[:, 3:] = 1.0
    return descriptors(image, points, is_integral=is_integral,
                       descriptor_only=not include_interest_point)


def show_surf(f, spoints, values=None, colors=None) -> np.ndarray:
    """Draw SURF points on a colour copy of an image.

    Parameters
    ----------
    f : ndarray
        2-D image.
    spoints : ndarray, shape (N, 70)
        Output of :func:`surf` (with the interest point columns).
    values : sequence of int, optional
        A class per point, used to index `colors` (default: all 0).
    colors : sequence of colours, optional
        ``colors[v]`` is the (r, g, b) colour of points of class v. Default:
        red, when `values` is not given.

    Returns
    -------
    f2 : ndarray of uint8, shape f.shape + (3,)
        ``f`` in grey with each point drawn as a square of side ``10 * scale``
        rotated by its angle.

    See Also
    --------
    surf : finds the points.

    Notes
    -----
    Nothing is displayed: save or show `f2` with another tool. The squares and
    their rasterisation are mahotas's; where mahotas would draw outside the
    image (wrapping round negative indices, or failing with IndexError),
    the pixels outside are left out.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.surf import show_surf
    >>> image = np.zeros((40, 40), np.uint8)
    >>> points = np.zeros((1, 70)); points[0, :3] = (20, 20, 1.0)
    >>> drawn = show_surf(image, points)
    >>> drawn.shape, int(drawn[..., 0].max()), int(drawn[..., 1].max())
    ((40, 40, 3), 255, 0)
    """
    fname = "show_surf"
    image = as_array(f, _fname(fname), "f", min_ndim=2, max_ndim=2, kinds="biuf")
    points = as_array(spoints, _fname(fname), "spoints", min_ndim=2, max_ndim=2)
    if points.shape[1] < 6:
        raise ValueError(f"karyo.{_fname(fname)}: `spoints` must have the 70 columns of "
                         f"surf() (y, x, scale, score, laplacian, angle, ...), got shape "
                         f"{points.shape}")
    if not np.all(np.isfinite(points[:, [0, 1, 2, 5]])):
        raise ValueError(f"karyo.{_fname(fname)}: `spoints` has non-finite positions, scales "
                         "or angles")
    # a square much larger than the image cannot be a SURF point of it (and
    # would take memory in proportion to its size)
    largest = 4 * (image.shape[0] + image.shape[1]) + 100
    if len(points) and (np.abs(points[:, 2]).max() * 10 > largest
                        or np.abs(points[:, :2]).max() > largest):
        raise ValueError(f"karyo.{_fname(fname)}: `spoints` has points far outside the image "
                         "or squares far larger than it; are they SURF points of `f`?")
    if values is None:
        values = np.zeros(len(points), int)
        if colors is None:
            colors = [(255, 0, 0)]
    elif colors is None:
        raise ValueError(f"karyo.{_fname(fname)}: `values` is given, so `colors` is needed "
                         "(colors[v] is the colour of points of class v)")
    values = np.asarray(values)
    if values.shape != (len(points),) or values.dtype.kind not in "biu":
        raise ValueError(f"karyo.{_fname(fname)}: `values` must be one integer per point "
                         f"({len(points)}), got shape {values.shape} and dtype {values.dtype}")
    colors = np.asarray(colors)
    if colors.ndim != 2 or colors.shape[1] != 3:
        raise ValueError(f"karyo.{_fname(fname)}: `colors` must be a sequence of (r, g, b) "
                         f"colours, got shape {colors.shape}")
    if len(values) and not -len(colors) <= values.min() <= values.max() < len(colors):
        raise ValueError(f"karyo.{_fname(fname)}: `values` index `colors`, so they must be "
                         f"below {len(colors)}")
    canvas = np.dstack([image, image, image])
    for point, value in zip(points, values, strict=True):
        for start, end in _square_sides(point):
            _draw_clipped(canvas, start, end, colors[value])
    return canvas.astype(np.uint8)


def _square_sides(point):
    """The four sides of mahotas's rotated square around one SURF point."""
    y, x, scale, angle = point[0], point[1], point[2], point[5]
    size = int(scale * 10)
    y0 = int(y) - size // 2
    x0 = int(x) - size // 2
    y1 = y + size
    x1 = x + size
    sin_a, cos_a = np.sin(angle), np.cos(angle)

    def rotated(corner):
        # mahotas's rotate(d0, d1) returns (cos d1 - sin d0, sin d1 + cos d0)
        d0, d1 = corner[0] - y, corner[1] - x
        return int(y + (cos_a * d1 - sin_a * d0)), int(x + (sin_a * d1 + cos_a * d0))

    corners = [rotated(c) for c in ((y0, x0), (y0, x1), (y1, x1), (y1, x0), (y0, x0))]
    return zip(corners[:-1], corners[1:], strict=True)


def _draw_clipped(canvas: np.ndarray, start, end, color) -> None:
    """Draw one segment on a small mask, then copy the part inside the image."""
    top, left = min(start[0], end[0]), min(start[1], end[1])
    mask = np.zeros((abs(end[0] - start[0]) + 1, abs(end[1] - start[1]) + 1), bool)
    line((start[0] - top, start[1] - left), (end[0] - top, end[1] - left), mask, True)
    ys, xs = np.nonzero(mask)
    ys += top
    xs += left
    inside = (ys >= 0) & (ys < canvas.shape[0]) & (xs >= 0) & (xs < canvas.shape[1])
    canvas[ys[inside], xs[inside]] = color
