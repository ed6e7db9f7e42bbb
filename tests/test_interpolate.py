"""karyo.interpolate against scipy.ndimage (the oracle) and mahotas.interpolate.

karyo's zoom and shift compute what mahotas's port of scipy.ndimage's
B-spline code evidently intends, which mahotas 1.4.19 does not deliver (it
rounds every sample position to the next whole index): the oracle is
scipy.ndimage, with mahotas's mode names mapped to scipy's (MODES below).

Tolerances: karyo's kernels perform scipy's floating-point operations in
scipy's order, so on this platform float64 results are bit-identical.
Float comparisons still allow 1e-12 of the largest value, because a compiler
may fuse a multiply and an add differently in the two builds (a last-bit
change); integer outputs are compared exactly, since they are what a user
sees and both sides round the same values the same way.
"""

from __future__ import annotations

import warnings

import mahotas.interpolate as mi
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo
from karyo.interpolate import shift, spline_filter, spline_filter1d, zoom

# mahotas divides by zero for 1-point outputs (then handles the inf/NaN)
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in divide:RuntimeWarning")

# mahotas's mode name -> scipy.ndimage's name for the same boundary rule
# ('ignore', which scipy lacks, is karyo's 'constant'; see test_modes_*)
MODES = {"nearest": "nearest", "wrap": "grid-wrap", "reflect": "reflect", "mirror": "mirror",
         "constant": "constant", "ignore": "constant"}
# 'ignore' is left out of the mahotas comparisons: mahotas crashes on it.
MAHOTAS_MODES = ["nearest", "wrap", "reflect", "mirror", "constant"]
INPUT_DTYPES = [np.bool_, np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64]
OUT_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.float32,
              np.float64, np.bool_]
FLOAT_RTOL = 1e-12


def values(dtype, min_dims=1, max_dims=3, min_side=1, max_side=9):
    """Arrays of `dtype` whose values are finite and not huge."""
    elements = None
    if np.dtype(dtype).kind == "f":
        width = np.dtype(dtype).itemsize * 8
        elements = st.floats(-1e4, 1e4, allow_nan=False, width=width)
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                              max_side=max_side)
    return hnp.arrays(dtype, shapes, elements=elements)


def assert_identical(actual, expected):
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected, strict=True)


def assert_matches_scipy(actual, expected):
    """Exact for integers and bools, within FLOAT_RTOL of the largest value for floats."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, strict=True)
        return
    scale = np.abs(expected[np.isfinite(expected)]).max(initial=1.0)
    np.testing.assert_allclose(actual, expected, rtol=FLOAT_RTOL, atol=FLOAT_RTOL * scale,
                               equal_nan=True)


def reflect_coefficients(image, order):
    """Exact B-spline coefficients for the 'reflect' boundary, from scipy.

    scipy 1.17's own 'reflect' prefilter misreads one term on short axes
    (scipy issue 24550, fixed in PR 24615; karyo computes the fixed sum).
    The half-sample symmetric extension of n samples has period 2n, so the
    exact coefficients are the periodic ('grid-wrap') ones of the samples
    followed by their mirror image, cut back to n. Axes of length 1 are
    left alone, as scipy and karyo leave them.
    """
    coefficients = np.asarray(image, dtype=np.float64)
    for axis, length in enumerate(coefficients.shape):
        if length > 1:
            doubled = np.concatenate([coefficients, np.flip(coefficients, axis)], axis)
            periodic = ndi.spline_filter1d(doubled, order, axis, mode="grid-wrap")
            coefficients = np.take(periodic, np.arange(length), axis)
    return coefficients


def scipy_resample(function, image, amount, mode="constant", order=3, prefilter=True, **kwargs):
    """scipy.ndimage.zoom or .shift with karyo's `mode` name, the reflect prefilter fixed."""
    if MODES[mode] == "reflect" and prefilter and order > 1:
        image, prefilter = reflect_coefficients(image, order), False
    kwargs.setdefault("output", np.float64)
    return function(image, amount, order=order, mode=MODES[mode], prefilter=prefilter,
                    **kwargs)


def scipy_zoom_into(image, out_shape, dtype, **kwargs):
    """scipy's zoom of `image` to `out_shape`, stored as `dtype` (bool by karyo's rule).

    scipy stores into a bool output by truncating to a byte (0.7 -> False,
    2.0 -> a byte 2); karyo treats bool as the integer 0 or 1 and rounds, so
    its bool is scipy's uint8 result clipped to 1.
    """
    factors = np.array(out_shape, float) / np.maximum(image.shape, 1)
    stored = np.uint8 if np.dtype(dtype) == np.bool_ else dtype
    result = scipy_resample(ndi.zoom, image, factors, output=np.empty(out_shape, stored),
                            **kwargs)
    return result > 0 if np.dtype(dtype) == np.bool_ else result


def quiet(function, *args, **kwargs):
    """Call `function` silencing numpy's warnings on casts of out-of-range floats."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


# -- spline_filter1d / spline_filter ------------------------------------------

@given(image=values(np.float64), order=st.integers(2, 5), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_spline_filter1d_matches_scipy(image, order, data, dtype):
    axis = data.draw(st.integers(-image.ndim, image.ndim - 1))
    expected = ndi.spline_filter1d(image, order, axis, output=dtype, mode="mirror")
    assert_matches_scipy(spline_filter1d(image, order, axis, dtype=dtype), expected)


@pytest.mark.parametrize("dtype", INPUT_DTYPES)
@given(data=st.data())
def test_spline_filter_matches_scipy(dtype, data):
    image = data.draw(values(dtype))
    order = data.draw(st.integers(2, 5))
    out_dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    expected = ndi.spline_filter(image, order, output=out_dtype, mode="mirror")
    assert_matches_scipy(spline_filter(image, order, dtype=out_dtype), expected)


def test_spline_filter_longdouble():
    # computed in long double (scipy has only double): equal to scipy's
    # double result to double precision
    image = np.random.default_rng(7).normal(size=(6, 31)) * 100
    result = spline_filter(image, 4, dtype=np.longdouble)
    assert result.dtype == np.longdouble
    assert_matches_scipy(result.astype(np.float64), ndi.spline_filter(image, 4, mode="mirror"))


def test_spline_filter_long_lines_match_scipy():
    # several hundred lines fill the blocks of interleaved lines exactly and
    # partially; long lines exercise the exact initial-value sums
    rng = np.random.default_rng(5)
    for shape in [(3, 257), (35, 40), (5, 6, 70), (300,)]:
        image = rng.normal(size=shape) * 50
        for order in (2, 3, 4, 5):
            assert_matches_scipy(spline_filter(image, order),
                                 ndi.spline_filter(image, order, mode="mirror"))


def test_spline_filter_differs_from_mahotas_by_its_truncation():
    # Deliberate: mahotas starts each causal recursion from a sum truncated
    # once |pole|**k < exp(-16) (an approximation old scipy also made); karyo
    # computes the exact sum, as scipy.ndimage now does, so that zoom/shift
    # with prefilter=False on these coefficients equal zoom/shift on the
    # samples. The two differ by at most about 1e-7 of the largest value.
    rng = np.random.default_rng(0)
    image = rng.random((40, 50)) * 100
    for order in (2, 3, 4, 5):
        expected = mi.spline_filter(image, order)
        result = spline_filter(image, order)
        assert not np.array_equal(result, expected)
        np.testing.assert_allclose(result, expected, rtol=0,
                                   atol=1e-6 * np.abs(expected).max())
    coefficients = spline_filter(image, 3)
    assert_identical(zoom(coefficients, 1.7, prefilter=False, mode="mirror"),
                     zoom(image, 1.7, mode="mirror"))


def test_spline_filter_out_and_edge_shapes():
    image = np.arange(12.0).reshape(3, 4)
    expected = ndi.spline_filter(image, 3, mode="mirror")
    out = np.empty((3, 4))
    assert spline_filter(image, out=out) is out
    assert_matches_scipy(out, expected)
    same = image.copy()
    spline_filter(same, out=same)
    assert_matches_scipy(same, expected)
    for shaped in (np.zeros((0, 5)), np.ones((1, 1)), np.ones(1), np.ones((1, 7)),
                   np.array(3.0)):
        assert_matches_scipy(spline_filter(shaped), ndi.spline_filter(shaped, mode="mirror"))


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_spline_filter_layouts(layout):
    image = np.random.default_rng(1).random((9, 14)) * 10
    assert_identical(spline_filter(with_layout(image, layout), 3), spline_filter(image, 3))
    assert_identical(spline_filter1d(with_layout(image, layout), 4, 0),
                     spline_filter1d(image, 4, 0))


def test_spline_filter_non_finite_values_match_scipy():
    image = np.arange(30.0).reshape(5, 6)
    image[1, 2] = np.nan
    image[3, 4] = np.inf
    with np.errstate(invalid="ignore"):
        expected = ndi.spline_filter(image, mode="mirror")
        assert_identical(spline_filter(image), expected)


def test_spline_filter_errors():
    image = np.ones((4, 4))
    with pytest.raises(ValueError, match="order"):
        spline_filter(image, 1)
    with pytest.raises(ValueError, match="order"):
        spline_filter1d(image, 6)
    with pytest.raises(TypeError, match="order"):
        spline_filter(image, 2.5)
    with pytest.raises(ValueError, match="axis"):
        spline_filter1d(image, 3, axis=2)
    with pytest.raises(TypeError, match="dtype"):
        spline_filter(image, dtype=np.uint8)
    with pytest.raises(TypeError, match="dtype"):
        spline_filter(image, dtype=np.float16)
    with pytest.raises(TypeError, match="array"):
        spline_filter(image.astype(complex))
    with pytest.raises(ValueError, match="out"):
        spline_filter(image, out=np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="out"):
        spline_filter(image, out=np.empty((4, 5)))
    with pytest.raises(ValueError, match="array"):
        spline_filter1d(np.array(1.0))


def test_spline_filter_deprecated_spellings():
    image = np.arange(6.0).reshape(2, 3)
    with pytest.warns(DeprecationWarning):
        result = spline_filter(image, 3, np.float32)  # a type passed as `out`
    assert_identical(result, spline_filter(image, 3, dtype=np.float32))
    out = np.empty((2, 3))
    with pytest.warns(DeprecationWarning):
        assert spline_filter1d(image, 3, output=out) is out
    assert_identical(out, spline_filter1d(image, 3))


# -- zoom -----------------------------------------------------------------------

zoom_factors = st.floats(0.2, 3.0)


@pytest.mark.parametrize("dtype", INPUT_DTYPES)
@given(data=st.data())
def test_zoom_matches_scipy(dtype, data):
    image = data.draw(values(dtype))
    factor = data.draw(st.one_of(zoom_factors, st.lists(zoom_factors, min_size=image.ndim,
                                                       max_size=image.ndim)))
    order = data.draw(st.integers(0, 5))
    mode = data.draw(st.sampled_from(sorted(MODES)))
    prefilter = data.draw(st.booleans())
    cval = data.draw(st.sampled_from([0.0, -3.5, 100.0]))
    expected = scipy_resample(ndi.zoom, image, factor, mode, order=order, cval=cval,
                              prefilter=prefilter)
    assert_matches_scipy(zoom(image, factor, order=order, mode=mode, cval=cval,
                              prefilter=prefilter), expected)


@given(image=values(np.float64, max_dims=2), data=st.data(),
       out_dtype=st.sampled_from(OUT_DTYPES))
def test_zoom_into_out_matches_scipy(image, data, out_dtype):
    # Integers are rounded half away from zero and clipped to the dtype's
    # range, as scipy does; compared exactly.
    shape = tuple(data.draw(st.integers(1, 12)) for _ in range(image.ndim))
    order = data.draw(st.integers(0, 5))
    # 'reflect' is left out: its oracle (reflect_coefficients) is exact only
    # to rounding, which could flip a value lying on a .5 boundary
    mode = data.draw(st.sampled_from(sorted(set(MODES) - {"reflect"})))
    out = np.empty(shape, out_dtype)
    assert zoom(image, 1.0, out=out, order=order, mode=mode) is out
    if shape == image.shape:
        # a factor of 1: the samples themselves, stored by the rounding rule
        # (see test_zoom_factor_one_returns_the_samples); scipy's order-0
        # shift by 0 stores the samples by that rule
        stored = np.uint8 if out_dtype == np.bool_ else out_dtype
        expected = ndi.shift(image, 0, output=np.empty(shape, stored), order=0)
        expected = expected > 0 if out_dtype == np.bool_ else expected
    else:
        expected = scipy_zoom_into(image, shape, out_dtype, order=order, mode=mode)
    assert_matches_scipy(out, expected)


def test_zoom_integer_rounding_and_clipping():
    line = np.array([0.0, 1.0, 255.0, 300.0, -7.0])
    for dtype in (np.uint8, np.int8, np.int16, np.uint16):
        result = zoom(line, 1.8, out=np.empty(9, dtype), order=1)
        expected = ndi.zoom(line, 1.8, output=np.empty(9, dtype), order=1)
        assert_identical(result, expected)
        exact = zoom(line, 1.8, order=1)
        info = np.iinfo(dtype)
        rounded = np.clip(np.sign(exact) * np.floor(np.abs(exact) + 0.5), info.min, info.max)
        np.testing.assert_array_equal(result, rounded)


def test_zoom_real_image_matches_scipy():
    image = karyo.demos.load("synthetic_nuclei")[::3, ::3]
    for factor, order in [(0.5, 3), (1.7, 3), ((0.8, 1.3), 2), (2.0, 1), (0.33, 5), (1.5, 0)]:
        assert_matches_scipy(zoom(image, factor, order=order),
                             ndi.zoom(image, factor, output=np.float64, order=order))
    out = zoom(image, 1.0, out=np.empty((200, 333), np.uint8))
    assert_matches_scipy(out, scipy_zoom_into(image, (200, 333), np.uint8))


def test_zoom_interpolates_a_ramp():
    # Linear interpolation of a ramp is the finer ramp: the first and last
    # output points fall on the first and last input points, the others in
    # between (mahotas gives repeated blocks and a cval border instead).
    ramp = np.arange(4.0)[:, None] + np.arange(4.0)[None, :]
    fine = np.linspace(0, 3, 8)[:, None] + np.linspace(0, 3, 8)[None, :]
    np.testing.assert_allclose(zoom(ramp, 2.0, order=1), fine, atol=1e-12)
    for order in range(6):
        corners = zoom(ramp, 2.0, order=order)[::7, ::7]
        np.testing.assert_allclose(corners, ramp[::3, ::3], atol=1e-12)


def test_zoom_differs_from_mahotas():
    # Deliberate: mahotas 1.4.19 rounds each sample position x to the index
    # floor(x) + 1 before evaluating the spline, so it repeats pixels instead
    # of interpolating, shifts the image by one pixel and, in 'constant'
    # mode, puts cval in the last point; karyo evaluates at x, as scipy.
    line = np.array([0.0, 10.0, 20.0, 30.0])
    np.testing.assert_array_equal(mi.zoom(line, 1.5, order=1), [10, 10, 20, 20, 30, 0])
    np.testing.assert_allclose(zoom(line, 1.5, order=1), [0, 6, 12, 18, 24, 30],
                               rtol=1e-15)
    # and mahotas truncates the output size where scipy and karyo round it
    assert mi.zoom(np.ones(7), 0.95).shape == (6,)
    assert zoom(np.ones(7), 0.95).shape == ndi.zoom(np.ones(7), 0.95).shape == (7,)


def test_zoom_factor_one_returns_the_samples():
    # As in scipy, a factor of 1 (with prefilter) copies the samples rather
    # than evaluating the spline at them (which can change the last bit).
    # Deliberate difference from scipy: karyo stores the copy by its
    # rounding rule, where scipy's shortcut casts with numpy (truncating
    # and wrapping), unlike its own interpolated results.
    image = np.array([[-1.6, 0.5, 2.5], [254.6, 300.0, 7.49]])
    assert_identical(zoom(image, 1.0), image)
    result = zoom(image, 1.0, out=np.empty((2, 3), np.uint8))
    np.testing.assert_array_equal(result, [[0, 1, 3], [255, 255, 7]])
    assert not np.array_equal(quiet(ndi.zoom, image, 1.0, output=np.uint8), result)


def test_zoom_non_finite_values_match_scipy():
    image = np.arange(48.0).reshape(6, 8)
    image[2, 3] = np.nan
    image[4, 1] = -np.inf
    for order in range(6):
        for factor in (0.7, 2.0):
            with np.errstate(invalid="ignore"):
                expected = ndi.zoom(image, factor, output=np.float64, order=order,
                                    mode="mirror")
                assert_identical(zoom(image, factor, order=order, mode="mirror"), expected)


def test_zoom_degenerate_shapes_match_scipy():
    for image, factor in [(np.ones(1), 1), (np.ones(1), 3), (np.arange(3.0), 0.4),
                          (np.arange(3.0), 0.1), (np.ones((1, 5)), 2.0),
                          (np.arange(6.0).reshape(2, 3), (3.0, 0.0)),
                          (np.arange(4.0).reshape(2, 2), (0.5, 2.0))]:
        for mode in sorted(MODES):
            expected = scipy_resample(ndi.zoom, image, factor, mode)
            assert_matches_scipy(zoom(image, factor, mode=mode), expected)
    # an empty input: cval everywhere in 'constant' mode, an empty output otherwise
    assert_identical(zoom(np.ones(0), 2), np.ones(0))
    assert_identical(zoom(np.ones((0, 3)), 1, out=np.empty((2, 2)), cval=4.0),
                     np.full((2, 2), 4.0))


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_zoom_layouts(layout):
    image = (np.random.default_rng(3).random((10, 12)) * 255).astype(np.uint16)
    assert_identical(zoom(with_layout(image, layout), 1.6), zoom(image, 1.6))
    assert_matches_scipy(zoom(image, 1.6), ndi.zoom(image, 1.6, output=np.float64))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.bool_, np.float32])
@pytest.mark.parametrize("layout", ["strided", "bigendian", "fortran"])
def test_zoom_out_layouts(dtype, layout):
    # any writeable `out` works; only its own elements are written
    image = np.array([[-3.0, 1.0, 0.4], [2.0, 300.0, 7.0]])
    expected = zoom(image, 1.0, out=np.empty((5, 4), dtype), order=3)
    if layout == "strided":
        base = np.zeros((5, 8), dtype)
        out = base[:, ::2]
    elif layout == "bigendian":
        out = np.zeros((5, 4), np.dtype(dtype).newbyteorder(">"))
    else:
        out = np.zeros((5, 4), dtype, order="F")
    assert zoom(image, 1.0, out=out, order=3) is out
    np.testing.assert_array_equal(out, expected)
    if layout == "strided":
        assert not base[:, 1::2].any()


def test_zoom_cval_and_ignore():
    # Differences from mahotas: a nonzero cval works (mahotas raises
    # NotImplementedError) and 'ignore' is 'constant' (mahotas crashes).
    image = np.arange(20.0).reshape(4, 5)
    with pytest.raises(NotImplementedError):
        mi.zoom(image, 1.5, cval=7)
    assert_matches_scipy(zoom(image, 1.5, cval=7), ndi.zoom(image, 1.5, output=float, cval=7))
    assert_identical(zoom(image, 1.5, mode="ignore", cval=2), zoom(image, 1.5, cval=2))


def test_zoom_errors():
    image = np.ones((4, 4))
    with pytest.raises(ValueError, match="order"):
        zoom(image, 2, order=6)
    with pytest.raises(ValueError, match="mode"):
        zoom(image, 2, mode="bogus")
    with pytest.raises(ValueError, match="mode"):
        zoom(image, 2, mode="grid-wrap")
    with pytest.raises(TypeError, match="cval"):
        zoom(image, 2, cval="zero")
    with pytest.raises(ValueError, match="zoom"):
        zoom(image, [1, 2, 3])
    with pytest.raises(ValueError, match="zoom"):
        zoom(image, -1)
    with pytest.raises(ValueError, match="zoom"):
        zoom(image, np.nan)
    with pytest.raises(TypeError, match="zoom"):
        zoom(image, "double")
    with pytest.raises(ValueError, match="array"):
        zoom(np.array(1.0), 2)
    with pytest.raises(TypeError, match="array"):
        zoom(image.astype(complex), 2)
    with pytest.raises(ValueError, match="out"):
        zoom(image, 2, out=np.empty(8))
    with pytest.raises(TypeError, match="out"):
        zoom(image, 2, out=[[0.0]])
    readonly = np.empty((8, 8))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        zoom(image, 2, out=readonly)
    with pytest.raises(ValueError, match="empty"):
        zoom(np.ones((0, 3)), 1, out=np.empty((2, 2)), mode="nearest")


# -- shift ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
@given(data=st.data())
def test_shift_matches_scipy(dtype, data):
    image = data.draw(values(dtype))
    amounts = data.draw(st.lists(st.floats(-25, 25), min_size=image.ndim, max_size=image.ndim))
    order = data.draw(st.integers(0, 5))
    mode = data.draw(st.sampled_from(sorted(MODES)))
    prefilter = data.draw(st.booleans())
    cval = data.draw(st.sampled_from([0.0, 9.25]))
    expected = scipy_resample(ndi.shift, image, amounts, mode, order=order, cval=cval,
                              prefilter=prefilter)
    assert_matches_scipy(shift(image, amounts, order=order, mode=mode, cval=cval,
                               prefilter=prefilter), expected)


@pytest.mark.parametrize("mode", ["nearest", "wrap", "reflect", "mirror", "constant"])
def test_modes_mean_what_mahotas_documents(mode):
    # A whole-pixel shift with order 0 copies pixels: it shows the extension
    # each mode name stands for in mahotas (nearest a a|a b c d|d d, wrap
    # c d|a b c d|a b, reflect b a|a b c d|d c, mirror c b|a b c d|c b,
    # constant cval). scipy's 'wrap' would differ (its period is n - 1).
    line = np.array([1.0, 2.0, 3.0, 4.0])
    padding = {"nearest": "edge", "wrap": "wrap", "reflect": "symmetric", "mirror": "reflect",
               "constant": "constant"}[mode]
    extra = {"constant_values": -1.0} if padding == "constant" else {}
    extended = np.pad(line, 6, mode=padding, **extra)
    for amount in range(-6, 7):
        expected = extended[6 - amount:10 - amount]
        np.testing.assert_array_equal(shift(line, amount, order=0, mode=mode, cval=-1.0),
                                      expected)
        # and for every order, since the spline passes through the samples
        np.testing.assert_allclose(shift(line, amount, order=3, mode=mode, cval=-1.0),
                                   expected, atol=1e-12)


def test_reflect_splines_pass_through_the_samples():
    # Deliberate difference from scipy 1.17: its 'reflect' prefilter misreads
    # one term on short axes (scipy issue 24550, fixed in PR 24615), so its
    # spline misses the samples (by 1e-5 here); karyo's passes through them.
    line = np.array([1.0, 2.0, 3.0, 4.0])
    for order in range(2, 6):
        np.testing.assert_allclose(shift(line, 0, order=order, mode="reflect"), line,
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(shift(line, -4, order=order, mode="reflect"), line[::-1],
                                   rtol=0, atol=1e-12)
    buggy = ndi.shift(line, 0, order=3, mode="reflect")
    if not np.allclose(buggy, line, rtol=0, atol=1e-12):
        assert abs(buggy[0] - 1) > 1e-6


def test_shift_reflect_at_whole_periods_matches_scipy():
    for length in (2, 3, 4):
        line = np.arange(length) * 10.0 + 1
        for amount in range(-30, 31):
            for order in (0, 3):
                expected = scipy_resample(ndi.shift, line, amount, "reflect", order=order)
                assert_matches_scipy(shift(line, [amount], order=order, mode="reflect"),
                                     expected)


def test_shift_real_image_matches_scipy():
    image = karyo.demos.load("synthetic_nuclei")[::4, ::4]
    for amounts, mode in [((3.5, -2.2), "nearest"), ((-40.0, 7.0), "wrap"),
                          ((0.5, 0.5), "constant"), ((300.0, -129.0), "mirror")]:
        assert_matches_scipy(shift(image, amounts, mode=mode),
                             scipy_resample(ndi.shift, image, amounts, mode))


def test_shift_differs_from_mahotas():
    # Deliberate: mahotas rounds each position k - shift to the index
    # floor(k - shift) + 1, so a shift by 1 does nothing and a shift by 1.5
    # moves by one pixel without interpolating; karyo (as scipy) moves by
    # the amount asked, interpolating between pixels.
    line = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(mi.shift(line, np.array([1.0]), order=1, mode="nearest"),
                                  [1, 2, 3, 4])
    np.testing.assert_array_equal(shift(line, 1, order=1, mode="nearest"), [1, 1, 2, 3])
    np.testing.assert_array_equal(mi.shift(line, np.array([1.5]), order=1, mode="nearest"),
                                  [1, 1, 2, 3])
    np.testing.assert_array_equal(shift(line, 1.5, order=1, mode="nearest"),
                                  [1, 1, 1.5, 2.5])


def test_shift_scalar_and_caller_array():
    # Differences from mahotas: one number shifts every axis (mahotas reads
    # past the end of it for 2-D arrays), and the caller's array is not negated.
    image = np.arange(30.0).reshape(5, 6)
    assert_identical(shift(image, 1.5), shift(image, [1.5, 1.5]))
    amounts = np.array([1.0, -2.0])
    shift(image, amounts)
    np.testing.assert_array_equal(amounts, [1.0, -2.0])
    out = np.empty((5, 6))
    assert shift(image, amounts, out=out) is out
    assert_matches_scipy(out, ndi.shift(image, amounts, output=np.float64))


def test_shift_in_place():
    # out= may be the input: karyo reads from a copy
    image = np.arange(30.0).reshape(5, 6)
    for order in (0, 1, 3):
        expected = shift(image, [1.5, -2.0], order=order, mode="wrap")
        same = image.copy()
        assert shift(same, [1.5, -2.0], out=same, order=order, mode="wrap") is same
        assert_identical(same, expected)


def test_shift_errors():
    image = np.ones((4, 4))
    with pytest.raises(ValueError, match="shift"):
        shift(image, [1, 2, 3])
    with pytest.raises(ValueError, match="shift"):
        shift(image, [np.inf, 0])
    with pytest.raises(ValueError, match="out"):
        shift(image, 1, out=np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="mode"):
        shift(image, 1, mode="edge")


def test_module_access():
    assert karyo.interpolate.zoom is zoom
    assert karyo.interpolate.shift is shift
    assert karyo.interpolate.spline_filter is spline_filter
