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

from karyo.thresholding import otsu, otsu_of_histogram, rc, rc_of_histogram, soft_threshold


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


@given(integer_images((np.uint8, np.uint16)), st.sampled_from([np.int64, np.uint32, np.float64]))
def test_thresholds_of_histograms_equal_the_images(image, dtype):
    # A histogram (a tiled run adds its tiles') thresholds as the image does.
    hist = np.bincount(image.ravel()).astype(dtype)
    assert otsu_of_histogram(hist) == otsu(image)
    result, expected = rc_of_histogram(hist), rc(image)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("hist, message", [
    (np.zeros((2, 2)), "1-D"), (np.array([], np.int64), "at least one bin"),
    (np.array([1.5, 2.0]), "whole counts"), (np.array([3, -1]), ">= 0"),
    (np.array(["a"]), "dtype"),
])
@pytest.mark.parametrize("function", [otsu_of_histogram, rc_of_histogram])
def test_bad_histograms_raise(function, hist, message):
    with pytest.raises((ValueError, TypeError), match="hist") as error:
        function(hist)
    assert message in str(error.value)


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


# --------------------------------------------------------------- bernsen, gbernsen

from conftest import with_layout  # noqa: E402

from karyo.thresholding import bernsen, gbernsen  # noqa: E402


@st.composite
def local_threshold_images(draw, max_side=12):
    dtype = np.dtype(draw(st.sampled_from([np.uint8, np.uint16, np.int16, np.float32,
                                           np.float64])))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side))
    # values in a small range, so that both branches (low and high contrast) occur
    values = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 60)))
    if dtype.kind == "f":
        return (values * 2.5).astype(dtype)
    return (values * 4 - (100 if dtype.kind == "i" else 0)).astype(dtype)


@given(local_threshold_images(), st.integers(1, 4), st.integers(0, 120),
       st.one_of(st.none(), st.integers(-50, 200)))
def test_bernsen_matches_mahotas(image, radius, contrast, gthresh):
    expected = mahotas.thresholding.bernsen(image, radius, contrast, gthresh)
    result = bernsen(image, radius, contrast, gthresh)
    assert result.dtype == bool
    np.testing.assert_array_equal(result, expected)


@given(local_threshold_images(max_side=9), st.data())
def test_gbernsen_matches_mahotas(image, data):
    se_shape = data.draw(st.tuples(st.sampled_from([1, 3, 5]), st.sampled_from([1, 3, 5])))
    se = data.draw(hnp.arrays(bool, se_shape))
    se.flat[data.draw(st.integers(0, se.size - 1))] = True
    contrast = data.draw(st.floats(0, 150))
    gthresh = data.draw(st.floats(-50, 200))
    expected = mahotas.thresholding.gbernsen(image, se, contrast, gthresh)
    np.testing.assert_array_equal(gbernsen(image, se, contrast, gthresh), expected)


@given(hnp.arrays(np.uint8, st.integers(1, 30), elements=st.integers(0, 255)),
       st.integers(0, 255), st.integers(0, 255))
def test_gbernsen_1d_matches_mahotas(line, contrast, gthresh):
    se = np.ones(5, bool)
    expected = mahotas.thresholding.gbernsen(line, se, contrast, gthresh)
    np.testing.assert_array_equal(gbernsen(line, se, contrast, gthresh), expected)


def test_bernsen_on_nuclear_image():
    import karyo

    image = karyo.demos.load("synthetic_nuclei")[300:556, 400:656]
    for radius, contrast, gthresh in ((3, 15, None), (6, 30, 40)):
        expected = mahotas.thresholding.bernsen(image, radius, contrast, gthresh)
        result = bernsen(image, radius, contrast, gthresh)
        np.testing.assert_array_equal(result, expected)
        # a real segmentation: the nuclei are found, not the noise
        assert 0.05 < result.mean() < 0.95


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_bernsen_layouts(layout):
    image = np.random.default_rng(3).integers(0, 255, (11, 13)).astype(np.uint16)
    expected = mahotas.thresholding.bernsen(image, 3, 40, 100)
    np.testing.assert_array_equal(bernsen(with_layout(image, layout), 3, 40, 100), expected)


def test_bernsen_edge_sizes():
    one = np.array([[7]], np.uint8)
    np.testing.assert_array_equal(bernsen(one, 2, 5), mahotas.thresholding.bernsen(one, 2, 5))
    assert bernsen(np.zeros((0, 4), np.uint8), 2, 5).shape == (0, 4)
    # a float radius that is a whole number is the same disk
    image = np.arange(30, dtype=np.uint8).reshape(5, 6) * 8
    np.testing.assert_array_equal(bernsen(image, 2.0, 10), bernsen(image, 2, 10))


def test_gbernsen_signed_range_does_not_wrap():
    # mahotas computes max - min in int8, where 127 - (-128) wraps to -1, so it
    # takes this high-contrast neighbourhood for a uniform one and compares
    # with gthresh. karyo computes the range (255) exactly and compares each
    # pixel with the midrange -0.5.
    image = np.array([-128, 127, -128], np.int8)
    se = np.ones(3, bool)
    assert gbernsen(image, se, 100, 127).tolist() == [False, True, False]
    assert mahotas.thresholding.gbernsen(image, se, 100, 127).tolist() == [False, False, False]
    # where the range fits int8, both agree
    small = np.array([-60, 60, -60], np.int8)
    np.testing.assert_array_equal(gbernsen(small, se, 100, 127),
                                  mahotas.thresholding.gbernsen(small, se, 100, 127))


def test_gbernsen_bool_image():
    # mahotas cannot subtract bools; karyo treats them as 0 and 1
    image = np.array([[0, 1, 1], [0, 0, 1]], bool)
    expected = gbernsen(image.astype(np.uint8), np.ones((3, 3)), 1, 0)
    np.testing.assert_array_equal(gbernsen(image, np.ones((3, 3)), 1, 0), expected)


def test_bernsen_errors():
    image = np.zeros((5, 5), np.uint8)
    with pytest.raises(ValueError, match="radius"):
        bernsen(image, 0, 10)
    with pytest.raises(ValueError, match="radius"):
        bernsen(image, 2.5, 10)
    with pytest.raises(TypeError, match="radius"):
        bernsen(image, "2", 10)
    with pytest.raises(ValueError, match="`f`"):
        bernsen(np.zeros((3, 3, 3), np.uint8), 2, 10)
    with pytest.raises(TypeError, match="contrast_threshold"):
        bernsen(image, 2, "10")
    with pytest.raises(TypeError, match="gthresh"):
        bernsen(image, 2, 10, gthresh=[1, 2])
    with pytest.raises(TypeError, match="`f`"):
        bernsen(np.zeros((3, 3), complex), 2, 10)


def test_gbernsen_errors():
    image = np.zeros((5, 5), np.uint8)
    with pytest.raises(ValueError, match="se"):
        gbernsen(image, np.zeros((3, 3), bool), 10, 5)
    with pytest.raises(ValueError, match="Bc|se"):
        gbernsen(image, np.ones((3,), bool), 10, 5)
    with pytest.raises(TypeError, match="se"):
        gbernsen(image, None, 10, 5)


def test_gbernsen_float16_and_3d():
    image = np.random.default_rng(5).integers(0, 50, (4, 5, 6))
    se = np.ones((3, 3, 3), bool)
    expected = mahotas.thresholding.gbernsen(image.astype(np.float32), se, 20, 25)
    np.testing.assert_array_equal(gbernsen(image.astype(np.float16), se, 20, 25), expected)
    np.testing.assert_array_equal(gbernsen(image, se, 20, 25),
                                  mahotas.thresholding.gbernsen(image, se, 20, 25))
    with pytest.raises(ValueError, match="`f`"):
        gbernsen(np.zeros((2, 2, 2, 2)), np.ones((1, 1, 1, 1)), 1, 1)
