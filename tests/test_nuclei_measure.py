"""karyo.nuclei.measure against scikit-image's regionprops and mahotas."""

from __future__ import annotations

import importlib

import mahotas
import numpy as np
import pandas as pd
import pytest
from conftest import assert_column_matches_skimage, load_u2os
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.measure import regionprops

measure_module = importlib.import_module("karyo.nuclei.measure")
measure = measure_module.measure
MEASURE_COLUMNS = measure_module.MEASURE_COLUMNS

LABEL_DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.uint32, np.uint64]
IMAGE_DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.float64, bool]


def regionprops_table(labels: np.ndarray, image: np.ndarray) -> dict[str, np.ndarray]:
    """The same columns, computed by scikit-image one region at a time."""
    rows = []
    # scikit-image fails on 0-size images, which have no region.
    regions = regionprops(labels.astype(np.int64), image.astype(np.float64)) if labels.size else []
    for region in regions:
        min_y, min_x, max_y, max_x = region.bbox
        pixels = region.image_intensity[region.image]
        rows.append({
            "label": region.label, "area": region.area,
            "centroid_y": region.centroid[0], "centroid_x": region.centroid[1],
            "bbox_min_y": min_y, "bbox_min_x": min_x, "bbox_max_y": max_y, "bbox_max_x": max_x,
            "perimeter": region.perimeter,
            "equivalent_diameter_area": region.equivalent_diameter_area,
            "axis_major_length": region.axis_major_length,
            "axis_minor_length": region.axis_minor_length,
            "orientation": region.orientation,
            "eccentricity": region.eccentricity, "solidity": region.solidity,
            "extent": region.extent, "area_convex": region.area_convex,
            "intensity_mean": region.intensity_mean, "intensity_sum": pixels.sum(),
            "intensity_min": region.intensity_min, "intensity_max": region.intensity_max,
            "touches_border": bool(min_y == 0 or min_x == 0 or max_y == labels.shape[0]
                                   or max_x == labels.shape[1]),
        })
    return {name: np.array([row[name] for row in rows]) for name in MEASURE_COLUMNS}


def assert_same_table(table: dict, expected: dict) -> None:
    assert list(table) == list(MEASURE_COLUMNS)
    for name in MEASURE_COLUMNS:
        assert len(table[name]) == len(expected[name]), name
        if len(expected[name]):
            assert_column_matches_skimage(name, table[name], expected[name],
                                          expected["axis_major_length"])


def views(array: np.ndarray) -> dict[str, np.ndarray]:
    """The same values in the memory layouts a caller may pass."""
    strided = np.zeros((array.shape[0] * 2, array.shape[1] * 3), array.dtype)
    strided[::2, ::3] = array
    read_only = array.copy()
    read_only.flags.writeable = False
    return {
        "contiguous": array,
        "fortran": np.asfortranarray(array),
        "strided": strided[::2, ::3],
        "big_endian": array.astype(array.dtype.newbyteorder(">")),
        "read_only": read_only,
    }


@st.composite
def labels_and_image(draw, min_side=0):
    shape = draw(st.tuples(st.integers(min_side, 14), st.integers(min_side, 14)))
    dtype = draw(st.sampled_from(LABEL_DTYPES))
    labels = draw(hnp.arrays(dtype, shape, elements=st.integers(0, 5)))
    # Non-consecutive labels: scale some values up.
    labels = labels * draw(st.sampled_from([1, 7, 50]))
    image_dtype = draw(st.sampled_from(IMAGE_DTYPES))
    if image_dtype is bool:
        image = draw(hnp.arrays(bool, shape))
    elif np.dtype(image_dtype).kind == "f":
        image = draw(hnp.arrays(image_dtype, shape,
                                elements=st.floats(-1e3, 1e3, width=32)))
    else:
        image = draw(hnp.arrays(image_dtype, shape, elements=st.integers(0, 255)))
    return labels, image


@given(labels_and_image())
def test_matches_regionprops_on_random_labels(case):
    labels, image = case
    table = measure(labels, image, as_frame=False)
    assert_same_table(table, regionprops_table(labels, image))


@given(labels_and_image(min_side=1), st.sampled_from(["fortran", "strided", "big_endian",
                                                      "read_only"]))
def test_memory_layouts_give_the_same_table(case, layout):
    labels, image = case
    expected = measure(labels, image, as_frame=False)
    table = measure(views(labels)[layout], views(image)[layout], as_frame=False)
    assert_same_table(table, expected)


@given(hnp.arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_bool_labels_are_one_object(mask):
    table = measure(mask, as_frame=False)
    expected = regionprops_table(mask.astype(np.uint8), np.zeros(mask.shape))
    for name in ("label", "area", "perimeter", "solidity", "eccentricity"):
        np.testing.assert_allclose(table[name], expected[name], err_msg=name)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1)])
def test_thin_images(shape):
    labels = np.arange(np.prod(shape), dtype=np.int32).reshape(shape) % 3
    image = np.arange(labels.size, dtype=np.float64).reshape(shape)
    assert_same_table(measure(labels, image, as_frame=False),
                      regionprops_table(labels, image))


def test_empty_and_background_only_images_give_empty_tables():
    for labels in (np.zeros((0, 0), np.uint8), np.zeros((0, 5), np.uint8),
                   np.zeros((4, 5), np.uint16)):
        table = measure(labels, as_frame=False)
        assert list(table) == list(MEASURE_COLUMNS)
        assert all(len(column) == 0 for column in table.values())


@pytest.mark.parametrize("name", ["dna-0.png", "dna-33.png"])
def test_matches_regionprops_on_u2os(u2os_dir, name):
    image, truth = load_u2os(name)
    table = measure(truth, image, as_frame=False)
    assert len(table["label"]) > 10
    assert_same_table(table, regionprops_table(truth, image))


def test_matches_mahotas_sizes_sums_and_boxes(u2os_dir):
    image, truth = load_u2os("dna-5.png")
    table = measure(truth, image, as_frame=False)
    present = table["label"]
    np.testing.assert_array_equal(table["area"], mahotas.labeled.labeled_size(truth)[present])
    # mahotas sums in the image's dtype (uint8 here wraps around): give it int64.
    np.testing.assert_allclose(table["intensity_sum"],
                               mahotas.labeled.labeled_sum(image.astype(np.int64), truth)[present])
    # mahotas's boxes are (min_y, max_y, min_x, max_x), half-open as ours.
    boxes = mahotas.labeled.bbox(truth)[present]
    np.testing.assert_array_equal(
        np.stack([table[c] for c in ("bbox_min_y", "bbox_max_y", "bbox_min_x",
                                     "bbox_max_x")], axis=1), boxes)
    centres = mahotas.center_of_mass(np.ones_like(image), truth)[present]
    np.testing.assert_allclose(table["centroid_y"], centres[:, 0])
    np.testing.assert_allclose(table["centroid_x"], centres[:, 1])


def test_frame_and_dict_hold_the_same_table():
    labels = np.zeros((6, 7), np.uint8)
    labels[1:3, 1:5] = 4
    labels[4:, 2:] = 9
    image = np.arange(42, dtype=np.uint8).reshape(6, 7)
    frame = measure(labels, image)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(MEASURE_COLUMNS)
    table = measure(labels, image, as_frame=False)
    assert isinstance(table, dict)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(table))
    assert frame["label"].tolist() == [4, 9]
    assert frame["touches_border"].tolist() == [False, True]


def test_without_image_intensities_are_nan():
    labels = np.zeros((5, 5), np.uint8)
    labels[1:4, 1:4] = 2
    table = measure(labels, as_frame=False)
    for name in ("intensity_mean", "intensity_sum", "intensity_min", "intensity_max"):
        assert np.isnan(table[name]).all()
    assert table["area"].tolist() == [9]


@pytest.mark.parametrize(("labels", "image", "kwargs", "error", "argument"), [
    (np.zeros((3, 3), np.float64), None, {}, TypeError, "labels"),
    (np.full((3, 3), -1, np.int32), None, {}, ValueError, "labels"),
    (np.zeros((3, 3, 3), np.uint8), None, {}, ValueError, "labels"),
    (np.zeros(3, np.uint8), None, {}, ValueError, "labels"),
    (np.zeros((3, 3), np.uint8), np.zeros((3, 4)), {}, ValueError, "image"),
    (np.zeros((3, 3), np.uint8), np.zeros((3, 3), complex), {}, TypeError, "image"),
    (np.zeros((3, 3), np.uint8), None, {"as_frame": "yes"}, TypeError, "as_frame"),
])
def test_bad_arguments_are_named(labels, image, kwargs, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        measure(labels, image, **kwargs)


def test_micrometre_columns_scale_lengths_and_areas():
    labels = np.zeros((9, 12), np.uint16)
    labels[1:5, 2:9] = 3
    labels[6:, :4] = 5
    pixels = measure(labels, as_frame=False)
    table = measure(labels, pixel_size=0.65, as_frame=False)
    assert list(table) == list(MEASURE_COLUMNS) + list(measure_module.MICROMETRE_COLUMNS)
    np.testing.assert_allclose(table["area_um2"], pixels["area"] * 0.65**2)
    for name, (source, power) in measure_module.MICROMETRE_COLUMNS.items():
        np.testing.assert_allclose(table[name], pixels[source] * 0.65**power, err_msg=name)
    assert "area_um2" not in pixels


@pytest.mark.parametrize(("pixel_size", "error"), [(0, ValueError), (-1.0, ValueError),
                                                   (float("nan"), ValueError),
                                                   (True, TypeError), ("0.5", TypeError)])
def test_bad_pixel_size_is_named(pixel_size, error):
    with pytest.raises(error, match="`pixel_size`"):
        measure(np.ones((2, 2), np.uint8), pixel_size=pixel_size)


def test_every_column_is_in_the_data_dictionary():
    table = measure(np.ones((3, 3), np.uint8), np.ones((3, 3)), pixel_size=1.0, as_frame=False)
    assert set(table) <= set(measure_module.COLUMNS)
    assert all(len(entry) == 2 and entry[1] for entry in measure_module.COLUMNS.values())
    text = measure_module.format_columns()
    assert all(name in text for name in measure_module.COLUMNS)
