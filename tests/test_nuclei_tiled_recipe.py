"""The default recipe tile by tile equals the untiled recipe, up to label numbering.

Small images only (the 20k-pixel slide is in benchmarks/tiled.py): the demo
image and a 2 x 2 mosaic of U2OS frames, at tile sizes down to less than a
nucleus, and a chain of touching nuclei longer than the halo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import hot_pixels

from karyo.demos import load
from karyo.nuclei.segment import segment
from karyo.nuclei.tiled import segment_tiled

U2OS = Path(__file__).resolve().parents[2] / "shared" / "data" / "u2os" / "images"


def same_up_to_numbering(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return (np.unique(pairs[0]).size == pairs.shape[1]
            and np.unique(pairs[1]).size == pairs.shape[1])


@pytest.mark.parametrize("tile", [24, 200, 512])
def test_demo_tiled_equals_untiled(tile):
    image = load("synthetic_nuclei")
    if tile < 100:
        image = image[:320, :320]  # many tiles smaller than a nucleus: keep it quick
    whole = segment(image)
    tiled = segment_tiled(image, tile=tile)
    assert tiled.settings == {k: v for k, v in whole.settings.items() if k != "recipe"}
    assert same_up_to_numbering(tiled.labels, whole.labels)
    assert tiled.count == whole.count


def test_hot_pixels_on_tile_edges_tiled_equals_untiled():
    # Hot pixels are lowered to their brightest neighbour; one on a tile's
    # edge is compared with its real neighbours, as in the whole image.
    image = hot_pixels(load("synthetic_nuclei"))
    whole = segment(image)
    tiled = segment_tiled(image, tile=200)
    assert same_up_to_numbering(tiled.labels, whole.labels)


@pytest.fixture(scope="module")
def mosaic():
    from karyo.nuclei.images import read_dna_image

    files = sorted(U2OS.glob("dna-*.png"))[:4]
    if len(files) < 4:
        pytest.skip("the U2OS images are not in shared/data")
    frames = [read_dna_image(f).image for f in files]
    return np.block([[frames[0], frames[1]], [frames[2], frames[3]]])


@pytest.mark.parametrize("tile", [256, 1024])
def test_u2os_mosaic_tiled_equals_untiled(mosaic, tile):
    whole = segment(mosaic)
    tiled = segment_tiled(mosaic, tile=tile)
    assert same_up_to_numbering(tiled.labels, whole.labels)


def test_chain_longer_than_the_halo_gets_a_second_pass():
    yy, xx = np.mgrid[:400, :1400]
    image = np.full((400, 1400), 10, np.uint8)
    for x in range(60, 1340, 40):  # touching nuclei: one foreground object 1300 px long
        image[(yy - 200) ** 2 + (xx - x) ** 2 < 24 ** 2] = 200
    whole = segment(image)
    tiled = segment_tiled(image, tile=128)
    assert tiled.second_pass > 0
    assert same_up_to_numbering(tiled.labels, whole.labels)


class ReadRecorder:
    """An array-like over `image` that records the size of every window read."""

    def __init__(self, image):
        self.image, self.shape, self.dtype = image, image.shape, image.dtype
        self.largest = 0

    def __getitem__(self, window):
        part = self.image[window]
        self.largest = max(self.largest, part.size)
        return part


def test_tiled_run_never_reads_the_whole_image(mosaic, monkeypatch):
    # Every pass of a tiled run reads tiles (grown by the halo) or the size
    # estimate's windows, never the whole image (before, the first pass read
    # it whole, as a float image); an image above the estimate's
    # limit (lowered here) is sized in windows by the tiled and untiled run alike.
    import sys

    segment_module = sys.modules["karyo.nuclei.segment"]
    monkeypatch.setattr(segment_module, "_WHOLE_ESTIMATE_PIXELS", 1024 * 1024)
    recorder = ReadRecorder(mosaic)
    tiled = segment_tiled(recorder, tile=256)
    whole = segment(mosaic)
    assert same_up_to_numbering(tiled.labels, whole.labels)
    assert tiled.nucleus_diameter == whole.nucleus_diameter
    # A tile's crop, or (for a nucleus larger than the halo) a crop grown around
    # it: on this small mosaic up to half of it, never all of it.
    assert recorder.largest < mosaic.size


class Unreadable:
    """An array-like none of whose windows can be read."""

    shape, dtype = (300, 400), np.dtype(np.uint8)

    def __getitem__(self, window):
        raise OSError("the disk is gone")


def test_an_image_none_of_whose_tiles_can_be_read_fails_at_once():
    # Not one failure per tile of every pass: the image is broken, not a region of it.
    with pytest.raises(OSError, match="none of the image's 4 tiles of 200 x 200 pixels can be "
                                      "read: .*the disk is gone"):
        segment_tiled(Unreadable(), tile=200)


def test_a_tiff_whose_header_lacks_strips_is_named(tmp_path):
    from test_cli import _tiff_claiming

    _tiff_claiming(tmp_path / "claims.tif", 60_000, 60_000)
    with pytest.raises(OSError, match="claims.tif: the TIFF is damaged: .* header lists 1"):
        segment_tiled(tmp_path / "claims.tif", tile=2048)
