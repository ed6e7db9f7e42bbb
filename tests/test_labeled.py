"""karyo.labeled (and karyo.bbox) against mahotas, scipy.ndimage and numpy."""

from __future__ import annotations

import importlib

import mahotas
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from karyo import labeled

# The module: the attribute karyo.bbox is the function, as in mahotas.
kbbox = importlib.import_module("karyo.bbox")

PIXEL_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                np.uint64, np.int64, np.float16, np.float32, np.float64]
VALUE_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                np.uint64, np.int64, np.float32, np.float64]
LABEL_DTYPES = [np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64]
LAYOUTS = ["C", "F", "strided", "big-endian", "read-only"]


def with_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """The same values as `array`, stored another way."""
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "strided":
        # every other element, read backwards (negative strides), of an
        # array twice as large holding the values reversed
        big = np.zeros(tuple(2 * s for s in array.shape), array.dtype)
        big[(slice(1, None, 2),) * array.ndim] = array[(slice(None, None, -1),) * array.ndim]
        return big[(slice(None, None, -2),) * array.ndim]
    if layout == "big-endian":
        return array.astype(array.dtype.newbyteorder(">"))
    if layout == "read-only":
        array = array.copy()
        array.setflags(write=False)
        return array
    return np.ascontiguousarray(array)


@st.composite
def binary_images(draw, min_ndim=1, max_ndim=3, max_side=12, min_side=0):
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=min_side,
                                  max_side=max_side))
    density = draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).random(shape) < density


@st.composite
def structuring_elements(draw, ndim):
    """A random element of size 1 to 5 along each axis (centre at shape // 2, as mahotas)."""
    shape = tuple(draw(st.sampled_from([1, 2, 3, 4, 5])) for _ in range(ndim))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).random(shape) < 0.4


def as_values(binary: np.ndarray, dtype, seed: int = 0) -> np.ndarray:
    """`binary` as `dtype`: random nonzero values where True, zeros elsewhere."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.bool_:
        return binary.copy()
    values = rng.integers(1, 100, binary.shape).astype(dtype)
    if np.dtype(dtype).kind == "f":
        values *= np.where(rng.random(binary.shape) < 0.5, -1, 1).astype(dtype)
        zeros = np.where(rng.random(binary.shape) < 0.5, -0.0, 0.0).astype(dtype)
        return np.where(binary, values, zeros)
    return np.where(binary, values, 0).astype(dtype)


def mahotas_label_padded(binary: np.ndarray, element: np.ndarray):
    """mahotas.label on a zero frame as wide as `element`'s radius, cut back.

    mahotas replicates edge pixels beyond the image, which joins pixels an
    element with holes does not connect; karyo (like scipy) treats the
    outside as absent. On a background frame both agree.
    """
    radius = [s // 2 for s in element.shape]
    padded = np.pad(binary, [(r, r) for r in radius])
    result, count = mahotas.label(padded, element)
    inner = tuple(slice(r, r + s) for r, s in zip(radius, binary.shape, strict=True))
    return result[inner], count


# ---------------------------------------------------------------- label

@given(binary_images(min_ndim=1, max_ndim=3, min_side=1),
       st.sampled_from(["cross", "full"]))
def test_label_matches_mahotas_and_scipy(binary, connectivity):
    element = (None if connectivity == "cross"
               else np.ones((3,) * binary.ndim, bool))
    result, count = labeled.label(binary, element)
    expected, expected_count = mahotas.label(binary, element)
    assert result.dtype == np.int32
    assert count == expected_count
    # same numbering, not just the same partition
    np.testing.assert_array_equal(result, expected)
    scipy_result, scipy_count = ndi.label(binary, element)
    assert count == scipy_count
    np.testing.assert_array_equal(result, scipy_result)


@given(st.data())
def test_label_random_elements_match_mahotas(data):
    binary = data.draw(binary_images(min_ndim=1, max_ndim=3, min_side=1, max_side=10))
    element = data.draw(structuring_elements(binary.ndim))
    result, count = labeled.label(binary, element)
    expected, expected_count = mahotas_label_padded(binary, element)
    assert count == expected_count
    np.testing.assert_array_equal(result, expected)
    if all(s == 3 for s in element.shape):
        symmetric = element | element[(slice(None, None, -1),) * element.ndim]
        scipy_result, scipy_count = ndi.label(binary, symmetric)
        assert count == scipy_count
        np.testing.assert_array_equal(result, scipy_result)


def test_label_edge_pixels_do_not_join_through_the_outside():
    # mahotas joins pixels 0 and 1 here: its offset -2 from pixel 1 falls
    # outside and is read as the nearest pixel, 0. Deliberate difference.
    image = np.array([1, 1, 0, 0, 0, 1], bool)
    element = np.array([1, 0, 0, 0, 0], bool)
    result, count = labeled.label(image, element)
    assert count == 3
    assert mahotas.label(image, element)[1] == 2


@given(binary_images(min_ndim=1, max_ndim=3, min_side=1, max_side=8),
       st.sampled_from(PIXEL_DTYPES), st.sampled_from(LAYOUTS),
       st.sampled_from(["cross", "full"]), st.integers(0, 1000))
def test_label_dtypes_and_layouts(binary, dtype, layout, connectivity, seed):
    element = None if connectivity == "cross" else np.ones((3,) * binary.ndim, bool)
    image = with_layout(as_values(binary, dtype, seed), layout)
    result, count = labeled.label(image, element)
    expected, expected_count = mahotas.label(binary, element)
    assert count == expected_count
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("shape", [(0,), (0, 5), (5, 0), (2, 0, 3), (1,), (1, 1), (1, 7), (7, 1)])
@pytest.mark.parametrize("connectivity", [None, 8])
def test_label_tiny_and_empty(shape, connectivity):
    for fill in (False, True):
        image = np.full(shape, fill)
        element = connectivity if len(shape) == 2 else None
        result, count = labeled.label(image, element)
        expected, expected_count = mahotas.label(image, element)
        assert count == expected_count
        np.testing.assert_array_equal(result, expected)
        assert result.shape == shape


def test_label_writes_into_out():
    image = np.random.default_rng(1).random((20, 30)) < 0.5
    out = np.full(image.shape, -5, np.int32)
    result, count = labeled.label(image, out=out)
    assert result is out
    expected, expected_count = mahotas.label(image)
    assert count == expected_count
    np.testing.assert_array_equal(out, expected)
    # the general n-D path writes into out too
    result, count = labeled.label(image, np.ones((1, 5), bool), out=out)
    assert result is out
    np.testing.assert_array_equal(out, mahotas_label_padded(image, np.ones((1, 5), bool))[0])


@pytest.fixture(scope="module")
def u2os_masks(u2os_dir):
    names = u2os_names()
    masks = []
    for name in (names[0], names[len(names) // 2]):
        image, _ = load_u2os(name)
        masks.append(image > image.mean())
    return masks


@pytest.mark.parametrize("connectivity", [4, 8])
def test_label_u2os_matches_mahotas_and_opencv(u2os_masks, connectivity):
    cv2 = pytest.importorskip("cv2")
    for mask in u2os_masks:
        result, count = labeled.label(mask, connectivity)
        expected, expected_count = mahotas.label(mask, connectivity)
        assert count == expected_count
        np.testing.assert_array_equal(result, expected)
        cv_count, cv_labels = cv2.connectedComponents(mask.view(np.uint8),
                                                      connectivity=connectivity,
                                                      ltype=cv2.CV_32S)
        assert cv_count - 1 == count
        assert labeled.is_same_labeling(result, cv_labels)


# ------------------------------------------------------ per-label measures

@st.composite
def labelled_images(draw, max_ndim=3, max_label=6, min_side=1):
    ndim = draw(st.integers(1, max_ndim))
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=min_side,
                                  max_side=9))
    seed = draw(st.integers(0, 2**32 - 1))
    labels = np.random.default_rng(seed).integers(0, max_label + 1, shape)
    return labels.astype(draw(st.sampled_from(LABEL_DTYPES)))


def random_values(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@given(labelled_images(), st.sampled_from(VALUE_DTYPES), st.sampled_from(LAYOUTS),
       st.integers(0, 1000))
def test_labeled_sum_matches_mahotas(labels, dtype, layout, seed):
    values = random_values(labels.shape, dtype, seed)
    result = labeled.labeled_sum(with_layout(values, layout), with_layout(labels, layout))
    expected = mahotas.labeled.labeled_sum(values, labels)
    assert result.dtype == expected.dtype
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-3)
    else:
        np.testing.assert_array_equal(result, expected)
    longer = labeled.labeled_sum(values, labels, minlength=20)
    assert len(longer) == max(20, len(expected))


@given(labelled_images(), st.sampled_from(VALUE_DTYPES), st.sampled_from(LAYOUTS),
       st.integers(0, 1000))
def test_labeled_max_min_match_mahotas(labels, dtype, layout, seed):
    values = random_values(labels.shape, dtype, seed)
    present = np.zeros(int(labels.max()) + 1, bool)
    present[labels.ravel().astype(np.int64)] = True
    for name in ("labeled_max", "labeled_min"):
        result = getattr(labeled, name)(with_layout(values, layout), with_layout(labels, layout))
        expected = getattr(mahotas.labeled, name)(values, labels)
        assert result.dtype == expected.dtype
        if np.dtype(dtype).kind == "f":
            # mahotas starts float maxima at the smallest positive float (so
            # an all-negative region reads as ~1e-308); karyo starts at -inf.
            # Compare with numpy where labels are present; absent: -inf/+inf.
            reduce = np.max if name == "labeled_max" else np.min
            for label_value in np.flatnonzero(present):
                assert result[label_value] == reduce(values[labels == label_value])
            missing = result[~present]
            assert np.all(missing == (-np.inf if name == "labeled_max" else np.inf))
        else:
            np.testing.assert_array_equal(result, expected)


@given(labelled_images(), st.sampled_from(LAYOUTS))
def test_labeled_size_matches_mahotas(labels, layout):
    result = labeled.labeled_size(with_layout(labels, layout))
    expected = mahotas.labeled.labeled_size(labels)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_negative_labels_are_ignored_by_reductions():
    labels = np.array([[-1, 0, 1], [2, -3, 2]])
    values = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(labeled.labeled_sum(values, labels),
                                  mahotas.labeled.labeled_sum(values, labels))
    np.testing.assert_array_equal(labeled.labeled_max(values, labels),
                                  mahotas.labeled.labeled_max(values, labels))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64])
def test_labeled_sum_wraps_in_the_input_dtype(dtype):
    """Sums that overflow wrap like numpy's (and mahotas's), without C undefined behaviour
    (UBSan found signed int32 overflow here)."""
    info = np.iinfo(dtype)
    values = np.array([[info.max, info.max, 3], [info.min, info.min, info.max]], dtype)
    labels = np.array([[1, 1, 1], [2, 2, 0]])
    expected = np.array([values[labels == i].sum(dtype=dtype) for i in range(3)], dtype)
    result = labeled.labeled_sum(values, labels)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(result, mahotas.labeled.labeled_sum(values, labels))


def test_measures_on_u2os(u2os_dir):
    image, truth = load_u2os(u2os_names()[1])
    for name in ("labeled_sum", "labeled_max", "labeled_min"):
        np.testing.assert_array_equal(getattr(labeled, name)(image, truth),
                                      getattr(mahotas.labeled, name)(image, truth))
    np.testing.assert_array_equal(labeled.labeled_size(truth),
                                  mahotas.labeled.labeled_size(truth))
    np.testing.assert_array_equal(labeled.bbox(truth), mahotas.labeled.bbox(truth))


@given(labelled_images(), st.sampled_from(LAYOUTS), st.booleans())
def test_labeled_bbox_matches_mahotas(labels, layout, as_slice):
    result = labeled.bbox(with_layout(labels, layout), as_slice=as_slice)
    expected = mahotas.labeled.bbox(labels.astype(np.int32), as_slice=as_slice)
    if as_slice:
        assert result == expected
    else:
        np.testing.assert_array_equal(result, expected)


@given(binary_images(min_ndim=1, max_ndim=3), st.sampled_from([None, 0, 1, 3]),
       st.booleans())
def test_bbox_matches_mahotas(binary, border, as_slice):
    result = kbbox.bbox(binary, border=border, as_slice=as_slice)
    expected = mahotas.bbox(binary, border=border, as_slice=as_slice)
    if as_slice:
        assert result == expected
        np.testing.assert_array_equal(kbbox.croptobbox(binary, border),
                                      mahotas.croptobbox(binary, border))
    else:
        np.testing.assert_array_equal(result, expected)


# --------------------------------------------------------- editing labels

@given(st.data())
def test_relabel_matches_mahotas(data):
    labels = data.draw(labelled_images(max_label=30))
    if data.draw(st.booleans()):
        # sparse and negative labels go through the general path
        labels = labels.astype(np.int64) * 100_003 - 7 * (labels == 3)
    result, count = labeled.relabel(labels)
    expected, expected_count = mahotas.labeled.relabel(labels.astype(np.int32))
    assert count == expected_count
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, expected)
    inplace = labels.astype(np.int32)
    returned, count = labeled.relabel(inplace, inplace=True)
    assert returned is inplace
    np.testing.assert_array_equal(inplace, expected)


@given(labelled_images(max_label=4), st.integers(0, 2**32 - 1), st.booleans())
def test_is_same_labeling_matches_mahotas(labels, seed, perturb):
    rng = np.random.default_rng(seed)
    permutation = np.concatenate([[0], 1 + rng.permutation(int(labels.max()) + 5)])
    other = permutation[labels.astype(np.int64)] * 1000
    if perturb:
        flat = other.reshape(-1)
        flat[rng.integers(flat.size)] = rng.integers(0, 3) * 1000
    result = labeled.is_same_labeling(labels, other)
    expected = mahotas.labeled.is_same_labeling(labels, other)
    assert result == expected
    assert labeled.is_same_labeling(labels, labels)


@given(labelled_images(max_label=8), st.lists(st.integers(-2, 12), max_size=5), st.booleans())
def test_remove_regions_matches_mahotas(labels, regions, inplace):
    labels = labels.astype(np.int32)
    expected = mahotas.labeled.remove_regions(labels.copy(), regions)
    argument = labels.copy()
    result = labeled.remove_regions(argument, regions, inplace=inplace)
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, expected)
    assert (result is argument) == inplace
    conditions = np.zeros(14, bool)
    conditions[[r for r in regions if r >= 0]] = True
    np.testing.assert_array_equal(
        labeled.remove_regions_where(labels, conditions),
        mahotas.labeled.remove_regions_where(labels.copy(), conditions))


@given(labelled_images(max_label=8), st.integers(0, 4), st.booleans())
def test_remove_bordering_matches_mahotas(labels, rsize, per_axis):
    size = tuple(range(rsize, rsize + labels.ndim)) if per_axis else rsize
    result = labeled.remove_bordering(labels, size)
    expected = mahotas.labeled.remove_bordering(labels, size)
    assert result.dtype == labels.dtype
    np.testing.assert_array_equal(result, expected)
    inplace = labels.copy()
    assert labeled.remove_bordering(inplace, size, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, expected)


@given(labelled_images(max_label=8), st.integers(0, 3),
       st.sampled_from([np.float64, np.float32, np.bool_]))
def test_remove_bordering_of_float_and_bool_labels_matches_mahotas(labels, rsize, dtype):
    values = labels.astype(dtype)
    if dtype != np.bool_:
        values[labels == 3] = 2.5  # labels are compared as they are, not rounded
    result = labeled.remove_bordering(values, rsize)
    assert result.dtype == values.dtype
    np.testing.assert_array_equal(result, mahotas.labeled.remove_bordering(values, rsize))


@given(labelled_images(max_label=8, max_ndim=2), st.booleans(),
       st.sampled_from([None, 1, 3]), st.sampled_from([None, 4, 10]))
def test_filter_labeled_matches_mahotas(labels, bordering, min_size, max_size):
    labels = labels.astype(np.int32)
    result, count = labeled.filter_labeled(labels, bordering, min_size, max_size)
    expected, expected_count = mahotas.labeled.filter_labeled(labels, bordering, min_size,
                                                              max_size)
    assert count == expected_count
    np.testing.assert_array_equal(result, expected)


# ----------------------------------------------------------------- borders

@given(st.data())
def test_borders_match_mahotas(data):
    labels = data.draw(labelled_images(max_label=3, max_ndim=3))
    element = data.draw(st.one_of(st.none(), structuring_elements(labels.ndim)))
    mode = data.draw(st.sampled_from(["constant", "ignore", "nearest", "wrap", "reflect",
                                      "mirror"]))
    result = labeled.borders(labels, element, mode=mode)
    expected = mahotas.labeled.borders(labels, element, mode=mode)
    np.testing.assert_array_equal(result, expected)


@given(st.data())
def test_border_matches_mahotas(data):
    labels = data.draw(labelled_images(max_label=3, max_ndim=3))
    element = data.draw(st.one_of(st.none(), structuring_elements(labels.ndim)))
    i, j = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    always = data.draw(st.booleans())
    result = labeled.border(labels, i, j, element, always_return=always)
    expected = mahotas.labeled.border(labels, i, j, element, always_return=always)
    if expected is None:
        assert result is None
    else:
        np.testing.assert_array_equal(result, expected)


@given(binary_images(min_ndim=2, max_ndim=2, min_side=1), st.sampled_from([4, 8]),
       st.sampled_from(["constant", "wrap", "reflect"]))
def test_bwperim_and_perimeter_match_mahotas(binary, n, mode):
    np.testing.assert_array_equal(labeled.bwperim(binary, n, mode),
                                  mahotas.labeled.bwperim(binary, n, mode))
    assert labeled.perimeter(binary, n, mode) == pytest.approx(
        mahotas.labeled.perimeter(binary, n, mode))


def test_perimeter_on_u2os(u2os_masks):
    for mask in u2os_masks:
        assert labeled.perimeter(mask) == pytest.approx(mahotas.labeled.perimeter(mask))


# --------------------------------------------------------------- arguments

@pytest.mark.parametrize("call, error, argument", [
    (lambda: labeled.label(np.zeros((3, 3), complex)), TypeError, "array"),
    (lambda: labeled.label(np.zeros((3, 3)), np.ones((3, 3, 3))), ValueError, "Bc"),
    (lambda: labeled.label(np.zeros((3, 3)), out=np.zeros((3, 3))), ValueError, "out"),
    (lambda: labeled.label(np.zeros((3, 3)), out=np.zeros((3, 4), np.int32)), ValueError,
     "out"),
    (lambda: labeled.labeled_sum(np.zeros(3), np.zeros(4, int)), ValueError, "array"),
    (lambda: labeled.labeled_max(np.zeros(3), np.zeros(3)), TypeError, "labeled"),
    (lambda: labeled.labeled_size(np.array([-1, 2])), ValueError, "labeled"),
    (lambda: labeled.relabel(np.zeros(3, np.int64), inplace=True), ValueError, "labeled"),
    (lambda: labeled.remove_regions(np.zeros(3, int), [1.5]), TypeError, "regions"),
    (lambda: labeled.remove_regions_where(np.zeros(3, int), [[True]]), ValueError,
     "conditions"),
    (lambda: labeled.remove_bordering(np.zeros((3, 3), int), (1, 2, 3)), ValueError, "rsize"),
    (lambda: labeled.remove_bordering(np.zeros((3, 3), int), 1.5), TypeError, "rsize"),
    (lambda: labeled.is_same_labeling(np.zeros(3, int), np.zeros(4, int)), ValueError,
     "labeled0"),
    (lambda: labeled.borders(np.zeros((3, 3), int), mode="edge"), ValueError, "mode"),
    (lambda: labeled.border(np.zeros((3, 3)), 1, 2), TypeError, "labeled"),
    (lambda: labeled.perimeter(np.zeros(3, bool)), ValueError, "bwimage"),
    (lambda: kbbox.bbox(np.zeros(3, complex)), TypeError, "img"),
])
def test_bad_arguments(call, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        call()


def test_get_structuring_elem_in_labeled_like_mahotas():
    # mahotas.labeled exposes morph.get_structuring_elem; so does karyo.labeled
    import mahotas.labeled

    from karyo import morph

    assert labeled.get_structuring_elem is morph.get_structuring_elem
    image = np.zeros((5, 5), bool)
    for Bc in (4, 8, np.ones((3, 3), bool)):
        np.testing.assert_array_equal(labeled.get_structuring_elem(image, Bc),
                                      mahotas.labeled.get_structuring_elem(image, Bc))
