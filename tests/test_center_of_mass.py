"""karyo.center_of_mass against mahotas and scipy.ndimage.center_of_mass."""

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
from hypothesis.extra import numpy as hnp

from karyo.center_of_mass import center_of_mass

DTYPES = [np.bool_, np.uint8, np.int16, np.uint32, np.int64, np.float32, np.float64]


def layouts(array: np.ndarray):
    """The same values as C, Fortran, strided, big-endian and read-only arrays."""
    yield array
    yield np.asfortranarray(array)
    strided = np.repeat(array, 2, axis=0)[::2]
    yield strided
    if array.dtype.itemsize > 1:
        yield array.astype(array.dtype.newbyteorder(">"))
    readonly = array.copy()
    readonly.flags.writeable = False
    yield readonly


@given(st.sampled_from(DTYPES),
       hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7), st.data())
def test_matches_mahotas_without_labels(dtype, shape, data):
    img = data.draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 9))).astype(dtype)
    expected = mahotas.center_of_mass(img)
    for view in layouts(img):
        np.testing.assert_allclose(center_of_mass(view), expected, rtol=1e-10, atol=1e-12)


@given(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=3, max_side=7), st.data())
def test_matches_mahotas_with_labels(dtype, shape, data):
    img = data.draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 9))).astype(dtype)
    labels = data.draw(hnp.arrays(np.int32, shape, elements=st.integers(0, 5)))
    expected = mahotas.center_of_mass(img, labels)
    for view in layouts(img):
        np.testing.assert_allclose(center_of_mass(view, labels), expected, rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(center_of_mass(img, labels.astype(np.uint8)), expected,
                               rtol=1e-10, atol=1e-12)


def test_matches_scipy_on_u2os():
    image, truth = load_u2os("dna-3.png")
    n_labels = int(truth.max())
    expected = ndi.center_of_mass(image, truth, range(1, n_labels + 1))
    np.testing.assert_allclose(center_of_mass(image, truth)[1:], expected, rtol=1e-10)
    np.testing.assert_allclose(center_of_mass(image), mahotas.center_of_mass(image), rtol=1e-10)


def test_empty_image_gives_nan_like_mahotas():
    assert np.isnan(center_of_mass(np.zeros((0, 4)))).all()
    assert np.isnan(center_of_mass(np.zeros((3, 4)))).all()


@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.uint8])
def test_weights_summing_to_zero_give_nan_like_mahotas(dtype):
    image = np.zeros((10, 10), dtype)
    labels = np.zeros((10, 10), np.int32)
    labels[5:] = 1
    image[:5] = 10
    if dtype != np.uint8:
        image[7, 2], image[8, 6] = 5, -5  # label 1 weighs 0 but has a moment
        image[9, 9] = 2
        labels[9, 9] = 2
        image[0, 0] = -image[:5].sum() + image[0, 0]
    result = center_of_mass(image, labels)
    expected = mahotas.center_of_mass(image, labels)
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert np.isnan(result[1]).all()
    whole = np.array([[5, -5]], dtype) if dtype != np.uint8 else np.zeros((1, 2), dtype)
    assert np.isnan(center_of_mass(whole)).all()
    assert np.isnan(mahotas.center_of_mass(whole)).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="labels"):
        center_of_mass(np.ones((3, 3)), np.ones((3, 4), int))
    with pytest.raises(ValueError, match="labels"):
        # mahotas raises RuntimeError here
        center_of_mass(np.ones((2, 2)), -np.ones((2, 2), int))
    with pytest.raises(TypeError, match="labels"):
        center_of_mass(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="img"):
        center_of_mass(np.ones((2, 2), complex))


def test_doctests():
    module = importlib.import_module("karyo.center_of_mass")
    assert doctest.testmod(module).failed == 0
