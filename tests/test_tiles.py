"""karyo.tiles: labels made tile by tile equal the untiled labels up to numbering."""

from __future__ import annotations

import numpy as np
import pytest

from karyo.convolve import gaussian_filter
from karyo.labeled import label
from karyo.tiles import label_tile, label_tiled, paste, tile_grid

EIGHT = np.ones((3, 3), bool)


def same_up_to_numbering(a: np.ndarray, b: np.ndarray) -> bool:
    """The same foreground and a one-to-one map between the two label sets."""
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return (np.unique(pairs[0]).size == pairs.shape[1]
            and np.unique(pairs[1]).size == pairs.shape[1])


def blobs(shape=(180, 260), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 0.3, shape)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for _ in range(25):
        y, x, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(3, 14)
        image[(yy - y) ** 2 + (xx - x) ** 2 < r * r] += 2
    # One snake longer than any halo below.
    image[100:104, 5:250] += 2
    return image.astype(np.float32)


def smooth_label(crop: np.ndarray) -> np.ndarray:
    """Local with reach 8: a Gaussian (sigma 2, truncated at 8 px), a threshold, 8-labels."""
    return label(gaussian_filter(crop, 2.0) > 0.8, Bc=EIGHT)[0]


@pytest.mark.parametrize("tile", [7, 20, 45, 64, 300])
def test_tiled_equals_untiled(tile):
    image = blobs()
    result = label_tiled(smooth_label, image, tile=tile, halo=30, margin=9)
    assert same_up_to_numbering(result.labels, smooth_label(image))
    assert result.count == int(smooth_label(image).max())
    assert result.labels.dtype == np.int32
    # The snake spans more than a tile and its halo: labelled by the second pass.
    if tile < 200:
        assert result.second_pass >= 1
    assert set(np.unique(result.labels)) == set(range(result.count + 1))


def test_support_keeps_dependent_objects_together():
    # Each object's label depends on its whole connected blob (a per-blob mean):
    # the function says so with its support, so blobs are never kept cut.
    image = blobs(seed=3)

    def halves(crop):
        blobs_, count = label(gaussian_filter(crop, 2.0) > 0.8, Bc=EIGHT)
        rows = np.arange(crop.shape[0])[:, None] * np.ones(crop.shape[1])
        size = np.bincount(blobs_.ravel(), minlength=count + 1)
        mean_row = np.bincount(blobs_.ravel(), rows.ravel(), count + 1) / np.maximum(size, 1)
        upper = rows < mean_row[blobs_]
        return np.where(blobs_ > 0, 2 * blobs_ - upper, 0), blobs_ > 0

    whole = halves(image)[0]
    for tile in (15, 50):
        assert same_up_to_numbering(label_tiled(halves, image, tile, 30, margin=9).labels, whole)


def test_tile_grid_aligns_crops_and_covers_once():
    tiles = tile_grid((101, 77), 30, 7, align=4)
    covered = np.zeros((101, 77), int)
    for tile in tiles:
        covered[tile.core] += 1
        assert tile.crop[0].start % 4 == 0 and tile.crop[1].start % 4 == 0
        assert tile.crop[0].start <= max(0, tile.core[0].start - 7)
    assert (covered == 1).all()


def test_seams_and_piecewise_paste():
    image = np.zeros((40, 40), np.uint8)
    image[10:30, 15:25] = 1   # across the seam at column 20
    image[2:6, 2:6] = 1
    shape = image.shape
    pieces = [label_tile(lambda crop: label(image[crop])[0], shape, tile, margin=1)
              for tile in tile_grid(shape, 20, 12)]
    counts = [piece.count for piece in pieces]
    assert sum(counts) == 2
    seams = np.concatenate([piece.seam[1:] for piece in pieces])
    assert sorted(seams.tolist()) == [False, True]
    # Any window of the result can be written from the pieces alone.
    window = (slice(5, 25), slice(18, 40))
    out = paste(np.zeros((20, 22), np.int32), window, pieces, np.cumsum([0] + counts)[:-1])
    assert np.array_equal(out > 0, image[window] > 0)


def test_int64_beyond_int32():
    from karyo.tiles import _label_dtype
    assert _label_dtype(2**31 - 1) == np.int32
    assert _label_dtype(2**31) == np.int64


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`tile`"):
        tile_grid((10, 10), 0, 2)
    with pytest.raises(ValueError, match="crop's shape"):
        label_tiled(lambda crop: np.zeros((1, 1), int), np.zeros((10, 10)), 5, 2)
    with pytest.raises(ValueError, match="2-D"):
        label_tiled(smooth_label, np.zeros((4, 4, 4)), 5, 2)
