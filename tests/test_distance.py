"""karyo.distance against scipy.ndimage.distance_transform_edt and mahotas.distance."""

from __future__ import annotations

import doctest
import importlib

import mahotas
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import load_u2os
from hypothesis import given
from hypothesis import strategies as st

from karyo.distance import distance

# the module itself (``karyo.distance`` may name the function, as in mahotas)
distance_module = importlib.import_module("karyo.distance")

DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
          np.int64, np.float32, np.float64]


def scipy_squared(bw: np.ndarray) -> np.ndarray:
    """Exact squared distances from scipy (its sqrt, squared back, rounds to the integer)."""
    return np.round(ndi.distance_transform_edt(bw) ** 2)


def mahotas_comparable(bw: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """What mahotas returns, given the exact squared distances `expected`.

    Outside 2-D, mahotas starts its foreground at 2 * bw.size, so its result is
    capped there (wrong on elongated images, e.g. 1-D: a 5-pixel run ends at
    10, not 16); karyo is exact, and the cap is applied here to compare.
    """
    if bw.ndim == 2:
        return expected
    return np.minimum(expected, 2.0 * bw.size)


@st.composite
def binary_images(draw, min_ndim=1, max_ndim=3):
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.lists(st.integers(1, 14), min_size=ndim, max_size=ndim)))
    density = draw(st.sampled_from([0.02, 0.3, 0.7, 0.97]))
    seed = draw(st.integers(0, 2**32 - 1))
    bw = np.random.default_rng(seed).random(shape) < density
    if bw.all():
        # one background pixel somewhere, so the distances are finite
        bw.flat[draw(st.integers(0, bw.size - 1))] = False
    return bw


@given(binary_images())
def test_squared_distance_equals_scipy_and_mahotas(bw):
    expected = scipy_squared(bw)
    result = distance(bw)
    assert result.dtype == np.float64
    assert result.shape == bw.shape
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(mahotas_comparable(bw, result), mahotas.distance(bw))


@given(binary_images())
def test_euclidean_metric_is_close_to_scipy(bw):
    np.testing.assert_allclose(distance(bw, metric="euclidean"),
                               ndi.distance_transform_edt(bw), rtol=1e-12)
    if bw.ndim == 2:
        np.testing.assert_allclose(distance(bw, "euclidean"),
                                   mahotas.distance(bw, "euclidean"), rtol=1e-12)


@given(binary_images(), st.sampled_from(DTYPES), st.integers(0, 2**32 - 1))
def test_every_dtype_treats_nonzero_as_foreground(bw, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        values = bw.copy()
    else:
        # varied nonzero values, including negative ones and fractions
        magnitudes = rng.integers(1, 100, size=bw.shape).astype(dtype)
        if np.dtype(dtype).kind == "f":
            magnitudes = magnitudes / 7
        if np.dtype(dtype).kind in "if":
            magnitudes = np.where(rng.random(bw.shape) < 0.5, -magnitudes, magnitudes)
        values = np.where(bw, magnitudes, 0).astype(dtype)
    np.testing.assert_array_equal(distance(values), scipy_squared(bw))


@given(binary_images(min_ndim=2, max_ndim=3), st.sampled_from(["steps", "fortran",
                                                               "bigendian", "readonly"]))
def test_memory_layouts(bw, layout):
    values = bw.astype(np.int32)
    if layout == "steps":
        big = np.zeros(tuple(2 * s + 1 for s in bw.shape), np.int32)
        big[tuple(slice(1, None, 2) for _ in bw.shape)] = values
        values = big[tuple(slice(1, None, 2) for _ in bw.shape)]
    elif layout == "fortran":
        values = np.asfortranarray(values)
    elif layout == "bigendian":
        values = values.astype(">i4")
    else:
        values.flags.writeable = False
    np.testing.assert_array_equal(distance(values), scipy_squared(bw))


@given(binary_images(min_ndim=2, max_ndim=2))
def test_2d_kernel_agrees_with_nd_kernel(bw):
    # a (1, h, w) image goes through the n-D kernel, the (h, w) one through the 2-D kernel
    np.testing.assert_array_equal(distance(bw[None])[0], distance(bw))


@pytest.mark.parametrize("shape", [(1,), (7,), (1, 1), (1, 9), (9, 1), (3, 4, 5)])
def test_no_background_is_infinitely_far(shape):
    # mahotas returns a shape-dependent finite number here (e.g. 2*max(shape)**2 + 1
    # in 2-D): there is no background to be near, so karyo returns inf
    bw = np.ones(shape, bool)
    assert np.all(np.isposinf(distance(bw)))
    assert np.all(np.isposinf(distance(bw, "euclidean")))


@pytest.mark.parametrize("shape", [(0,), (0, 5), (5, 0), (2, 0, 3)])
def test_empty_image_gives_empty_map(shape):
    # mahotas crashes the interpreter (floating point exception) on (0, 5)
    result = distance(np.zeros(shape, bool))
    assert result.shape == shape
    assert result.dtype == np.float64


@pytest.mark.parametrize("shape", [(1,), (1, 1), (4, 6), (2, 3, 2)])
def test_all_background_is_zero(shape):
    bw = np.zeros(shape, np.uint8)
    np.testing.assert_array_equal(distance(bw), mahotas.distance(bw))
    assert not distance(bw).any()


def test_long_lines_are_exact_where_mahotas_is_capped():
    # 1-D: one background pixel at the start of 50; mahotas caps at 2 * 50
    bw = np.ones(50, bool)
    bw[0] = False
    np.testing.assert_array_equal(distance(bw), np.arange(50.0) ** 2)
    assert mahotas.distance(bw)[-1] == 100


@pytest.mark.parametrize("name", ["dna-0.png", "dna-33.png"])
def test_real_nuclei_equal_mahotas_and_scipy(u2os_dir, name):
    image, _ = load_u2os(name)
    bw = image > mahotas.otsu(image)
    result = distance(bw)
    np.testing.assert_array_equal(result, mahotas.distance(bw))
    np.testing.assert_array_equal(result, scipy_squared(bw))
    # the inverted mask: long distances across the background
    np.testing.assert_array_equal(distance(~bw), mahotas.distance(~bw))


def test_image_split_between_threads_equals_scipy():
    # Over 2**17 pixels, both passes are shared between threads by strips;
    # a few columns and rows without background cross the strips.
    bw = np.random.default_rng(6).random((390, 531)) < 0.999
    bw[:, 100:103] = True
    bw[200:202] = True
    expected = scipy_squared(bw)
    np.testing.assert_array_equal(distance(bw), expected)
    np.testing.assert_array_equal(distance(bw, "euclidean"), np.sqrt(expected))


def test_bad_metric():
    with pytest.raises(ValueError, match="metric"):
        distance(np.ones((3, 3), bool), metric="manhattan")
    with pytest.raises(ValueError, match="metric"):
        distance(np.ones((3, 3), bool), metric=None)


def test_bad_image():
    with pytest.raises(TypeError, match="bw"):
        distance(np.ones((3, 3), complex))
    with pytest.raises(TypeError, match="bw"):
        distance(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="bw"):
        distance(np.array(True))


def test_docstring_examples():
    assert doctest.testmod(distance_module, raise_on_error=False).failed == 0
