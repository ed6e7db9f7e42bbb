"""karyo.segmentation.slic against mahotas.segmentation.slic."""

import mahotas
import mahotas.segmentation
import numpy as np
import pytest
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo
import karyo.demos
from karyo.segmentation import slic


def _assert_same_as_mahotas(image, *args):
    segmented, n_segments = slic(image, *args)
    expected, expected_n = mahotas.segmentation.slic(image, *args)
    assert n_segments == expected_n
    assert type(n_segments) is int
    assert segmented.dtype == expected.dtype
    np.testing.assert_array_equal(segmented, expected)


@st.composite
def slic_cases(draw):
    rows, cols = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24))
    spacer = draw(st.integers(1, min(2 * min(rows, cols) - 1, 20)))
    kind = draw(st.sampled_from(["uint8", "levels", "uint16", "float", "wide"]))
    values = draw(hnp.arrays(np.float64, (rows, cols, 3),
                             elements=st.floats(0, 1, allow_nan=False, width=32)))
    if kind == "uint8":
        image = (values * 255).astype(np.uint8)
    elif kind == "levels":
        # few colours: many equal distances, so tie-breaking decides
        image = (values * 3).astype(np.uint8) * 60
    elif kind == "uint16":
        # colour differences past 46340 wrap mahotas's 32-bit squares
        image = (values * 65535).astype(np.uint16)
    elif kind == "float":
        image = values * 100 - 30
    else:
        image = (values * 3e9 - 1.5e9).astype(np.float32)
    m = draw(st.sampled_from([1.0, 0.0, 0.2, 10.0, -3.0, 1e4]))
    max_iters = draw(st.sampled_from([128, 1, 2, 5, -1]))
    return image, spacer, m, max_iters


@given(slic_cases())
def test_matches_mahotas(case):
    _assert_same_as_mahotas(*case)


def test_nuclear_image_in_colour():
    grey = karyo.demos.load("synthetic_nuclei")[:200, :260]
    image = np.stack([grey, np.roll(grey, 30, 0), np.roll(grey, 45, 1)], axis=-1)
    for spacer, m in [(16, 1.0), (10, 10.0), (25, 0.5)]:
        _assert_same_as_mahotas(image, spacer, m)
    lab = karyo.colors.rgb2lab(image)
    _assert_same_as_mahotas(lab, 12, 4.0)


def test_non_finite_and_huge_values():
    # mahotas truncates NaN and out-of-range colours to INT_MIN (x86's answer)
    rng = np.random.default_rng(3)
    image = rng.normal(0, 1e5, (30, 34, 3))
    image[rng.random(image.shape) < 0.05] = np.nan
    image[0, :5] = [np.inf, -np.inf, 1e30]
    _assert_same_as_mahotas(image, 6, 2.0)


def test_other_dtypes_and_float_path_boundary():
    rng = np.random.default_rng(4)
    for image in (rng.random((20, 22, 3)) > 0.5,
                  rng.integers(-2000, 2000, (20, 22, 3)).astype(np.int16),
                  # 2364 and 2365 apart: either side of the exact float32 path
                  np.where(rng.random((20, 22, 3)) > 0.5, 2364, 0).astype(np.uint16),
                  np.where(rng.random((20, 22, 3)) > 0.5, 2365, 0).astype(np.uint16),
                  rng.integers(0, 2**40, (20, 22, 3))):
        _assert_same_as_mahotas(image, 5, 1.0)


def test_fractional_arguments_are_truncated_as_mahotas():
    image = np.random.default_rng(5).integers(0, 255, (16, 18, 3)).astype(np.uint8)
    _assert_same_as_mahotas(image, 6.7, 1.5, 3.9)


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_memory_layouts(layout):
    image = np.random.default_rng(6).integers(0, 255, (18, 21, 3)).astype(np.uint16)
    expected = slic(image, 5)
    result = slic(with_layout(image, layout), 5)
    assert result[1] == expected[1]
    np.testing.assert_array_equal(result[0], expected[0])


def test_labels_and_count():
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, 3:] = 200
    segmented, n_segments = slic(image, spacer=3)
    assert n_segments == 2
    np.testing.assert_array_equal(segmented, np.repeat([[1, 1, 1, 2, 2, 2]], 4, axis=0))
    assert segmented.min() >= 1 and segmented.max() <= n_segments


def test_empty_and_single_pixel():
    for shape in [(0, 5, 3), (4, 0, 3), (0, 0, 3)]:
        segmented, n_segments = slic(np.zeros(shape), 4)
        expected, expected_n = mahotas.segmentation.slic(np.zeros(shape), 4)
        assert n_segments == expected_n == 0
        assert segmented.shape == expected.shape and segmented.dtype == expected.dtype
    _assert_same_as_mahotas(np.full((1, 1, 3), 7.0), 1)
    _assert_same_as_mahotas(np.arange(27.0).reshape(1, 9, 3), 1)
    _assert_same_as_mahotas(np.arange(36.0).reshape(2, 6, 3), 3)


def test_deliberate_differences():
    # mahotas segfaults when no seed falls in the image (spacer//2 >= a side)
    with pytest.raises(ValueError, match="spacer"):
        slic(np.zeros((5, 40, 3)), 10)
    # mahotas reads uninitialised labels after zero iterations
    with pytest.raises(ValueError, match="max_iters"):
        slic(np.zeros((5, 5, 3)), 2, 1.0, 0)


def test_argument_errors():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="array"):
        slic(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="array"):
        slic(np.zeros((8, 8, 4)))
    with pytest.raises(TypeError, match="array"):
        slic(np.zeros((8, 8, 3), complex))
    with pytest.raises(ValueError, match="spacer"):
        slic(image, 0)
    with pytest.raises(ValueError, match="spacer"):
        slic(image, 50000)
    with pytest.raises(TypeError, match="spacer"):
        slic(image, "4")
    with pytest.raises(ValueError, match="spacer"):
        slic(image, float("nan"))
    with pytest.raises(ValueError, match="`m`"):
        slic(image, 4, float("inf"))
    with pytest.raises(ValueError, match="`m`"):
        slic(image, 4, 1e10)
    with pytest.raises(TypeError, match="`m`"):
        slic(image, 4, None)
    with pytest.raises(TypeError, match="max_iters"):
        slic(image, 4, 1.0, "10")


def test_namespace():
    assert karyo.segmentation.slic is slic
    assert "slic" in karyo.segmentation.__all__
