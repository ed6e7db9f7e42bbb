"""karyo.stretch against mahotas.stretch (and scikit-image where it agrees)."""

from __future__ import annotations

import warnings

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from karyo.stretch import as_rgb, overlay, stretch, stretch_rgb

INPUT_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                np.uint64, np.int64, np.float16, np.float32, np.float64]
OUTPUT_DTYPES = [np.uint8, np.uint16, np.int32, np.float32, np.float64]
# output ranges: default, (max,), (min, max), float bounds
RANGES = [(), (100,), (3, 200), (1.5, 77.25), (0, 65535)]


def finite_arrays(dtype, min_dims=1, max_dims=3, min_side=1, max_side=9):
    elements = None
    if np.dtype(dtype).kind == "f":
        bits = np.dtype(dtype).itemsize * 8
        elements = st.floats(-6e4, 6e4, allow_nan=False, allow_infinity=False, width=bits)
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                              max_side=max_side)
    return hnp.arrays(dtype, shapes, elements=elements)


def outcome(function, *args, **kwargs):
    """The result, or the exception type: karyo must raise where mahotas raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # out-of-range float casts
        try:
            return function(*args, **kwargs)
        except (ValueError, TypeError, OverflowError) as error:
            return type(error)


def assert_same(expected, actual):
    if isinstance(expected, type):
        assert actual is expected or (isinstance(actual, type) and issubclass(actual, expected))
        return
    assert isinstance(actual, np.ndarray), actual
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("dtype", INPUT_DTYPES)
@given(data=st.data())
def test_stretch_matches_mahotas(dtype, data):
    image = data.draw(finite_arrays(dtype))
    limits = data.draw(st.sampled_from(RANGES))
    output = data.draw(st.sampled_from(OUTPUT_DTYPES))
    assert_same(outcome(mahotas.stretch, image, *limits, dtype=output),
                outcome(stretch, image, *limits, dtype=output))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32])
@given(data=st.data())
def test_stretch_matches_mahotas_on_large_images(dtype, data):
    # large enough for the lookup-table paths (more pixels than grey levels)
    info = np.iinfo(dtype)
    low = data.draw(st.integers(int(info.min), int(info.max)))
    high = data.draw(st.integers(low, int(info.max)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    image = np.random.default_rng(seed).integers(low, high, (300, 301), endpoint=True,
                                                 dtype=dtype)
    limits = data.draw(st.sampled_from(RANGES))
    assert_same(outcome(mahotas.stretch, image, *limits),
                outcome(stretch, image, *limits))


@pytest.mark.parametrize("view", [
    lambda a: a[::2, ::-3], np.asfortranarray, lambda a: a.astype(a.dtype.newbyteorder(">")),
    lambda a: _read_only(a)], ids=["strided", "fortran", "big-endian", "read-only"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_stretch_layouts(view, dtype):
    image = view((np.random.default_rng(0).random((40, 50)) * 3000).astype(dtype))
    expected = mahotas.stretch(np.array(image, dtype=image.dtype.newbyteorder("=")))
    np.testing.assert_array_equal(stretch(image), expected)


def _read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


@pytest.mark.skipif(not u2os_names(), reason="the U2OS collection is not present")
@pytest.mark.parametrize("name", u2os_names()[:2])
def test_stretch_real_images(name):
    image, _ = load_u2os(name)
    for limits in RANGES[:3]:
        np.testing.assert_array_equal(stretch(image, *limits), mahotas.stretch(image, *limits))
    as_float = image.astype(np.float32) / 7
    np.testing.assert_array_equal(stretch(as_float), mahotas.stretch(as_float))


def test_stretch_agrees_with_scikit_image_when_the_scale_is_exact():
    from skimage.exposure import rescale_intensity

    # with max - min == ptp the formula is an exact shift, where both agree
    image = np.random.default_rng(1).integers(10, 266, (30, 30)).astype(np.uint16)
    image[0, 0], image[0, 1] = 10, 265
    expected = rescale_intensity(image, out_range=(0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(stretch(image), expected)


def test_constant_image_becomes_min():
    for value in (0, 7, 1e9):
        constant = np.full((4, 5), value)
        assert_same(mahotas.stretch(constant, 3, 9), stretch(constant, 3, 9))


def test_empty_image():
    # mahotas raises (the minimum of an empty array); karyo returns an empty
    # array of the requested dtype, so pipelines over empty crops keep going
    for shape in [(0,), (0, 5), (3, 0, 2)]:
        result = stretch(np.zeros(shape, np.float32), dtype=np.uint16)
        assert result.shape == shape and result.dtype == np.uint16
    with pytest.raises(ValueError):
        mahotas.stretch(np.zeros((0, 5)))


@given(finite_arrays(np.float64, min_side=2), st.data())
def test_nan_pixels_are_ignored(image, data):
    # mahotas lets one NaN turn the whole output into NaN (garbage once cast
    # to an integer). karyo takes the range of the other pixels; NaN pixels
    # become `min` in an integer output and stay NaN in a float one. Filling
    # NaN with the smallest valid value leaves the range unchanged, so
    # mahotas on the filled image gives the expected result.
    nan_mask = data.draw(hnp.arrays(bool, image.shape))
    if nan_mask.all():
        nan_mask.flat[0] = False
    with_nan = np.where(nan_mask, np.nan, image)
    filled = np.where(nan_mask, image[~nan_mask].min(), image)
    limits = data.draw(st.sampled_from(RANGES[:4]))
    assert_same(outcome(mahotas.stretch, filled, *limits), outcome(stretch, with_nan, *limits))
    as_float = stretch(with_nan, *limits, dtype=np.float64)
    assert np.isnan(as_float[nan_mask]).all()
    np.testing.assert_array_equal(as_float[~nan_mask],
                                  mahotas.stretch(filled, *limits, dtype=np.float64)[~nan_mask])


@given(finite_arrays(np.float64, min_side=2), st.data())
def test_infinities_map_to_the_ends_of_the_finite_range(image, data):
    # mahotas returns garbage (inf * 0 cast to an integer). karyo stretches the
    # finite values as mahotas would, and clips -inf/+inf to `min`/`max`:
    # the same as mahotas on the image with infinities replaced by the
    # finite extremes.
    signs = data.draw(hnp.arrays(np.int8, image.shape, elements=st.sampled_from([-1, 0, 0, 1])))
    if (signs != 0).all():
        signs.flat[0] = 0
    with_inf = np.where(signs == 0, image, np.where(signs > 0, np.inf, -np.inf))
    finite = image[signs == 0]
    clipped = np.where(signs < 0, finite.min(), np.where(signs > 0, finite.max(), image))
    limits = data.draw(st.sampled_from(RANGES[:4]))
    assert_same(outcome(mahotas.stretch, clipped, *limits), outcome(stretch, with_inf, *limits))


def test_only_infinities_and_nan():
    values = np.array([np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(stretch(values, 5, 10), [10, 5, 5])
    np.testing.assert_array_equal(stretch(values, dtype=np.float64), [255, 0, np.nan])


def test_all_nan_is_constant():
    all_nan = np.full((3, 3), np.nan)
    np.testing.assert_array_equal(stretch(all_nan, 5, 10), np.full((3, 3), 5, np.uint8))
    assert np.isnan(stretch(all_nan, dtype=np.float32)).all()


def test_stretch_accepts_lists_and_zero_d():
    assert_same(mahotas.stretch(np.array([3, 1, 2])), stretch([3, 1, 2]))
    assert_same(mahotas.stretch(np.array(5.0)), stretch(5.0))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.int32])
@given(data=st.data())
def test_stretch_rgb_matches_mahotas(dtype, data):
    image = data.draw(finite_arrays(dtype, min_dims=2, max_dims=3))
    limits = data.draw(st.sampled_from(RANGES[:4]))
    assert_same(outcome(mahotas.stretch_rgb, image, *limits),
                outcome(stretch_rgb, image, *limits))


channel_arrays = finite_arrays(np.float32, min_dims=2, max_dims=2)


@given(st.data())
def test_as_rgb_matches_mahotas(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=8))
    channels = []
    for _ in range(3):
        kind = data.draw(st.sampled_from(["array", "bool", "none", "number"]))
        if kind == "array":
            channels.append(data.draw(hnp.arrays(np.int16, shape)))
        elif kind == "bool":
            channels.append(data.draw(hnp.arrays(bool, shape)))
        elif kind == "number":
            channels.append(data.draw(st.integers(0, 255)))
        else:
            channels.append(None)
    assert_same(outcome(mahotas.as_rgb, *channels), outcome(as_rgb, *channels))


def test_as_rgb_three_dimensional_channels():
    # mahotas concatenates 3-D channels along axis 2 (not an RGB image);
    # karyo puts the colour on a new last axis
    volume = np.random.default_rng(2).random((2, 3, 4))
    rgb = as_rgb(volume, None, volume)
    assert rgb.shape == (2, 3, 4, 3)
    np.testing.assert_array_equal(rgb[..., 0], mahotas.stretch(volume))
    assert not rgb[..., 1].any()


@pytest.mark.parametrize("gray_dtype", [np.uint8, np.uint16, np.float64, np.bool_])
@given(data=st.data())
def test_overlay_matches_mahotas(gray_dtype, data):
    gray = data.draw(finite_arrays(gray_dtype, min_dims=2, max_dims=2))
    masks = [data.draw(st.one_of(st.none(), hnp.arrays(st.sampled_from([bool, np.int32]),
                                                       gray.shape)))
             for _ in range(3)]
    assert_same(outcome(mahotas.overlay, gray, *masks), outcome(overlay, gray, *masks))


@pytest.mark.skipif(not u2os_names(), reason="the U2OS collection is not present")
def test_overlay_real_image():
    image, truth = load_u2os(u2os_names()[0])
    borders = mahotas.labeled.borders(truth)
    np.testing.assert_array_equal(overlay(image, red=borders, blue=truth > 0),
                                  mahotas.overlay(image, red=borders, blue=truth > 0))


# ------------------------------------------------------------ bad arguments

def test_bad_arguments():
    image = np.arange(6).reshape(2, 3)
    with pytest.raises(TypeError, match="img"):
        stretch(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="img"):
        stretch(np.ones(3, complex))
    with pytest.raises(TypeError, match="dtype"):
        stretch(image, dtype="U3")
    with pytest.raises(TypeError, match="arg0"):
        stretch(image, "255")
    with pytest.raises(ValueError, match="arg1"):
        stretch(image, None, 10)
    with pytest.raises(ValueError, match="img"):
        stretch_rgb(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        as_rgb(np.zeros((2, 2)), np.zeros((3, 3)), None)
    with pytest.raises(ValueError, match="at least one"):
        as_rgb(None, 4, None)
    with pytest.raises(ValueError, match="gray"):
        overlay(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="red"):
        overlay(np.zeros((2, 2), np.uint8), red=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match="gray"):
        overlay(np.zeros((2, 2), np.float32), if_gray_dtype_not_uint8="error")
    with pytest.raises(ValueError, match="if_gray_dtype_not_uint8"):
        overlay(np.zeros((2, 2), np.uint8), if_gray_dtype_not_uint8="clip")
