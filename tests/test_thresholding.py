"""karyo.thresholding against mahotas (and scikit-image for Otsu)."""

import mahotas
import mahotas.thresholding
import numpy as np
import pytest
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.filters import threshold_otsu

from karyo.thresholding import otsu, rc, soft_threshold


@st.composite
def integer_images(draw, dtypes=(np.uint8, np.uint16)):
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    top = 1 if dtype.kind == "b" else min(draw(st.sampled_from([1, 2, 7, 255, 65535])),
                                           np.iinfo(dtype).max)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=16))
    # Mixtures of two blobs of values give thresholds with real ties and gaps.
    values = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, top)))
    image = values.astype(dtype)
    if draw(st.booleans()) and image.ndim:
        image = image[..., ::-1]
    return image


@given(integer_images((np.uint8, np.uint16, np.uint32, np.bool_)), st.booleans())
def test_otsu_matches_mahotas(image, ignore_zeros):
    assert otsu(image, ignore_zeros) == mahotas.otsu(image, ignore_zeros)


@given(integer_images((np.uint8, np.uint16, np.uint32, np.bool_)), st.booleans())
def test_rc_matches_mahotas(image, ignore_zeros):
    result = rc(image, ignore_zeros)
    expected = mahotas.rc(image, ignore_zeros)
    assert result == expected
    assert type(result) is type(expected)


def test_thresholds_on_u2os(u2os_dir):
    for name in u2os_names()[:3]:
        image, _ = load_u2os(name)
        wide = image.astype(np.uint16) * 257 + 3
        for img in (image, wide):
            for ignore_zeros in (False, True):
                assert otsu(img, ignore_zeros) == mahotas.otsu(img, ignore_zeros)
                assert rc(img, ignore_zeros) == mahotas.rc(img, ignore_zeros)
        # scikit-image's Otsu maximises the same criterion over the same bins; it
        # returns the bin it considers the last of the background.
        assert otsu(image) == threshold_otsu(image)


def test_constant_and_degenerate_images():
    for image in (np.zeros((4, 4), np.uint8), np.full((3, 5), 9, np.uint16),
                  np.array([0, 0, 5], np.uint8), np.array(5, np.uint8)):
        for ignore_zeros in (False, True):
            assert otsu(image, ignore_zeros) == mahotas.otsu(image, ignore_zeros)
            assert rc(image, ignore_zeros) == mahotas.rc(image, ignore_zeros)


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2),
                  elements=st.floats(-100, 100)), st.floats(0, 50))
def test_soft_threshold_matches_mahotas(f, tval):
    expected = mahotas.thresholding.soft_threshold(f, tval)
    np.testing.assert_array_equal(soft_threshold(f, tval), expected)


def test_soft_threshold_integers_keep_dtype():
    f = np.array([-5, -1, 0, 2, 9], np.int16)
    result = soft_threshold(f, 2)
    expected = mahotas.thresholding.soft_threshold(f, 2)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("function", [otsu, rc])
def test_threshold_errors(function):
    with pytest.raises(TypeError, match="img"):
        function(np.zeros((3, 3), np.float64))
    with pytest.raises(ValueError, match="empty"):
        function(np.zeros((0, 3), np.uint8))
    with pytest.raises(ValueError, match="negative"):
        function(np.array([-1, 3], np.int32))


def test_soft_threshold_errors():
    with pytest.raises(TypeError, match="tval"):
        soft_threshold(np.zeros(3), "1")
    with pytest.raises(TypeError, match="`f`"):
        soft_threshold(np.zeros(3, complex), 1.0)
