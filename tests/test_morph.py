"""karyo.morph against mahotas (the oracle), scipy.ndimage and scikit-image.

Deliberate differences from mahotas, each tested below where it shows:

- Greyscale arithmetic on signed images: mahotas's overflow test misfires for
  negative pixels or negative structuring-element values (dilation returns the
  dtype's maximum, erosion its minimum). karyo saturates correctly; those
  cases are checked against a numpy reference instead.
- Binary dilation/erosion of a C-contiguous 2-D bool image: mahotas takes a
  fast path that skips offsets as large as the image and, for a positive
  column offset, misses one clamped column. karyo uses mahotas's general
  rule (nearest-pixel borders) for every layout; that rule is what mahotas
  computes on an int8 image with weights 0 (in the footprint) / -128 (out).
- cwatershed's lines: mahotas never initialises the lines array, so pixels it
  does not mark hold whatever memory held. karyo starts from False, so its
  lines are a subset of mahotas's and equal a direct transcription of the rule.
- Unreached pixels (no seed, or a Bc that cannot reach them) are 0 in karyo;
  mahotas leaves them uninitialised. NaN in a float surface floods last.
"""

from __future__ import annotations

import heapq

import mahotas
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import load_u2os
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.morphology import local_maxima

import karyo.morph as morph

INTEGER_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
                  np.int64]
ALL_DTYPES = [np.bool_, *INTEGER_DTYPES, np.float32, np.float64]
REAL_IMAGES = ["dna-1.png", "dna-33.png"]


# ------------------------------------------------------------------ strategies

@st.composite
def images(draw, dtypes=ALL_DTYPES, max_value=3, min_value=0, max_side=7, min_ndim=1):
    ndim = draw(st.integers(min_ndim, 3))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).integers(min_value, max_value + 1, shape)
    return values.astype(dtype)


@st.composite
def elements(draw, ndim, dtype, max_value=2, min_value=0, ensure_cross=False):
    # even sizes too (centre at shape // 2, as in mahotas), but for a cross
    sizes = [1, 3, 5] if ensure_cross else [1, 2, 3, 4, 5]
    shape = tuple(draw(st.lists(st.sampled_from(sizes), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**32 - 1))
    element = np.random.default_rng(seed).integers(min_value, max_value + 1, shape)
    element.flat[0] = max(1, min_value)  # never empty: mahotas leaves an empty Bc undefined
    if ensure_cross:
        element = np.pad(element, [(max(0, 1 - s // 2),) * 2 for s in shape])
        centre = tuple(s // 2 for s in element.shape)
        for axis in range(ndim):
            for step in (-1, 0, 1):
                position = list(centre)
                position[axis] += step
                element[tuple(position)] = max(element[tuple(position)], 1)
    return element.astype(dtype)


LAYOUTS = ["C", "fortran", "strided", "big-endian", "read-only"]


def in_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """The same values as `array` stored in another way."""
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided":
        holder = np.zeros(tuple(2 * s for s in array.shape), array.dtype)
        view = holder[tuple(slice(None, None, 2) for _ in array.shape)]
        view[...] = array
        return view
    if layout == "big-endian":
        return array.astype(array.dtype.newbyteorder(">"))
    if layout == "read-only":
        frozen = array.copy()
        frozen.flags.writeable = False
        return frozen
    return np.ascontiguousarray(array)


def lowest(dtype) -> object:
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ------------------------------------------------------------------ dilation and erosion

@given(image=images(dtypes=INTEGER_DTYPES), data=st.data(), layout=st.sampled_from(LAYOUTS))
def test_grey_dilate_erode_equal_mahotas(image, data, layout):
    Bc = data.draw(elements(image.ndim, image.dtype))
    for name in ("dilate", "erode"):
        expected = getattr(mahotas, name)(image, Bc)
        result = getattr(morph, name)(in_layout(image, layout), Bc)
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected, err_msg=name)


@given(image=images(dtypes=[np.bool_]), data=st.data(), layout=st.sampled_from(LAYOUTS))
def test_binary_dilate_erode_equal_mahotas_general_rule(image, data, layout):
    Bc = data.draw(elements(image.ndim, bool))
    # mahotas's general (non-fast-path) rule, see the module docstring.
    weights = np.where(Bc, 0, -128).astype(np.int8)
    for name in ("dilate", "erode"):
        expected = getattr(mahotas, name)(image.astype(np.int8), weights) > 0
        result = getattr(morph, name)(in_layout(image, layout), Bc)
        assert result.dtype == np.bool_
        np.testing.assert_array_equal(result, expected, err_msg=name)


@given(image=images(dtypes=[np.bool_], min_ndim=2), connectivity=st.sampled_from([4, 8]))
def test_binary_dilate_erode_equal_mahotas_and_scipy_for_cross_and_square(image,
                                                                         connectivity):
    image = image.reshape(image.shape[0], -1)
    Bc = morph.get_structuring_elem(image, connectivity)
    dilated, eroded = morph.dilate(image, Bc), morph.erode(image, Bc)
    np.testing.assert_array_equal(dilated, mahotas.dilate(image, Bc))
    np.testing.assert_array_equal(eroded, mahotas.erode(image, Bc))
    # With a symmetric Bc holding its centre, clamped borders mean "outside
    # is 0" for dilation and "outside is 1" for erosion.
    np.testing.assert_array_equal(dilated, ndi.binary_dilation(image, Bc, border_value=0))
    np.testing.assert_array_equal(eroded, ndi.binary_erosion(image, Bc, border_value=1))


@given(image=images(dtypes=[np.float32, np.float64], max_value=50),
       radius=st.integers(0, 2), square=st.booleans())
def test_float_flat_dilate_erode_equal_scipy(image, radius, square):
    # mahotas refuses floats; karyo applies its integer rule (weights added,
    # the lowest value -inf leaves an element out), so a 0/-inf element is a
    # flat footprint, which scipy computes with mode='nearest'.
    image = image + np.asarray(0.25, image.dtype)
    footprint = (np.ones((2 * radius + 1,) * image.ndim, bool) if square
                 else morph.get_structuring_elem(image, radius or 1).astype(bool)
                 if radius else np.ones((1,) * image.ndim, bool))
    Bc = np.where(footprint, 0, -np.inf).astype(image.dtype)
    np.testing.assert_array_equal(morph.dilate(image, Bc),
                                  ndi.grey_dilation(image, footprint=footprint, mode="nearest"))
    np.testing.assert_array_equal(morph.erode(image, Bc),
                                  ndi.grey_erosion(image, footprint=footprint, mode="nearest"))


def numpy_reference(image: np.ndarray, Bc: np.ndarray, is_dilation: bool) -> np.ndarray:
    """Saturating non-flat dilation/erosion with nearest borders, in int64 numpy."""
    info = np.iinfo(image.dtype)
    centre = np.array(Bc.shape) // 2
    grid = np.indices(image.shape).reshape(image.ndim, -1)
    values = image.reshape(-1).astype(np.int64)
    result = np.full(image.size, info.min if is_dilation else info.max, np.int64)
    for position in np.argwhere(Bc != info.min):
        weight = int(Bc[tuple(position)])
        offset = (position - centre)[:, None]
        moved = np.ravel_multi_index(
            tuple(np.clip(grid + offset, 0, np.array(image.shape)[:, None] - 1)), image.shape)
        if is_dilation:  # scatter, as mahotas: the dtype's minimum stays -inf
            contribution = np.where(values == info.min, info.min, values + weight)
            np.maximum.at(result, moved, np.clip(contribution, info.min, info.max))
        else:
            result = np.minimum(result, np.clip(values[moved] - weight, info.min, info.max))
    return result.reshape(image.shape).astype(image.dtype)


@given(image=images(dtypes=[np.int8, np.int16, np.int32], min_value=-120, max_value=120),
       data=st.data())
def test_signed_grey_morphology_saturates_where_mahotas_misfires(image, data):
    Bc = data.draw(elements(image.ndim, image.dtype, min_value=-100, max_value=100))
    np.testing.assert_array_equal(morph.dilate(image, Bc), numpy_reference(image, Bc, True))
    np.testing.assert_array_equal(morph.erode(image, Bc), numpy_reference(image, Bc, False))


def test_mahotas_misfire_on_negative_values_is_not_copied():
    image = np.array([[0, -5, 3], [2, 2, 2], [1, 1, 1]], np.int8)
    assert mahotas.dilate(image)[0, 0] == 127  # mahotas: "overflow" on a negative pixel
    assert morph.dilate(image)[0, 0] == 3


def test_out_argument_and_aliasing():
    image = (np.arange(30).reshape(5, 6) % 7).astype(np.uint8)
    out = np.empty_like(image)
    assert morph.dilate(image, out=out) is out
    np.testing.assert_array_equal(out, mahotas.dilate(image))
    in_place = image.copy()
    morph.erode(in_place, out=in_place)  # reads the input before writing
    np.testing.assert_array_equal(in_place, mahotas.erode(image))
    with pytest.raises(ValueError, match="out"):
        morph.dilate(image, out=np.empty(image.shape, np.uint16))
    with pytest.warns(DeprecationWarning, match="output"):
        morph.erode(image, output=np.empty_like(image))


@pytest.mark.parametrize("name", ["dilate", "erode", "open", "close"])
def test_morphology_on_real_image(name, u2os_dir):
    image, _ = load_u2os(REAL_IMAGES[0])
    for Bc in (None, np.ones((3, 3), np.uint8), morph.disk(4).astype(np.uint8)):
        np.testing.assert_array_equal(getattr(morph, name)(image, Bc),
                                      getattr(mahotas, name)(image, Bc))
    binary = image > image.mean()
    np.testing.assert_array_equal(getattr(morph, name)(binary, morph.disk(3)),
                                  getattr(mahotas, name)(binary, morph.disk(3)))


# Unsigned only: an opening of a signed image goes through negative values, where
# mahotas misfires; and no bool, whose random Bc meets mahotas's 2-D fast path (see
# the module docstring; bool open/close are checked on the real image).
@given(image=images(dtypes=[np.uint8, np.uint16, np.uint32]), data=st.data())
def test_open_close_cdilate_cerode_tophat_equal_mahotas(image, data):
    Bc = data.draw(elements(image.ndim, image.dtype))
    other = np.roll(image, 1)
    for name in ("open", "close", "tophat_open", "tophat_close"):
        np.testing.assert_array_equal(getattr(morph, name)(image, Bc),
                                      getattr(mahotas.morph, name)(image, Bc), err_msg=name)
    np.testing.assert_array_equal(morph.cdilate(image, other, Bc, n=3),
                                  mahotas.cdilate(image, other, Bc, n=3))
    np.testing.assert_array_equal(morph.cerode(image, other, Bc),
                                  mahotas.cerode(image, other, Bc))


@pytest.mark.parametrize("g", [12, 3, True, np.uint8(3), np.full((1, 8), 2, np.uint8),
                               np.full((8, 1), 5, np.int32)])
@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int16])
def test_cdilate_mask_broadcasts_as_in_mahotas(g, dtype):
    image = np.zeros((8, 8), dtype)
    image[4, 4] = 1
    image[1, 6] = 2 if dtype != np.bool_ else 1
    for n in (1, 3):
        result = morph.cdilate(image, g, n=n)
        expected = mahotas.cdilate(image, g, n=n)
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)
    with pytest.raises(ValueError, match="`g`"):
        morph.cdilate(image, np.ones((3, 8), dtype))


def test_greyscale_morphology_rejects_bad_arguments():
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="Bc"):
        morph.erode(image, np.ones((3, 3, 3), np.uint8))
    with pytest.raises(TypeError, match="A"):
        morph.dilate(image.astype(np.complex64))
    with pytest.raises(TypeError, match="A"):
        morph.erode(image.astype(np.float16))
    with pytest.raises(TypeError, match="f"):
        morph.open(image.astype(float))


def test_empty_and_single_pixel_images():
    for shape in [(0,), (0, 5), (1,), (1, 1), (1, 6)]:
        image = np.ones(shape, np.uint8)
        for name in ("dilate", "erode", "locmax", "regmax", "regmin"):
            result = getattr(morph, name)(image)
            assert result.shape == shape
            if image.size:
                np.testing.assert_array_equal(result, getattr(mahotas, name)(image))


# ------------------------------------------------------------------ structuring elements

@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.float64])
def test_get_structuring_elem_equal_mahotas(ndim, dtype):
    image = np.zeros((3,) * ndim, dtype)
    counts = {1: [None, 1, 2], 2: [None, 1, 2, 4, 8], 3: [None, 1, 2, 3, 6, 26]}[ndim]
    for Bc in counts:
        expected = mahotas.get_structuring_elem(image, Bc)
        result = morph.get_structuring_elem(image, Bc)
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("radius", [0, 1, 2, 5])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_disk_equal_mahotas(radius, dim):
    np.testing.assert_array_equal(morph.disk(radius, dim), mahotas.disk(radius, dim))
    if radius:
        np.testing.assert_array_equal(morph.circle_se(radius), mahotas.morph.circle_se(radius))


def test_disk_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dim"):
        morph.disk(2, 0)
    with pytest.raises(ValueError, match="radius"):
        morph.disk(-1)
    with pytest.raises(TypeError, match="radius"):
        morph.disk(1.5)


# ------------------------------------------------------------------ regional extrema

@given(image=images(), data=st.data(), layout=st.sampled_from(LAYOUTS))
def test_extrema_equal_mahotas(image, data, layout):
    Bc = data.draw(elements(image.ndim, image.dtype))
    for name in ("locmax", "locmin", "regmax", "regmin"):
        expected = getattr(mahotas, name)(image, Bc)
        result = getattr(morph, name)(in_layout(image, layout), Bc)
        assert result.dtype == np.bool_
        np.testing.assert_array_equal(result, expected, err_msg=name)


@st.composite
def long_row_images(draw, max_value=3):
    # float64 local extrema compare whole vectors of 8 pixels along a row: rows
    # of up to 70 pixels exercise those blocks, the clamped columns and the tail
    ndim = draw(st.integers(1, 3))
    shape = (*draw(st.lists(st.integers(1, 5), min_size=ndim - 1, max_size=ndim - 1)),
             draw(st.integers(1, 70)))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, max_value + 1, shape).astype(np.float64)


@given(image=long_row_images(), data=st.data())
def test_float64_extrema_equal_integer_kernel_and_mahotas(image, data):
    # float64 takes its own local-extremum pass: integer values give the same
    # answer through the int64 kernel, and mahotas's
    Bc = data.draw(elements(image.ndim, np.float64))
    for name in ("regmax", "regmin", "locmax", "locmin"):
        result = getattr(morph, name)(image, Bc)
        np.testing.assert_array_equal(result, getattr(morph, name)(image.astype(np.int64), Bc),
                                      err_msg=name)
        np.testing.assert_array_equal(result, getattr(mahotas, name)(image, Bc), err_msg=name)


# Long rows reach the vectorised float64 pass; the others, every shape up to 3-D
# (twice the examples: the two kinds share them).
@settings(max_examples=2 * settings.default.max_examples)
@given(image=images(dtypes=[np.float64], max_value=2) | long_row_images(max_value=2),
       data=st.data())
def test_extrema_with_nan_equal_mahotas(image, data):
    image[image == 2] = np.nan
    Bc = data.draw(elements(image.ndim, image.dtype))
    for name in ("locmax", "locmin", "regmax", "regmin"):
        np.testing.assert_array_equal(getattr(morph, name)(image, Bc),
                                      getattr(mahotas, name)(image, Bc), err_msg=name)


@given(image=images(dtypes=[np.uint8, np.float32], max_value=4, min_ndim=2))
def test_regmax_equal_skimage_local_maxima(image):
    if image.min() == image.max():
        return  # scikit-image finds no maximum in a flat image; mahotas (and karyo) all pixels
    np.testing.assert_array_equal(morph.regmax(image, 1),
                                  local_maxima(image, connectivity=1, allow_borders=True))
    np.testing.assert_array_equal(morph.regmin(image, 3 ** image.ndim - 1),
                                  local_maxima(-image.astype(np.float64),
                                               connectivity=image.ndim, allow_borders=True))


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_regmax_of_smoothed_nuclei_equal_mahotas_and_skimage(name, u2os_dir):
    image, _ = load_u2os(name)
    smoothed = mahotas.gaussian_filter(image.astype(float), 8)
    result = morph.regmax(smoothed)
    np.testing.assert_array_equal(result, mahotas.regmax(smoothed))
    np.testing.assert_array_equal(result, local_maxima(smoothed, connectivity=1,
                                                       allow_borders=True))
    np.testing.assert_array_equal(morph.regmin(smoothed, 8), mahotas.regmin(smoothed, 8))
    assert result.any()


def test_extrema_out_argument():
    image = np.array([[0, 2, 1], [1, 1, 3]], np.uint8)
    out = np.zeros(image.shape, bool)
    assert morph.regmax(image, out=out) is out
    np.testing.assert_array_equal(out, mahotas.regmax(image))
    with pytest.raises(ValueError, match="out"):
        morph.locmax(image, out=np.zeros(image.shape, np.uint8))


# ------------------------------------------------------------------ seeded watershed

def reference_watershed(surface: np.ndarray, markers: np.ndarray, Bc: np.ndarray):
    """Direct transcription of mahotas's rule: heap of (value, entry order)."""
    offsets = [tuple(o) for o in np.argwhere(Bc) - np.array(Bc.shape) // 2 if any(o)]
    labels = markers.astype(np.int64).copy()
    lines = np.zeros(surface.shape, bool)
    status = np.where(labels != 0, 1, 0)  # 0 unseen, 1 queued, 2 done
    queue = [(surface[p], order, p) for order, p in
             enumerate(map(tuple, np.argwhere(labels != 0)))]
    heapq.heapify(queue)
    order = len(queue)
    while queue:
        _, _, position = heapq.heappop(queue)
        status[position] = 2
        for offset in offsets:
            neighbour = tuple(np.add(position, offset))
            if not all(0 <= c < n for c, n in zip(neighbour, surface.shape, strict=True)):
                continue
            if status[neighbour] == 0:
                labels[neighbour] = labels[position]
                status[neighbour] = 1
                heapq.heappush(queue, (surface[neighbour], order, neighbour))
                order += 1
            elif status[neighbour] == 1 and labels[neighbour] != labels[position]:
                lines[neighbour] = True
    return labels, lines


@st.composite
def watershed_inputs(draw, dtypes=ALL_DTYPES):
    surface = draw(images(dtypes=dtypes, max_value=4, max_side=8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    markers = np.zeros(surface.shape, draw(st.sampled_from([np.int32, np.uint8, np.int64,
                                                             np.bool_])))
    n_seeds = int(rng.integers(1, 6))
    markers.flat[rng.integers(0, surface.size, n_seeds)] = np.arange(1, n_seeds + 1)
    Bc = draw(elements(surface.ndim, surface.dtype, max_value=1, ensure_cross=True))
    return surface, markers, Bc


@given(inputs=watershed_inputs(), layout=st.sampled_from(LAYOUTS))
def test_cwatershed_equal_mahotas(inputs, layout):
    surface, markers, Bc = inputs
    labels, lines = morph.cwatershed(in_layout(surface, layout), in_layout(markers, layout),
                                     Bc, return_lines=True)
    expected_labels, expected_lines = mahotas.cwatershed(surface, markers, Bc,
                                                         return_lines=True)
    assert labels.dtype == expected_labels.dtype == np.int64
    np.testing.assert_array_equal(labels, expected_labels)
    assert not (lines & ~expected_lines).any()  # mahotas's extra lines are uninitialised memory
    reference_labels, reference_lines = reference_watershed(surface, markers, Bc)
    np.testing.assert_array_equal(labels, reference_labels)
    np.testing.assert_array_equal(lines, reference_lines)
    np.testing.assert_array_equal(morph.cwatershed(surface, markers, Bc), labels)


@given(inputs=watershed_inputs(dtypes=[np.float32, np.float64]))
def test_cwatershed_nan_floods_last(inputs):
    surface, markers, Bc = inputs
    surface[surface == 4] = np.nan
    above_all = np.where(np.isnan(surface), 5, surface)  # NaN ties among themselves by order
    np.testing.assert_array_equal(morph.cwatershed(surface, markers, Bc),
                                  mahotas.cwatershed(above_all, markers, Bc))


@st.composite
def flat_watershed_inputs(draw):
    """2-D reliefs (1-pixel-wide ones included) with the cross or the 3x3 square."""
    shape = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    dtype = draw(st.sampled_from([np.uint8, np.int8, np.uint16, np.int16, np.bool_]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    surface = rng.integers(0, 4, shape).astype(dtype)
    markers = np.zeros(shape, np.int32)
    n_seeds = int(rng.integers(1, 5))
    markers.flat[rng.integers(0, markers.size, n_seeds)] = rng.integers(-3, 1000, n_seeds) | 1
    Bc = draw(st.sampled_from([morph.get_structuring_elem(surface, 1),
                               np.ones((3, 3), bool)]))
    return surface, markers, Bc


@given(inputs=flat_watershed_inputs())
def test_cwatershed_padded_flood_equals_reference(inputs):
    # The padded kernel (no border tests) against the transcription of the
    # rule, with 4- and 8-connectivity, seeds on the border and negative labels.
    surface, markers, Bc = inputs
    labels, lines = morph.cwatershed(surface, markers, Bc, return_lines=True)
    expected_labels, expected_lines = reference_watershed(surface, markers, Bc)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(lines, expected_lines)
    np.testing.assert_array_equal(morph.cwatershed(surface, markers, Bc), labels)


@given(inputs=watershed_inputs())
def test_cwatershed_bordered_flood_equals_padded(inputs):
    # Labels beyond 32 bits take the bordered kernels: same regions, same lines.
    surface, markers, Bc = inputs
    big = markers.astype(np.int64) << 40
    labels, lines = morph.cwatershed(surface, markers, Bc, return_lines=True)
    big_labels, big_lines = morph.cwatershed(surface, big, Bc, return_lines=True)
    np.testing.assert_array_equal(big_labels, labels.astype(np.int64) << 40)
    np.testing.assert_array_equal(big_lines, lines)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint32])
def test_cwatershed_many_values_flood_a_heap(dtype):
    # Over 65536 distinct values: the padded heap, not the bucket queue of ranks.
    rng = np.random.default_rng(1)
    surface = rng.permutation(300 * 250).reshape(300, 250).astype(dtype)
    if dtype == np.float64:
        surface[rng.random(surface.shape) < 0.01] = np.nan
    markers = np.zeros(surface.shape, np.int32)
    markers.flat[rng.integers(0, surface.size, 40)] = np.arange(1, 41)
    labels, lines = morph.cwatershed(surface, markers, return_lines=True)
    bordered_labels, bordered_lines = morph.cwatershed(surface, markers.astype(np.int64) << 40,
                                                       return_lines=True)
    np.testing.assert_array_equal(bordered_labels, labels.astype(np.int64) << 40)
    np.testing.assert_array_equal(bordered_lines, lines)
    if dtype != np.float64:
        np.testing.assert_array_equal(labels, mahotas.cwatershed(surface, markers))


def test_cwatershed_many_short_axes_many_values():
    # Padding would make the image 16 times larger, and 131200 distinct
    # values are too many for the bucket queue: the bordered heap.
    shape = (2, 2, 2, 2, 8200)
    surface = np.random.default_rng(2).permutation(np.prod(shape)).reshape(shape) * 0.5
    markers = np.zeros(surface.shape, np.int32)
    markers.flat[[0, 5000, surface.size - 1]] = [1, 2, 3]
    Bc = morph.get_structuring_elem(surface, 1)
    np.testing.assert_array_equal(morph.cwatershed(surface, markers, Bc),
                                  mahotas.cwatershed(surface, markers, Bc))


def test_cwatershed_many_short_axes():
    # Padding 12 axes of length 2 would multiply the image by 4**12: bordered flood.
    rng = np.random.default_rng(0)
    surface = rng.integers(0, 3, (2,) * 12).astype(np.uint8)
    markers = np.zeros(surface.shape, np.int32)
    markers.flat[[0, 1000, 4095]] = [1, 2, 3]
    Bc = morph.get_structuring_elem(surface, 1)
    labels, lines = morph.cwatershed(surface, markers, Bc, return_lines=True)
    expected_labels, expected_lines = reference_watershed(surface, markers, Bc)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(lines, expected_lines)


def test_cwatershed_labels_never_wrap():
    surface = np.zeros((1, 300), np.uint8)
    markers = np.arange(1, 301, dtype=np.int64).reshape(1, 300)
    np.testing.assert_array_equal(morph.cwatershed(surface, markers), markers)


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_cwatershed_tutorial_equal_mahotas(name, u2os_dir):
    image, _ = load_u2os(name)
    smoothed = mahotas.gaussian_filter(image.astype(float), 8)
    foreground = smoothed > smoothed.mean()
    distance = mahotas.distance(foreground)
    surface = mahotas.stretch(distance.max() - distance)
    seeds, _ = mahotas.label(mahotas.regmax(distance))
    labels, lines = morph.cwatershed(surface, seeds, return_lines=True)
    expected_labels, expected_lines = mahotas.cwatershed(surface, seeds, return_lines=True)
    np.testing.assert_array_equal(labels, expected_labels)
    assert not (lines & ~expected_lines).any()
    assert lines.any()
    np.testing.assert_array_equal(morph.cwatershed(surface.astype(np.float32), seeds),
                                  expected_labels)


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
                    reason="long double is float64 on this platform")
def test_cwatershed_long_double_equals_mahotas():
    rng = np.random.default_rng(3)
    surface = (rng.integers(0, 40, (15, 17)) / 7).astype(np.longdouble)
    # two values that float64 cannot tell apart: the lower one must flood first
    tiny = np.longdouble(2) ** -60
    surface[7, 3], surface[7, 13] = 1 + tiny, 1
    markers = np.zeros(surface.shape, np.int32)
    markers[7, 0], markers[7, 16], markers[0, 8] = 1, 2, 3
    surface[7, :] = np.maximum(surface[7, :], 1)
    labels = morph.cwatershed(surface, markers)
    np.testing.assert_array_equal(labels, mahotas.cwatershed(surface, markers))
    with_nan = surface.copy()
    with_nan[3, 3] = np.nan
    assert morph.cwatershed(with_nan, markers)[3, 3] != 0


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 2), (4, 4), (2, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float64])
def test_cwatershed_even_structuring_elements_equal_mahotas(shape, dtype):
    # centre at shape // 2: a 2x2 element floods up and left only, so a seed
    # in the bottom-right corner reaches every pixel (mahotas leaves the
    # pixels it never reaches uninitialised)
    rng = np.random.default_rng(sum(shape))
    surface = rng.integers(0, 20, (11, 13)).astype(dtype)
    markers = np.zeros(surface.shape, np.int32)
    markers[-1, -1], markers[0, 0], markers[5, 6], markers[2, 9] = 1, 2, 3, 4
    Bc = np.ones(shape, bool)
    labels = morph.cwatershed(surface, markers, Bc)
    assert labels.all()
    np.testing.assert_array_equal(labels, mahotas.cwatershed(surface, markers, Bc))


def test_even_get_structuring_elem_is_kept_as_given():
    image = np.zeros((10, 10), np.bool_)
    Bc = np.ones((4, 4), np.bool_)
    Bc[0, 2] = 0
    for element_in in (Bc, Bc.T, Bc.astype(np.float32).T):
        element = morph.get_structuring_elem(image, element_in)
        assert element.flags.c_contiguous
        np.testing.assert_array_equal(element, mahotas.get_structuring_elem(image, element_in))


def test_cwatershed_edge_cases():
    empty = morph.cwatershed(np.zeros((0, 3)), np.zeros((0, 3), int), return_lines=True)
    assert empty[0].shape == empty[1].shape == (0, 3)
    np.testing.assert_array_equal(morph.cwatershed(np.ones((2, 2)), np.zeros((2, 2), int)), 0)
    np.testing.assert_array_equal(morph.cwatershed(np.ones(1, np.uint8), np.ones(1, int)), 1)


def test_cwatershed_rejects_bad_arguments():
    surface = np.zeros((4, 5), np.uint8)
    with pytest.raises(ValueError, match="markers"):
        morph.cwatershed(surface, np.zeros((5, 4), int))
    with pytest.raises(TypeError, match="markers"):
        morph.cwatershed(surface, np.zeros((4, 5), float))
    with pytest.raises(TypeError, match="surface"):
        morph.cwatershed(surface.astype(complex), np.zeros((4, 5), int))
    with pytest.raises(ValueError, match="Bc"):
        morph.cwatershed(surface, np.zeros((4, 5), int), np.ones((3, 3, 3)))


# ------------------------------------------------------------------ other operators

@given(image=images(dtypes=[np.bool_], min_ndim=2, max_side=9), connectivity=st.sampled_from(
    [4, 8]), layout=st.sampled_from(LAYOUTS))
def test_close_holes_equal_mahotas(image, connectivity, layout):
    image = image.reshape(image.shape[0], -1)
    np.testing.assert_array_equal(morph.close_holes(in_layout(image, layout), connectivity),
                                  mahotas.close_holes(image, connectivity))


@pytest.mark.parametrize("connectivity", [4, 8])
def test_close_holes_equal_scipy_on_a_large_image(connectivity):
    # Over 2**17 pixels (labelling shares such images between threads), with
    # holes of every size, some touching the border.
    rng = np.random.default_rng(connectivity)
    texture = ndi.gaussian_filter(rng.random((600, 500)), 3)
    foreground = texture > np.quantile(texture, 0.4)
    structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    np.testing.assert_array_equal(morph.close_holes(foreground, connectivity),
                                  ndi.binary_fill_holes(foreground, structure))


@given(image=images(dtypes=[np.bool_], min_ndim=2, max_side=12), N=st.sampled_from([3, 5]))
def test_majority_filter_equal_mahotas(image, N):
    image = image.reshape(image.shape[0], -1)
    np.testing.assert_array_equal(morph.majority_filter(image, N),
                                  mahotas.majority_filter(image, N))


@given(image=images(dtypes=[np.bool_, np.uint8, np.int32], max_value=1, min_ndim=2),
       data=st.data())
def test_hitmiss_equal_mahotas(image, data):
    seed = data.draw(st.integers(0, 2**32 - 1))
    shape = tuple(data.draw(st.sampled_from([1, 2, 3, 4])) for _ in range(image.ndim))
    template = np.random.default_rng(seed).integers(0, 3, shape).astype(np.uint8)
    np.testing.assert_array_equal(morph.hitmiss(image, template),
                                  mahotas.hitmiss(image, template))


@given(image=images(dtypes=INTEGER_DTYPES, min_value=-100, max_value=100))
def test_subm_equal_mahotas(image):
    other = (np.roll(image, 1) * 2).astype(image.dtype)
    np.testing.assert_array_equal(morph.subm(image, other), mahotas.morph.subm(image, other))
    extreme = np.full(image.shape, np.iinfo(image.dtype).max, image.dtype)
    np.testing.assert_array_equal(morph.subm(image, extreme), mahotas.morph.subm(image, extreme))


def test_subm_of_floats_is_plain_subtraction():
    # mahotas refuses floats (RuntimeError); karyo subtracts them.
    a, b = np.array([1.5, -2.0]), np.array([3.0, -np.inf])
    np.testing.assert_array_equal(morph.subm(a, b), a - b)
    with pytest.raises(ValueError, match="dtype"):
        morph.subm(a, b.astype(np.float32))
