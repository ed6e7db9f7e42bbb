"""karyo.regionprops.regionprops_table against scikit-image's, property by property."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_column_matches_skimage, load_u2os
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.measure import regionprops_table as skimage_regionprops_table

import karyo.labeled
from karyo.regionprops import PROPERTIES, regionprops_table

SKIMAGE_PROPERTIES = [name for name in PROPERTIES if name != "intensity_sum"]
LABEL_DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.uint32, np.uint64, bool]
IMAGE_DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.float64]


def assert_same_as_skimage(labels: np.ndarray, image: np.ndarray) -> None:
    table = regionprops_table(labels, image, SKIMAGE_PROPERTIES)
    if not labels.any():  # scikit-image has no table for an image without regions
        assert all(len(column) == 0 for column in table.values())
        return
    expected = skimage_regionprops_table(labels.astype(np.int64), image.astype(np.float64),
                                         SKIMAGE_PROPERTIES)
    assert list(table) == list(expected)
    for name, values in expected.items():
        assert_column_matches_skimage(name, table[name], values, expected["axis_major_length"])


@st.composite
def labels_and_image(draw):
    shape = draw(st.tuples(st.integers(1, 14), st.integers(1, 14)))
    dtype = draw(st.sampled_from(LABEL_DTYPES))
    if dtype is bool:
        labels = draw(hnp.arrays(bool, shape))
    else:
        labels = draw(hnp.arrays(dtype, shape, elements=st.integers(0, 5)))
        labels = labels * draw(st.sampled_from([1, 7, 50]))  # non-consecutive labels
    image_dtype = draw(st.sampled_from(IMAGE_DTYPES))
    if np.dtype(image_dtype).kind == "f":
        image = draw(hnp.arrays(image_dtype, shape, elements=st.floats(-1e3, 1e3, width=32)))
    else:
        image = draw(hnp.arrays(image_dtype, shape, elements=st.integers(0, 255)))
    return labels, image


@given(labels_and_image())
def test_every_property_matches_skimage(case):
    assert_same_as_skimage(*case)


def test_a_line_of_pixels_has_a_minor_axis_of_exactly_zero():
    # Two pixels: the ellipse is a segment. scikit-image's eigvalsh gives
    # 1.2e-7 here (rounding); karyo's exact moments give 0.
    labels = np.zeros((14, 7), np.uint8)
    labels[3, 6] = labels[13, 0] = 1
    table = regionprops_table(labels, properties=["axis_major_length", "axis_minor_length",
                                                  "eccentricity"])
    assert table["axis_minor_length"][0] == 0.0
    assert table["axis_major_length"][0] == pytest.approx(4 * np.sqrt(34))
    assert table["eccentricity"][0] == 1.0
    assert_same_as_skimage(labels, np.zeros(labels.shape))


@pytest.mark.parametrize("name", ["dna-0.png", "dna-33.png"])
def test_matches_skimage_on_u2os(u2os_dir, name):
    image, truth = load_u2os(name)
    assert_same_as_skimage(truth, image)


def test_sparse_huge_labels_are_measured_without_a_huge_table():
    labels = np.zeros((5, 6), np.uint64)
    labels[1:3, 1:3] = 2**62
    labels[3:, 4:] = 7
    table = regionprops_table(labels, np.ones(labels.shape), ("label", "area", "bbox",
                                                                "intensity_sum"))
    assert table["label"].tolist() == [7, 2**62]
    assert table["area"].tolist() == [4, 4]
    assert [table[f"bbox-{axis}"].tolist() for axis in range(4)] == [[3, 1], [4, 1], [5, 3],
                                                                      [6, 3]]
    assert table["intensity_sum"].tolist() == [4.0, 4.0]


def test_intensity_sum_is_labeled_sum_in_64_bits():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, (30, 40))
    image = rng.integers(0, 256, (30, 40)).astype(np.uint8)  # sums beyond 255
    table = regionprops_table(labels, image, ("label", "intensity_sum"))
    expected = karyo.labeled.labeled_sum(image.astype(np.int64), labels)[table["label"]]
    np.testing.assert_array_equal(table["intensity_sum"], expected)


def test_empty_table_has_the_columns_and_dtypes():
    table = regionprops_table(np.zeros((3, 4), np.uint8), np.zeros((3, 4)),
                              ("label", "bbox", "centroid", "perimeter", "intensity_mean"))
    assert list(table) == ["label", "bbox-0", "bbox-1", "bbox-2", "bbox-3", "centroid-0",
                           "centroid-1", "perimeter", "intensity_mean"]
    assert table["label"].dtype == np.int64 and table["perimeter"].dtype == np.float64
    assert all(len(column) == 0 for column in table.values())


def test_separator_names_multi_valued_columns():
    labels = np.array([[0, 1], [1, 1]])
    assert list(regionprops_table(labels, properties=("centroid",), separator="_")) == [
        "centroid_0", "centroid_1"]


@pytest.mark.parametrize(("arguments", "error", "match"), [
    ((np.zeros((3, 3)),), TypeError, "`label_image`"),
    ((np.full((3, 3), -1),), ValueError, "`label_image`"),
    ((np.zeros((3, 3, 3), np.uint8),), ValueError, "`label_image`"),
    ((np.zeros((3, 3), np.uint8), np.zeros((3, 4))), ValueError, "`intensity_image`"),
    ((np.zeros((3, 3), np.uint8), None, ("intensity_mean",)), ValueError, "intensity_image"),
    ((np.zeros((3, 3), np.uint8), None, ("mean_intensity",)), ValueError, "mean_intensity"),
])
def test_bad_arguments_are_named(arguments, error, match):
    with pytest.raises(error, match=match):
        regionprops_table(*arguments)
