"""karyo.segmentation.gvoronoi against mahotas (2-D) and a brute-force oracle (any ndim)."""

from __future__ import annotations

import doctest
import importlib
import itertools

import mahotas
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import load_u2os
from hypothesis import given
from hypothesis import strategies as st

from karyo.segmentation import gvoronoi

segmentation_module = importlib.import_module("karyo.segmentation")

DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
          np.int64, np.float32, np.float64]


@st.composite
def label_images(draw, min_ndim=2, max_ndim=2, max_side=14):
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    density = draw(st.sampled_from([0.01, 0.05, 0.2, 0.6]))
    n_labels = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    labeled = np.where(rng.random(shape) < density, rng.integers(1, n_labels + 1, shape), 0)
    if not labeled.any():
        labeled.flat[draw(st.integers(0, labeled.size - 1))] = n_labels
    return labeled.astype(np.int32)


def brute_force_gvoronoi(labeled: np.ndarray) -> np.ndarray:
    """Label of the nearest labelled pixel; ties to the smallest (last axis, ..., first axis)."""
    features = np.argwhere(labeled != 0)
    # sort the candidates so that argmin's first minimum is the tie winner
    features = features[np.lexsort(features.T)]
    segmented = np.empty_like(labeled)
    for position in itertools.product(*(range(s) for s in labeled.shape)):
        squared = ((features - np.array(position)) ** 2).sum(axis=1)
        segmented[position] = labeled[tuple(features[np.argmin(squared)])]
    return segmented


@given(label_images())
def test_equals_mahotas_including_ties(labeled):
    # equidistant labels are frequent on these small sparse images: the tie rule
    # (smallest column, then smallest row) is mahotas's, so results are identical
    np.testing.assert_array_equal(gvoronoi(labeled), mahotas.segmentation.gvoronoi(labeled))


@given(label_images(min_ndim=1, max_ndim=3, max_side=9))
def test_equals_brute_force_in_any_ndim(labeled):
    np.testing.assert_array_equal(gvoronoi(labeled), brute_force_gvoronoi(labeled))


@given(label_images(min_ndim=1, max_ndim=3, max_side=12))
def test_assigned_label_is_at_the_nearest_distance(labeled):
    # independent of the tie rule: the label given to each pixel has a pixel at
    # exactly the distance scipy finds to the nearest labelled pixel
    segmented = gvoronoi(labeled)
    nearest = ndi.distance_transform_edt(labeled == 0)
    for label in np.unique(labeled[labeled != 0]):
        to_label = ndi.distance_transform_edt(labeled != label)
        given_label = segmented == label
        np.testing.assert_array_equal(to_label[given_label], nearest[given_label])


@given(label_images(min_ndim=2, max_ndim=2))
def test_2d_kernel_agrees_with_nd_kernel(labeled):
    # a (1, h, w) image goes through the n-D kernel, the (h, w) one through the 2-D kernel
    np.testing.assert_array_equal(gvoronoi(labeled[None])[0], gvoronoi(labeled))


@given(label_images(), st.sampled_from(DTYPES))
def test_every_dtype_keeps_dtype_and_values(labeled, dtype):
    if dtype == np.bool_:
        values = labeled != 0
    elif np.dtype(dtype).kind == "f":
        # fractional and negative labels are copied unchanged
        values = (labeled * -1.5).astype(dtype)
    else:
        values = labeled.astype(dtype)
    result = gvoronoi(values)
    assert result.dtype == values.dtype
    assert result.flags.c_contiguous
    np.testing.assert_array_equal(result, mahotas.segmentation.gvoronoi(values))


@given(label_images(), st.sampled_from(["steps", "fortran", "bigendian", "readonly"]))
def test_memory_layouts(labeled, layout):
    values = labeled.astype(np.uint16)
    if layout == "steps":
        big = np.zeros((2 * labeled.shape[0] + 1, 3 * labeled.shape[1]), np.uint16)
        big[1::2, ::3] = values
        values = big[1::2, ::3]
    elif layout == "fortran":
        values = np.asfortranarray(values)
    elif layout == "bigendian":
        values = values.astype(">u2")
    else:
        values.flags.writeable = False
    result = gvoronoi(values)
    np.testing.assert_array_equal(result, mahotas.segmentation.gvoronoi(labeled))
    assert result.dtype == np.uint16  # native byte order, whatever the input's


@pytest.mark.parametrize("name", ["dna-0.png", "dna-14.png", "dna-47.png"])
def test_real_labels_equal_mahotas(u2os_dir, name):
    _, truth = load_u2os(name)
    np.testing.assert_array_equal(gvoronoi(truth), mahotas.segmentation.gvoronoi(truth))
    # sparse seeds: one pixel per nucleus, far apart
    seeds = np.zeros_like(truth)
    centres = ndi.center_of_mass(truth > 0, truth, np.unique(truth[truth > 0]))
    for label, (row, col) in zip(np.unique(truth[truth > 0]), centres, strict=True):
        seeds[int(row), int(col)] = label
    np.testing.assert_array_equal(gvoronoi(seeds), mahotas.segmentation.gvoronoi(seeds))


@given(label_images(max_side=40), st.sampled_from([np.uint8, np.uint16, np.uint32, np.int64]))
def test_2d_kernel_equals_brute_force_for_each_label_width(labeled, dtype):
    # labels of 4 or 8 bytes keep the 2-D kernel's column distances in the
    # output, narrower ones in a buffer of their own: both must give the same
    values = labeled.astype(dtype)
    np.testing.assert_array_equal(gvoronoi(values), brute_force_gvoronoi(values))


@pytest.mark.parametrize("width", [1, 2, 3, 17, 64])
def test_2d_kernel_on_wide_sparse_rows(width):
    # long rows far from any label build long envelopes of parabolas
    rng = np.random.default_rng(width)
    labeled = np.zeros((40, width * 7), np.int32)
    labeled[rng.integers(0, 40, 5), rng.integers(0, width * 7, 5)] = rng.integers(1, 4, 5)
    np.testing.assert_array_equal(gvoronoi(labeled), brute_force_gvoronoi(labeled))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.uint64])
def test_image_split_between_threads_equals_mahotas(dtype):
    # Over 2**17 pixels, both passes are shared between threads by strips (of
    # columns, then of rows); 4- and 8-byte labels keep the first pass's rows
    # in the output itself. Sparse seeds leave whole columns unlabelled.
    rng = np.random.default_rng(5)
    labeled = np.zeros((390, 531), dtype)
    labeled[rng.integers(0, 390, 60), rng.integers(0, 531, 60)] = rng.integers(1, 100, 60)
    assert (labeled == 0).all(axis=0).any()
    np.testing.assert_array_equal(gvoronoi(labeled), mahotas.segmentation.gvoronoi(labeled))


def test_negative_zero_is_unlabelled():
    # the 2-D kernel tests label bits, and -0.0 has a nonzero sign bit
    labeled = np.array([[-0.0, 0.0, 2.5, -0.0], [-0.0, -0.0, -0.0, -1.5]], np.float32)
    expected = np.array([[2.5, 2.5, 2.5, 2.5], [2.5, 2.5, 2.5, -1.5]], np.float32)
    np.testing.assert_array_equal(gvoronoi(labeled), expected)
    np.testing.assert_array_equal(gvoronoi(labeled[None])[0], expected)


def test_too_wide_for_the_2d_kernel():
    # a single row of 2**21 pixels would overflow the 2-D kernel's products:
    # the n-D kernel takes it, and agrees with the 2-D kernel on the transpose
    # (both break ties towards the lower index)
    labeled = np.zeros((1, 1 << 21), np.uint16)
    labeled[0, [5, 1000, 1001, 700_000, (1 << 21) - 2]] = [1, 2, 3, 4, 5]
    assert not segmentation_module._fits_2d_kernel(labeled.shape)
    assert segmentation_module._fits_2d_kernel(labeled.T.shape)
    np.testing.assert_array_equal(gvoronoi(labeled), gvoronoi(labeled.T).T)


@pytest.mark.parametrize("shape", [(1,), (5,), (1, 1), (3, 4), (2, 3, 4)])
def test_nothing_labelled_gives_zeros(shape):
    result = gvoronoi(np.zeros(shape, np.int32))
    assert result.shape == shape and result.dtype == np.int32
    assert not result.any()


@pytest.mark.parametrize("shape", [(0,), (0, 4), (4, 0), (2, 0, 3)])
def test_empty_image_gives_empty_result(shape):
    result = gvoronoi(np.zeros(shape, np.uint8))
    assert result.shape == shape and result.dtype == np.uint8


def test_single_pixel_and_single_label():
    np.testing.assert_array_equal(gvoronoi(np.array([[7]])), [[7]])
    labeled = np.zeros((4, 5), np.int64)
    labeled[2, 3] = 9
    np.testing.assert_array_equal(gvoronoi(labeled), np.full((4, 5), 9))


def test_bad_labels():
    with pytest.raises(TypeError, match="labeled"):
        gvoronoi(np.ones((3, 3), complex))
    with pytest.raises(TypeError, match="labeled"):
        gvoronoi(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="labeled"):
        gvoronoi(np.array(3))


def test_docstring_examples():
    assert doctest.testmod(segmentation_module, raise_on_error=False).failed == 0
