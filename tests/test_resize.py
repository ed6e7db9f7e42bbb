"""karyo.resize against scipy.ndimage.zoom (the oracle) and mahotas.resize.

mahotas 1.4.19 does not interpolate between pixels (it rounds every sample
position to the next whole index), so karyo computes what its port of
scipy.ndimage evidently intends: scipy.ndimage.zoom's values, with the
exact shape asked for.

Tolerances: karyo performs scipy's floating-point operations in scipy's
order, so results are bit-identical here; float comparisons still allow
1e-12 of the largest value (a compiler may fuse a multiply and an add
differently in the two builds), integer results are compared exactly.
"""

from __future__ import annotations

import functools

import mahotas
import mahotas.resize as mr
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from test_interpolate import assert_identical, assert_matches_scipy, values

import karyo
from karyo.resize import imresize, resize_rgb_to, resize_to

# mahotas divides by zero for 1-point outputs (then handles the inf/NaN)
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in divide:RuntimeWarning")

DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64]
# the same value strategy and comparisons as the interpolation tests
images = functools.partial(values, max_side=10)


def scipy_resize_to(image, size, order=3):
    """scipy.ndimage.zoom to `size`, in `image`'s dtype.

    scipy stores a bool output by truncating to a byte (0.7 -> False, 2.0 ->
    a byte 2); karyo treats bool as the integer 0 or 1 and rounds like the
    other integers, so its bool is scipy's uint8 result clipped to 1.
    """
    factors = np.array(size, float) / image.shape
    dtype = np.uint8 if image.dtype == np.bool_ else image.dtype
    result = ndi.zoom(image, factors, output=np.empty(size, dtype), order=order)
    return result > 0 if image.dtype == np.bool_ else result


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_resize_to_matches_scipy(dtype, data):
    image = data.draw(images(dtype))
    size = tuple(data.draw(st.integers(1, 14)) for _ in range(image.ndim))
    order = data.draw(st.integers(0, 5))
    result = resize_to(image, size, order)
    assert result.shape == size
    assert_matches_scipy(result, scipy_resize_to(image, size, order))


@given(image=images(np.uint8, min_dims=2, max_dims=2), data=st.data())
def test_imresize_matches_scipy(image, data):
    factor = st.floats(0.2, 3.0)
    nsize = data.draw(st.one_of(factor, st.tuples(factor, factor),
                                st.lists(factor, min_size=2, max_size=2),
                                st.tuples(st.integers(1, 15), st.integers(1, 15)),
                                st.lists(st.integers(1, 15), min_size=2, max_size=2)))
    order = data.draw(st.integers(0, 5))
    result = imresize(image, nsize, order)
    if isinstance(nsize, (tuple, list)) and isinstance(nsize[0], int):
        assert result.shape == tuple(nsize)
        nsize = np.array(nsize) / image.shape
    assert_matches_scipy(result, ndi.zoom(image, nsize, output=np.float64, order=order))


def test_imresize_gives_the_size_asked_for():
    # Deliberate difference from mahotas: it turns a size into the factor
    # size / n and truncates n * factor, which can fall one pixel short.
    image = np.arange(49 * 30, dtype=np.float64).reshape(49, 30)
    short = [rows for rows in range(1, 120)
             if mahotas.imresize(image, (rows, 7), 1).shape != (rows, 7)]
    assert {1, 2, 27} <= set(short)  # 1 row asked for, 0 given
    for rows in range(1, 120):
        assert imresize(image, (rows, 7), 1).shape == (rows, 7)
        assert resize_to(image, (rows, 7), 1).shape == (rows, 7)
    # as in mahotas, only a Python int as first element means "sizes":
    # numpy integers are zoom factors
    small = np.arange(16.0).reshape(4, 4)
    assert imresize(small, (np.int64(2), 3)).shape == (8, 12)
    assert imresize(small, [2, 3]).shape == (2, 3)


def test_imresize_interpolates_a_ramp_unlike_mahotas():
    # Deliberate difference from mahotas: doubling a 4x4 ramp with order 1
    # gives mahotas blocks of repeated values with a black (cval) last row
    # and column; karyo (as scipy) gives the finer ramp, corners on corners.
    ramp = np.arange(4.0)[:, None] * 4 + np.arange(4.0)[None, :]
    theirs = mahotas.imresize(ramp, 2.0, order=1)
    assert (theirs[-1] == 0).all() and (theirs[:, -1] == 0).all()
    assert theirs[0, 0] == ramp[1, 1]
    ours = imresize(ramp, 2.0, order=1)
    fine = np.linspace(0, 3, 8)[:, None] * 4 + np.linspace(0, 3, 8)[None, :]
    np.testing.assert_allclose(ours, fine, rtol=0, atol=1e-12)
    assert_matches_scipy(ours, ndi.zoom(ramp, 2.0, output=np.float64, order=1))


def test_resize_to_differs_from_mahotas():
    # Deliberate: mahotas's resize_to shifts the image by a pixel, fills the
    # last row and column with 0 and truncates integers (so a uint8 ramp
    # loses its top values); karyo interpolates, keeps the corners on the
    # corners and rounds.
    image = np.array([[0, 30], [60, 90]], np.uint8)
    theirs = mahotas.resize_to(image, (3, 4), order=1)
    assert (theirs[-1] == 0).all() and (theirs[:, -1] == 0).all()
    ours = resize_to(image, (3, 4), order=1)
    np.testing.assert_array_equal(ours, [[0, 10, 20, 30], [30, 40, 50, 60], [60, 70, 80, 90]])
    assert_identical(ours, scipy_resize_to(image, (3, 4), order=1))


def test_resize_rgb_to_differs_from_mahotas():
    # Deliberate: as resize_to, each channel; mahotas's channels are shifted
    # by a pixel with a black border.
    rgb = np.dstack([np.full((4, 6), v, np.uint8) for v in (10, 100, 250)])
    theirs = mr.resize_rgb_to(rgb, (6, 9), order=1)
    assert (theirs[-1] == 0).all()
    ours = resize_rgb_to(rgb, (6, 9), order=1)
    np.testing.assert_array_equal(ours, np.broadcast_to([10, 100, 250], (6, 9, 3)))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.bool_])
@given(data=st.data())
def test_resize_rgb_to_matches_scipy(dtype, data):
    image = data.draw(images(dtype, min_dims=3, max_dims=3))
    image = np.ascontiguousarray(np.broadcast_to(image[..., :1], image.shape[:2] + (3,)))
    image[..., 1] = image[::-1, :, 1]
    size = (data.draw(st.integers(1, 14)), data.draw(st.integers(1, 14)))
    order = data.draw(st.integers(0, 5))
    result = resize_rgb_to(image, size, order)
    expected = np.dstack([scipy_resize_to(image[..., c], size, order) for c in range(3)])
    assert_matches_scipy(result, expected)


def test_real_image_matches_scipy():
    image = karyo.demos.load("synthetic_nuclei")
    for size in [(512, 672), (333, 1000)]:
        assert_matches_scipy(resize_to(image, size), scipy_resize_to(image, size))
    assert_matches_scipy(resize_to(image, (256, 300), 1), scipy_resize_to(image, (256, 300), 1))
    small = image[::4, ::4]
    for nsize in (0.5, 2.0, (0.3, 1.1)):
        assert_matches_scipy(imresize(small, nsize),
                             ndi.zoom(small, nsize, output=np.float64))
    assert_matches_scipy(imresize(small, (100, 150)),
                         ndi.zoom(small, np.divide((100, 150), small.shape),
                                  output=np.float64))
    rgb = np.dstack([small, small[::-1], np.roll(small, 50, axis=1)])
    expected = np.dstack([scipy_resize_to(rgb[..., c], (90, 130)) for c in range(3)])
    assert_matches_scipy(resize_rgb_to(rgb, (90, 130)), expected)


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_layouts(layout):
    image = (np.random.default_rng(4).random((12, 9)) * 60000).astype(np.uint16)
    assert_identical(resize_to(with_layout(image, layout), (20, 5)), resize_to(image, (20, 5)))
    assert_identical(imresize(with_layout(image, layout), 1.5), imresize(image, 1.5))
    assert_matches_scipy(resize_to(image, (20, 5)), scipy_resize_to(image, (20, 5)))


def test_degenerate_sizes():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for size in [(1, 1), (1, 4), (3, 1), (2, 7)]:
        assert_identical(resize_to(image, size), scipy_resize_to(image, size))
    for size in [(0, 4), (0, 0), (3, 0)]:
        assert_identical(resize_to(image, size), np.zeros(size, np.uint8))
    # the same shape gives the image back
    assert_identical(resize_to(image, (3, 4)), image)
    one = np.full((1, 1), 7, np.uint8)
    assert_identical(resize_to(one, (3, 2)), np.full((3, 2), 7, np.uint8))
    # an empty image resizes to cval (0) in the default 'constant' mode
    assert_identical(resize_to(np.zeros((0, 3), np.uint8), (2, 2)), np.zeros((2, 2), np.uint8))


def test_errors():
    image = np.ones((4, 5))
    with pytest.raises(ValueError, match="nsize"):
        resize_to(image, (2, 3, 4))
    with pytest.raises(TypeError, match="nsize"):
        resize_to(image, (2.5, 3))
    with pytest.raises(ValueError, match="nsize"):
        resize_to(image, (-2, 3))
    with pytest.raises(TypeError, match="nsize"):
        resize_to(image, 3)
    with pytest.raises(ValueError, match="order"):
        resize_to(image, (2, 3), order=7)
    with pytest.raises(ValueError, match="im"):
        resize_rgb_to(np.ones((4, 5, 4)), (2, 2))
    with pytest.raises(ValueError, match="im"):
        resize_rgb_to(image, (2, 2))
    with pytest.raises(ValueError, match="nsize"):
        resize_rgb_to(np.ones((4, 5, 3)), (2, 2, 3))
    with pytest.raises(ValueError, match="nsize"):
        imresize(image, (2, 3, 4))
    with pytest.raises(TypeError, match="nsize"):
        imresize(image, (2, 3.5))
    with pytest.raises(ValueError, match="nsize"):
        imresize(image, (2, -3))
    with pytest.raises(ValueError, match="zoom"):
        imresize(image, -0.5)
    with pytest.raises(TypeError, match="img"):
        imresize(image.astype(complex), 2)


def test_top_level_names():
    assert karyo.imresize is imresize
    assert karyo.resize_to is resize_to
    assert karyo.resize.resize_rgb_to is resize_rgb_to
