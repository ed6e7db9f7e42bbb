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
