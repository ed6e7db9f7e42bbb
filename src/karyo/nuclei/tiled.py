"""Whole-slide segmentation: the nucleus recipe tile by tile on Dask, equal to the untiled run.

:func:`segment_tiled` reads a large image lazily (a tiled or BigTIFF TIFF
through tifffile's Zarr store, an OME-Zarr image, or any NumPy, Dask or Zarr
array), computes the recipe's global quantities once, segments tiles grown by
the halo the recipe needs as Dask tasks, and stitches them with
:mod:`karyo.tiles`: the labels equal ``segment(image)``'s up to numbering.
Each finished tile is saved at once (its owned nuclei and its rows of the
per-nucleus table), so a run that stops can be resumed tile by tile; the
labels are then written as OME-Zarr and the table as CSV (or Parquet).

Files written under `out` for an image STEM:

- ``STEM.ome.zarr``: the image (multiscale) with the nuclei under
  ``labels/nuclei`` (an OME-NGFF 0.4 image-label, multiscale, int32 or
  int64 labels 1..count);
- ``STEM_nuclei.csv`` (or ``.parquet``): one row per nucleus, with its
  ``tile_row``, ``tile_col`` and whether it ``crosses_seam``;
- ``STEM.tiles/``: the run's state: ``plan.json`` (shape, tile, halo and the
  recipe's global quantities) and one ``tile_R_C.npz`` per finished tile.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from karyo.internal import available_cores
from karyo.tiles import Tile, TileLabels, label_tile, paste, tile_grid

__all__ = ["AUTO_TILE_PIXELS", "TiledSegmentation", "TilingPlan", "needs_tiling",
           "return_freed_memory", "segment_tiled"]

#: Above this many pixels ``karyo segment`` (:func:`karyo.nuclei.run.segment_folder`)
#: segments an image tile by tile, in tiles of 2048 (8192 x 8192: the untiled recipe
#: needs about 30 bytes per pixel, 2 GiB here).
AUTO_TILE_PIXELS = 8192 * 8192
_DEFAULT_TILE = 2048
_PLAN_VERSION = 2  # 2: the background opened once, on the whole image


@dataclass
class TiledSegmentation:
    """The result of :func:`segment_tiled`.

    Attributes
    ----------
    labels : ndarray or zarr.Array
        The nuclei, 1..count (int32, or int64 beyond 2**31 - 1 nuclei): in
        memory without `out`, else the OME-Zarr label array.
    count : int
        The number of nuclei.
    tiles : int
        How many tiles the image was cut into.
    second_pass : int
        Nuclei larger than the halo, segmented again on a larger crop.
    seam : int
        Nuclei that cross a seam between tiles.
    failed : list of str
        One line per tile that failed (a missing or corrupt input chunk names
        its position); their nuclei are missing, the other tiles' are whole.
    resumed : int
        Tiles taken from an earlier run.
    settings : dict
        The recipe's settings, resolved.
    nucleus_diameter : float or None
        The nucleus diameter the recipe worked with.
    threshold : float
        The global threshold.
    flags : tuple of str
        The image's quality-control flags.
    files : dict
        The files written: ``zarr``, ``table``, ``state``.
    seconds : float
        Wall time.
    """

    labels: Any
    count: int
    tiles: int
    second_pass: int
    seam: int
    failed: list[str]
    resumed: int
    settings: dict
    nucleus_diameter: float | None
    threshold: float
    flags: tuple[str, ...]
    files: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class TilingPlan:
    """What every tile needs: the geometry and the recipe's global quantities.

    `region(crop, origin, shape)` labels one crop (at `origin` in an image of
    `shape`) and returns ``(labels, support)`` as :func:`karyo.tiles.label_tile`
    expects; `margin` is its reach and `halo` the crops' growth, both in image
    pixels; crops start on multiples of `align`.
    """

    region: Callable
    halo: int
    margin: int
    align: int
    globals: dict
    settings: dict
    nucleus_diameter: float | None
    threshold: float
    flags: tuple[str, ...] = ()


def segment_tiled(image, out=None, *, tile: int = _DEFAULT_TILE, settings: Mapping | None = None,
                  zarr: bool = True, table: str = "csv", scheduler=None,
                  workers: int | None = None, resume: bool = False, name: str | None = None,
                  on_tile: Callable | None = None) -> TiledSegmentation:
    """Segment the nuclei of a large image tile by tile, equal to the untiled result.

    Parameters
    ----------
    image : str, os.PathLike or array-like
        A 2-D image: a TIFF (tiled and BigTIFF files are read a tile at a
        time), an OME-Zarr image (its full-resolution level), another image
        file (read whole), or a NumPy, Dask or Zarr array.
    out : str or os.PathLike, optional
        The folder to write ``STEM.ome.zarr``, ``STEM_nuclei.csv`` and the
        run's state ``STEM.tiles/`` into. Without it the labels are returned
        in memory and nothing is written.
    tile : int
        The side of a tile in pixels (default 2048). Memory grows with
        ``(tile + 2 halo)**2`` times the number of workers, not with the image.
    settings : mapping, optional
        Settings of the default recipe, as :func:`karyo.nuclei.segment`
        takes them.
    zarr : bool
        Write the labels as OME-Zarr (with `out`).
    table : {'csv', 'parquet'}
        The per-nucleus table's format (Parquet needs pyarrow).
    scheduler : str or dask.distributed.Client, optional
        A Dask scheduler address or client; by default the tiles run on this
        machine's cores (`workers` threads). Workers of a cluster must see
        `image` and `out` at the same paths.
    workers : int, optional
        Local threads (default: the machine's cores).
    resume : bool
        Keep the tiles an earlier run of the same plan finished in `out`.
    name : str, optional
        The STEM of the files (default: the file's name, or ``'image'``).
    on_tile : callable, optional
        Called with ``(tile_index, count)`` as each tile's result is saved.

    Returns
    -------
    TiledSegmentation

    Raises
    ------
    ValueError
        For an image that is not 2-D, a bad tile size, or a resume whose
        image or settings differ from the earlier run's.

    See Also
    --------
    karyo.tiles.label_tiled : any label function, tile by tile, in memory.
    karyo.nuclei.segment : the recipe on one image in memory.

    Notes
    -----
    The recipe's global quantities (the nucleus diameter, the image's range,
    the threshold and the image's flags) are computed first and handed to
    every tile. Each tile is grown by a halo that covers every local step of
    the recipe (smoothing, background, per-object thresholds, seeds,
    watershed, size filter, full-resolution outlines) plus a few nuclei; a
    tile keeps the connected foreground objects whose first pixel it owns.
    An object that reaches within the recipe's reach of its crop's edge is
    larger than the halo: its tile is segmented again on a crop grown around
    it, and ``second_pass`` counts its nuclei. The result equals
    ``segment(image, **result.settings)`` up to the numbering of the labels.
    """
    started = time.perf_counter()
    tile = _check_tile(tile)
    if table not in ("csv", "parquet"):
        raise ValueError(f"karyo.nuclei.segment_tiled: `table` must be 'csv' or 'parquet', "
                         f"got {table!r}")
    source = ImageSource(image)
    stem = name or source.stem
    plan = _PLANS["default"](source, dict(settings or {}), tile,
                             partial(_dask_map, scheduler=scheduler, workers=workers))
    tiles = tile_grid(source.shape, tile, plan.halo, align=plan.align)
    state = None
    files: dict[str, Path] = {}
    if out is not None:
        out = Path(out)
        state = out / f"{stem}.tiles"
        _prepare_state(state, _plan_record(source, tile, plan), resume)
    results = _run_tiles(source, plan, tiles, state, scheduler, workers, on_tile)
    pieces = {result["index"]: result for result in results}
    ordered = [pieces[t.index] for t in tiles]
    counts = [r["count"] for r in ordered]
    offsets = np.cumsum([0] + counts)
    count = int(offsets[-1])
    if out is None:
        labels = np.zeros(source.shape, _label_dtype(count))
        paste(labels, _full(source.shape), [r["piece"] for r in ordered], offsets[:-1])
    else:
        labels = None
        if zarr:
            files["zarr"] = out / f"{stem}.ome.zarr"
            labels = _write_ome_zarr(files["zarr"], source, tiles, ordered, offsets, count,
                                     state, scheduler, workers)
        files["table"] = _write_table(out / f"{stem}_nuclei.{table}", ordered, offsets, state,
                                      table)
        files["state"] = state
    failed = [r["error"] for r in ordered if r.get("error")]
    return TiledSegmentation(
        labels=labels, count=count, tiles=len(tiles),
        second_pass=sum(r["second_pass"] for r in ordered),
        seam=sum(r["seam"] for r in ordered), failed=failed,
        resumed=sum(bool(r.get("resumed")) for r in ordered), settings=plan.settings,
        nucleus_diameter=plan.nucleus_diameter, threshold=plan.threshold, flags=plan.flags,
        files=files, seconds=time.perf_counter() - started)


def return_freed_memory() -> bool:
    """Have the C allocator give freed memory back to the system at once (glibc only).

    glibc keeps freed blocks of up to 32 MB for reuse, in one pool per
    thread: arrays of finished tiles stay resident, and a tiled run's peak
    grows with every tile a worker has done, not with the tile it holds. A
    fixed trim threshold of 64 KiB (the setting dask.distributed gives its
    workers) returns them at once and keeps large arrays in their own pages.
    ``karyo segment --tile`` calls this; it holds for the rest of the process
    and costs some time (fresh pages for each large array; about 15% on a
    tiled run).

    Returns
    -------
    bool
        Whether the setting was made (False where the C library is not glibc).

    Examples
    --------
    >>> from karyo.nuclei.tiled import return_freed_memory
    >>> return_freed_memory() in (True, False)
    True
    """
    import ctypes

    trim_threshold = -1  # M_TRIM_THRESHOLD in glibc's malloc.h
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(trim_threshold, 64 * 1024))


def needs_tiling(path) -> bool:
    """Whether an image file has more pixels than :data:`AUTO_TILE_PIXELS` (read lazily).

    Examples
    --------
    >>> from karyo.nuclei.tiled import needs_tiling
    >>> needs_tiling("no-such-file.tif")
    False
    """
    path = Path(path)
    lower = path.name.lower()
    if not path.exists() or not (path.is_dir() or lower.endswith((".zarr", ".tif", ".tiff"))):
        return False
    try:
        shape = ImageSource(path).shape
    except (ValueError, OSError):
        return False
    return shape[0] * shape[1] > AUTO_TILE_PIXELS


# -- input ---------------------------------------------------------------------------------------

class ImageSource:
    """A 2-D image read a window at a time: a path (reopened in each worker) or an array."""

    def __init__(self, image):
        if isinstance(image, (str, os.PathLike)):
            self.path = Path(image)
            if not self.path.exists():
                raise FileNotFoundError(f"karyo.nuclei.segment_tiled: no such image: {image}")
            self._array = None
            self.stem = _stem(self.path)
        else:
            self.path = None
            self._array = image if hasattr(image, "shape") and hasattr(image, "__getitem__") \
                else np.asarray(image)
            self.stem = "image"
        array = self.array
        if len(array.shape) != 2:
            raise ValueError(f"karyo.nuclei.segment_tiled: the image must be 2-D (one DNA "
                             f"plane), got shape {tuple(array.shape)}")
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)

    def __getstate__(self):
        return {**self.__dict__, "_array": None if self.path is not None else self._array}

    @property
    def array(self):
        if self._array is None:
            self._array = _open_path(self.path)
        return self._array

    def read(self, window: tuple[slice, slice]) -> np.ndarray:
        """The pixels of `window`; a missing or unreadable chunk is named with its position."""
        array = self.array
        _check_chunks_present(array, window, self.path)
        try:
            return np.asarray(array[window])
        except Exception as error:  # noqa: BLE001 - a codec error, named by its chunk below
            raise OSError(_find_bad_chunk(array, window, self.path, error)) from error


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".ome.zarr", ".zarr", ".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _open_path(path: Path):
    """A lazily read 2-D array over a TIFF or OME-Zarr; other files are read whole.

    A file that cannot be opened raises OSError naming it (the readers raise
    many kinds of error for a broken file).
    """
    try:
        return _open_lazily(path)
    except (OSError, ValueError):
        raise
    except Exception as error:  # noqa: BLE001 - named with its file, whatever the reader raised
        raise OSError(f"{path}: cannot be read as an image ({type(error).__name__}: "
                      f"{error})") from error


def _open_lazily(path: Path):
    lower = path.name.lower()
    if path.is_dir() or lower.endswith(".zarr"):
        import zarr

        node = zarr.open(str(path), mode="r")
        return _squeeze(_full_resolution(node))
    if lower.endswith((".tif", ".tiff")):
        import tifffile
        import zarr

        from karyo.io.image_files import tifffile_quiet

        with tifffile_quiet():
            _check_tiff(path)
            store = tifffile.imread(str(path), aszarr=True)
        return _squeeze(_full_resolution(zarr.open(store, mode="r")))
    from karyo.nuclei.images import read_dna_image

    return read_dna_image(path).image


def _check_tiff(path: Path) -> None:
    """A TIFF whose header lists fewer strips or tiles than its image needs is broken whole.

    (Unreadable regions of a sound header are reported tile by tile instead.)
    """
    import tifffile

    with tifffile.TiffFile(str(path)) as tiff:
        page = tiff.pages.first
        needed = math.prod(page.chunked)
        if len(page.dataoffsets) < needed:
            raise OSError(f"{path}: the TIFF is damaged: its {' x '.join(map(str, page.shape))} "
                          f"pixels need {needed} strips or tiles, its header lists "
                          f"{len(page.dataoffsets)}")


def _full_resolution(node):
    """The first dataset of an OME-Zarr multiscale group (or the array itself)."""
    import zarr

    if isinstance(node, zarr.Array):
        return node
    attributes = dict(node.attrs)
    multiscales = attributes.get("multiscales") or attributes.get("ome", {}).get("multiscales")
    if multiscales:
        return node[multiscales[0]["datasets"][0]["path"]]
    arrays = sorted(name for name, _ in node.arrays())
    if not arrays:
        raise ValueError("karyo.nuclei.segment_tiled: the Zarr group holds no image array")
    return node[arrays[0]]


def _squeeze(array):
    """Drop leading axes of length 1 (an OME-Zarr image is often t, c, z, y, x)."""
    while len(array.shape) > 2 and array.shape[0] == 1:
        array = array[0] if isinstance(array, np.ndarray) else _Leading(array)
    return array


class _Leading:
    """A view of a Zarr array without its first axis (of length 1), read lazily."""

    def __init__(self, array):
        self.base, self.shape, self.dtype = array, tuple(array.shape[1:]), array.dtype

    def __getitem__(self, window):
        return self.base[(0, *window)] if isinstance(window, tuple) else self.base[0, window]


def _chunk_grid(array):
    """The Zarr array under `array` with its chunk shape and leading indices, or None."""
    import zarr

    lead = ()
    while isinstance(array, _Leading):
        lead, array = lead + (0,), array.base
    if not isinstance(array, zarr.Array):
        return None
    return array, tuple(array.chunks), lead


def _chunks_of(window, chunks):
    rows = range(window[0].start // chunks[0], max(window[0].start, window[0].stop - 1)
                 // chunks[0] + 1)
    cols = range(window[1].start // chunks[1], max(window[1].start, window[1].stop - 1)
                 // chunks[1] + 1)
    return [(r, c) for r in rows for c in cols]


def _check_chunks_present(array, window, path) -> None:
    """Zarr reads a missing chunk as zeros: on a local store, refuse it by name instead."""
    grid = _chunk_grid(array)
    if grid is None:
        return
    base, chunks, lead = grid
    root = getattr(base.store_path.store, "root", None)
    if root is None or not hasattr(base.metadata, "encode_chunk_key"):
        return
    folder = Path(root) / base.store_path.path
    for index in _chunks_of(window, chunks[len(lead):]):
        key = base.metadata.encode_chunk_key(lead + index)
        if not (folder / key).exists():
            raise OSError(_chunk_message(path, base, index, chunks[len(lead):], "missing"))


def _find_bad_chunk(array, window, path, error) -> str:
    grid = _chunk_grid(array)
    if grid is None:
        return f"{path or 'the image'}: cannot read rows {window[0].start}-{window[0].stop - 1}, " \
               f"columns {window[1].start}-{window[1].stop - 1}: {error}"
    base, chunks, lead = grid
    chunks = chunks[len(lead):]
    for index in _chunks_of(window, chunks):
        part = tuple(slice(i * c, (i + 1) * c) for i, c in zip(index, chunks, strict=True))
        try:
            base[lead + part]
        except Exception:  # noqa: BLE001 - the chunk that fails is the one to name
            return _chunk_message(path, base, index, chunks, f"corrupt ({error})")
    return f"{path or 'the image'}: {error}"


def _chunk_message(path, base, index, chunks, what: str) -> str:
    rows = (index[0] * chunks[0], min((index[0] + 1) * chunks[0], base.shape[-2]) - 1)
    cols = (index[1] * chunks[1], min((index[1] + 1) * chunks[1], base.shape[-1]) - 1)
    return (f"{path or 'the image'}: chunk {index} of array '{base.path}' is {what}: "
            f"rows {rows[0]}-{rows[1]}, columns {cols[0]}-{cols[1]}")


# -- the recipe's plan ---------------------------------------------------------------------------

def _default_plan(source: ImageSource, settings: dict, tile: int, map: Callable) -> TilingPlan:
    """The default recipe's globals and region pass (``karyo.nuclei.segment``)."""
    # The recipe's split into a global pass and a region pass (with positions computed
    # from the image's own indices) lives beside the recipe.
    from karyo.nuclei.segment import tiling_plan

    return tiling_plan(source, settings, tile=tile, map=map)


_PLANS: dict[str, Callable[[ImageSource, dict, int, Callable], TilingPlan]] = {
    "default": _default_plan}


def _plan_record(source: ImageSource, tile: int, plan: TilingPlan) -> dict:
    return {"version": _PLAN_VERSION, "shape": list(source.shape), "dtype": source.dtype.str,
            "tile": tile, "halo": plan.halo, "margin": plan.margin, "align": plan.align,
            "globals": plan.globals, "settings": plan.settings}


def _prepare_state(state: Path, record: dict, resume: bool) -> None:
    text = json.dumps(record, indent=1, sort_keys=True, default=_plain)
    plan_file = state / "plan.json"
    if plan_file.exists():
        if not resume:
            for part in state.glob("tile_*.npz"):
                part.unlink()
        elif plan_file.read_text() != text:
            raise ValueError(f"karyo.nuclei.segment_tiled: cannot resume {state}: the image, tile "
                             "size or settings differ from the earlier run's (run without "
                             "--resume to start again)")
    state.mkdir(parents=True, exist_ok=True)
    _write_atomic(plan_file, text.encode())


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        # A global array (the coarse background) is recorded by its digest.
        import hashlib

        return {"shape": list(value.shape), "dtype": value.dtype.str,
                "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}
    raise TypeError(f"not JSON: {value!r}")


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


# -- tiles ---------------------------------------------------------------------------------------

def _run_tiles(source, plan, tiles, state, scheduler, workers, on_tile) -> list[dict]:
    """Every tile's summary (and its piece, in memory runs), on Dask."""
    return _dask_map(partial(_segment_tile, source, plan, state=state, on_tile=on_tile), tiles,
                     scheduler, workers)


def _dask_map(function, items, scheduler, workers) -> list:
    """``[function(item) for item in items]`` as Dask tasks."""
    import dask

    return _compute([dask.delayed(function, pure=False)(item) for item in items], scheduler,
                    workers)


def _tile_file(state: Path, index: tuple[int, int]) -> Path:
    return state / f"tile_{index[0]}_{index[1]}.npz"


def _segment_tile(source: ImageSource, plan: TilingPlan, tile: Tile, *, state,
                  on_tile) -> dict:
    """Segment one tile and save what it owns (or take it from an earlier run)."""
    if state is not None and _tile_file(state, tile.index).exists():
        summary = _load_summary(_tile_file(state, tile.index))
        summary["resumed"] = True
        return summary

    def compute(window):
        return plan.region(source.read(window), (window[0].start, window[1].start),
                           source.shape)

    try:
        piece = label_tile(compute, source.shape, tile, plan.margin, halo=plan.halo,
                           align=plan.align)
    except Exception as error:  # noqa: BLE001 - one tile's failure is reported, others go on
        return {"index": tile.index, "count": 0, "second_pass": 0, "seam": 0,
                "error": f"tile {tile.index} (rows {tile.core[0].start}-{tile.core[0].stop - 1}, "
                         f"columns {tile.core[1].start}-{tile.core[1].stop - 1}): {error}",
                "piece": None}
    columns = _measure_piece(source, piece) if state is not None else {}
    summary = {"index": tile.index, "count": piece.count, "second_pass": piece.second_pass,
               "seam": int(piece.seam.sum()), "piece": piece, "box": piece.box}
    if state is not None:
        _save_piece(_tile_file(state, tile.index), tile, piece, columns)
        summary["piece"] = None
    if on_tile is not None:
        on_tile(tile.index, piece.count)
    return summary


def _measure_piece(source: ImageSource, piece: TileLabels) -> dict:
    """The per-nucleus table of a tile's owned nuclei, in the image's coordinates."""
    from karyo.nuclei.measure import measure

    if piece.count == 0:
        return {}
    image = source.read(piece.box)
    columns = measure(piece.labels, image, as_frame=False)
    top, left = piece.box[0].start, piece.box[1].start
    for name, shift in (("centroid_y", top), ("centroid_x", left), ("bbox_min_y", top),
                        ("bbox_max_y", top), ("bbox_min_x", left), ("bbox_max_x", left)):
        if name in columns:
            columns[name] = columns[name] + shift
    if "touches_border" in columns:
        height, width = source.shape
        columns["touches_border"] = ((columns["bbox_min_y"] == 0) | (columns["bbox_min_x"] == 0)
                                     | (columns["bbox_max_y"] == height)
                                     | (columns["bbox_max_x"] == width))
    columns["crosses_seam"] = piece.seam[1:].copy()
    return columns


def _save_piece(path: Path, tile: Tile, piece: TileLabels, columns: dict) -> None:
    import io

    buffer = io.BytesIO()
    box = np.array([[s.start, s.stop] for s in piece.box])
    crop = np.array([[s.start, s.stop] for s in piece.crop])
    np.savez_compressed(buffer, labels=piece.labels, box=box, crop=crop, seam=piece.seam,
                        count=piece.count, second_pass=piece.second_pass,
                        index=np.array(tile.index), column_names=np.array(list(columns), str),
                        **{f"column_{i}": np.asarray(v) for i, v in enumerate(columns.values())})
    _write_atomic(path, buffer.getvalue())


def _load_piece(path: Path) -> tuple[TileLabels, dict]:
    with np.load(path) as data:
        box = tuple(slice(int(a), int(b)) for a, b in data["box"])
        crop = tuple(slice(int(a), int(b)) for a, b in data["crop"])
        piece = TileLabels(data["labels"], box, int(data["count"]), data["seam"],
                           int(data["second_pass"]), crop)
        names = [str(n) for n in data["column_names"]]
        columns = {n: data[f"column_{i}"] for i, n in enumerate(names)}
    return piece, columns


def _load_summary(path: Path) -> dict:
    piece, _ = _load_piece(path)
    with np.load(path) as data:
        index = tuple(int(i) for i in data["index"])
    return {"index": index, "count": piece.count, "second_pass": piece.second_pass,
            "seam": int(piece.seam.sum()), "piece": None, "box": piece.box}


# -- output --------------------------------------------------------------------------------------

def _write_ome_zarr(path: Path, source, tiles, ordered, offsets, count, state, scheduler,
                    workers):
    """The image and its labels as OME-NGFF 0.4 (Zarr v2), multiscale, chunk by chunk."""
    import dask
    import zarr

    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    chunk = max(t.core[0].stop - t.core[0].start for t in tiles[:1]) if tiles else 1
    chunks = (min(chunk, 1024), min(chunk, 1024))
    levels = _levels(source.shape, chunks[0])
    labels_group = root.create_group("labels")
    nuclei = labels_group.create_group("nuclei")
    images, masks = [], []
    for level in range(levels):
        shape = tuple(math.ceil(n / 2 ** level) for n in source.shape)
        images.append(_create(root, str(level), shape, chunks, source.dtype))
        masks.append(_create(nuclei, str(level), shape, chunks, _label_dtype(count)))
    boxes = [(r.get("box"), i) for i, r in enumerate(ordered) if r["count"]]
    pieces_for = _PieceLoader(state, tiles, ordered)
    tasks = [dask.delayed(_write_window, pure=False)(source, images[0], masks[0], window,
                                                     boxes, pieces_for, offsets)
             for window in _windows(source.shape, chunks)]
    _compute(tasks, scheduler, workers)
    for level in range(1, levels):
        shape = images[level].shape
        tasks = [dask.delayed(_downsample_window, pure=False)(images[level - 1], images[level],
                                                              masks[level - 1], masks[level], w)
                 for w in _windows(shape, chunks)]
        _compute(tasks, scheduler, workers)
    datasets = [{"path": str(level), "coordinateTransformations": [
        {"type": "scale", "scale": [2.0 ** level, 2.0 ** level]}]} for level in range(levels)]
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    root.attrs["multiscales"] = [{"version": "0.4", "name": path.name, "axes": axes,
                                  "datasets": datasets}]
    labels_group.attrs["labels"] = ["nuclei"]
    nuclei.attrs["multiscales"] = [{"version": "0.4", "name": "nuclei", "axes": axes,
                                    "datasets": datasets}]
    nuclei.attrs["image-label"] = {"version": "0.4", "source": {"image": "../../"}}
    return masks[0]


def _create(group, name, shape, chunks, dtype):
    return group.create_array(name, shape=shape, chunks=chunks, dtype=dtype, fill_value=0,
                              chunk_key_encoding={"name": "v2", "separator": "/"})


def _levels(shape, chunk: int) -> int:
    """Pyramid levels, halving until the image fits in one chunk."""
    levels = 1
    while max(shape) / 2 ** (levels - 1) > chunk:
        levels += 1
    return levels


def _windows(shape, chunks):
    return [(slice(r, min(r + chunks[0], shape[0])), slice(c, min(c + chunks[1], shape[1])))
            for r in range(0, shape[0], chunks[0]) for c in range(0, shape[1], chunks[1])]


class _PieceLoader:
    """Tile pieces by position in the tile order, read from the run's state when asked."""

    def __init__(self, state, tiles, ordered):
        self.state, self.tiles = state, tiles
        self.memory = {i: r["piece"] for i, r in enumerate(ordered) if r.get("piece") is not None}

    def __call__(self, position: int) -> TileLabels:
        if position in self.memory:
            return self.memory[position]
        return _load_piece(_tile_file(self.state, self.tiles[position].index))[0]


def _write_window(source, image_array, label_array, window, boxes, pieces_for, offsets) -> None:
    from karyo.tiles import _intersect

    try:
        image_array[window] = source.read(window)
    except OSError:
        pass  # a missing or corrupt input chunk: its tiles report it, the copy stays blank
    out = np.zeros(tuple(s.stop - s.start for s in window), label_array.dtype)
    positions = [i for box, i in boxes if _intersect(box, window) is not None]
    paste(out, window, [pieces_for(i) for i in positions], [offsets[i] for i in positions])
    label_array[window] = out


def _downsample_window(image_above, image_array, labels_above, label_array, window) -> None:
    above = tuple(slice(2 * s.start, 2 * s.stop, 2) for s in window)
    image_array[window] = image_above[above]
    label_array[window] = labels_above[above]


def _compute(tasks, scheduler, workers) -> list:
    """The results of Dask `tasks`: on this machine's threads, or on the cluster at `scheduler`."""
    import dask

    if scheduler is None:
        return list(dask.compute(*tasks, scheduler="threads",
                                 num_workers=workers or available_cores()))
    from dask.distributed import Client

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        return list(client.gather(client.compute(tasks)))
    finally:
        if client is not scheduler:
            client.close()


def _write_table(path: Path, ordered, offsets, state, table: str) -> Path:
    """The per-nucleus table from the saved tiles, in label order, one tile at a time."""
    import pandas as pd

    partial = path.with_name(path.name + ".partial")
    frames = []
    header = True
    for position, summary in enumerate(ordered):
        if not summary["count"]:
            continue
        _, columns = _load_piece(_tile_file(state, summary["index"]))
        count = summary["count"]
        frame = pd.DataFrame({"label": np.arange(1, count + 1) + offsets[position],
                              **{k: v for k, v in columns.items() if k != "label"},
                              "tile_row": summary["index"][0], "tile_col": summary["index"][1]})
        if table == "parquet":
            frames.append(frame)
        else:
            frame.to_csv(partial, index=False, header=header, mode="w" if header else "a")
            header = False
    if table == "parquet":
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["label", "tile_row", "tile_col", "crosses_seam"])
        frame.to_parquet(partial, index=False)
    elif header:
        pd.DataFrame(columns=["label", "tile_row", "tile_col", "crosses_seam"]).to_csv(
            partial, index=False)
    os.replace(partial, path)
    return path


# -- checks --------------------------------------------------------------------------------------

def _check_tile(tile) -> int:
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 16:
        raise ValueError(f"karyo.nuclei.segment_tiled: `tile` must be a whole number of pixels "
                         f">= 16, got {tile!r}")
    return int(tile)


def _full(shape):
    return (slice(0, shape[0]), slice(0, shape[1]))


def _label_dtype(count: int) -> np.dtype:
    return np.dtype(np.int32 if count <= np.iinfo(np.int32).max else np.int64)
