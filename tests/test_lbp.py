"""karyo.features.lbp against mahotas.features.lbp."""

import sys

import mahotas
import mahotas.features
import numpy as np
import pytest
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mahotas.features.lbp import lbp_names as mahotas_lbp_names
from mahotas.features.lbp import lbp_transform as mahotas_lbp_transform

import karyo
import karyo.demos
import karyo.features
from karyo.features import lbp as lbp_module_attribute
from karyo.features.lbp import lbp, lbp_names, lbp_transform

lbp_module = sys.modules["karyo.features.lbp"]


@st.composite
def images(draw):
    dtype = np.dtype(draw(st.sampled_from(
        [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_])))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=10))
    if dtype.kind == "b":
        return draw(hnp.arrays(dtype, shape))
    if dtype.kind == "f":
        # few distinct values, so samples often tie with the centre; NaN and
        # infinities exercise mahotas's zero-weight taps
        elements = st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.0, -1.0, np.nan, np.inf, -np.inf])
        return draw(hnp.arrays(dtype, shape, elements=elements))
    low = max(np.iinfo(dtype).min, -3)
    return draw(hnp.arrays(dtype, shape, elements=st.integers(low, 3)))


radii = st.one_of(st.sampled_from([0, 1, 2, 1.5, 3, -1, 0.5]),
                  st.floats(-6, 6, allow_nan=False))


def _mahotas_lbp(image, radius, points, ignore_zeros=False):
    try:
        return mahotas.features.lbp(image, radius, points, ignore_zeros=ignore_zeros)
    except ValueError:
        # mahotas cannot histogram zero codes (np.max of an empty array)
        return None


@given(images(), radii, st.integers(1, 12))
def test_transform_matches_mahotas(image, radius, points):
    result = lbp_transform(image, radius, points)
    expected = mahotas_lbp_transform(image, radius, points)
    assert result.dtype == expected.dtype == np.uint32
    np.testing.assert_array_equal(result, expected)


@given(images(), radii, st.integers(1, 12))
def test_transform_ignore_zeros_matches_mahotas(image, radius, points):
    result = lbp_transform(image, radius, points, ignore_zeros=True, preserve_shape=False)
    expected = mahotas_lbp_transform(image, radius, points, ignore_zeros=True,
                                     preserve_shape=False)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)
    flat = lbp_transform(image, radius, points, preserve_shape=False)
    np.testing.assert_array_equal(flat, mahotas_lbp_transform(image, radius, points,
                                                              preserve_shape=False))


@given(images(), radii, st.integers(1, 12), st.booleans())
def test_histogram_matches_mahotas(image, radius, points, ignore_zeros):
    result = lbp(image, radius, points, ignore_zeros)
    expected = _mahotas_lbp(image, radius, points, ignore_zeros)
    if expected is None:
        # deliberate difference: no pixel to count gives all zeros, not an error
        assert not result.any()
        assert result.shape == (len(lbp_names(radius, points)),)
        return
    assert result.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
def test_memory_layouts(layout):
    rng = np.random.default_rng(0)
    for image in (rng.integers(0, 5, (9, 13)).astype(np.uint16), rng.random((9, 13))):
        expected = lbp_transform(image, 2, 8)
        np.testing.assert_array_equal(lbp_transform(with_layout(image, layout), 2, 8),
                                      expected)
        np.testing.assert_array_equal(lbp(with_layout(image, layout), 2, 8),
                                      mahotas.features.lbp(image, 2, 8))


def test_nuclear_image():
    image = karyo.demos.load("synthetic_nuclei")[:300, :400]
    for radius, points in [(1, 8), (2, 12), (3.5, 16), (8, 6)]:
        np.testing.assert_array_equal(lbp_transform(image, radius, points),
                                      mahotas_lbp_transform(image, radius, points))
        np.testing.assert_array_equal(lbp(image, radius, points),
                                      mahotas.features.lbp(image, radius, points))
    wide = image.astype(np.float32) / 7
    np.testing.assert_array_equal(lbp(wide, 2, 10, ignore_zeros=True),
                                  mahotas.features.lbp(wide, 2, 10, ignore_zeros=True))


def test_many_points_both_histogram_paths(monkeypatch):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 40, (20, 24)).astype(np.uint8)
    expected = mahotas.features.lbp(image, 3, 18)
    np.testing.assert_array_equal(lbp(image, 3, 18), expected)
    # the sorting path, used when the codes are too large to bincount
    monkeypatch.setattr(lbp_module, "_BINCOUNT_LIMIT", 0)
    np.testing.assert_array_equal(lbp(image, 3, 18), expected)


def test_thirty_two_points_transform():
    # bit 31 goes through mahotas's int32 weights and wraps back correctly
    rng = np.random.default_rng(2)
    image = rng.integers(0, 9, (12, 12)).astype(np.uint8)
    np.testing.assert_array_equal(lbp_transform(image, 4, 32),
                                  mahotas_lbp_transform(image, 4, 32))


def test_feature_count_is_the_number_of_necklaces():
    for points in range(1, 17):
        codes = np.arange(2**points)
        rotations = [codes]
        for _ in range(points - 1):
            codes = (codes >> 1) | ((codes & 1) << (points - 1))
            rotations.append(codes)
        canonical = int((np.min(rotations, axis=0) == rotations[0]).sum())
        assert len(lbp_names(1, points)) == canonical
        assert lbp(np.zeros((2, 2)), 1, points).shape == (canonical,)


def test_names_match_mahotas():
    for radius, points in [(1, 8), (2.5, 5), (0, 1), (3, 12)]:
        assert lbp_names(radius, points) == mahotas_lbp_names(radius, points)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # mahotas's inf * 0
def test_degenerate_inputs():
    for image in (np.zeros((0, 0)), np.zeros((0, 5), np.uint8), np.ones((1, 1)),
                  np.ones((1, 7), np.int32), np.full((4, 1), 3.0)):
        for radius in (0, 1, 2.5, np.nan, np.inf, 1e300):
            result = lbp_transform(image, radius, 8)
            expected = mahotas_lbp_transform(image, radius, 8)
            assert result.shape == expected.shape
            np.testing.assert_array_equal(result, expected)
    # mahotas raises for an empty image; karyo counts no pixel
    np.testing.assert_array_equal(lbp(np.zeros((0, 3)), 1, 8), np.zeros(36))
    np.testing.assert_array_equal(lbp(np.zeros((3, 3)), 1, 8, ignore_zeros=True),
                                  np.zeros(36))


def test_namespace_matches_mahotas():
    # In mahotas the package attribute `lbp` is the function, and the module
    # is reached through sys.modules / `from ... import`: karyo does the same.
    assert callable(karyo.features.lbp)
    assert lbp_module_attribute is lbp
    assert type(mahotas.features.lbp) is type(karyo.features.lbp)
    assert lbp_module.lbp_transform is lbp_transform
    assert "lbp" in karyo.features.__all__


def test_argument_errors():
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="image"):
        lbp_transform(np.zeros(5), 1, 8)
    with pytest.raises(ValueError, match="image"):
        lbp(np.zeros((3, 3, 3)), 1, 8)
    with pytest.raises(TypeError, match="image"):
        lbp_transform(np.zeros((3, 3), complex), 1, 8)
    with pytest.raises(ValueError, match="points"):
        lbp_transform(image, 1, 0)
    with pytest.raises(ValueError, match="points"):
        lbp(image, 1, 33)
    with pytest.raises(TypeError, match="points"):
        lbp(image, 1, 2.5)
    with pytest.raises(TypeError, match="radius"):
        lbp(image, "1", 8)
    with pytest.raises(ValueError, match="preserve_shape"):
        lbp_transform(image, 1, 8, ignore_zeros=True)
    with pytest.raises(ValueError, match="points"):
        lbp_names(1, 0)


INTEGER_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
                  np.int64]


@given(st.sampled_from(INTEGER_DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0))))
def test_count_binary1s_equals_mahotas_and_twos_complement(values):
    from mahotas.features.lbp import count_binary1s as mahotas_count_binary1s

    from karyo.features.lbp import count_binary1s

    result = count_binary1s(values)
    assert result.shape == values.shape and result.dtype == values.dtype
    width = values.dtype.itemsize * 8
    expected = [bin(int(v) % (1 << width)).count("1") for v in values.reshape(-1)]
    np.testing.assert_array_equal(result.reshape(-1), expected)
    if values.size and values.min() >= 0 and values.max() < np.iinfo(values.dtype).max:
        # mahotas's count of a negative value depends on the array's maximum, and
        # at the dtype's maximum its 1 + max wraps (int8 127: log2 of -128 fails)
        np.testing.assert_array_equal(result, mahotas_count_binary1s(values.copy()))
    np.testing.assert_array_equal(count_binary1s(values.astype(values.dtype.newbyteorder(">"))),
                                  result)


def test_count_binary1s_refuses_floats_by_name():
    from karyo.features.lbp import count_binary1s

    with pytest.raises(TypeError, match="`array`"):
        count_binary1s(np.ones(3))
