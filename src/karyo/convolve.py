"""Linear and neighbourhood filters: Gaussian smoothing and derivatives,
convolution, mean, median and rank filters, template matching.

Border modes are mahotas's: ``'reflect'`` (d c b a | a b c d | d c b a),
``'mirror'`` (d c b | a b c d | c b a), ``'nearest'`` (a a a | a b c d),
``'wrap'`` (b c d | a b c d | a b c), ``'constant'`` (`cval` outside) and
``'ignore'`` (points outside contribute nothing).
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from . import _convolve, _filters, _wavelets, internal
from .internal import (
    as_array,
    as_axis,
    as_choice,
    as_flag,
    as_int,
    as_real,
    as_structuring_element,
    get_output,
    in_threads,
    kernel_view,
    per_axis,
    strips,
)

__all__ = [
    "convolve",
    "convolve1d",
    "daubechies",
    "find",
    "gaussian_filter",
    "gaussian_filter1d",
    "haar",
    "idaubechies",
    "ihaar",
    "laplacian_2D",
    "mean_filter",
    "median_filter",
    "rank_filter",
    "template_match",
    "wavelet_center",
    "wavelet_decenter",
]

MODES = ("reflect", "nearest", "wrap", "mirror", "constant", "ignore")

# mahotas's kernel reaches 4 standard deviations: radius = int(4 sigma + 0.5).
_TRUNCATE = 4.0
_MIN_SIGMA = 0.125


def gaussian_filter1d(array, sigma: float, axis: int = -1, order: int = 0,
                      mode: str = "reflect", cval: float = 0.0, out=None) -> np.ndarray:
    """Smooth `array` along one axis with a Gaussian (or one of its derivatives).

    Parameters
    ----------
    array : ndarray
        Input, any number of dimensions. mahotas accepts only floating point
        here; karyo also accepts integers and bools (the result is then float64).
    sigma : float
        Standard deviation of the Gaussian, in pixels (at least 0.125).
    axis : int, optional
        Axis to filter along (default: the last).
    order : {0, 1, 2, 3}, optional
        0 smooths; 1, 2 or 3 correlate with the first, second or third
        derivative of the Gaussian. As in mahotas, odd orders are
        correlations, so they are the negative of the derivative of the
        smoothed image (scipy.ndimage's sign is the opposite).
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect').
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0).
        mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of the result's shape and dtype.

    Returns
    -------
    filtered : ndarray
        float32 for float32 input, float64 otherwise (long double for long
        double input, computed in float64).

    See Also
    --------
    gaussian_filter : the same along every axis.

    Notes
    -----
    A direct correlation with the sampled Gaussian truncated at
    ``int(4 sigma + 0.5)`` pixels and normalised to sum 1, as mahotas and
    scipy.ndimage do; the symmetry of the kernel halves the multiplications.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import gaussian_filter1d
    >>> gaussian_filter1d(np.array([0., 0., 1., 0., 0.]), 0.5).round(3)
    array([0.   , 0.106, 0.787, 0.106, 0.   ])
    """
    fname = "gaussian_filter1d"
    array, work_input = _as_filter_input(array, fname)
    axis = as_axis(axis, array.ndim, fname)
    sigma = _check_sigma(sigma, fname)
    order = _check_order(order, fname)
    cval = _check_mode(mode, cval, fname)
    out = get_output(array, out, fname, dtype=_result_dtype(array))
    if array.size == 0:
        return out
    work = out if out.dtype == np.float64 else np.empty(array.shape, np.float64)
    _correlate_axis(work_input, work, axis, sigma, order, mode, cval)
    if work is not out:
        out[...] = work
    return out


def gaussian_filter(array, sigma, order=0, mode: str = "reflect", cval: float = 0.0,
                    out=None) -> np.ndarray:
    """Smooth `array` with a Gaussian (or take Gaussian derivatives), along every axis.

    Parameters
    ----------
    array : ndarray
        Input, any number of dimensions, any integer, bool or float type.
    sigma : float or sequence of floats
        Standard deviation of the Gaussian in pixels, one for all axes or one
        per axis (each at least 0.125).
    order : {0, 1, 2, 3} or sequence of them, optional
        Derivative order per axis (see :func:`gaussian_filter1d` for the sign
        of odd orders, which follows mahotas).
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect').
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0).
        mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of the result's shape and dtype.

    Returns
    -------
    filtered : ndarray
        float32 for float32 input, float64 otherwise (as mahotas).

    See Also
    --------
    gaussian_filter1d : along one axis.
    scipy.ndimage.gaussian_filter : the same filter (odd orders negated).

    Notes
    -----
    Separable: one 1-D correlation per axis with the sampled Gaussian
    truncated at ``int(4 sigma + 0.5)`` pixels and normalised to sum 1 (the
    mahotas and scipy.ndimage kernel), computed in float64 whatever the input
    type. No approximation is used at any sigma: results are within 1e-12 of
    mahotas. For 2-D and 3-D images the last two axes are done in one sweep:
    each row is converted once into a padded line and filtered along, into a
    ring of 2 r + 1 rows that stays in cache, from which each output row is
    combined across rows (the intermediate image is never stored); the
    symmetry of the kernel halves the multiplications. The inner loops use
    AVX2+FMA when the CPU has it (chosen at run time) and rows are shared
    between threads. With ``cval != 0`` and a derivative order the axes are
    filtered one by one, first axis first, as in mahotas.

    The kernel is scipy.ndimage's and mahotas's. Recursive Gaussians (Young
    and van Vliet, Signal Processing 44, 1995; Deriche, INRIA RR-1893, 1993)
    cost less at large sigma but approximate (a 4th-order Deriche kernel is
    off by 6e-4 in L1 norm per axis), so they are not used.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import gaussian_filter
    >>> image = np.zeros((5, 5), np.uint8)
    >>> image[2, 2] = 100
    >>> gaussian_filter(image, 1.0)[2].round(2)
    array([ 2.33,  9.66, 15.92,  9.66,  2.33])
    """
    fname = "gaussian_filter"
    array, work_input = _as_filter_input(array, fname)
    sigmas = [_check_sigma(s, fname) for s in per_axis(sigma, array.ndim, fname, "sigma")]
    orders = [_check_order(o, fname) for o in per_axis(order, array.ndim, fname, "order")]
    cval = _check_mode(mode, cval, fname)
    out = get_output(array, out, fname, dtype=_result_dtype(array))
    if array.ndim == 0 or array.size == 0:
        out[...] = array
        return out
    # With cval != 0 the order of the passes matters for derivatives: keep
    # mahotas's (first axis first) there.
    fused = array.ndim in (2, 3) and (cval == 0.0 or not any(orders))
    if (fused and array.ndim == 2 and out.dtype == np.float32
            and not np.may_share_memory(out, work_input)):
        # The one sweep rounds each float64 row into `out`: no float64 image beside it
        # (not in place: the sweep reads rows again near the border, and threads' strips overlap).
        _gaussian_fused(work_input, out, sigmas, orders, mode, cval)
        return out
    work = out if out.dtype == np.float64 else np.empty(array.shape, np.float64)
    if fused:
        _gaussian_fused(work_input, work, sigmas, orders, mode, cval)
        if work is not out:
            out[...] = work
        return out
    source = work_input
    for axis in range(array.ndim):
        _correlate_axis(source, work, axis, sigmas[axis], orders[axis], mode, cval)
        source = work
    if work is not out:
        out[...] = work
    return out


def _correlate_axis(source: np.ndarray, work: np.ndarray, axis: int, sigma: float, order: int,
                    mode: str, cval: float) -> None:
    """Correlate `source` along `axis` with the Gaussian kernel into float64 `work`.

    `source` may be `work` itself (the later passes of a separable filter).
    """
    weights, antisymmetric = _gaussian_half_kernel(sigma, order)
    radius = len(weights) - 1
    shape = work.shape
    n = shape[axis]
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    source_index = _source_index(n, radius, mode)
    if inner == 1:
        # Along the last (or only non-trivial) axis: line by line, in place is fine.
        _convolve.correlate_lines(source.reshape(outer, n), work.reshape(outer, n), weights,
                                  source_index, cval, antisymmetric)
        return
    source3 = source.reshape(outer, n, inner)
    if source is work:
        # Rows are read after being overwritten otherwise.
        source3 = source3.copy()
    elif not source3.flags.c_contiguous:
        source3 = np.ascontiguousarray(source3)
    _convolve.correlate_rows(source3, work.reshape(outer, n, inner), weights, source_index,
                             cval, antisymmetric)


def _gaussian_fused(source: np.ndarray, work: np.ndarray, sigmas: list[float],
                    orders: list[int], mode: str, cval: float) -> None:
    """The separable filter of a 2-D or 3-D image into float64 `work`, two axes per sweep.

    A 2-D image may be filtered into float32 `work` too (rows rounded as they are combined).

    The last two axes are filtered together by `separable_rows` (rows, then
    across rows, through a ring of filtered rows that stays in cache); a 3-D
    image is first filtered along axis 0 by the same kernel, its planes
    seen as rows of a 2-D image.
    """
    kernels = [_gaussian_half_kernel(s, o) for s, o in zip(sigmas, orders, strict=True)]
    tables = [_source_index(n, len(w) - 1, mode) for n, (w, _) in zip(work.shape, kernels,
                                                                        strict=True)]
    if source.ndim == 2:
        _run_rows(source, work, kernels[0], tables[0], kernels[1], tables[1], cval)
        return
    n_planes = source.shape[0]
    planes = source.reshape(n_planes, -1)
    identity = (np.ones(1), False)
    _run_rows(planes, work.reshape(n_planes, -1), kernels[0], tables[0], identity,
              np.arange(planes.shape[1], dtype=np.int64), cval)

    def filter_planes(plane_range: range) -> None:
        plane_copy = np.empty(work.shape[1:])
        for z in plane_range:
            plane_copy[...] = work[z]
            _convolve.separable_rows(plane_copy, work[z], kernels[1][0], kernels[1][1],
                                     tables[1], kernels[2][0], kernels[2][1], tables[2],
                                     cval, 0, work.shape[1], 0, work.shape[2],
                                     _column_block(kernels[1][0]))

    threads = internal.THREADS
    in_threads(filter_planes, [(range(t, n_planes, threads),) for t in range(threads)],
               work.size)


# Narrower strips of columns spend too long on their borders.
_MIN_STRIP_COLUMNS = 128


def _column_block(row_weights: np.ndarray) -> int:
    # Keep the ring of 2r+1 filtered rows within about 512 KiB (L2).
    return max(256, (1 << 16) // (2 * len(row_weights) - 1))


def _run_rows(source: np.ndarray, work: np.ndarray, row_kernel, row_table, col_kernel,
              col_table, cval: float) -> None:
    """`separable_rows` over the whole of a 2-D `source`, split between threads.

    Threads take strips of columns: a strip costs nothing extra (its rows are
    filtered over the strip and a border of r columns, which is only read),
    whereas a strip of rows must filter 2 r rows more. Rows are split only
    when the image is too narrow for strips of columns.
    """
    n_rows, n_cols = source.shape
    radius = len(row_kernel[0]) - 1
    block = _column_block(row_kernel[0])
    threads = internal.THREADS  # read at each call: callers may change it
    if n_cols >= _MIN_STRIP_COLUMNS * threads:
        chunks = [(0, n_rows, start, stop) for start, stop in strips(n_cols)]
    else:
        n_chunks = threads if n_rows >= 8 * (2 * radius + 1) * threads else 1
        chunks = [(start, stop, 0, n_cols) for start, stop in strips(n_rows, n_chunks)]

    def run(row_start: int, row_stop: int, col_start: int, col_stop: int) -> None:
        _convolve.separable_rows(source, work, row_kernel[0], row_kernel[1], row_table,
                                 col_kernel[0], col_kernel[1], col_table, cval, row_start,
                                 row_stop, col_start, col_stop, block)

    in_threads(run, chunks, work.size)


def _gaussian_half_kernel(sigma: float, order: int) -> tuple[np.ndarray, bool]:
    """Weights w[0..radius] of the centred kernel (w[-k] = +/- w[k]), and whether odd."""
    radius = int(_TRUNCATE * sigma + 0.5)
    variance = sigma * sigma
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(x * x / (-2.0 * variance))
    weights /= np.sum(weights)
    if order == 1:
        weights *= -x / variance
    elif order == 2:
        weights *= (x * x / variance - 1.0) / variance
    elif order == 3:
        weights *= (3.0 - x * x / variance) * x / (variance * variance)
    return np.ascontiguousarray(weights[radius:]), order % 2 == 1


def _source_index(n: int, radius: int, mode: str) -> np.ndarray:
    """For positions -radius .. n-1+radius, the index read under `mode` (-1: outside)."""
    position = np.arange(-radius, n + radius, dtype=np.int64)
    if mode == "nearest":
        return np.clip(position, 0, n - 1)
    if mode == "wrap":
        return position % n
    if mode == "reflect":
        folded = position % (2 * n)
        return np.where(folded >= n, 2 * n - 1 - folded, folded)
    if mode == "mirror":
        if n == 1:
            return np.zeros_like(position)
        period = 2 * n - 2
        folded = position % period
        return np.where(folded >= n, period - folded, folded)
    return np.where((position >= 0) & (position < n), position, -1)


def _as_filter_input(array, fname: str) -> tuple[np.ndarray, np.ndarray]:
    """The validated array, and the view of it that the kernels read."""
    array = as_array(array, fname, min_ndim=0)
    if array.dtype == np.float16:
        raise TypeError(f"karyo.{fname}: `array` has dtype float16, which is not supported "
                        "(as in mahotas); convert it to float32 first")
    if array.dtype == np.bool_:
        return array, array.view(np.uint8)
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:
        return array, array.astype(np.float64)
    return array, array


def _result_dtype(array: np.ndarray) -> np.dtype:
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)


def _check_sigma(sigma, fname: str) -> float:
    sigma = as_real(sigma, fname, "sigma")
    if not math.isfinite(sigma) or sigma < _MIN_SIGMA:
        raise ValueError(f"karyo.{fname}: `sigma` must be a finite number of at least "
                         f"{_MIN_SIGMA} pixels (a smaller Gaussian is empty), got {sigma}")
    return sigma


def _check_order(order, fname: str) -> int:
    """The derivative's order; 1.0 is accepted as 1, as mahotas (through scipy) does."""
    return int(as_choice(order, (0, 1, 2, 3), fname, "order", "0, 1, 2 or 3 (the derivative)"))


def _check_mode(mode, cval, fname: str) -> float:
    """Validate `mode` and return the value that points outside the image take."""
    as_choice(mode, MODES, fname, "mode")
    cval = as_real(cval, fname, "cval")
    return cval if mode == "constant" else 0.0


# --- Convolution, neighbourhood and template filters -------------------------
#
# mahotas computes these with one pass over the image per pixel and a table of
# neighbour offsets per border region; karyo's kernels (_filters.pyx) work a
# row at a time from per-axis border tables, in the same order of summation,
# so floating-point results are mahotas's bit for bit.


def convolve(f, weights, mode: str = "reflect", cval: float = 0.0, out=None) -> np.ndarray:
    """Correlate `f` with `weights` (mahotas's ``convolve``: the kernel is not flipped).

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    weights : ndarray
        The filter, with as many dimensions as `f`; any size along each axis
        (its origin is at ``weights.shape // 2``). As in mahotas it is first
        cast to ``f.dtype`` (so fractional weights on an integer image are
        truncated), and points whose weight is then 0 are left out.
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect').
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0).
        mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of ``f``'s shape and dtype.

    Returns
    -------
    convolved : ndarray
        Same shape and dtype as `f`: ``sum(weights[k] * f[i + k - origin])``
        computed in float64, then stored as mahotas stores it (truncated
        toward zero and wrapped to the type's bits for integers, so small
        integer types overflow silently; any nonzero sum is True for bools).

    See Also
    --------
    convolve1d : along one axis, with float64 weights.
    scipy.ndimage.correlate : the same filter (but rounds integer results).

    Notes
    -----
    Despite its name (kept from mahotas) this is a correlation:
    ``scipy.ndimage.convolve`` would flip `weights`. Each output row is
    accumulated one filter point at a time, in raster order, as a sweep along
    the row; the border of the image is read through per-axis index tables,
    so nothing outside the image is ever read. mahotas's 'reflect' reads
    before the image when the filter is 4 or more times larger than an axis;
    karyo reflects correctly there.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import convolve
    >>> convolve(np.array([0., 0., 1., 0., 0.]), np.array([1., 2., 3.]))
    array([0., 3., 2., 1., 0.])
    """
    fname = "convolve"
    f, source = _as_image(f, fname)
    weights = _as_filter(weights, f, "weights", fname).astype(f.dtype)
    cval = _check_mode(mode, cval, fname)
    out = get_output(f, out, fname)
    _correlate(source, out, weights, weights != 0, mode, cval, use_cval=cval != 0.0)
    return out


def convolve1d(f, weights, axis: int, mode: str = "reflect", cval: float = 0.0,
               out=None) -> np.ndarray:
    """Correlate `f` along `axis` with the 1-D filter `weights` (not flipped, as mahotas).

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    weights : array_like
        1-D filter (length-1 axes are squeezed away, as in mahotas), used as
        float64 whatever the type of `f`; its origin is ``len(weights) // 2``.
    axis : int
        Axis to filter along.
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect');
        'ignore' reads 0 outside, as mahotas's one-dimensional kernel does.
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0).
        mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of ``f``'s shape and dtype.

    Returns
    -------
    convolved : ndarray
        Same shape and dtype as `f`, stored as :func:`convolve` stores it.

    See Also
    --------
    convolve : the n-dimensional filter.

    Notes
    -----
    mahotas has two meanings for this function: a C-contiguous `f` longer
    than `weights` along `axis` is filtered with float64 weights, anything
    else (a view, a Fortran array, a short axis) is passed to ``convolve``,
    which first casts the weights to ``f.dtype`` (0.5 becomes 0 on an integer
    image). karyo always gives the first meaning, so the result does not
    depend on the memory layout of `f`. Each output row is one sweep per
    filter point, along the rows whatever `axis` is.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import convolve1d
    >>> image = np.array([[0, 0, 4, 0, 0]], np.uint8)
    >>> convolve1d(image, [0.25, 0.5, 0.25], axis=1)
    array([[0, 1, 2, 1, 0]], dtype=uint8)
    """
    fname = "convolve1d"
    f, source = _as_image(f, fname)
    weights = np.asanyarray(weights)
    _check_kind(weights, "weights", fname)
    # A single weight squeezes to 0-D: mahotas refuses it, karyo keeps it.
    weights = weights.squeeze() if weights.size != 1 else weights.reshape(1)
    if weights.ndim != 1 or weights.size == 0:
        raise ValueError(f"karyo.{fname}: `weights` has shape {np.shape(weights)} after "
                         "squeezing; expected a non-empty 1-D filter")
    axis = as_axis(axis, f.ndim, fname)
    cval = _check_mode(mode, cval, fname)
    out = get_output(f, out, fname)
    shape = [1] * f.ndim
    shape[axis] = weights.size
    weights = weights.astype(np.float64).reshape(shape)
    # mahotas's 1-D kernel keeps zero weights and adds 0 * w outside the
    # image (so an infinite weight gives NaN there): do the same.
    _correlate(source, out, weights, np.ones(shape, bool), mode, cval,
               use_cval=mode in ("constant", "ignore"))
    return out


def mean_filter(f, Bc, mode: str = "ignore", cval: float = 0.0, out=None) -> np.ndarray:
    """Mean of the neighbourhood `Bc` around each pixel.

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    Bc : ndarray or int
        The neighbourhood (required, as in mahotas): an array with `f`'s
        number of dimensions (centred at ``shape // 2``), cast to
        ``f.dtype`` whose nonzero points take part; or an int, as for
        :func:`karyo.morph.get_structuring_elem`.
    mode : {'ignore', 'reflect', 'nearest', 'wrap', 'mirror', 'constant'}, optional
        How the image is extended beyond its border. The default, 'ignore',
        averages only the neighbours inside the image.
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0).
        mahotas only implements 0.
    out : ndarray, optional
        C-contiguous float64 output of ``f``'s shape.

    Returns
    -------
    mean : ndarray
        float64, the shape of `f`.

    See Also
    --------
    median_filter : a filter that keeps edges sharper.

    Notes
    -----
    Each output row is the sum of one sweep per neighbour, in the raster
    order of `Bc` (mahotas's order, so the float64 sums are identical),
    divided by the number of neighbours (inside the image, for 'ignore').
    A `Bc` of even size has its origin at ``shape // 2``, as in mahotas: a
    2x2 `Bc` averages the pixel, the one above, the one to the left and the
    one above-left.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import mean_filter
    >>> mean_filter(np.array([0, 3, 6, 9], np.uint8), np.ones(3))
    array([1.5, 3. , 6. , 7.5])
    """
    fname = "mean_filter"
    f, source = _as_image(f, fname)
    footprint = _footprint(Bc, f, fname)
    cval = _check_mode(mode, cval, fname)
    out = get_output(f, out, fname, dtype=np.float64)
    if f.size == 0:
        return out
    elements, tables, x_origin = _filter_geometry(f.shape, footprint, mode)
    _filters.mean(_as_3d(source), _as_3d(out), elements, *tables, x_origin, cval,
                  mode == "constant", mode == "ignore")
    return out


def rank_filter(f, Bc, rank: int, mode: str = "reflect", cval: float = 0.0,
                out=None) -> np.ndarray:
    """The `rank`-th smallest value (0-based) in the neighbourhood `Bc` of each pixel.

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    Bc : ndarray or int
        The neighbourhood (required, as in mahotas): an array with `f`'s
        number of dimensions (centred at ``shape // 2``), cast to
        ``f.dtype`` whose nonzero points take part; or an int, as for
        :func:`karyo.morph.get_structuring_elem`.
    rank : int
        0 gives the minimum, ``N - 1`` the maximum of the N neighbours.
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect'). With
        'ignore', a pixel with only n of its N neighbours inside the image
        takes the ``int(n * rank / N)``-th of those, as in mahotas.
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0); it
        must be a value of ``f.dtype``. mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of ``f``'s shape and dtype.

    Returns
    -------
    ranked : ndarray
        Same shape and dtype as `f`.

    See Also
    --------
    median_filter : the middle rank.

    Notes
    -----
    For bool and 8- or 16-bit integer images a histogram of the window slides
    along each row (Huang, Yang and Tang, IEEE TASSP 27, 1979; for 16 bits in
    256 blocks of 256 bins, after Perreault and Hebert, IEEE TIP 16, 2007):
    each step updates the points that enter and leave the window, so the
    cost grows with the height of `Bc`, not its area. For other types the
    neighbours of each pixel are gathered and the one asked for is found by
    quickselect (Hoare, CACM 4, 1961), as mahotas's ``std::nth_element``
    does; all give the same value. mahotas's docstring calls the result
    the rank-th *largest*; it is the rank-th smallest, in mahotas as here.
    Where mahotas returns meaningless values, karyo raises ValueError
    (`rank` outside ``0 .. N - 1``: mahotas leaves the output uninitialised)
    or returns 0 (mode 'ignore', a `Bc` without its centre, and a pixel with
    no neighbour inside the image: mahotas repeats a value left over from the
    previous pixel).
    With NaN among the neighbours the result is unspecified, as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import rank_filter
    >>> rank_filter(np.array([5, 1, 4, 2, 3], np.uint8), np.ones(3), 0)
    array([1, 1, 1, 2, 2], dtype=uint8)
    """
    fname = "rank_filter"
    f, source = _as_image(f, fname)
    footprint = _footprint(Bc, f, fname)
    rank = as_int(rank, fname, "rank")
    n_neighbours = int(np.count_nonzero(footprint))
    if not 0 <= rank < n_neighbours:
        raise ValueError(f"karyo.{fname}: `rank` is {rank}; `Bc` has {n_neighbours} "
                         f"neighbours, so it must be between 0 and {n_neighbours - 1}")
    return _rank(f, source, footprint, int(rank), mode, cval, out, fname)


def median_filter(f, Bc=None, mode: str = "reflect", cval: float = 0.0,
                  out=None) -> np.ndarray:
    """Median of the neighbourhood `Bc` around each pixel.

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    Bc : ndarray or int, optional
        The neighbourhood: by default the 3 x 3 (x 3) square, as in mahotas;
        otherwise as for :func:`rank_filter`.
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect').
    cval : float, optional
        The value outside the image for ``mode='constant'`` (default 0); it
        must be a value of ``f.dtype``. mahotas only implements 0.
    out : ndarray, optional
        C-contiguous output of ``f``'s shape and dtype.

    Returns
    -------
    median : ndarray
        Same shape and dtype as `f`.

    See Also
    --------
    rank_filter : any rank.
    mean_filter : the mean of the same neighbourhood.

    Notes
    -----
    :func:`rank_filter` with rank ``N // 2`` for the N points of `Bc`. mahotas
    takes ``Bc.sum() // 2`` as the rank, which is the same for a `Bc` of 0s
    and 1s but not for other weights (a `Bc` of 2s asks for a rank past the
    end, and mahotas then returns uninitialised memory): karyo counts the
    nonzero points, since `Bc` is a neighbourhood.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import median_filter
    >>> median_filter(np.array([[1, 9, 1], [1, 1, 1], [1, 1, 9]], np.uint8))
    array([[1, 1, 1],
           [1, 1, 1],
           [1, 1, 1]], dtype=uint8)
    """
    fname = "median_filter"
    f, source = _as_image(f, fname)
    footprint = (np.ones((3,) * f.ndim, bool) if Bc is None else _footprint(Bc, f, fname))
    return _rank(f, source, footprint, int(np.count_nonzero(footprint)) // 2, mode, cval, out,
                 fname)


def template_match(f, template, mode: str = "reflect", cval: float = 0.0,
                   out=None) -> np.ndarray:
    """Squared Euclidean distance between `template` and the window of `f` around each pixel.

    Parameters
    ----------
    f : ndarray
        Input image, 1-D to 3-D, bool, integer, float32 or float64.
    template : ndarray
        The pattern, with as many dimensions as `f`, any size (its origin is
        at ``template.shape // 2``); cast to ``f.dtype`` as in mahotas.
    mode : {'reflect', 'nearest', 'wrap', 'mirror', 'constant', 'ignore'}, optional
        How the image is extended beyond its border (default 'reflect'). As
        in mahotas, 'constant' is the same as 'ignore': template points
        outside the image are left out.
    cval : float, optional
        Must be 0 (points outside are left out, not compared with `cval`).
    out : ndarray, optional
        C-contiguous output of ``f``'s shape and dtype.

    Returns
    -------
    match : ndarray
        Same shape and dtype as `f`: ``sum((f[i + k - origin] - template[k])**2)``,
        computed in ``f.dtype`` as mahotas does: floats in their own
        precision, integers modulo 2**bits (so it wraps for large
        differences; convert `f` to float64 to avoid that), and for bools
        whether any point differs.

    See Also
    --------
    find : the exact matches.

    Notes
    -----
    Each output row is accumulated one template point at a time, in raster
    order as in mahotas, so float results are mahotas's bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import template_match
    >>> template_match(np.array([0, 1, 2, 3, 4], np.int32), np.array([1, 2, 3]))
    array([9, 3, 0, 3, 9], dtype=int32)
    """
    fname = "template_match"
    f, source = _as_image(f, fname)
    template = _as_filter(template, f, "template", fname).astype(f.dtype)
    _check_mode(mode, cval, fname)
    if isinstance(cval, numbers.Real) and cval != 0:
        raise ValueError(f"karyo.{fname}: `cval` must be 0: template points outside the "
                         "image are left out, not compared with a constant (as in mahotas)")
    out = get_output(f, out, fname)
    if f.size == 0:
        return out
    elements, tables, x_origin = _filter_geometry(f.shape, np.ones(template.shape, bool), mode)
    template_values = _as_3d(template).reshape(-1)
    if f.dtype == np.bool_:
        template_values = template_values.view(np.uint8)
    _filters.squared_difference(_as_3d(source), _as_3d(kernel_view(out)), elements,
                                template_values, *tables, x_origin, f.dtype == np.bool_)
    return out


def find(f, template) -> np.ndarray:
    """Where `template` occurs exactly in the 2-D image `f`.

    Parameters
    ----------
    f : ndarray
        2-D image, bool, integer, float32 or float64.
    template : ndarray
        2-D pattern, cast to ``f.dtype`` as in mahotas (a float template on an
        integer image is truncated).

    Returns
    -------
    found : ndarray of bool
        ``found[y, x]`` is True when ``f[y:y + h, x:x + w]`` equals `template`
        (of shape ``(h, w)``) at every point; it is indexed by the top-left
        corner of the match. NaN never matches.

    See Also
    --------
    template_match : a distance to the template at every pixel.

    Notes
    -----
    Every window is compared point by point and left at the first
    difference, as in mahotas. An empty `template` is refused (mahotas
    reports a match at every position).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import find
    >>> image = np.array([[0, 1, 2], [3, 1, 2], [0, 0, 0]], np.uint8)
    >>> np.argwhere(find(image, np.array([[1, 2]])))
    array([[0, 1],
           [1, 1]])
    """
    fname = "find"
    f, source = _as_image(f, fname, min_ndim=2, max_ndim=2)
    template = _as_filter(template, f, "template", fname).astype(f.dtype)
    found = np.empty(f.shape, bool)
    if f.dtype == np.bool_:
        template = template.view(np.uint8)
    _filters.find2d(source, np.ascontiguousarray(template), found.view(np.uint8))
    return found


def laplacian_2D(array, alpha: float = 0.2) -> np.ndarray:  # noqa: N802 (mahotas's name)
    """The discrete Laplacian of a 2-D image, a blend of the 4- and 8-neighbour stencils.

    Parameters
    ----------
    array : ndarray
        2-D image, bool, integer or float (computed in float64).
    alpha : float, optional
        Weight of the diagonal neighbours, clipped to [0, 1] as in mahotas
        (default 0.2): 0 gives the 4-neighbour stencil, 1 the diagonals only.

    Returns
    -------
    filtered : ndarray
        float64, the shape of `array`.

    See Also
    --------
    convolve : the filter applied here, with mode 'nearest'.

    Notes
    -----
    The 3 x 3 stencil has ``alpha / (1 + alpha)`` on the diagonals,
    ``(1 - alpha) / (1 + alpha)`` on the sides and ``-4 / (1 + alpha)`` in the
    centre (the weights of MATLAB's ``fspecial('laplacian')``), so it sums to
    0; borders repeat the nearest pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import laplacian_2D
    >>> image = np.zeros((3, 3))
    >>> image[1, 1] = 1
    >>> laplacian_2D(image, alpha=0)
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    fname = "laplacian_2D"
    array = as_array(array, fname, min_ndim=2, max_ndim=2)
    alpha = as_real(alpha, fname, "alpha")
    if math.isnan(alpha):
        raise ValueError(f"karyo.{fname}: `alpha` is NaN; expected a number between 0 and 1")
    alpha = max(0, min(alpha, 1))
    side = (1. - alpha) / (alpha + 1.)
    diagonal = alpha / (alpha + 1.)
    centre = -4. / (alpha + 1.)
    weights = np.array([[diagonal, side, diagonal],
                        [side, centre, side],
                        [diagonal, side, diagonal]])
    return convolve(array.astype(np.float64), weights, mode="nearest")


def _as_image(f, fname: str, min_ndim: int = 1, max_ndim: int = 3
              ) -> tuple[np.ndarray, np.ndarray]:
    """The validated image `f`, and the view of it that the kernels read (bool as uint8)."""
    f = as_array(f, fname, "f", min_ndim=min_ndim, max_ndim=max_ndim)
    if f.dtype.kind == "f" and f.dtype.itemsize not in (4, 8):
        raise TypeError(f"karyo.{fname}: `f` has dtype {f.dtype}, which is not supported; "
                        "convert it to float32 or float64 first")
    return f, kernel_view(f)


def _check_kind(array: np.ndarray, name: str, fname: str) -> None:
    if array.dtype.kind not in "buif":
        raise TypeError(f"karyo.{fname}: `{name}` has dtype {array.dtype}; expected bool, "
                        "integer or floating point values")


def _as_filter(weights, f: np.ndarray, name: str, fname: str) -> np.ndarray:
    """`weights` checked to be a non-empty numeric array with `f`'s number of dimensions."""
    weights = np.asanyarray(weights)
    _check_kind(weights, name, fname)
    if weights.ndim != f.ndim:
        raise ValueError(f"karyo.{fname}: `{name}` has {weights.ndim} dimensions; expected "
                         f"{f.ndim} (the same as `f`)")
    if weights.size == 0:
        raise ValueError(f"karyo.{fname}: `{name}` is empty (shape {weights.shape})")
    return weights


def _footprint(Bc, f: np.ndarray, fname: str) -> np.ndarray:
    """The nonzero points of `Bc` once cast to ``f.dtype`` (mahotas's cast)."""
    footprint = as_structuring_element(Bc, f.ndim, fname, dtype=f.dtype) != 0
    if not footprint.any():
        raise ValueError(f"karyo.{fname}: `Bc` has no nonzero point (once cast to "
                         f"{f.dtype}), so the neighbourhood is empty")
    return footprint


def _as_3d(array: np.ndarray) -> np.ndarray:
    return array[(np.newaxis,) * (3 - array.ndim)]


def _filter_geometry(shape: tuple, footprint: np.ndarray, mode: str
                     ) -> tuple[np.ndarray, list[np.ndarray], int]:
    """The kernels' description of a filter over an image of `shape`.

    Returns the (z, y, x) coordinates of the points of `footprint` in raster
    order, the border table of each axis (see _filters.pyx) and the origin
    of the filter along x.
    """
    footprint = _as_3d(footprint)
    image_shape = (1,) * (3 - len(shape)) + tuple(shape)
    tables = []
    for n, size in zip(image_shape, footprint.shape, strict=True):
        origin = size // 2
        reach = max(origin, size - 1 - origin)
        start = reach - origin
        tables.append(np.ascontiguousarray(_source_index(n, reach, mode)[start:start + n + size
                                                                          - 1]))
    elements = np.ascontiguousarray(np.argwhere(footprint), dtype=np.int64)
    return elements, tables, footprint.shape[2] // 2


def _correlate(source: np.ndarray, out: np.ndarray, weights: np.ndarray, points: np.ndarray,
               mode: str, cval: float, use_cval: bool) -> None:
    """Weighted sums of the `points` of `weights` around each pixel of `source`, into `out`."""
    if source.size == 0:
        return
    elements, tables, x_origin = _filter_geometry(source.shape, points, mode)
    values = np.ascontiguousarray(_as_3d(weights)[_as_3d(points)], dtype=np.float64)
    _filters.correlate(_as_3d(source), _as_3d(kernel_view(out)), elements, values, *tables,
                       x_origin, cval, use_cval, out.dtype == np.bool_)


def _rank(f: np.ndarray, source: np.ndarray, footprint: np.ndarray, rank: int, mode: str,
          cval, out, fname: str) -> np.ndarray:
    cval = _check_mode(mode, cval, fname)
    if f.dtype.kind in "bui":
        info = np.iinfo(np.uint8 if f.dtype == np.bool_ else f.dtype)
        top = 1 if f.dtype == np.bool_ else info.max
        if not (math.isfinite(cval) and cval == int(cval) and info.min <= cval <= top):
            raise ValueError(f"karyo.{fname}: `cval` is {cval}, which is not a value of the "
                             f"image's type {f.dtype}")
    typed_cval = f.dtype.type(cval)
    out = get_output(f, out, fname)
    if f.size == 0:
        return out
    elements, tables, _ = _filter_geometry(f.shape, footprint, mode)
    if f.dtype.itemsize == 1:
        # bool, uint8, int8: a sliding histogram; int8 as uint8 with its sign bit
        # flipped, which keeps the order.
        flip = 0x80 if f.dtype == np.int8 else 0
        cval_bin = (int(np.array(typed_cval).view(np.uint8)) ^ flip
                    if mode == "constant" else -1)
        _filters.rank_histogram(_as_3d(source.view(np.uint8)), _as_3d(out.view(np.uint8)),
                                *_footprint_rows(elements), *tables, rank, len(elements),
                                cval_bin, flip)
        return out
    if f.dtype.itemsize == 2 and f.dtype.kind in "ui":
        flip = 0x8000 if f.dtype == np.int16 else 0
        cval_bin = (int(np.array(typed_cval).view(np.uint16)) ^ flip
                    if mode == "constant" else -1)
        _filters.rank_histogram16(_as_3d(source.view(np.uint16)),
                                  _as_3d(out.view(np.uint16)), *_footprint_rows(elements),
                                  *tables, rank, len(elements), cval_bin, flip)
        return out
    origins = [size // 2 for size in _as_3d(footprint).shape]
    _filters.rank(_as_3d(source), _as_3d(out), elements, *tables, *origins, rank,
                  int(typed_cval) if f.dtype.kind in "bui" else float(typed_cval),
                  mode == "constant")
    return out


def _footprint_rows(elements: np.ndarray) -> list[np.ndarray]:
    """The footprint as rows for _filters.rank_histogram.

    Returns the (z, y) of each row, then in CSR form (starts, values) the x
    of its points, of those that leave the window when it moves right
    (c - 1 not in the row) and of those that enter it (c + 1 not in the row).
    """
    rows: dict[tuple[int, int], list[int]] = {}
    for z, y, x in elements.tolist():
        rows.setdefault((z, y), []).append(x)
    segments = np.array(list(rows), dtype=np.int64).reshape(-1, 2)
    result = [segments]
    members = [set(xs) for xs in rows.values()]
    for step in (None, -1, 1):
        chosen = [[c for c in xs if step is None or c + step not in row]
                  for xs, row in zip(rows.values(), members, strict=True)]
        starts = np.cumsum([0] + [len(c) for c in chosen]).astype(np.int64)
        values = np.array([c for cs in chosen for c in cs], dtype=np.int64)
        result += [starts, values]
    return result


# Wavelets ----------------------------------------------------------------
#
# mahotas's conventions, reproduced to the last bit: each 1-D pass writes the
# low band (scaling function) into the first half of the line and the high
# band (wavelet) into the second; the image is transformed along its rows,
# then along its columns (columns first for idaubechies). Coefficients are
# mahotas's float32 values. The loops are in the kernel module _wavelets.

# Daubechies scaling coefficients, normalised to sum 2 (D2 is the Haar pair).
_DAUBECHIES = {
    "D2": (1.0, 1.0),
    "D4": (0.6830127, 1.1830127, 0.3169873, -0.1830127),
    "D6": (0.47046721, 1.14111692, 0.650365, -0.19093442, -0.12083221, 0.0498175),
    "D8": (0.32580343, 1.01094572, 0.8922014, -0.03957503, -0.26450717, 0.0436163,
           0.0465036, -0.01498699),
    "D10": (0.22641898, 0.85394354, 1.02432694, 0.19576696, -0.34265671, -0.04560113,
            0.10970265, -0.0088268, -0.01779187, 0.00471743),
    "D12": (1.57742430e-01, 6.99503810e-01, 1.06226376e+00, 4.45831320e-01, -3.19986600e-01,
            -1.83518060e-01, 1.37888090e-01, 3.89232100e-02, -4.46637500e-02, 7.83251152e-04,
            6.75606236e-03, -1.52353381e-03),
    "D14": (1.10099430e-01, 5.60791280e-01, 1.03114849e+00, 6.64372480e-01, -2.03513820e-01,
            -3.16835010e-01, 1.00846700e-01, 1.14003450e-01, -5.37824500e-02,
            -2.34399400e-02, 1.77497900e-02, 6.07514995e-04, -2.54790472e-03,
            5.00226853e-04),
    "D16": (7.69556200e-02, 4.42467250e-01, 9.55486150e-01, 8.27816530e-01, -2.23857400e-02,
            -4.01658630e-01, 6.68194092e-04, 1.82076360e-01, -2.45639000e-02,
            -6.23502100e-02, 1.97721600e-02, 1.23688400e-02, -6.88771926e-03,
            -5.54004549e-04, 9.55229711e-04, -1.66137261e-04),
    "D18": (5.38503500e-02, 3.44834300e-01, 8.55349060e-01, 9.29545710e-01, 1.88369550e-01,
            -4.14751760e-01, -1.36953550e-01, 2.10068340e-01, 4.34526750e-02,
            -9.56472600e-02, 3.54892813e-04, 3.16241700e-02, -6.67962023e-03,
            -6.05496058e-03, 2.61296728e-03, 3.25814671e-04, -3.56329759e-04,
            5.56455140e-05),
    "D20": (3.77171600e-02, 2.66122180e-01, 7.45575070e-01, 9.73628110e-01, 3.97637740e-01,
            -3.53336200e-01, -2.77109880e-01, 1.80127450e-01, 1.31602990e-01,
            -1.00966570e-01, -4.16592500e-02, 4.69698100e-02, 5.10043697e-03,
            -1.51790000e-02, 1.97332536e-03, 2.81768659e-03, -9.69947840e-04,
            -1.64709006e-04, 1.32354367e-04, -1.87584100e-05),
}
DAUBECHIES_CODES = tuple(_DAUBECHIES)


def haar(f, preserve_energy: bool = True, inline: bool = False) -> np.ndarray:
    """Haar wavelet transform (one level) of a 2-D image.

    Parameters
    ----------
    f : ndarray
        2-D image, any real dtype.
    preserve_energy : bool, optional
        Divide the result by 2 so that the transform is orthonormal (the sum
        of squares is preserved), as by default in mahotas.
    inline : bool, optional
        Transform `f` in place and return it. Only possible for a writeable
        floating-point `f`; any other image is converted to float64 and
        copied, as in mahotas.

    Returns
    -------
    t : ndarray
        The transform, of `f`'s float type (float64 for integer and bool
        images; float32 for float16, computed in float32). The top-left
        quarter holds the pairwise sums (low-low band), the other three
        quarters the pairwise differences along rows, columns or both.

    See Also
    --------
    ihaar : the inverse transform.
    daubechies : longer wavelets (``'D2'`` is the Haar wavelet without the
        energy normalisation).

    Notes
    -----
    Each row is replaced by its pairwise sums ``x[2i] + x[2i+1]`` followed by
    its pairwise differences ``x[2i+1] - x[2i]``; then each column likewise.
    The arithmetic is mahotas's, so results are identical to it. As in
    mahotas, the transform is meant for even sizes: along an axis of odd
    length the last element has no partner and is set to 0. The two passes
    are fused into one sweep over the image (a Cython kernel).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import haar
    >>> haar(np.array([[1., 2.], [3., 4.]]))
    array([[5., 1.],
           [2., 0.]])
    """
    fname = "haar"
    preserve_energy = as_flag(preserve_energy, fname, "preserve_energy")
    f, destination = _wavelet_image(f, inline, fname)
    out = np.empty(f.shape, f.dtype)
    _wavelets.haar_forward(f, out, preserve_energy)
    return _deliver(out, destination)


def ihaar(f, preserve_energy: bool = True, inline: bool = False) -> np.ndarray:
    """Inverse of :func:`haar`: ``ihaar(haar(f))`` is `f` up to rounding.

    Parameters
    ----------
    f : ndarray
        2-D transform, any real dtype.
    preserve_energy : bool, optional
        Whether `f` was computed with ``preserve_energy=True`` (the default).
    inline : bool, optional
        Transform `f` in place and return it (a writeable floating-point `f`
        only; any other input is converted to float64 and copied).

    Returns
    -------
    f : ndarray
        The reconstructed image, of the input's float type (float64 for
        integer input, float32 for float16).

    See Also
    --------
    haar : the forward transform.

    Notes
    -----
    Rows first, then columns (mahotas's order): each line's first half ``l``
    and second half ``h`` give back the pairs ``(l - h) / 2`` and
    ``(l + h) / 2``, so results are identical to mahotas's. Along an axis of
    odd length the last element is set to 0, as in mahotas (it held nothing
    in the forward transform). mahotas reads the high band of a column at a
    wrong address when the image has an odd number of rows (it can read
    outside the image); karyo uses the second half of the column, as for rows.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import haar, ihaar
    >>> image = np.array([[1., 2.], [3., 4.]])
    >>> ihaar(haar(image))
    array([[1., 2.],
           [3., 4.]])
    """
    fname = "ihaar"
    preserve_energy = as_flag(preserve_energy, fname, "preserve_energy")
    f, destination = _wavelet_image(f, inline, fname)
    out = np.empty(f.shape, f.dtype)
    _wavelets.haar_inverse(f, out, preserve_energy)
    return _deliver(out, destination)


def daubechies(f, code: str, inline: bool = False) -> np.ndarray:
    """Daubechies wavelet transform (one level) of a 2-D image.

    Parameters
    ----------
    f : ndarray
        2-D image, any real dtype. The sizes are best powers of 2 (see
        :func:`wavelet_center`).
    code : str
        The wavelet: ``'D2'``, ``'D4'``, ... ``'D20'`` (the number of
        coefficients).
    inline : bool, optional
        Transform `f` in place and return it (a writeable floating-point `f`
        only; any other input is converted to float64 and copied).

    Returns
    -------
    filtered : ndarray
        The transform, of `f`'s float type (float64 for integer and bool
        images; float32 for float16). Low-pass (scaling) coefficients fill
        the first half of each axis, high-pass (wavelet) ones the second.

    See Also
    --------
    idaubechies : the inverse transform.
    haar : the Haar transform (``'D2'`` divided by 2).
    wavelet_center : pad an image to power-of-2 sizes first.

    Notes
    -----
    Each row, then each column, is correlated at every second position with
    the scaling filter (reversed) and the wavelet filter (the scaling filter
    with alternating signs). Samples past the end of a line count as 0, and
    along an axis of odd length the last element is set to 0, as in mahotas;
    the float32 coefficients and the order of the additions are mahotas's,
    so results are identical. The two passes are fused into one sweep over
    the image (a Cython kernel): each row is analysed once, into a ring of
    rows that stays in cache, and the columns are done whole rows at a time.
    Coefficients normalised to sum 2: I. Daubechies, "Ten Lectures on
    Wavelets", SIAM, 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import daubechies, idaubechies
    >>> transformed = daubechies(np.ones((8, 8)), 'D4')
    >>> transformed[:3, :3].round(5)  # low band: the filter sums to 2 per axis
    array([[4., 4., 4.],
           [4., 4., 4.],
           [4., 4., 4.]])
    >>> float(np.abs(transformed[4:7, :3]).max())  # no detail in a constant image
    0.0
    >>> image = np.arange(64.).reshape(8, 8)
    >>> restored = idaubechies(daubechies(image, 'D4'), 'D4')
    >>> bool(np.allclose(restored[2:6, 2:6], image[2:6, 2:6], atol=1e-4))  # away from the ends
    True
    """
    fname = "daubechies"
    coefficients = _daubechies_coefficients(code, fname)
    f, destination = _wavelet_image(f, inline, fname)
    taps = coefficients.astype(f.dtype)
    out = np.empty(f.shape, f.dtype)
    _wavelets.daubechies_forward(f, out, taps)
    return _deliver(out, destination)


def idaubechies(f, code: str, inline: bool = False) -> np.ndarray:
    """Inverse of :func:`daubechies`.

    Parameters
    ----------
    f : ndarray
        2-D transform, any real dtype.
    code : str
        The wavelet it was computed with: ``'D2'``, ``'D4'``, ... ``'D20'``.
    inline : bool, optional
        Transform `f` in place and return it (a writeable floating-point `f`
        only; any other input is converted to float64 and copied).

    Returns
    -------
    rfiltered : ndarray
        The reconstructed image, of the input's float type (float64 for
        integer input, float32 for float16).

    See Also
    --------
    daubechies : the forward transform.

    Notes
    -----
    Columns first, then rows, mahotas's synthesis step: each output sample
    sums the low band times the scaling filter and the high band times the
    wavelet filter, over the band samples it overlaps, and halves the sum.
    Reconstruction is exact (to float32 coefficient precision) away from
    the ends of lines; near the ends, mahotas's zero extension loses
    information, and karyo reproduces mahotas's values there too. The two
    passes are fused into one sweep over the image (a Cython kernel).

    mahotas reads the high band of a column at a wrong address when the
    image has an odd number of rows (it can read outside the image); karyo
    uses the second half of the column, as for rows.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import daubechies, idaubechies
    >>> image = np.arange(16.).reshape(4, 4)
    >>> np.allclose(idaubechies(daubechies(image, 'D2'), 'D2'), image)
    True
    """
    fname = "idaubechies"
    coefficients = _daubechies_coefficients(code, fname)
    f, destination = _wavelet_image(f, inline, fname)
    taps = coefficients.astype(f.dtype)
    out = np.empty(f.shape, f.dtype)
    _wavelets.daubechies_inverse(f, out, taps)
    return _deliver(out, destination)


def wavelet_center(f, border: int = 0, dtype=float, cval: float = 0.0) -> np.ndarray:
    """Place `f` in the middle of a larger array whose sizes are powers of 2.

    Parameters
    ----------
    f : ndarray
        Input image, any number of dimensions (none of size 0).
    border : int, optional
        Minimum margin, in pixels, around `f` on every side (default 0:
        at least 1 pixel, as in mahotas).
    dtype : dtype, optional
        dtype of the result (default float64).
    cval : float, optional
        Value of the margin (default 0).

    Returns
    -------
    fc : ndarray
        The centred image, of shape ``2**(floor(log2(f.shape)) + c)`` for the
        smallest ``c >= 1`` that leaves more than `border` pixels before `f`
        along every axis.

    See Also
    --------
    wavelet_decenter : cut `f` back out.
    daubechies : works best on power-of-2 sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import wavelet_center, wavelet_decenter
    >>> image = np.ones((5, 6))
    >>> centred = wavelet_center(image)
    >>> centred.shape
    (8, 8)
    >>> np.array_equal(wavelet_decenter(centred, image.shape), image)
    True
    """
    fname = "wavelet_center"
    f = as_array(f, fname, "f")
    border = _check_border(border, fname)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"karyo.{fname}: `dtype` must be a numpy dtype, got {dtype!r}") from None
    if not isinstance(cval, numbers.Number) or isinstance(cval, complex):
        raise TypeError(f"karyo.{fname}: `cval` must be a real number, got {cval!r}")
    shape, position = _wavelet_center_geometry(f.shape, border, fname)
    centred = np.zeros(shape, dtype)
    centred += cval
    centred[position] = f
    return centred


def wavelet_decenter(w, oshape, border: int = 0) -> np.ndarray:
    """Undo :func:`wavelet_center`: the part of `w` that holds the original image.

    Parameters
    ----------
    w : ndarray
        An array as returned by :func:`wavelet_center` (or its transform).
    oshape : tuple of ints
        Shape of the original image.
    border : int, optional
        The `border` given to :func:`wavelet_center` (it must be the same).

    Returns
    -------
    f : ndarray
        A view of `w` of shape `oshape`.

    See Also
    --------
    wavelet_center : the forward function.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.convolve import wavelet_center, wavelet_decenter
    >>> wavelet_decenter(wavelet_center(np.arange(3.)), (3,))
    array([0., 1., 2.])
    """
    fname = "wavelet_decenter"
    w = np.asanyarray(w)
    border = _check_border(border, fname)
    try:
        oshape = tuple(operator.index(n) for n in np.atleast_1d(oshape).tolist())
    except TypeError:
        raise TypeError(f"karyo.{fname}: `oshape` must be a tuple of ints, "
                        f"got {oshape!r}") from None
    shape, position = _wavelet_center_geometry(oshape, border, fname)
    if w.shape != shape:
        raise ValueError(f"karyo.{fname}: `w` has shape {w.shape}; expected {shape} (the "
                         f"wavelet_center shape for oshape={oshape}, border={border})")
    return w[position]


def _check_border(border, fname: str) -> int:
    return as_int(border, fname, "border", low=0)


def _wavelet_center_geometry(shape: tuple, border: int, fname: str) -> tuple[tuple, tuple]:
    """The power-of-2 shape and the slices that centre `shape` in it (mahotas's rule)."""
    if len(shape) == 0 or min(shape) < 1:
        raise ValueError(f"karyo.{fname}: cannot centre shape {shape}; expected at least one "
                         "axis and no axis of length 0")
    sizes = np.array(shape, np.int64)
    exponents = np.floor(np.log2(sizes)).astype(np.int64)
    # mahotas tries c = 1 .. border + 15, the same c for every axis
    for c in range(1, 16 + border):
        if exponents.max() + c > 62:
            break  # 2**62 elements: no array of that size can exist
        new_shape = np.left_shift(1, exponents + c)
        before = (new_shape - sizes) // 2
        if before.min() > border:
            position = tuple(slice(int(b), int(b) + int(n)) for b, n in zip(before, sizes,
                                                                            strict=True))
            return tuple(int(n) for n in new_shape), position
    raise ValueError(f"karyo.{fname}: a border of {border} around shape {shape} needs more "
                     "than 2**62 elements along an axis")


def _wavelet_image(f, inline, fname: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Check `f`; return ``(work, destination)``.

    `work` is the native, C-contiguous floating-point array to transform
    (read only; the transforms write to new arrays); `destination` is the array the result
    must end up in (`f` itself with ``inline=True``), or None for a new
    array. mahotas's rule: a floating-point `f` is transformed in place if
    `inline`; anything else is converted to float64 and copied.
    """
    inline = as_flag(inline, fname, "inline")
    f = np.asanyarray(f)
    if isinstance(f, np.ma.MaskedArray):
        raise TypeError(f"karyo.{fname}: `f` is a masked array; pass a plain ndarray")
    if f.dtype.kind not in "buif":
        raise TypeError(f"karyo.{fname}: `f` has dtype {f.dtype}; expected bool, integer or "
                        "floating-point values")
    if f.ndim != 2:
        raise ValueError(f"karyo.{fname}: `f` has {f.ndim} dimensions (shape {f.shape}); "
                         "expected a 2-D image")
    if f.dtype.kind != "f":
        return np.ascontiguousarray(f, np.float64), None
    if inline and not f.flags.writeable:
        raise ValueError(f"karyo.{fname}: `f` is read-only, so it cannot be transformed "
                        "in place (inline=True)")
    destination = f if inline else None
    # mahotas has no float16 kernels: karyo computes in float32
    dtype = np.float32 if f.dtype == np.float16 else f.dtype.newbyteorder("=")
    return np.ascontiguousarray(f, dtype), destination


def _deliver(result: np.ndarray, destination: np.ndarray | None) -> np.ndarray:
    """`result`, stored into `destination` (the caller's array, for inline=True) if given."""
    if destination is None or destination is result:
        return result
    destination[...] = result
    return destination


def _daubechies_coefficients(code, fname: str) -> np.ndarray:
    if not isinstance(code, str) or code not in _DAUBECHIES:
        raise ValueError(f"karyo.{fname}: `code` must be one of {list(DAUBECHIES_CODES)}, "
                         f"got {code!r}")
    return np.array(_DAUBECHIES[code], np.float32)
