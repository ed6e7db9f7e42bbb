"""Spline interpolation: prefiltering, zooming and shifting, as ``mahotas.interpolate``.

The names, arguments and defaults are mahotas's; the values are those of
scipy.ndimage (whose B-spline code mahotas ported): float64 results equal
scipy.ndimage's bit for bit, since the kernels perform its floating-point
operations in its order (except where scipy 1.17 has a bug: see `zoom`).
mahotas 1.4.19 does not interpolate between pixels (it rounds every sample
position to the next whole input index, which shifts the image by a
pixel); karyo does not reproduce that bug. Each function's Notes say where
karyo differs from mahotas and why.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _interpolate
from .internal import (
    as_array,
    as_axis,
    as_choice,
    as_int,
    as_real,
    get_output,
    in_threads,
    per_axis,
    strips,
)

__all__ = ["shift", "spline_filter", "spline_filter1d", "zoom"]

# mahotas's mode names -> the kernel's boundary codes, chosen so that each
# name keeps the meaning mahotas documents (scipy.ndimage's name in brackets):
# 'nearest' a a | a b c d | d d ('nearest'); 'wrap' c d | a b c d | a b, the
# period n ('grid-wrap': scipy's own 'wrap' uses the period n - 1 when it
# interpolates); 'reflect' b a | a b c d | d c ('reflect'); 'mirror'
# c b | a b c d | c b ('mirror'); 'constant': points outside the input take
# cval ('constant'). 'ignore' (no scipy equivalent) leaves pixels beyond the
# edges out: inside the input that is 'constant' (which never reads cval
# there), and points outside have no pixels to use, so they take cval too.
_NEAREST, _WRAP, _REFLECT, _MIRROR, _CONSTANT = range(5)
_MODES = {"nearest": _NEAREST, "wrap": _WRAP, "reflect": _REFLECT, "mirror": _MIRROR,
          "constant": _CONSTANT, "ignore": _CONSTANT}
# The prefilter's boundary for each mode, as in scipy.ndimage: 'constant'
# assumes a mirror extension, and 'nearest' filters a copy padded with edge
# values whose far ends are reflected.
_FILTER_BOUNDARY = {_NEAREST: _REFLECT, _WRAP: _WRAP, _REFLECT: _REFLECT, _MIRROR: _MIRROR,
                    _CONSTANT: _MIRROR}
_NEAREST_PAD = 12
_FILTER_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.longdouble))


def _spline_order(order, fname: str, lowest: int = 0) -> int:
    """The B-spline's degree: an integer from `lowest` to 5 (prefilters need 2 or more)."""
    return as_int(order, fname, "order", low=lowest, high=5)


def _mode_code(mode, cval, fname: str) -> tuple[int, float]:
    """The kernel's code for `mode`, and `cval` as a float."""
    return _MODES[as_choice(mode, tuple(_MODES), fname, "mode")], as_real(cval, fname, "cval")


def _numbers_per_axis(value, ndim: int, fname: str, name: str) -> np.ndarray:
    """`value` (a number or one per axis) as a float64 array of length `ndim`."""
    return np.array([as_real(number, fname, name)
                     for number in per_axis(value, ndim, fname, name)], np.float64)


def _filter_dtype(dtype, fname: str) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"karyo.{fname}: `dtype` must be a numpy dtype, got {dtype!r}") from None
    if dtype not in _FILTER_DTYPES:
        raise TypeError(f"karyo.{fname}: `dtype` is {dtype}; expected float32, float64 or "
                        "longdouble (spline coefficients are floating point)")
    return dtype


def _legacy_output(out, output, dtype, fname: str):
    """mahotas's deprecated spellings: a dtype passed as `out`/`output`, an array as `output`."""
    for name in ("out", "output"):
        value = out if name == "out" else output
        if isinstance(value, type):
            warnings.warn(f"karyo.{fname}: pass the type as `dtype`, not as `{name}`",
                          DeprecationWarning, stacklevel=3)
            dtype = value
            if name == "out":
                out = None
            else:
                output = None
    if output is not None:
        warnings.warn(f"karyo.{fname}: `output` is deprecated; use `out`",
                      DeprecationWarning, stacklevel=3)
        if out is None:
            out = output
    return out, dtype


def _filter_axis(coefficients: np.ndarray, order: int, axis: int, boundary: int) -> None:
    """Prefilter the C-contiguous `coefficients` in place along `axis`."""
    length = coefficients.shape[axis]
    if length <= 1 or coefficients.size == 0:
        return
    if axis == coefficients.ndim - 1:
        _interpolate.spline_filter_lines(coefficients.reshape(-1, length), order, boundary)
    else:
        outer = int(np.prod(coefficients.shape[:axis]))
        _interpolate.spline_filter_axis(coefficients.reshape(outer, length, -1), order,
                                        boundary)


def _prefilter(array: np.ndarray, coefficients: np.ndarray, order: int, axes,
               boundary: int) -> None:
    """Write the B-spline coefficients of `array` along `axes` into `coefficients`.

    float32 coefficients are computed in float64 and stored in float32
    between axes, as scipy.ndimage does; float64 and longdouble in place.
    """
    if coefficients.dtype != np.float32:
        coefficients[...] = array
        for axis in axes:
            _filter_axis(coefficients, order, axis, boundary)
        return
    work = np.array(array, dtype=np.float64, order="C")
    for axis in axes:
        _filter_axis(work, order, axis, boundary)
        coefficients[...] = work
        work[...] = coefficients
    if not axes:
        coefficients[...] = work


def spline_filter1d(array, order: int = 3, axis: int = -1, out=None, dtype=np.float64,
                    output=None) -> np.ndarray:
    """Prefilter `array` for B-spline interpolation along one axis.

    Parameters
    ----------
    array : array-like
        Input values, any number of dimensions; bool, integer or floating point.
    order : int, optional
        Spline order, 2 to 5 (default 3). Orders 0 and 1 need no prefilter.
    axis : int, optional
        Axis along which to filter (default: the last).
    out : ndarray, optional
        C-contiguous array of `array`'s shape and of `dtype` for the result.
    dtype : dtype, optional
        float32, float64 (default) or longdouble: the type computed in.
    output : ndarray, optional
        Deprecated alias of `out`, as in mahotas.

    Returns
    -------
    coefficients : ndarray
        The B-spline coefficients along `axis`, of `dtype` (`out` if given).

    See Also
    --------
    spline_filter : the same along every axis.

    Notes
    -----
    Interpolating B-splines pass through the samples only if they are built
    on coefficients, not on the samples themselves; the coefficients come
    from a causal and an anti-causal first-order recursive filter per pole
    of the spline, with mirror-symmetric boundaries [1]_. The recursion runs
    over whole rows at a time for every axis but the last.

    The values are scipy.ndimage.spline_filter1d's with ``mode='mirror'``
    (float64: bit for bit). mahotas 1.4.19 starts each causal recursion from
    a sum truncated where ``|pole|**k < exp(-16)``, so its coefficients differ
    from these (the exact ones) by up to about 1e-7 of the largest value;
    karyo computes them exactly so that `zoom` and `shift` with
    ``prefilter=False`` on them give what they give on the samples.
    float32 coefficients are computed in float64 and rounded, as in scipy;
    longdouble ones are computed in long double.

    References
    ----------
    .. [1] M. Unser, "Splines: a perfect fit for signal and image processing",
       IEEE Signal Processing Magazine 16(6), 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.interpolate import spline_filter1d
    >>> spline_filter1d(np.array([0., 0., 6., 0., 0.])).round(3)
    array([ 1.5, -3. , 10.5, -3. ,  1.5])
    """
    fname = "interpolate.spline_filter1d"
    order = _spline_order(order, fname, lowest=2)
    out, dtype = _legacy_output(out, output, dtype, fname)
    dtype = _filter_dtype(dtype, fname)
    array = as_array(array, fname, min_ndim=1)
    axis = as_axis(axis, array.ndim, fname)
    coefficients = get_output(array, out, fname, dtype)
    _prefilter(array, coefficients, order, [axis], _MIRROR)
    return coefficients


def spline_filter(array, order: int = 3, out=None, dtype=np.float64, output=None) -> np.ndarray:
    """Prefilter `array` for B-spline interpolation along every axis.

    Parameters
    ----------
    array : array-like
        Input values, any number of dimensions; bool, integer or floating point.
    order : int, optional
        Spline order, 2 to 5 (default 3).
    out : ndarray, optional
        C-contiguous array of `array`'s shape and of `dtype` for the result.
    dtype : dtype, optional
        float32, float64 (default) or longdouble: the type computed in.
        Intermediate results are stored in it, so float32 loses precision.
    output : ndarray, optional
        Deprecated alias of `out`, as in mahotas.

    Returns
    -------
    coefficients : ndarray
        The B-spline coefficients, of `dtype` (`out` if given).

    See Also
    --------
    spline_filter1d : one axis; the Notes describe the filter.
    zoom, shift : use these coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.interpolate import spline_filter
    >>> spline_filter(np.eye(3)).round(3)
    array([[ 4.125, -3.   ,  1.875],
           [-3.   ,  4.5  , -3.   ],
           [ 1.875, -3.   ,  4.125]])
    """
    fname = "interpolate.spline_filter"
    order = _spline_order(order, fname, lowest=2)
    out, dtype = _legacy_output(out, output, dtype, fname)
    dtype = _filter_dtype(dtype, fname)
    array = as_array(array, fname, min_ndim=0)
    coefficients = get_output(array, out, fname, dtype)
    _prefilter(array, coefficients, order, list(range(array.ndim)), _MIRROR)
    return coefficients


def _coefficients(array: np.ndarray, order: int, mode: int, prefilter: bool):
    """The float64 C-contiguous coefficients that zoom/shift sample, and their padding."""
    if not (prefilter and order > 1):
        return np.ascontiguousarray(array, dtype=np.float64), 0
    n_pad = 0
    if mode == _NEAREST:
        # no closed-form boundary exists for 'nearest': filter a copy padded
        # with edge values, wide enough for the far ends not to matter
        n_pad = _NEAREST_PAD
        array = np.pad(array, n_pad, mode="edge")
    coefficients = np.empty(array.shape, np.float64)
    _prefilter(array, coefficients, order, list(range(array.ndim)), _FILTER_BOUNDARY[mode])
    return coefficients, n_pad


def _resample(array: np.ndarray, out_shape: tuple, zooms, shifts, order: int, mode: int,
              cval: float, prefilter: bool, fname: str, out=None) -> np.ndarray:
    """Sample the spline of `array` on the output grid, into a float64 C array.

    Output index k along axis r samples input position ``(k + shifts[r]) *
    zooms[r]`` (each factor only if given). The result goes to `out` when it
    is a C-contiguous writeable float64 array, else to a new array; the
    array written is returned.
    """
    if (out is not None and out.dtype == np.float64 and out.flags.c_contiguous
            and out.flags.writeable):
        result = out
    else:
        result = np.empty(out_shape, np.float64)
    if result.size == 0:
        return result
    if array.size == 0:
        if mode != _CONSTANT:
            raise ValueError(f"karyo.{fname}: cannot sample an empty array in this `mode`; "
                             "only 'constant' (which gives `cval` everywhere) works")
        result.fill(cval)
        return result
    coefficients, n_pad = _coefficients(array, order, mode, prefilter)
    if np.may_share_memory(coefficients, result):
        # out= is the input itself: read from a copy
        coefficients = coefficients.copy()
    n_taps = order + 1
    axes = []
    for axis, n_out in enumerate(out_shape):
        taps = np.empty((n_out, n_taps), np.int64)
        weights = np.empty((n_out, n_taps), np.float64)
        outside = np.empty(n_out, np.uint8)
        _interpolate.axis_taps(taps, weights, outside, coefficients.shape[axis],
                               0.0 if zooms is None else float(zooms[axis]),
                               0.0 if shifts is None else float(shifts[axis]),
                               zooms is not None, shifts is not None, n_pad, order, mode)
        axes.append((taps, weights, outside))
    # Taps whose weight is exactly 0 everywhere add +-0 to a sum that starts
    # at +0, which changes nothing unless a coefficient is inf or NaN: drop them.
    keep = np.zeros(n_taps, bool)
    for _, weights, outside in axes:
        keep |= np.any(weights[outside == 0] != 0, axis=0)
    if keep.any() and not keep.all() and np.isfinite(coefficients).all():
        axes = [(taps[:, keep], weights[:, keep], outside) for taps, weights, outside in axes]
    _sample(coefficients, result, axes, cval)
    return result


def _store(values: np.ndarray, out: np.ndarray) -> None:
    """Write the float64 C-contiguous `values` into `out`, rounding as scipy.ndimage does.

    Integers are rounded half away from zero (unsigned: negatives give 0)
    and clipped to the dtype's range; NaN gives 0. A bool is the integer 0
    or 1, so it is True where the value rounds to 1 or more (>= 0.5).
    Floats are cast.
    """
    kind = out.dtype.kind
    if kind == "f":
        out[...] = values
        return
    if kind == "b":
        target_dtype, low, high = np.dtype(np.uint8), 0.0, 1.0
    else:
        info = np.iinfo(out.dtype)
        target_dtype = out.dtype.newbyteorder("=")
        # the largest doubles within the range (2**63 - 1 and 2**64 - 1 are not doubles)
        low = float(info.min)
        high = float(np.nextafter(float(info.max), 0.0)) if info.bits == 64 else float(info.max)
    direct = out.flags.c_contiguous and out.dtype.isnative
    target = out.view(target_dtype) if direct else np.empty(out.shape, target_dtype)
    _interpolate.round_into(values.reshape(-1), target.reshape(-1), low, high)
    if not direct:
        out[...] = target if kind != "b" else target.view(np.bool_)


def _sample(coefficients: np.ndarray, result: np.ndarray, axes: list, cval: float) -> None:
    """Run the sampling kernel; axes[r] = (tap indices, weights, outside flags) of axis r.

    Strips of the first output axis go to threads (the kernel releases the GIL).
    """
    if result.size == 0:
        return
    strides = [s // coefficients.itemsize for s in coefficients.strides]
    n_taps = axes[0][0].shape[1]
    rest = [(taps * stride, weights, outside) for (taps, weights, outside), stride
            in zip(axes[1:], strides[1:], strict=True)]
    first_taps, first_weights, first_outside = axes[0]
    first_taps = first_taps * strides[0]
    flat = coefficients.reshape(-1)

    def run(start: int, stop: int) -> None:
        block = result[start:stop]
        tables = [(first_taps[start:stop], first_weights[start:stop],
                   first_outside[start:stop])] + rest
        starts = np.cumsum([0] + list(block.shape[:-1])).astype(np.intp)
        _interpolate.sample(flat, block.reshape(-1), np.array(block.shape, np.intp),
                            np.concatenate([t for t, _, _ in tables]).reshape(-1),
                            np.concatenate([w for _, w, _ in tables]).reshape(-1),
                            np.concatenate([o for _, _, o in tables]),
                            starts, n_taps, cval)

    in_threads(run, strips(result.shape[0]), result.size)


def zoom(array, zoom, out=None, order: int = 3, mode: str = "constant", cval: float = 0.0,
         prefilter: bool = True, output=None) -> np.ndarray:
    """Resize `array` by B-spline interpolation, as ``mahotas.interpolate.zoom``.

    Parameters
    ----------
    array : array-like
        Input, at least 1-D; bool, integer or floating point.
    zoom : float or sequence of floats
        Zoom factor, one for all axes or one per axis: the output has
        ``round(array.shape[i] * zoom[i])`` points along axis i. Ignored (but
        checked for length) when `out` is given.
    out : ndarray, optional
        Output array of any real dtype, with as many dimensions as `array`;
        its shape sets the output size. Values are computed in float64;
        integers are rounded (half away from zero) and clipped to the
        dtype's range, and a bool is True where the value rounds to 1 or
        more.
    order : int, optional
        Spline order, 0 to 5 (default 3).
    mode : str, optional
        How the input extends beyond its edges: 'constant' (default: output
        points outside the input take `cval`), 'nearest' (``a a | a b c d |
        d d``), 'reflect' (``b a | a b c d | d c``), 'mirror' (``c b | a b c d
        | c b``), 'wrap' (``c d | a b c d | a b``) or 'ignore' (as 'constant').
    cval : float, optional
        Value of output points outside the input in 'constant' mode.
    prefilter : bool, optional
        Whether to run the spline prefilter first (default True); pass False
        if `array` already holds spline coefficients (see `spline_filter`).
    output : ndarray, optional
        Deprecated alias of `out`, as in mahotas.

    Returns
    -------
    zoomed : ndarray
        float64 array of the zoomed shape, or `out`.

    See Also
    --------
    karyo.resize.resize_to, karyo.resize.imresize : friendlier front ends.

    Notes
    -----
    Output point k along an axis of n input and m output points is the
    spline's value at input position ``x = k (n - 1) / (m - 1)``, so the
    first and last output points fall on the first and last input points.
    The result equals ``scipy.ndimage.zoom(array, zoom, output=np.float64,
    order=order, mode=m, cval=cval, prefilter=prefilter)``, m being scipy's
    name for the mode (``'grid-wrap'`` for 'wrap', ``'constant'`` for
    'ignore'; see the module source), with `out` as scipy's `output`.
    Three exceptions, where scipy 1.17 errs: in 'reflect' mode, karyo's
    prefilter reads the term scipy misreads on short axes (scipy issue
    24550), so its spline passes through the samples; a bool `out` is
    rounded (scipy truncates to a byte); and for a factor of 1, the copy of
    the samples is stored by the same rounding rule (scipy casts it).

    Differences from mahotas 1.4.19, deliberate: mahotas rounds x to the
    index ``floor(x) + 1`` before evaluating the spline, so it does not
    interpolate, shifts the image by one pixel and (in 'constant' mode)
    fills the last row and column with `cval`; karyo evaluates at x. The
    output shape rounds ``n * zoom`` where mahotas truncates it (mahotas
    can give one point fewer, e.g. 6 for 7 x 0.95). Integer outputs are
    rounded and clipped, where mahotas truncates them and lets them wrap
    around. The prefilter is exact (see `spline_filter1d`). A nonzero
    `cval` works (mahotas raises NotImplementedError) and 'ignore' works
    (mahotas crashes).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.interpolate import zoom
    >>> zoom(np.array([0., 10., 20., 30.]), 1.5, order=1)
    array([ 0.,  6., 12., 18., 24., 30.])
    >>> zoom(np.array([0., 30.]), 2, order=1, out=np.empty(4, np.uint8))
    array([ 0, 10, 20, 30], dtype=uint8)
    """
    fname = "interpolate.zoom"
    order = _spline_order(order, fname)
    mode_code, cval = _mode_code(mode, cval, fname)
    array = as_array(array, fname, min_ndim=1)
    zooms = _numbers_per_axis(zoom, array.ndim, fname, "zoom")
    out, _ = _legacy_output(out, output, None, fname)
    if out is None:
        if not np.all(np.isfinite(zooms)) or np.any(zooms < 0):
            raise ValueError(f"karyo.{fname}: `zoom` must be finite and >= 0, got {zoom!r}")
        out_shape = tuple(int(round(n * float(z))) for n, z in zip(array.shape, zooms,
                                                                   strict=True))
        unchanged = bool(np.all(zooms == 1))
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"karyo.{fname}: `out` must be a numpy array, got "
                            f"{type(out).__name__}")
        if out.dtype.kind not in "buif":
            raise TypeError(f"karyo.{fname}: `out` has dtype {out.dtype}; expected a real dtype")
        if out.ndim != array.ndim:
            raise ValueError(f"karyo.{fname}: `out` has {out.ndim} dimensions; expected "
                             f"{array.ndim}, as `array`")
        if not out.flags.writeable:
            raise ValueError(f"karyo.{fname}: `out` is read-only")
        out_shape = out.shape
        unchanged = out_shape == array.shape
    if unchanged and prefilter:
        # a factor of 1 returns the samples themselves (as scipy does), not
        # the spline evaluated at them, which may differ in the last bit
        result = np.array(array, dtype=np.float64, order="C")
    else:
        # the first and last output points fall on the first and last input
        # points; a single output point samples position 0
        n_in = np.array(array.shape, np.float64) - 1
        n_out = np.array(out_shape, np.float64) - 1
        steps = np.divide(n_in, n_out, out=np.ones(array.ndim), where=n_out != 0)
        result = _resample(array, out_shape, steps, None, order, mode_code, cval, prefilter,
                           fname, out)
    if out is None:
        return result
    if result is not out:
        _store(result, out)
    return out


def shift(array, shift, out=None, order: int = 3, mode: str = "constant", cval: float = 0.0,
          prefilter: bool = True, output=None) -> np.ndarray:
    """Shift `array` by B-spline interpolation, as ``mahotas.interpolate.shift``.

    Parameters
    ----------
    array : array-like
        Input, at least 1-D; bool, integer or floating point.
    shift : float or sequence of floats
        Shift along each axis (one value for all axes, or one per axis):
        output point k is the spline's value at input position ``k - shift``.
    out : ndarray, optional
        C-contiguous float64 array of `array`'s shape for the result.
    order : int, optional
        Spline order, 0 to 5 (default 3).
    mode : str, optional
        How the input extends beyond its edges, as in `zoom`: 'constant'
        (default), 'nearest', 'reflect', 'mirror', 'wrap' or 'ignore'.
    cval : float, optional
        Value of output points outside the input in 'constant' mode.
    prefilter : bool, optional
        Whether to run the spline prefilter first (default True).
    output : ndarray, optional
        Deprecated alias of `out`, as in mahotas.

    Returns
    -------
    shifted : ndarray
        float64 array of `array`'s shape (`out` if given).

    Notes
    -----
    The result equals ``scipy.ndimage.shift(array, shift, output=np.float64,
    order=order, mode=m, cval=cval, prefilter=prefilter)``, m being scipy's
    name for the mode (see `zoom`, also for the 'reflect' exception).

    Differences from mahotas 1.4.19, deliberate: mahotas rounds each
    position to the index ``floor(k - shift) + 1``, so a shift moves the
    image one pixel less than asked and fractional shifts do not
    interpolate; karyo evaluates the spline at ``k - shift``. One number
    shifts every axis (mahotas reads past its end for arrays of 2 or more
    dimensions); `shift` is not negated in place (mahotas modifies a
    float64 array passed as `shift`); a nonzero `cval` works and 'ignore'
    behaves as 'constant'.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.interpolate import shift
    >>> shift(np.array([1., 2., 3., 4.]), 1, order=1)
    array([0., 1., 2., 3.])
    >>> shift(np.array([1., 2., 3., 4.]), 0.5, order=1, mode='nearest')
    array([1. , 1.5, 2.5, 3.5])
    """
    fname = "interpolate.shift"
    order = _spline_order(order, fname)
    mode_code, cval = _mode_code(mode, cval, fname)
    array = as_array(array, fname, min_ndim=1)
    shifts = _numbers_per_axis(shift, array.ndim, fname, "shift")
    if not np.all(np.isfinite(shifts)):
        raise ValueError(f"karyo.{fname}: `shift` must be finite, got {shift!r}")
    out, _ = _legacy_output(out, output, None, fname)
    out = get_output(array, out, fname, np.float64)
    return _resample(array, array.shape, None, -shifts, order, mode_code, cval, prefilter, fname,
                     out)
