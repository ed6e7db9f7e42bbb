"""karyo.convolve against mahotas and scipy.ndimage (the same Gaussian kernel)."""

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
from karyo.convolve import MODES, gaussian_filter, gaussian_filter1d

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
