"""Differential tests of karyo.colors against mahotas.colors."""

from __future__ import annotations

import mahotas
import mahotas.colors
import numpy as np
import pytest
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo.colors

LAYOUTS = st.sampled_from(["c", "fortran", "strided", "bigendian", "readonly"])


rgb_images = st.tuples(
    st.sampled_from([np.uint8, np.uint16, np.float64]),
    st.tuples(st.integers(0, 6), st.integers(1, 6)).map(lambda hw: hw + (3,)),
).flatmap(lambda ds: hnp.arrays(ds[0], ds[1], elements=st.integers(0, 255)))

FUNCTIONS = ["rgb2grey", "rgb2gray", "rgb2xyz", "xyz2rgb", "xyz2lab", "rgb2lab", "rgb2sepia"]


@pytest.mark.parametrize("name", FUNCTIONS)
@given(image=rgb_images, layout=LAYOUTS)
def test_colour_conversions_match_mahotas(name, image, layout):
    expected = getattr(mahotas.colors, name)(image)
    result = getattr(karyo.colors, name)(with_layout(image, layout))
    assert result.dtype == expected.dtype
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["rgb2xyz", "xyz2rgb", "rgb2lab", "xyz2lab"])
@given(image=rgb_images)
def test_colour_dtype_argument_matches_mahotas(name, image):
    for dtype in (np.float32, np.uint8):
        expected = getattr(mahotas.colors, name)(image, dtype=dtype)
        result = getattr(karyo.colors, name)(image, dtype=dtype)
        assert result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1.0 if dtype == np.uint8
                                   else 1e-4)


def test_rgb2grey_with_dtype_matches_mahotas():
    image = np.random.default_rng(0).integers(0, 256, (7, 5, 3), np.uint8)
    np.testing.assert_array_equal(karyo.colors.rgb2grey(image, dtype=np.uint8),
                                  mahotas.colors.rgb2grey(image, dtype=np.uint8))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_colour_bad_arguments(name):
    function = getattr(karyo.colors, name)
    with pytest.raises((ValueError, TypeError), match="shape|dimensions"):
        function(np.zeros((4, 4, 4)))
    with pytest.raises((ValueError, TypeError), match="shape|dimensions"):
        function(np.zeros(3))
