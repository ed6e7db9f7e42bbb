"""karyo.convolve against mahotas and scipy.ndimage (the same Gaussian kernel).

The neighbourhood filters (convolve, mean, rank, template, find) sum in
mahotas's order, so their results equal mahotas's exactly, floats included.
"""

import contextlib
import multiprocessing
import os

import mahotas
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from karyo import _convolve
from karyo.convolve import (
    MODES,
    convolve,
    convolve1d,
    find,
    gaussian_filter,
    gaussian_filter1d,
    laplacian_2D,
    mean_filter,
    median_filter,
    rank_filter,
    template_match,
)

DTYPES = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
          np.int64, np.float32, np.float64]


@st.composite
def images(draw, dtypes=DTYPES, min_dims=1):
    """Random 1-D to 3-D arrays in every layout the kernels must read."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=14))
    if dtype.kind == "f":
        image = draw(hnp.arrays(dtype, shape, elements=st.floats(-100, 100, width=32)))
    else:
        info = np.iinfo(np.uint8 if dtype.kind == "b" else dtype)
        values = draw(hnp.arrays(np.int64, shape, elements=st.integers(
            max(info.min, -1000), min(info.max, 1000))))
        image = values.astype(dtype)
    layout = draw(st.sampled_from(["c", "fortran", "strided", "bigendian", "readonly"]))
    if layout == "fortran":
        image = np.asfortranarray(image)
    elif layout == "strided":
        image = np.repeat(image, 3, axis=-1)[..., ::3]
        if image.ndim > 1:
            image = np.repeat(image, 2, axis=0)[::2]
    elif layout == "bigendian" and dtype.itemsize > 1:
        image = image.astype(dtype.newbyteorder(">"))
    elif layout == "readonly":
        image.flags.writeable = False
    return image


def mahotas_reads_out_of_bounds(shape, sigmas, mode):
    # mahotas's 'reflect' maps offset -2m*n (m >= 2) to index -1, reading memory
    # before the array, when an axis is short: 4 * n <= radius. karyo reflects
    # correctly there (as scipy.ndimage does), so mahotas is not an oracle.
    return mode == "reflect" and any(4 * n <= int(4 * s + 0.5)
                                     for n, s in zip(shape, sigmas, strict=True))


def scipy_gaussian(image, sigma, order, mode, cval=0.0):
    """scipy.ndimage's result with mahotas's conventions: odd orders negated."""
    result = ndi.gaussian_filter(np.asarray(image, np.float64), sigma, order=order,
                                 mode="constant" if mode == "ignore" else mode,
                                 cval=cval if mode == "constant" else 0.0, truncate=4.0)
    orders = np.broadcast_to(order, (np.ndim(image),))
    return result * (-1) ** int(np.sum(orders))


def tolerance(image):
    # 1e-6 of the values' scale; float32 results also carry float32 rounding.
    scale = max(1.0, float(np.abs(np.asarray(image, np.float64)).max(initial=0)))
    return scale * (1e-5 if image.dtype.itemsize == 4 and image.dtype.kind == "f" else 1e-6)


@given(images(), st.floats(0.5, 4.0), st.integers(0, 3), st.sampled_from(MODES))
def test_gaussian_filter_matches_mahotas_and_scipy(image, sigma, order, mode):
    result = gaussian_filter(image, sigma, order=order, mode=mode)
    expected_dtype = np.float32 if image.dtype.kind == "f" and image.itemsize == 4 else np.float64
    assert result.dtype == expected_dtype
    assert result.shape == image.shape
    np.testing.assert_allclose(result, scipy_gaussian(image, sigma, order, mode),
                               rtol=0, atol=tolerance(image) * (1 + order) / sigma ** order)
    if not mahotas_reads_out_of_bounds(image.shape, [sigma] * image.ndim, mode):
        expected = mahotas.gaussian_filter(np.array(image, image.dtype.newbyteorder("=")),
                                           sigma, order=order, mode=mode)
        assert expected.dtype == result.dtype
        np.testing.assert_allclose(result, expected, rtol=0,
                                   atol=tolerance(image) * (1 + order) / sigma ** order)


@given(images(min_dims=2, dtypes=[np.uint8, np.float64]), st.data())
def test_gaussian_filter_per_axis_sigma_and_order(image, data):
    sigmas = [data.draw(st.floats(0.5, 3.0)) for _ in range(image.ndim)]
    orders = [data.draw(st.integers(0, 2)) for _ in range(image.ndim)]
    mode = data.draw(st.sampled_from(MODES))
    result = gaussian_filter(image, sigmas, order=orders, mode=mode)
    np.testing.assert_allclose(result, scipy_gaussian(image, sigmas, orders, mode),
                               rtol=0, atol=tolerance(image) * 3 / min(sigmas) ** 2)


@given(images(dtypes=[np.float32, np.float64]), st.floats(0.5, 4.0), st.integers(0, 3),
       st.sampled_from(MODES), st.data())
def test_gaussian_filter1d_matches_mahotas(image, sigma, order, mode, data):
    axis = data.draw(st.integers(-image.ndim, image.ndim - 1))
    result = gaussian_filter1d(image, sigma, axis=axis, order=order, mode=mode)
    atol = tolerance(image) * (1 + order) / sigma ** order
    sigmas = [0.125] * image.ndim
    sigmas[axis] = sigma
    if not mahotas_reads_out_of_bounds(image.shape, sigmas, mode):
        expected = mahotas.gaussian_filter1d(np.array(image, image.dtype.newbyteorder("=")),
                                             sigma, axis=axis, order=order, mode=mode)
        assert expected.dtype == result.dtype
        np.testing.assert_allclose(result, expected, rtol=0, atol=atol)
    scipy_result = ndi.gaussian_filter1d(np.asarray(image, np.float64), sigma, axis=axis,
                                         order=order, truncate=4.0,
                                         mode="constant" if mode == "ignore" else mode)
    np.testing.assert_allclose(result, scipy_result * (-1) ** order, rtol=0, atol=atol)


@given(images(dtypes=[np.uint8, np.float64]), st.floats(0.5, 3.0), st.floats(-50, 50))
def test_constant_mode_with_cval_matches_scipy(image, sigma, cval):
    # Deliberate extension: mahotas raises NotImplementedError for cval != 0.
    result = gaussian_filter(image, sigma, mode="constant", cval=cval)
    expected = scipy_gaussian(image, sigma, 0, "constant", cval)
    np.testing.assert_allclose(result, expected, rtol=0,
                               atol=max(tolerance(image), abs(cval) * 1e-6))


@given(images(min_dims=2, dtypes=[np.float32]), st.floats(0.5, 4.0),
       st.sampled_from(["reflect", "nearest", "wrap", "mirror", "constant"]))
def test_float32_gaussian_is_the_float64_result_rounded(image, sigma, mode):
    # A 2-D float32 image is filtered straight into float32 (no float64 image of
    # its size): each value is still computed in float64 and rounded once.
    image = image.reshape(image.shape[0], -1)
    expected = gaussian_filter(image.astype(np.float64), sigma, mode=mode).astype(np.float32)
    np.testing.assert_array_equal(gaussian_filter(image, sigma, mode=mode), expected)
    in_place = np.array(image, np.float32, order="C")  # a writable copy, as `out` must be
    assert gaussian_filter(in_place, sigma, mode=mode, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, expected)


def test_integer_input_to_gaussian_filter1d():
    # Deliberate extension: mahotas's gaussian_filter1d raises TypeError on integers.
    image = np.arange(60, dtype=np.uint8).reshape(6, 10)
    result = gaussian_filter1d(image, 1.5, axis=0)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, mahotas.gaussian_filter1d(image.astype(float), 1.5, 0),
                               atol=1e-9)


def test_out_argument_and_degenerate_shapes():
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    out = np.empty((5, 6))
    assert gaussian_filter(image, 1.0, out=out) is out
    np.testing.assert_allclose(out, mahotas.gaussian_filter(image, 1.0), atol=1e-9)
    for shape in [(0,), (0, 5), (3, 0), ()]:
        empty = np.zeros(shape, np.uint8)
        expected = mahotas.gaussian_filter(empty, 1.0)
        result = gaussian_filter(empty, 1.0)
        assert result.shape == expected.shape and result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)
    with pytest.raises(ValueError, match="out"):
        gaussian_filter(image, 1.0, out=np.empty((5, 6), np.float32))


@pytest.mark.parametrize("sigma", [8.0, 16.0])
def test_large_sigma_on_u2os(u2os_dir, sigma):
    image, _ = load_u2os(u2os_names()[0])
    result = gaussian_filter(image, sigma)
    value_range = float(image.max()) - float(image.min())
    np.testing.assert_allclose(result, mahotas.gaussian_filter(image, sigma), rtol=0,
                               atol=1e-3 * value_range)
    np.testing.assert_allclose(result, ndi.gaussian_filter(image.astype(float), sigma),
                               rtol=0, atol=1e-3 * value_range)


def test_u2os_small_sigma_and_derivatives(u2os_dir):
    for name in u2os_names()[1:3]:
        image, _ = load_u2os(name)
        for sigma, order in [(1.0, 0), (2.5, 1), (4.0, 2)]:
            np.testing.assert_allclose(gaussian_filter(image, sigma, order=order),
                                       mahotas.gaussian_filter(image, sigma, order=order),
                                       rtol=0, atol=1e-6)


@pytest.mark.parametrize("kwargs, error, word", [
    ({"sigma": -1.0}, ValueError, "sigma"),
    ({"sigma": 0.1}, ValueError, "sigma"),
    ({"sigma": float("nan")}, ValueError, "sigma"),
    ({"sigma": float("inf")}, ValueError, "sigma"),
    ({"sigma": "2"}, TypeError, "sigma"),
    ({"sigma": [1.0, 2.0, 3.0]}, ValueError, "sigma"),
    ({"sigma": 1.0, "order": 4}, ValueError, "order"),
    ({"sigma": 1.0, "order": -1}, ValueError, "order"),
    ({"sigma": 1.0, "order": 1.5}, ValueError, "order"),
    ({"sigma": 1.0, "mode": "bogus"}, ValueError, "mode"),
    ({"sigma": 1.0, "mode": "constant", "cval": "x"}, TypeError, "cval"),
])
def test_gaussian_filter_rejects_bad_arguments(kwargs, error, word):
    with pytest.raises(error, match=word):
        gaussian_filter(np.zeros((6, 6), np.uint8), **kwargs)


def test_gaussian_rejects_bad_arrays():
    with pytest.raises(TypeError, match="float16"):
        gaussian_filter(np.zeros((4, 4), np.float16), 1.0)
    with pytest.raises(TypeError, match="array"):
        gaussian_filter(np.zeros((4, 4), np.complex128), 1.0)
    with pytest.raises(ValueError, match="axis"):
        gaussian_filter1d(np.zeros((4, 4)), 1.0, axis=2)
    with pytest.raises(TypeError, match="axis"):
        gaussian_filter1d(np.zeros((4, 4)), 1.0, axis=1.0)


@contextlib.contextmanager
def simd_variant(level):
    """Use one compiled variant of the inner loops (as far as the CPU allows)."""
    default = _convolve.simd_level()
    _convolve.simd_level(level)
    try:
        yield
    finally:
        _convolve.simd_level(default)


@pytest.mark.parametrize("simd_level", [0, 1, 2], ids=["portable", "avx2", "avx512"])
@given(images(min_dims=2, dtypes=[np.uint8, np.int16, np.float32, np.float64]),
       st.floats(0.5, 4.0), st.integers(0, 2), st.sampled_from(MODES))
def test_every_simd_variant_matches_mahotas(simd_level, image, sigma, order, mode):
    # Widths up to 3 * 14 exercise both the vector blocks and the scalar tails.
    image = np.tile(image, (1,) * (image.ndim - 1) + (3,))
    with simd_variant(simd_level):
        result = gaussian_filter(image, sigma, order=order, mode=mode)
    atol = tolerance(image) * (1 + order) / sigma ** order
    np.testing.assert_allclose(result, scipy_gaussian(image, sigma, order, mode), rtol=0,
                               atol=atol)
    if not mahotas_reads_out_of_bounds(image.shape, [sigma] * image.ndim, mode):
        expected = mahotas.gaussian_filter(np.array(image, image.dtype.newbyteorder("=")),
                                           sigma, order=order, mode=mode)
        np.testing.assert_allclose(result, expected, rtol=0, atol=atol)


@pytest.mark.parametrize("mode", MODES)
def test_wide_image_filtered_by_column_blocks(mode):
    # 5000 columns at sigma 4 split into several column blocks of the kernel.
    image = np.random.default_rng(1).integers(0, 256, (24, 5000)).astype(np.uint8)
    result = gaussian_filter(image, [4.0, 1.5], order=[0, 1], mode=mode)
    np.testing.assert_allclose(result, mahotas.gaussian_filter(image, [4.0, 1.5], order=[0, 1],
                                                               mode=mode), rtol=0, atol=1e-9)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(300, 701), (1700, 90)], ids=["column strips", "row strips"])
def test_image_split_between_threads(shape, mode):
    # Over 2^17 pixels: wide images are shared by strips of columns, narrow
    # ones by strips of rows; each strip reads its neighbours' pixels.
    image = np.random.default_rng(4).integers(0, 256, shape).astype(np.uint8)
    result = gaussian_filter(image, [3.0, 2.5], order=[0, 1], mode=mode)
    np.testing.assert_allclose(result, mahotas.gaussian_filter(image, [3.0, 2.5], order=[0, 1],
                                                               mode=mode), rtol=0, atol=1e-9)


@pytest.mark.parametrize("order", [0, (2, 0, 1)])
def test_volume_split_between_threads(order):
    # Large enough (> 2^17 voxels) for the planes to be shared between threads.
    volume = np.random.default_rng(2).integers(0, 4096, (7, 150, 130)).astype(np.uint16)
    result = gaussian_filter(volume, 1.5, order=order)
    np.testing.assert_allclose(result, mahotas.gaussian_filter(volume, 1.5, order=order),
                               rtol=0, atol=1e-8)


def test_cval_with_derivative_keeps_the_axis_order():
    # With cval != 0 and a derivative, the border depends on the order of the
    # passes. karyo does as mahotas's per-axis loop would: axis 0 first, then
    # axis 1 on the intermediate extended by cval (built here from explicit
    # padding and 1-D scipy filters). scipy.ndimage.gaussian_filter itself
    # gives yet another border here, so it is not the oracle.
    image = np.random.default_rng(3).random((30, 40))
    result = gaussian_filter(image, 2.0, order=[1, 0], mode="constant", cval=5.0)
    padded = np.pad(image, 20, constant_values=5.0)
    first = -ndi.gaussian_filter1d(padded, 2.0, axis=0, order=1, truncate=4.0)[20:-20, 20:-20]
    first = np.pad(first, ((0, 0), (20, 20)), constant_values=5.0)
    expected = ndi.gaussian_filter1d(first, 2.0, axis=1, truncate=4.0)[:, 20:-20]
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-9)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threaded_filter_works_in_a_forked_child():
    # The thread pool made in the parent has no threads in a forked child;
    # before the fix, the child's first large filter waited forever.
    image = np.random.default_rng(0).integers(0, 255, (700, 700)).astype(np.uint8)
    expected = gaussian_filter(image, 2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(gaussian_filter, (image, 2)).get(timeout=120)
    np.testing.assert_array_equal(result, expected)


# --- convolve, convolve1d, mean/median/rank filters, template_match, find ----


def native(image):
    """The same values as mahotas wants them: C-contiguous, native byte order."""
    return np.ascontiguousarray(image, dtype=image.dtype.newbyteorder("="))


@st.composite
def filters_for(draw, image, max_side=5, odd=False):
    """A filter with `image`'s number of dimensions; integer weights for integer images."""
    sides = st.sampled_from([1, 3, 5][:(max_side + 1) // 2]) if odd else st.integers(1, max_side)
    shape = tuple(draw(sides) for _ in range(image.ndim))
    if image.dtype.kind == "f":
        elements = st.floats(-3, 3, width=32) | st.just(0.0)
        return draw(hnp.arrays(np.float64, shape, elements=elements))
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))


@st.composite
def footprints_for(draw, image):
    """A 0/1 neighbourhood with at least one point (even sizes centred at shape // 2)."""
    shape = tuple(draw(st.integers(1, 5)) for _ in range(image.ndim))
    footprint = draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 1)))
    footprint.reshape(-1)[draw(st.integers(0, footprint.size - 1))] = 1
    return footprint


def padded(image, reach, mode, cval=0.0):
    """`image` extended by `reach` pixels per side under a mahotas mode (numpy's names)."""
    if mode in ("constant", "ignore"):
        return np.pad(image, reach, mode="constant", constant_values=cval)
    return np.pad(image, reach, mode={"reflect": "symmetric", "mirror": "reflect",
                                      "nearest": "edge", "wrap": "wrap"}[mode])


def reference_correlate(image, weights, mode, cval=0.0):
    """Brute-force float64 correlation, summed in the raster order of `weights`."""
    image = np.asarray(image, np.float64)
    reach = max(weights.shape)
    extended = padded(image, reach, mode, cval)
    result = np.zeros(image.shape)
    for offset in np.argwhere(weights != 0):
        start = reach + offset - np.array(weights.shape) // 2
        window = tuple(slice(s, s + n) for s, n in zip(start, image.shape, strict=True))
        result += float(weights[tuple(offset)]) * extended[window]
    return result


@given(images(), st.sampled_from(MODES), st.data())
def test_convolve_matches_mahotas_exactly(image, mode, data):
    # Exact for every dtype: the float64 sums go in mahotas's order, and the
    # integer results wrap as mahotas's do (uint8 sums overflow here often).
    weights = data.draw(filters_for(image))
    result = convolve(image, weights, mode=mode)
    expected = mahotas.convolve(native(image), weights, mode=mode)
    assert result.dtype == expected.dtype == native(image).dtype
    np.testing.assert_array_equal(result, expected)


@given(images(dtypes=[np.float64]), st.sampled_from(MODES), st.data())
def test_convolve_matches_a_brute_force_correlation(image, mode, data):
    weights = data.draw(filters_for(image, max_side=7))
    np.testing.assert_array_equal(convolve(image, weights, mode=mode),
                                  reference_correlate(image, weights, mode))


@pytest.mark.parametrize("mode", ["reflect", "mirror", "wrap", "nearest"])
def test_filter_much_larger_than_the_image(mode):
    # mahotas's 'reflect' reads before the array here (offsets -4n, -8n, ...);
    # karyo extends the image correctly whatever the filter size.
    image = np.array([[1., 2.], [3., 5.]])
    weights = np.arange(19 * 3, dtype=float).reshape(19, 3)
    np.testing.assert_array_equal(convolve(image, weights, mode=mode),
                                  reference_correlate(image, weights, mode))


@given(images(dtypes=[np.uint8, np.int16, np.float64]), st.floats(-50, 50), st.data())
def test_convolve_constant_mode_with_cval(image, cval, data):
    # Deliberate extension: mahotas raises NotImplementedError for cval != 0.
    weights = data.draw(filters_for(image))
    result = convolve(image.astype(np.float64), weights.astype(np.float64), mode="constant",
                      cval=cval)
    np.testing.assert_allclose(result, reference_correlate(image, weights, "constant", cval),
                               rtol=1e-12, atol=1e-9)


@given(images(), st.sampled_from(MODES), st.data())
def test_convolve1d_matches_mahotas_exactly(image, mode, data):
    axis = data.draw(st.integers(-image.ndim, image.ndim - 1))
    length = data.draw(st.integers(1, 6))
    weights = data.draw(hnp.arrays(np.float64, length, elements=st.floats(-2, 2, width=32)))
    result = convolve1d(image, weights, axis=axis, mode=mode)
    assert result.dtype == native(image).dtype
    if 1 < length < image.shape[axis]:
        # mahotas's own 1-D kernel (C-contiguous input, filter shorter than the axis).
        np.testing.assert_array_equal(result, mahotas.convolve1d(native(image), weights, axis,
                                                                 mode=mode))
    shape = [1] * image.ndim
    shape[axis] = length
    if image.dtype == np.float64:
        np.testing.assert_array_equal(result, reference_correlate(image, weights.reshape(shape),
                                                                  mode))


def test_convolve1d_does_not_depend_on_the_layout():
    # Deliberate difference: mahotas sends views, Fortran arrays and short axes
    # to `convolve`, which casts the weights to the image's type (0.5 -> 0 on
    # uint8). karyo always filters with the float64 weights.
    image = np.arange(48, dtype=np.uint8).reshape(6, 8) * 4
    weights = [0.25, 0.5, 0.25]
    expected = mahotas.convolve1d(image, weights, 1)
    np.testing.assert_array_equal(convolve1d(np.asfortranarray(image), weights, 1), expected)
    np.testing.assert_array_equal(convolve1d(image[:, ::-1], weights, 1),
                                  mahotas.convolve1d(image[:, ::-1].copy(), weights, 1))
    assert not np.array_equal(mahotas.convolve1d(np.asfortranarray(image), weights, 1),
                              expected)


@given(images(), st.sampled_from(MODES), st.data())
def test_mean_filter_matches_mahotas_exactly(image, mode, data):
    footprint = data.draw(footprints_for(image))
    result = mean_filter(image, footprint, mode=mode)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, mahotas.mean_filter(native(image), footprint,
                                                              mode=mode))


def test_mean_filter_default_mode_and_cval():
    image = np.arange(20, dtype=np.uint8).reshape(4, 5)
    np.testing.assert_array_equal(mean_filter(image, None), mahotas.mean_filter(image, None))
    # Deliberate extension: mahotas raises NotImplementedError for cval != 0.
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    expected = mahotas.mean_filter(np.pad(image.astype(float), 1, constant_values=7.0), cross,
                                   mode="ignore")[1:-1, 1:-1]
    np.testing.assert_allclose(mean_filter(image, cross, mode="constant", cval=7.0), expected,
                               rtol=1e-15)


def assert_equal_where_ranked(result, expected, image, footprint, mode):
    """Equal, except where mode 'ignore' leaves a pixel no neighbour: karyo gives 0 there.

    (mahotas gives a value left over from the previous pixel: a deliberate difference.)
    """
    alone = np.zeros(image.shape, bool)
    if mode == "ignore" and footprint is not None:
        alone = np.isnan(mean_filter(np.ones(image.shape), footprint, mode="ignore"))
    assert not np.any(result[alone])
    np.testing.assert_array_equal(result[~alone], expected[~alone])


@given(images(), st.sampled_from(MODES), st.data())
def test_rank_filter_matches_mahotas(image, mode, data):
    footprint = data.draw(footprints_for(image))
    rank = data.draw(st.integers(0, int(footprint.sum()) - 1))
    result = rank_filter(image, footprint, rank, mode=mode)
    assert result.dtype == native(image).dtype
    assert_equal_where_ranked(result, mahotas.rank_filter(native(image), footprint, rank,
                                                          mode=mode), image, footprint, mode)


@given(images(), st.sampled_from(MODES), st.booleans(), st.data())
def test_median_filter_matches_mahotas(image, mode, default_Bc, data):
    footprint = None if default_Bc else data.draw(footprints_for(image))
    result = median_filter(image, footprint, mode=mode)
    assert_equal_where_ranked(result, mahotas.median_filter(native(image), footprint,
                                                            mode=mode), image, footprint, mode)


@given(images(dtypes=[np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float64]),
       st.sampled_from(MODES), st.data())
def test_rank_filter_extremes_are_erosion_and_dilation_of_the_extended_image(image, mode,
                                                                              data):
    footprint = data.draw(footprints_for(image)).astype(bool)
    if mode == "ignore":
        return
    cval = 5 if mode == "constant" else 0
    extended = padded(image, 5, mode, cval)
    inner = tuple(slice(5, 5 + n) for n in image.shape)
    n_points = int(footprint.sum())
    lowest = ndi.minimum_filter(extended, footprint=footprint)
    np.testing.assert_array_equal(rank_filter(image, footprint, 0, mode=mode, cval=cval),
                                  lowest[inner])
    highest = ndi.maximum_filter(extended, footprint=footprint)
    np.testing.assert_array_equal(rank_filter(image, footprint, n_points - 1, mode=mode,
                                              cval=cval), highest[inner])


def test_median_of_a_weighted_Bc_counts_its_points():
    # Deliberate difference: mahotas's rank is Bc.sum() // 2, past the end for
    # a Bc of 2s (it then returns uninitialised memory); karyo counts points.
    image = np.random.default_rng(4).integers(0, 255, (9, 11)).astype(np.uint8)
    np.testing.assert_array_equal(median_filter(image, np.full((3, 3), 2, np.uint8)),
                                  mahotas.median_filter(image, np.ones((3, 3), np.uint8)))


def test_rank_filter_in_ignore_mode_with_no_neighbour_inside():
    # A Bc without its centre can leave a pixel with no neighbour in the image:
    # mahotas gives a value left over from the previous pixel, karyo gives 0.
    image = np.array([7, 9], np.uint8)
    assert rank_filter(image, np.array([0, 0, 0, 0, 1]), 0, mode="ignore").tolist() == [0, 0]
    np.testing.assert_array_equal(mean_filter(image, np.array([0, 0, 0, 0, 1]),
                                              mode="ignore"), [np.nan, np.nan])


@given(images(), st.sampled_from(MODES), st.data())
def test_template_match_matches_mahotas_exactly(image, mode, data):
    # Integers wrap modulo 2**bits and floats are squared in their own
    # precision, as in mahotas: still exactly equal.
    template = data.draw(filters_for(image, max_side=4))
    result = template_match(image, template, mode=mode)
    expected = mahotas.template_match(native(image), template, mode=mode)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@given(images(dtypes=[np.uint8, np.int64, np.float64], min_dims=2), st.data())
def test_find_matches_mahotas(image, data):
    image = image.reshape(image.shape[0], -1) % 3
    rows = data.draw(st.integers(1, image.shape[0]))
    columns = data.draw(st.integers(1, image.shape[1]))
    y = data.draw(st.integers(0, image.shape[0] - rows))
    x = data.draw(st.integers(0, image.shape[1] - columns))
    template = np.array(image[y:y + rows, x:x + columns])
    result = find(image, template)
    assert result.dtype == np.bool_ and result[y, x]
    np.testing.assert_array_equal(result, mahotas.find(native(image), template))
    other = data.draw(hnp.arrays(np.int64, (rows, columns), elements=st.integers(0, 2)))
    np.testing.assert_array_equal(find(image, other), mahotas.find(native(image), other))


def test_find_with_a_template_larger_than_the_image():
    image = np.zeros((3, 4), np.uint8)
    assert not find(image, np.zeros((4, 4), np.uint8)).any()
    assert find(image, np.zeros((3, 4), np.uint8)).sum() == 1


@given(images(min_dims=2), st.floats(-0.5, 1.5))
def test_laplacian_2D_matches_mahotas_exactly(image, alpha):
    image = image.reshape(image.shape[0], -1)
    np.testing.assert_array_equal(laplacian_2D(image, alpha), mahotas.laplacian_2D(
        native(image), alpha))


def test_neighbourhood_filters_on_u2os(u2os_dir):
    image, _ = load_u2os(u2os_names()[0])
    disk = mahotas.disk(3).astype(image.dtype)
    np.testing.assert_array_equal(median_filter(image, disk), mahotas.median_filter(image, disk))
    np.testing.assert_array_equal(mean_filter(image, disk), mahotas.mean_filter(image, disk))
    weights = np.ones((5, 5), image.dtype)
    np.testing.assert_array_equal(convolve(image, weights), mahotas.convolve(image, weights))


BAD_FILTER_CALLS = [
    (convolve, (np.zeros((4, 4)), np.ones(3)), {}, ValueError, "weights"),
    (convolve, (np.zeros((4, 4)), np.ones((0, 3))), {}, ValueError, "weights"),
    (convolve, (np.zeros((4, 4)), np.ones((3, 3), complex)), {}, TypeError, "weights"),
    (convolve, (np.zeros((4, 4)), np.ones((3, 3))), {"mode": "bogus"}, ValueError, "mode"),
    (convolve, (np.zeros((4, 4)), np.ones((3, 3))), {"cval": "x", "mode": "constant"},
     TypeError, "cval"),
    (convolve, (np.zeros((4, 4)), np.ones((3, 3))), {"out": np.zeros((4, 4), np.float32)},
     ValueError, "out"),
    (convolve, (np.zeros((4, 4), np.float16), np.ones((3, 3))), {}, TypeError, "f"),
    (convolve, (np.zeros((2, 2, 2, 2)), np.ones((3, 3, 3, 3))), {}, ValueError, "f"),
    (convolve1d, (np.zeros((4, 4)), np.ones((3, 3)), 0), {}, ValueError, "weights"),
    (convolve1d, (np.zeros((4, 4)), [], 0), {}, ValueError, "weights"),
    (convolve1d, (np.zeros((4, 4)), [1, 2], 2), {}, ValueError, "axis"),
    (convolve1d, (np.zeros((4, 4)), [1, 2], 1.0), {}, TypeError, "axis"),
    (mean_filter, (np.zeros((4, 4)), np.zeros((3, 3))), {}, ValueError, "Bc"),
    (mean_filter, (np.zeros((4, 4)), np.ones((3, 3))), {"out": np.zeros((4, 4), np.float32)},
     ValueError, "out"),
    (rank_filter, (np.zeros((4, 4)), np.ones((3, 3)), 9), {}, ValueError, "rank"),
    (rank_filter, (np.zeros((4, 4)), np.ones((3, 3)), -1), {}, ValueError, "rank"),
    (rank_filter, (np.zeros((4, 4)), np.ones((3, 3)), 1.5), {}, TypeError, "rank"),
    (rank_filter, (np.zeros((4, 4)), np.ones(3), 1), {}, ValueError, "Bc"),
    (median_filter, (np.zeros((4, 4), np.uint8),), {"mode": "constant", "cval": 0.5},
     ValueError, "cval"),
    (median_filter, (np.zeros((4, 4), np.uint8),), {"mode": "constant", "cval": 300},
     ValueError, "cval"),
    (median_filter, (np.zeros((4, 4), np.uint8),), {"mode": "constant", "cval": np.inf},
     ValueError, "cval"),
    (median_filter, (np.zeros((4, 4), np.int16),), {"mode": "constant", "cval": np.nan},
     ValueError, "cval"),
    (median_filter, (np.zeros((4, 4)),), {"mode": "nope"}, ValueError, "mode"),
    (find, (np.zeros((4, 4)), np.ones((0, 2))), {}, ValueError, "template"),
    (template_match, (np.zeros((4, 4)), np.ones(3)), {}, ValueError, "template"),
    (template_match, (np.zeros((4, 4)), np.ones((3, 3))), {"mode": "constant", "cval": 1},
     ValueError, "cval"),
    (find, (np.zeros((4, 4, 4)), np.ones((2, 2, 2))), {}, ValueError, "f"),
    (find, (np.zeros((4, 4)), np.ones(2)), {}, ValueError, "template"),
    (laplacian_2D, (np.zeros(4),), {}, ValueError, "array"),
    (laplacian_2D, (np.zeros((4, 4)), float("nan")), {}, ValueError, "alpha"),
    (laplacian_2D, (np.zeros((4, 4)), "0.2"), {}, TypeError, "alpha"),
]


@pytest.mark.parametrize("function, args, kwargs, error, word", BAD_FILTER_CALLS,
                         ids=[f"{c[0].__name__}-{c[4]}-{i}"
                              for i, c in enumerate(BAD_FILTER_CALLS)])
def test_neighbourhood_filters_reject_bad_arguments(function, args, kwargs, error, word):
    with pytest.raises(error, match=f"`{word}`"):
        function(*args, **kwargs)


def test_out_argument_of_neighbourhood_filters():
    image = np.arange(30, dtype=np.int16).reshape(5, 6)
    out = np.empty((5, 6), np.int16)
    assert convolve(image, np.ones((3, 3)), out=out) is out
    np.testing.assert_array_equal(out, mahotas.convolve(image, np.ones((3, 3))))
    assert median_filter(image, out=out) is out
    np.testing.assert_array_equal(out, mahotas.median_filter(image))
    means = np.empty((5, 6))
    assert mean_filter(image, np.ones((3, 3)), out=means) is means
    for shape in [(0,), (0, 5), (3, 0)]:
        empty = np.zeros(shape, np.uint8)
        weights = np.ones((3,) * len(shape))
        assert convolve(empty, weights).shape == shape
        assert median_filter(empty).shape == shape
        assert template_match(empty, weights).shape == shape


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.float32, np.float64])
def test_neighbourhood_filters_read_reversed_views(dtype):
    # Negative strides: the kernels step through the input by its own strides.
    image = np.random.default_rng(5).integers(0, 100, (9, 12)).astype(dtype)[::-1, ::-2]
    disk = mahotas.disk(2).astype(dtype)
    copy = np.ascontiguousarray(image)
    np.testing.assert_array_equal(median_filter(image, disk), mahotas.median_filter(copy, disk))
    np.testing.assert_array_equal(rank_filter(image, disk, 3), mahotas.rank_filter(copy, disk, 3))
    np.testing.assert_array_equal(convolve(image, disk), mahotas.convolve(copy, disk))
    np.testing.assert_array_equal(mean_filter(image, disk), mahotas.mean_filter(copy, disk))
    np.testing.assert_array_equal(template_match(image, disk), mahotas.template_match(copy, disk))
    np.testing.assert_array_equal(find(image, copy[2:4, 1:3]), mahotas.find(copy, copy[2:4, 1:3]))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
@pytest.mark.parametrize("mode", MODES)
def test_sliding_histograms_over_the_full_range(dtype, mode):
    # 8- and 16-bit images use sliding histograms (16-bit: 256 blocks of 256
    # bins); values over the whole range move the pointers across many blocks.
    info = np.iinfo(dtype)
    image = np.random.default_rng(6).integers(info.min, info.max, (40, 50), endpoint=True)
    image = image.astype(dtype)
    image[10:20, 10:30] = info.max
    disk = np.ones((5, 5), dtype)
    disk[0, 0] = disk[4, 4] = 0
    for rank in (0, 6, 12, 22):
        np.testing.assert_array_equal(rank_filter(image, disk, rank, mode=mode),
                                      mahotas.rank_filter(image, disk, rank, mode=mode))
    np.testing.assert_array_equal(median_filter(image, mode=mode),
                                  mahotas.median_filter(image, mode=mode))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                                   np.uint64, np.int64, np.bool_])
def test_out_of_range_sums_are_stored_as_mahotas_stores_them(dtype):
    # C leaves a float-to-integer cast out of range undefined; mahotas's is
    # x86-64's (truncate, keep the low bits, or the "integer indefinite"
    # INT_MIN), which karyo reproduces explicitly, NaN and infinities included.
    if dtype == np.bool_:
        image = np.array([0, 1, 1, 0, 1], dtype)
    else:
        info = np.iinfo(dtype)
        image = np.array([0, 1, 3, 100, info.max, info.min, info.max // 3], dtype)
    image = np.tile(image, 3)
    for weight in [np.nan, np.inf, -np.inf, 1e300, -1e300, 0.5, -0.7, 2.0 ** 63, 2.0 ** 64,
                   -2.0 ** 63, 3e9, -3e9, 7e18]:
        weights = np.array([0.0, weight, 0.0])
        np.testing.assert_array_equal(convolve1d(image, weights, 0),
                                      mahotas.convolve1d(image, weights, 0), err_msg=str(weight))


@given(st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(
           dtype, hnp.array_shapes(min_dims=1, max_dims=3, max_side=8),
           elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_subnormal=False))),
       st.sampled_from(MODES), st.data())
def test_extreme_values_match_mahotas(image, mode, data):
    # The whole range of each type (and +/-inf for floats): sums overflow,
    # differences wrap, and infinities meet zeros, as they do in mahotas.
    weights = data.draw(filters_for(image, max_side=3))
    np.testing.assert_array_equal(convolve(image, weights, mode=mode),
                                  mahotas.convolve(image, weights, mode=mode))
    np.testing.assert_array_equal(template_match(image, weights, mode=mode),
                                  mahotas.template_match(image, weights, mode=mode))
    footprint = data.draw(footprints_for(image))
    np.testing.assert_array_equal(mean_filter(image, footprint, mode=mode),
                                  mahotas.mean_filter(image, footprint, mode=mode))
    rank = data.draw(st.integers(0, int(footprint.sum()) - 1))
    assert_equal_where_ranked(rank_filter(image, footprint, rank, mode=mode),
                              mahotas.rank_filter(image, footprint, rank, mode=mode),
                              image, footprint, mode)
