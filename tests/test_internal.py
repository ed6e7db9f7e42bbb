"""The shared argument helpers: structuring elements, `out=` and dtype checks."""

import mahotas
import numpy as np
import pytest

import karyo
import karyo.internal
from karyo.internal import (
    as_array,
    as_structuring_element,
    get_output,
    neighbour_offsets,
    odd_sized,
    pixel_blocks,
)


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("Bc", [None, 1, 2, 3, 4, 6, 8, 18, 26])
def test_integer_structuring_elements_match_mahotas(ndim, Bc):
    image = np.zeros((3,) * ndim, np.uint8)
    try:
        expected = mahotas.get_structuring_elem(image, Bc).astype(bool)
    except Exception:  # mahotas refuses some counts for some ndim; karyo reads them as radii
        pytest.skip(f"mahotas does not define Bc={Bc} in {ndim}-D")
    if (ndim, Bc) == (3, 18):
        # Deliberate difference: mahotas knows only the counts 4, 8 and 6 and reads
        # 18 as a city-block radius (the full 3x3x3 cube); karyo reads it as the
        # 18-neighbourhood everyone means by "18-connected".
        assert expected.sum() == 27
        assert as_structuring_element(Bc, ndim, "f").sum() == 19
        return
    np.testing.assert_array_equal(as_structuring_element(Bc, ndim, "f"), expected)


def test_counts_give_the_usual_neighbourhoods():
    assert as_structuring_element(4, 2, "f").sum() == 5
    assert as_structuring_element(8, 2, "f").sum() == 9
    assert as_structuring_element(6, 3, "f").sum() == 7
    assert as_structuring_element(18, 3, "f").sum() == 19
    assert as_structuring_element(26, 3, "f").sum() == 27


@pytest.mark.parametrize("Bc, message", [
    (np.ones((3,)), "dimensions"),
    (np.ones((0, 3)), "at least one element"),
    (0, "positive"),
    (True, "bool"),
    (np.array([["a"]]), "dtype"),
])
def test_bad_structuring_elements_are_refused_by_name(Bc, message):
    with pytest.raises((ValueError, TypeError), match=f"`Bc`.*{message}|{message}"):
        as_structuring_element(Bc, 2, "label")


def test_even_sizes_have_their_centre_at_half_the_shape():
    # mahotas's centre: shape // 2, so a 2x2 element reaches back, not forward
    element = as_structuring_element(np.ones((2, 2)), 2, "f")
    assert sorted(map(tuple, neighbour_offsets(element))) == [(-1, -1), (-1, 0), (0, -1)]
    padded = odd_sized(np.array([[1, 2, 3, 4]]))
    assert padded.shape == (1, 5)
    assert sorted(map(tuple, neighbour_offsets(padded))) == [(0, -2), (0, -1), (0, 1)]
    odd = np.ones((3, 1))
    assert odd_sized(odd) is odd


def test_offsets_exclude_the_centre():
    offsets = neighbour_offsets(as_structuring_element(None, 2, "f"))
    assert sorted(map(tuple, offsets)) == [(-1, 0), (0, -1), (0, 1), (1, 0)]


def test_get_output_is_strict():
    image = np.zeros((4, 5), np.uint8)
    assert get_output(image, None, "f", np.int32).dtype == np.int32
    out = np.zeros((4, 5), np.uint8)
    assert get_output(image, out, "f") is out
    with pytest.raises(ValueError, match="`out` has dtype"):
        get_output(image, np.zeros((4, 5), np.int16), "f")
    with pytest.raises(ValueError, match="`out` has shape"):
        get_output(image, np.zeros((5, 4), np.uint8), "f")
    with pytest.raises(ValueError, match="C-contiguous"):
        get_output(image, np.zeros((4, 10), np.uint8)[:, ::2], "f")
    read_only = np.zeros((4, 5), np.uint8)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        get_output(image, read_only, "f")


def test_as_array_converts_byte_order_and_keeps_views():
    big_endian = np.arange(6, dtype=">u2").reshape(2, 3)
    native = as_array(big_endian, "f")
    assert native.dtype.isnative
    np.testing.assert_array_equal(native, big_endian)
    view = np.arange(20).reshape(4, 5)[:, ::2]
    assert as_array(view, "f").base is view.base
    with pytest.raises(TypeError, match="`image` has dtype complex"):
        as_array(np.zeros(3, complex), "f", "image")
    with pytest.raises(ValueError, match="expected 2-D"):
        as_array(np.zeros(3), "f", min_ndim=2, max_ndim=2)


# ---------------------------------------------------------------- counts past 2**32 pixels
# An image of 2**32 pixels needs 4 GiB or more; these test the index arithmetic
# that makes it work with the helpers' limits, not by allocating one.

@pytest.mark.parametrize(("shape", "max_pixels"), [
    ((2**33, 3), 2**31), ((1, 2**34 + 5), 2**31), ((3, 2**31 + 1), 2**31), ((2**20, 2**20), 2**31),
    ((7, 5), 4), ((7, 5), 1), ((1, 1), 2**31), ((5, 3), 100)])
def test_pixel_blocks_tile_any_shape_exactly_once(shape, max_pixels):
    blocks = list(pixel_blocks(shape, max_pixels))
    covered = 0
    for rows, columns in blocks:
        pixels = (rows.stop - rows.start) * (columns.stop - columns.start)
        assert 0 < pixels <= max_pixels
        covered += pixels
    assert covered == shape[0] * shape[1]
    # the blocks are disjoint: in raster order, each starts where the previous ended
    starts = [(rows.start, columns.start) for rows, columns in blocks]
    assert starts == sorted(set(starts))
    assert blocks[-1][0].stop == shape[0] and blocks[-1][1].stop == shape[1]


@pytest.fixture
def tiny_count_limits(monkeypatch):
    """Limits small enough that a small image takes the more-than-2**32-pixels path."""
    monkeypatch.setattr(karyo.internal, "UINT32_COUNT_LIMIT", 50)
    monkeypatch.setattr(karyo.internal, "COUNT_BLOCK_PIXELS", 7)


@pytest.mark.parametrize("shape", [(1000,), (30, 41), (5, 4, 9)])
def test_counts_past_the_uint32_limit_are_uint64_and_exact(tiny_count_limits, shape):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 9, shape).astype(np.uint16)
    histogram = karyo.fullhistogram(image)
    assert histogram.dtype == np.uint64
    np.testing.assert_array_equal(histogram, np.bincount(image.ravel()))
    sizes = karyo.labeled.labeled_size(image.astype(np.int32)[..., ::-1])
    assert sizes.dtype == np.uint64
    np.testing.assert_array_equal(sizes, np.bincount(image.ravel()))
    assert karyo.fullhistogram(image.astype(np.uint8)).dtype == np.uint64


def test_counts_below_the_limit_stay_uint32_like_mahotas():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) % 5
    assert karyo.fullhistogram(image).dtype == mahotas.fullhistogram(image).dtype == np.uint32
    assert karyo.labeled.labeled_size(image).dtype == np.uint32


class _NoThreads:
    """An executor that fails the test if anything is submitted to it."""

    def submit(self, *args, **kwargs):
        raise AssertionError("work was sent to a thread with THREADS = 1")


def test_threads_set_to_one_keep_every_kernel_on_the_calling_thread(monkeypatch):
    # The README's promise: karyo.set_threads(1) keeps karyo on one core,
    # and the results are those of the threaded run, to the last bit (before the
    # explicit fused multiply-adds, gaussian_filter's pixels at the end of a
    # strip differed by an ulp, so -j 1 and -j 2 batches could disagree).
    rng = np.random.default_rng(8)
    image = rng.integers(0, 256, (300, 701)).astype(np.uint8)
    volume = rng.integers(0, 256, (7, 150, 130)).astype(np.uint8)
    labels = np.where(rng.random(image.shape) < 0.001, image, 0)
    calls = [lambda: karyo.gaussian_filter(image, 3.0), lambda: karyo.gaussian_filter(volume, 1.5),
             lambda: karyo.distance(image > 30), lambda: karyo.segmentation.gvoronoi(labels),
             lambda: karyo.fullhistogram(image), lambda: karyo.interpolate.zoom(image, 1.2),
             lambda: karyo.segmentation.slic(np.dstack([image] * 3), 16, max_iters=3)[0]]
    threaded = [call() for call in calls]
    monkeypatch.setattr(karyo.internal, "THREADS", 1)
    monkeypatch.setattr(karyo.internal, "_executor", _NoThreads())
    for call, expected in zip(calls, threaded, strict=True):
        np.testing.assert_array_equal(call(), expected)


def test_threads_setting_is_public_and_restored(monkeypatch):
    monkeypatch.setattr(karyo.internal, "THREADS", karyo.internal.THREADS)
    default = min(4, karyo.internal.available_cores())
    previous = karyo.set_threads(3)
    assert karyo.get_threads() == karyo.internal.THREADS == 3
    assert karyo.set_threads(None) == 3 and karyo.get_threads() == default
    karyo.set_threads(previous)
    with karyo.threads(1) as n:
        assert n == karyo.get_threads() == 1
    assert karyo.get_threads() == previous
    with pytest.raises(RuntimeError), karyo.threads(2):
        raise RuntimeError("the setting is restored on the way out")
    assert karyo.get_threads() == previous
    for bad, error in ((0, ValueError), (-2, ValueError), (True, TypeError), (1.5, TypeError),
                       ("2", TypeError)):
        with pytest.raises(error, match="`n`"):
            karyo.set_threads(bad)
    assert karyo.get_threads() == previous


def test_threads_one_keeps_kernels_on_the_calling_thread(monkeypatch):
    image = np.random.default_rng(2).integers(0, 256, (600, 700)).astype(np.uint8)
    expected = karyo.gaussian_filter(image, 3.0)
    monkeypatch.setattr(karyo.internal, "_executor", _NoThreads())
    with karyo.threads(1):
        np.testing.assert_array_equal(karyo.gaussian_filter(image, 3.0), expected)
        assert karyo.fullhistogram(image).sum() == image.size


def test_more_threads_than_the_pool_grows_it(monkeypatch):
    monkeypatch.setattr(karyo.internal, "_executor", None)
    image = np.random.default_rng(3).integers(0, 256, (800, 900)).astype(np.uint8)
    expected = karyo.gaussian_filter(image, 2.0)
    with karyo.threads(2):
        karyo.gaussian_filter(image, 2.0)
    with karyo.threads(6):
        np.testing.assert_array_equal(karyo.gaussian_filter(image, 2.0), expected)
        assert karyo.internal._executor._max_workers == 6


# --- scalars: the one home of "a number, not a bool" -----------------------------------------

@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    (3, {}, 3), (np.int16(-2), {}, -2), (np.uint64(7), {"low": 0, "high": 7}, 7),
])
def test_as_int_accepts_integers_of_any_kind(value, kwargs, expected):
    result = karyo.internal.as_int(value, "f", "n", **kwargs)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(("value", "kwargs", "error", "words"), [
    (True, {}, TypeError, "must be an integer, got True"),
    (np.bool_(False), {}, TypeError, "must be an integer"),
    (2.0, {}, TypeError, "must be an integer, got 2.0"),
    ("2", {}, TypeError, "must be an integer"),
    (-1, {"low": 0}, ValueError, "must be at least 0, got -1"),
    (6, {"low": 2, "high": 5}, ValueError, "must be between 2 and 5, got 6"),
])
def test_as_int_refusals_name_function_and_argument(value, kwargs, error, words):
    with pytest.raises(error, match=f"^karyo.f: `n` {words}"):
        karyo.internal.as_int(value, "f", "n", **kwargs)


@pytest.mark.parametrize(("value", "kwargs", "error", "words"), [
    (False, {}, TypeError, "must be a number, got False"),
    (1 + 2j, {}, TypeError, "must be a number"),
    (None, {}, TypeError, "must be a number"),
    (0.0, {"low": 0, "low_open": True}, ValueError, "must be greater than 0, got 0.0"),
    (float("nan"), {"low": 0}, ValueError, "must be at least 0, got nan"),
    (float("inf"), {"finite": True}, ValueError, "must be a finite number, got inf"),
])
def test_as_real_refusals(value, kwargs, error, words):
    with pytest.raises(error, match=f"^karyo.f: `x` {words}"):
        karyo.internal.as_real(value, "f", "x", **kwargs)


def test_as_real_accepts_numbers_of_any_kind():
    for value in (2, np.float32(2.0), np.int8(2), 2.0):
        result = karyo.internal.as_real(value, "f", "x", low=0, low_open=True, finite=True)
        assert result == 2.0 and type(result) is float
    assert np.isnan(karyo.internal.as_real(float("nan"), "f", "x"))  # unbounded: NaN passes


@pytest.mark.parametrize("value", [True, 1.5, "1", np.array([1]), [1], None])
def test_as_choice_refuses_bools_arrays_and_strangers(value):
    with pytest.raises(ValueError, match=r"^karyo.f: `order` must be 0, 1, 2 or 3; got"):
        karyo.internal.as_choice(value, (0, 1, 2, 3), "f", "order", "0, 1, 2 or 3")


def test_as_choice_lists_the_names():
    assert karyo.internal.as_choice("wrap", ("nearest", "wrap"), "f", "mode") == "wrap"
    assert karyo.internal.as_choice(np.int64(2), (0, 1, 2), "f", "order") == 2
    with pytest.raises(ValueError, match="must be one of 'nearest', 'wrap'; got 'edge'"):
        karyo.internal.as_choice("edge", ("nearest", "wrap"), "f", "mode")


def test_as_axis_and_as_flag():
    assert karyo.internal.as_axis(-1, 3, "f") == 2 and karyo.internal.as_axis(0, 1, "f") == 0
    for bad, error in ((3, ValueError), (-4, ValueError), (True, TypeError), (0.0, TypeError)):
        with pytest.raises(error, match="`axis`"):
            karyo.internal.as_axis(bad, 3, "f")
    assert karyo.internal.as_flag(np.uint8(2), "f", "inline") is True
    assert karyo.internal.as_flag(np.bool_(False), "f", "inline") is False
    with pytest.raises(TypeError, match="`inline` must be a bool, got float"):
        karyo.internal.as_flag(1.0, "f", "inline")


def test_per_axis_repeats_one_value_or_takes_one_per_axis():
    per_axis = karyo.internal.per_axis
    assert per_axis(2, 3, "f", "sigma") == [2, 2, 2]
    assert per_axis("x", 2, "f", "sigma") == ["x", "x"]  # a string is one value, checked later
    assert per_axis((1, 2), 2, "f", "sigma") == [1, 2]
    assert per_axis(np.array([[1.0, 2.0]]), 2, "f", "sigma") == [1.0, 2.0]
    with pytest.raises(ValueError, match="`sigma` has 3 values; expected one or 2"):
        per_axis([1, 2, 3], 2, "f", "sigma")


def test_kernel_view_and_pixel_view_read_the_same_pixels_without_copying():
    flags = np.array([[True, False], [False, True]])
    assert karyo.internal.kernel_view(flags).dtype == np.uint8
    assert np.shares_memory(karyo.internal.kernel_view(flags), flags)
    values = np.arange(6, dtype=np.int16).reshape(2, 3)
    assert karyo.internal.kernel_view(values) is values
    assert karyo.internal.pixel_view(values).dtype == np.uint16
    halves = np.array([0.0, 0.5], np.float16)
    assert karyo.internal.pixel_view(halves).tolist() == [0, 1]


def test_lines_and_their_coordinates():
    volume = np.arange(24).reshape(2, 3, 4)
    lines = karyo.internal.as_lines(volume)
    starts = karyo.internal.line_coordinates(volume.shape)
    assert lines.shape == (6, 4) and starts.shape == (6, 2)
    for line, (i, j) in zip(lines, starts, strict=True):
        np.testing.assert_array_equal(line, volume[i, j])
    assert karyo.internal.line_coordinates((5,)).shape == (1, 0)
    assert karyo.internal.as_lines(np.arange(3)).shape == (1, 3)


def test_convolve_and_interpolate_keep_their_own_meanings_of_order_and_mode():
    from karyo.convolve import gaussian_filter
    from karyo.interpolate import zoom

    image = np.zeros((5, 5))
    # convolve: order is a derivative (0 to 3), 1.0 accepted as mahotas does through scipy
    assert gaussian_filter(image, 1.0, order=1.0).shape == (5, 5)
    with pytest.raises(ValueError, match="`order` must be 0, 1, 2 or 3"):
        gaussian_filter(image, 1.0, order=4)
    # interpolate: order is a spline degree, an integer up to 5
    with pytest.raises(TypeError, match="`order` must be an integer"):
        zoom(image, 2, order=1.0)
    with pytest.raises(ValueError, match="`order` must be between 0 and 5"):
        zoom(image, 2, order=6)
    for call in (lambda: gaussian_filter(image, 1.0, mode="edge"),
                 lambda: zoom(image, 2, mode="edge")):
        with pytest.raises(ValueError, match="`mode` must be one of"):
            call()
    with pytest.raises(TypeError, match="`zoom` must be a number"):
        zoom(image, [2, True])
