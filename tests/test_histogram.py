"""karyo.histogram against mahotas."""

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from karyo.histogram import fullhistogram

UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]


def images(dtypes, max_value=None):
    """Random 0-D to 3-D images (possibly strided, Fortran, big-endian or read-only)."""
    @st.composite
    def build(draw):
        dtype = np.dtype(draw(st.sampled_from(dtypes)))
        top = max_value if max_value is not None else draw(st.sampled_from([1, 3, 255, 4095]))
        top = min(top, np.iinfo(dtype).max) if dtype.kind != "b" else 1
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=12))
        values = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, top)))
        image = values.astype(dtype)
        layout = draw(st.sampled_from(["c", "fortran", "strided", "bigendian", "readonly"]))
        if layout == "fortran":
            image = np.asfortranarray(image)
        elif layout == "strided" and image.ndim:
            image = np.repeat(image, 2, axis=-1)[..., ::2]
        elif layout == "bigendian" and dtype.itemsize > 1:
            image = image.astype(dtype.newbyteorder(">"))
        elif layout == "readonly":
            image.flags.writeable = False
        return image
    return build()


@given(images(UNSIGNED + [np.bool_]))
def test_fullhistogram_matches_mahotas(image):
    # A writeable native copy for mahotas, which rejects read-only arrays.
    expected = mahotas.fullhistogram(np.array(image, image.dtype.newbyteorder("=")))
    result = fullhistogram(image)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@given(images([np.int8, np.int16, np.int32, np.int64]))
def test_fullhistogram_accepts_nonnegative_signed(image):
    # Deliberate difference: mahotas raises RuntimeError for every signed type.
    expected = np.bincount(image.ravel().astype(np.int64))
    np.testing.assert_array_equal(fullhistogram(image), expected)


def test_fullhistogram_wide_uint16_and_flat_images():
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 65536, size=(300, 200)).astype(np.uint16)
    np.testing.assert_array_equal(fullhistogram(wide), mahotas.fullhistogram(wide))
    flat = np.full((50, 70), 7, np.uint8)
    np.testing.assert_array_equal(fullhistogram(flat), mahotas.fullhistogram(flat))


def test_fullhistogram_on_u2os(u2os_dir):
    for name in u2os_names()[:2]:
        image, _ = load_u2os(name)
        np.testing.assert_array_equal(fullhistogram(image), mahotas.fullhistogram(image))
        wide = image.astype(np.uint16) * 257
        np.testing.assert_array_equal(fullhistogram(wide), mahotas.fullhistogram(wide))


@pytest.mark.parametrize("bad, error, word", [
    (np.zeros(4, np.float32), TypeError, "img"),
    (np.zeros(4, np.complex64), TypeError, "img"),
    (np.array([1, -2], np.int16), ValueError, "negative"),
    (np.zeros(0, np.uint8), ValueError, "empty"),
    (np.ma.masked_array(np.zeros(3, np.uint8)), TypeError, "masked"),
])
def test_fullhistogram_rejects(bad, error, word):
    with pytest.raises(error, match=word):
        fullhistogram(bad)


def test_values_too_large_for_a_histogram_are_refused_before_allocating():
    # Found by tests/test_fuzz.py: a uint64 pixel of 6e10 asked for 234 GiB.
    image = np.array([[0, 62863634112]], np.uint64)
    with pytest.raises(ValueError, match="`img` has values up to 62863634112"):
        fullhistogram(image)
