"""Label an image tile by tile, with the halo each tile needs, and stitch the labels.

A label-producing function (a threshold and :func:`karyo.label`, a watershed,
a nucleus recipe) usually looks only a bounded distance around each object:
its *reach*. Run on a crop that holds an object plus that reach, it labels
the object exactly as it would on the whole image. :func:`label_tiled` cuts
the image into tiles, runs the function on each tile grown by a halo, keeps
from each tile only the objects it owns, and pastes them into one label
image: the result equals the untiled one up to the numbering of the labels.

The pieces are public for pipelines that schedule tiles themselves (on Dask,
writing to Zarr): :func:`tile_grid` lays the tiles out, :func:`label_tile`
labels one tile (with a second pass on a larger crop where an object is
larger than the halo), and :func:`paste` writes owned objects into any
window of the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from karyo.internal import as_array
from karyo.labeled import label

__all__ = ["Tile", "TileLabels", "TiledLabels", "label_tile", "label_tiled", "paste",
           "tile_grid"]

_EIGHT = np.ones((3, 3), bool)


class Tile(NamedTuple):
    """One tile of :func:`tile_grid`.

    Attributes
    ----------
    index : (int, int)
        Row and column of the tile in the grid.
    core : (slice, slice)
        The pixels the tile owns: the tiles' cores cover the image once.
    crop : (slice, slice)
        The core grown by the halo (clipped to the image, its origin on the
        alignment grid): the pixels the function sees.
    """

    index: tuple[int, int]
    core: tuple[slice, slice]
    crop: tuple[slice, slice]


class TileLabels(NamedTuple):
    """The objects one tile owns, from :func:`label_tile`.

    Attributes
    ----------
    labels : ndarray of int32
        The owned objects numbered 1..count (in the raster order of their
        first pixel), 0 elsewhere, over `box`.
    box : (slice, slice)
        Where `labels` sits in the image (the owned objects' bounding box).
    count : int
        How many objects the tile owns.
    seam : ndarray of bool
        For objects 1..count (index 0 unused): whether the object reaches out
        of the tile's core, across a seam between tiles.
    second_pass : int
        How many of the owned objects were too large for the halo and were
        labelled on a larger crop (0 when the halo sufficed).
    crop : (slice, slice)
        The crop whose labels were kept: the tile's own, or the larger one of
        the second pass.
    """

    labels: np.ndarray
    box: tuple[slice, slice]
    count: int
    seam: np.ndarray
    second_pass: int
    crop: tuple[slice, slice]


class TiledLabels(NamedTuple):
    """The result of :func:`label_tiled`.

    Attributes
    ----------
    labels : ndarray of int32 (int64 beyond 2**31 - 1 objects)
        Objects numbered 1..count: tile by tile in row-major order, within a
        tile in the raster order of each object's first pixel.
    count : int
        The number of objects.
    second_pass : int
        How many objects were larger than the halo and were labelled again on
        a larger crop.
    seam : ndarray of bool
        For objects 1..count (index 0 unused): whether it crosses a seam
        between tiles.
    """

    labels: np.ndarray
    count: int
    second_pass: int
    seam: np.ndarray


def tile_grid(shape: Sequence[int], tile: int, halo: int, *, align: int = 1) -> list[Tile]:
    """Lay tiles of side `tile` over an image of `shape`, each grown by `halo`.

    Parameters
    ----------
    shape : (int, int)
        The image's shape.
    tile : int
        The side of each tile's core, in pixels (the last row and column of
        tiles may be smaller).
    halo : int
        How far each crop reaches beyond its core, in pixels.
    align : int, optional
        Crops start on multiples of `align` (for a function that samples the
        image on a coarser grid, so that every crop samples the same
        positions as the whole image). Default 1.

    Returns
    -------
    list of Tile
        In row-major order.

    Examples
    --------
    >>> from karyo.tiles import tile_grid
    >>> tiles = tile_grid((100, 250), 100, 10)
    >>> len(tiles), tiles[1].core, tiles[1].crop
    (3, (slice(0, 100, None), slice(100, 200, None)), (slice(0, 100, None), slice(90, 210, None)))
    """
    shape = _check_shape(shape, "tile_grid")
    tile = _check_count(tile, "tile", "tile_grid")
    halo = _check_count(halo, "halo", "tile_grid", minimum=0)
    align = _check_count(align, "align", "tile_grid")
    tiles = []
    rows, cols = (range(0, max(n, 1), tile) for n in shape)
    for i, top in enumerate(rows):
        for j, left in enumerate(cols):
            core = (slice(top, min(top + tile, shape[0])), slice(left, min(left + tile, shape[1])))
            tiles.append(Tile((i, j), core, _grow(core, halo, shape, align)))
    return tiles


def label_tile(compute: Callable, shape: Sequence[int], tile: Tile, margin: int, *,
               halo: int | None = None, align: int = 1) -> TileLabels:
    """The objects one tile owns, labelled exactly as on the whole image.

    Parameters
    ----------
    compute : callable
        ``compute(crop)`` with `crop` a pair of slices of the image returns
        that window's labels, or a pair ``(labels, support)``: `support`
        (bool or labels, the window's shape) marks the pixels each object's
        result depends on, whose 8-connected components are the units that
        are kept whole (by default the labelled pixels themselves).
    shape : (int, int)
        The image's shape.
    tile : Tile
        From :func:`tile_grid`.
    margin : int
        The function's reach: a unit of `support` at least this far from the
        crop's edges (other than the image's own border) is labelled as on
        the whole image.
    halo : int, optional
        How much a second-pass crop reaches beyond the objects it is for
        (default: the tile's own halo, at least `margin`).
    align : int, optional
        Crops start on multiples of `align`, as in :func:`tile_grid`.

    Returns
    -------
    TileLabels

    Notes
    -----
    A unit of the support belongs to the tile whose core holds its first
    pixel in raster order, and is kept if it lies at least `margin` from the
    crop's inner edges. A unit that meets the core but comes closer to an
    inner edge is larger than the halo: the tile is labelled again on a crop
    grown around such units (repeatedly, up to the whole image), so that no
    object is lost, cut or duplicated; `second_pass` counts the objects that
    needed it.
    """
    shape = _check_shape(shape, "label_tile")
    margin = _check_count(margin, "margin", "label_tile", minimum=0)
    if halo is None:
        halo = max(margin, max(c.start - r.start for c, r in zip(tile.core, tile.crop,
                                                                 strict=True)))
    crop = tile.crop
    first_count = None
    while True:
        labels, units = _labels_and_units(compute(crop), crop, "label_tile")
        owned, oversized = _owned_units(units, tile.core, crop, shape, margin)
        kept = np.where(owned[units], labels, 0) if owned.any() else np.zeros_like(labels)
        count, kept = _consecutive(kept)
        if first_count is None:
            first_count = count
        if oversized is None or crop == _full(shape):
            break
        crop = _union(crop, _grow(oversized, halo, shape, align))
    return _tile_labels(kept, count, tile.core, crop, count - first_count)


def label_tiled(function: Callable, image, tile: int, halo: int, *, margin: int | None = None,
                align: int = 1) -> TiledLabels:
    """Run a label-producing function tile by tile and stitch its labels.

    Parameters
    ----------
    function : callable
        ``function(crop)`` returns the labels of a crop of `image` (any
        integer dtype, 0 for background), or a pair ``(labels, support)`` as
        in :func:`label_tile`.
    image : array-like, 2-D
        Read a crop at a time (``image[rows, cols]``): a NumPy array, a
        memory map, a Zarr or Dask array.
    tile : int
        The side of each tile, in pixels.
    halo : int
        How far each crop reaches beyond its tile: the function's reach plus
        the size of the largest ordinary object.
    margin : int, optional
        The function's reach (default: `halo` // 2); see :func:`label_tile`.
    align : int, optional
        Crops start on multiples of `align`.

    Returns
    -------
    TiledLabels
        ``labels`` (int32, or int64 beyond 2**31 - 1 objects), ``count``,
        ``second_pass`` (objects larger than the halo, labelled again on a
        larger crop) and ``seam`` (per object, whether it crosses a seam).

    See Also
    --------
    tile_grid, label_tile, paste : the steps, for pipelines that schedule
        tiles themselves.
    karyo.nuclei.tiled.segment_tiled : the nucleus recipe on Dask, from and
        to Zarr.

    Notes
    -----
    The result equals ``function(image)`` up to the numbering of the labels
    (the same foreground, and a one-to-one map between the objects) when the
    function is local: each unit of its support is labelled from the pixels
    within `margin` of it, and its support's units from the pixels within
    `margin` too. Objects larger than ``halo - margin`` are not lost: their
    tile is labelled again on a larger crop.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo import label
    >>> from karyo.tiles import label_tiled
    >>> image = np.zeros((60, 90), np.uint8)
    >>> image[5:25, 10:80] = 1     # one long object across three tiles
    >>> image[40:50, 40:50] = 1
    >>> result = label_tiled(lambda crop: label(crop > 0)[0], image, tile=30, halo=8,
    ...                      margin=1)
    >>> result.count, result.second_pass, result.seam[1:].tolist()
    (2, 1, [True, False])
    >>> np.array_equal(result.labels > 0, image > 0)
    True
    """
    array = image if hasattr(image, "shape") and hasattr(image, "__getitem__") else \
        as_array(image, "tiles.label_tiled", "image", min_ndim=2, max_ndim=2)
    if len(array.shape) != 2:
        raise ValueError(f"karyo.tiles.label_tiled: `image` must be 2-D, got shape "
                         f"{tuple(array.shape)}")
    if not callable(function):
        raise TypeError(f"karyo.tiles.label_tiled: `function` must be callable, got "
                        f"{type(function).__name__}")
    halo = _check_count(halo, "halo", "label_tiled", minimum=0)
    margin = halo // 2 if margin is None else _check_count(margin, "margin", "label_tiled",
                                                           minimum=0)
    shape = tuple(int(n) for n in array.shape)

    def compute(crop):
        return function(np.asarray(array[crop]))

    pieces = [label_tile(compute, shape, each, margin, halo=halo, align=align)
              for each in tile_grid(shape, tile, halo, align=align)]
    offsets = np.cumsum([0] + [piece.count for piece in pieces])
    count = int(offsets[-1])
    labels = np.zeros(shape, _label_dtype(count))
    paste(labels, (slice(0, shape[0]), slice(0, shape[1])), pieces, offsets[:-1])
    seam = np.concatenate([[False]] + [piece.seam[1:] for piece in pieces])
    return TiledLabels(labels, count, sum(piece.second_pass for piece in pieces), seam)


def paste(out: np.ndarray, window: tuple[slice, slice], pieces: Sequence[TileLabels],
          offsets: Sequence[int]) -> np.ndarray:
    """Write the owned objects of `pieces` that fall in `window` of the image into `out`.

    Parameters
    ----------
    out : ndarray
        The window's labels, of the window's shape, written in place.
    window : (slice, slice)
        Where `out` sits in the image.
    pieces : sequence of TileLabels
        From :func:`label_tile` (pieces outside the window are skipped).
    offsets : sequence of int
        Added to each piece's labels: the objects of the tiles before it.

    Returns
    -------
    ndarray
        `out`.
    """
    for piece, offset in zip(pieces, offsets, strict=True):
        overlap = _intersect(piece.box, window)
        if overlap is None or piece.count == 0:
            continue
        source = piece.labels[_relative(overlap, piece.box)]
        target = _relative(overlap, window)
        present = source > 0
        out[target][present] = source[present].astype(out.dtype) + out.dtype.type(offset)
    return out


# -- ownership -----------------------------------------------------------------------------------

def _labels_and_units(result, crop, fname: str) -> tuple[np.ndarray, np.ndarray]:
    """The labels of a crop and the 8-connected units of their support."""
    labels, support = result if isinstance(result, tuple) else (result, None)
    labels = np.asarray(labels)
    expected = tuple(s.stop - s.start for s in crop)
    if labels.shape != expected or labels.dtype.kind not in "biu":
        raise ValueError(f"karyo.tiles.{fname}: the function must return integer labels of the "
                         f"crop's shape {expected}, got {labels.dtype} of shape {labels.shape}")
    support = labels > 0 if support is None else np.asarray(support) > 0
    if support.shape != expected:
        raise ValueError(f"karyo.tiles.{fname}: the support must have the crop's shape "
                         f"{expected}, got {support.shape}")
    # Labels outside the support would escape ownership: they count as support.
    units, _ = label(support | (labels > 0), Bc=_EIGHT)
    return labels, units


def _owned_units(units: np.ndarray, core, crop, shape, margin: int):
    """Which units the tile keeps, and the box around those too large for the halo."""
    count = int(units.max()) if units.size else 0
    owned = np.zeros(count + 1, bool)
    if count == 0:
        return owned, None
    flat = units.ravel()
    present = np.flatnonzero(flat)
    ids, first = np.unique(flat[present], return_index=True)
    first_row, first_col = np.divmod(present[first], units.shape[1])
    top, left = crop[0].start, crop[1].start
    anchored = np.zeros(count + 1, bool)
    anchored[ids] = ((core[0].start <= first_row + top) & (first_row + top < core[0].stop)
                     & (core[1].start <= first_col + left) & (first_col + left < core[1].stop))
    boxes = _boxes(units, count)
    # Distance of each unit to the crop's inner edges (those that are not the image's border).
    inner = np.ones(count + 1, bool)
    height, width = units.shape
    if crop[0].start > 0:
        inner &= boxes[:, 0] >= margin
    if crop[0].stop < shape[0]:
        inner &= boxes[:, 1] <= height - 1 - margin
    if crop[1].start > 0:
        inner &= boxes[:, 2] >= margin
    if crop[1].stop < shape[1]:
        inner &= boxes[:, 3] <= width - 1 - margin
    owned = anchored & inner
    owned[0] = False
    meets_core = np.zeros(count + 1, bool)
    meets_core[np.unique(units[_relative(core, crop)])] = True
    large = meets_core & ~inner
    large[0] = False
    if not large.any():
        return owned, None
    rows = slice(int(boxes[large, 0].min()) + top, int(boxes[large, 1].max()) + top + 1)
    cols = slice(int(boxes[large, 2].min()) + left, int(boxes[large, 3].max()) + left + 1)
    return owned, (rows, cols)


def _boxes(units: np.ndarray, count: int) -> np.ndarray:
    """Per unit: first row, last row, first column, last column (in the crop)."""
    boxes = np.empty((count + 1, 4), np.intp)
    boxes[:, [0, 2]] = np.iinfo(np.intp).max
    boxes[:, [1, 3]] = -1
    rows_with = np.flatnonzero(units.any(axis=1))
    cols_with = np.flatnonzero(units.any(axis=0))
    for row in rows_with:
        ids = np.unique(units[row])
        boxes[ids, 0] = np.minimum(boxes[ids, 0], row)
        boxes[ids, 1] = np.maximum(boxes[ids, 1], row)
    for col in cols_with:
        ids = np.unique(units[:, col])
        boxes[ids, 2] = np.minimum(boxes[ids, 2], col)
        boxes[ids, 3] = np.maximum(boxes[ids, 3], col)
    return boxes


def _consecutive(labels: np.ndarray) -> tuple[int, np.ndarray]:
    """Labels 1..n in the raster order of each object's first pixel, as int32."""
    flat = labels.ravel()
    present = np.flatnonzero(flat)
    if present.size == 0:
        return 0, np.zeros(labels.shape, np.int32)
    ids, first = np.unique(flat[present], return_index=True)
    order = np.argsort(first, kind="stable")
    mapping = np.zeros(int(ids.max()) + 1, np.int32)
    mapping[ids[order]] = np.arange(1, ids.size + 1, dtype=np.int32)
    return int(ids.size), mapping[labels]


def _tile_labels(kept: np.ndarray, count: int, core, crop, second_pass: int) -> TileLabels:
    seam = np.zeros(count + 1, bool)
    if count == 0:
        empty_box = (slice(crop[0].start, crop[0].start), slice(crop[1].start, crop[1].start))
        return TileLabels(np.zeros((0, 0), np.int32), empty_box, 0, seam, second_pass, crop)
    rows = np.flatnonzero(kept.any(axis=1))
    cols = np.flatnonzero(kept.any(axis=0))
    local = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    box = tuple(slice(s.start + c.start, s.stop + c.start) for s, c in zip(local, crop,
                                                                          strict=True))
    inside = np.zeros(kept.shape, bool)
    inside[_relative(core, crop)] = True
    seam[np.unique(kept[~inside & (kept > 0)])] = True
    seam[0] = False
    return TileLabels(np.ascontiguousarray(kept[local]), box, count, seam, second_pass, crop)


# -- windows -------------------------------------------------------------------------------------

def _grow(window, halo: int, shape, align: int):
    """`window` grown by `halo`, clipped to the image, starting on a multiple of `align`."""
    grown = []
    for part, size in zip(window, shape, strict=True):
        start = max(0, part.start - halo) // align * align
        grown.append(slice(start, min(size, part.stop + halo)))
    return tuple(grown)


def _union(a, b):
    return tuple(slice(min(x.start, y.start), max(x.stop, y.stop)) for x, y in zip(a, b,
                                                                                   strict=True))


def _intersect(a, b):
    parts = tuple(slice(max(x.start, y.start), min(x.stop, y.stop)) for x, y in zip(a, b,
                                                                                    strict=True))
    return None if any(p.stop <= p.start for p in parts) else parts


def _relative(window, within):
    return tuple(slice(w.start - o.start, w.stop - o.start) for w, o in zip(window, within,
                                                                            strict=True))


def _full(shape):
    return (slice(0, shape[0]), slice(0, shape[1]))


def _label_dtype(count: int) -> np.dtype:
    return np.dtype(np.int32 if count <= np.iinfo(np.int32).max else np.int64)


# -- checks --------------------------------------------------------------------------------------

def _check_shape(shape, fname: str) -> tuple[int, int]:
    try:
        result = tuple(int(n) for n in shape)
    except TypeError:
        result = ()
    if len(result) != 2 or min(result) < 0:
        raise ValueError(f"karyo.tiles.{fname}: `shape` must be the (rows, columns) of a 2-D "
                         f"image, got {shape!r}")
    return result


def _check_count(value, name: str, fname: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"karyo.tiles.{fname}: `{name}` must be an integer >= {minimum}, "
                         f"got {value!r}")
    return int(value)
