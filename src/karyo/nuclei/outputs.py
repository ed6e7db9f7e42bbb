"""Writing one image's outputs, atomically and without clobbering results.

Per image ``STEM`` (derived safely from the input name by
:func:`output_stem`), a batch writes into its output folder:

- ``STEM_labels.tif``: the label image, zlib-compressed 16-bit TIFF (32-bit
  beyond 65535 nuclei), which Fiji, napari and tifffile open;
- ``STEM_overlay.png``: the image with each nucleus outlined and numbered;
- ``STEM_thumb.png``: a small grey thumbnail for the report;
- ``STEM_nuclei.csv``: the per-nucleus table (columns: ``karyo.nuclei.measure.COLUMNS``);
- ``STEM_rois.zip``: optionally, ImageJ ROIs (one traced polygon per nucleus);
- ``STEM.geojson``: optionally, the nuclei as QuPath detections.

Per run (:func:`karyo.nuclei.run.segment_folder`): ``summary.csv`` (one row
per input: its outputs and quality control, columns ``SUMMARY_COLUMNS``),
``nuclei.csv`` (every nucleus, with an ``image`` column), ``settings.toml``,
``report.html`` and, in CellProfiler's style, ``cellprofiler/Image.csv`` and
``cellprofiler/Nuclei.csv``.

Every file is written under a temporary name in the same folder, then moved
into place, so a crash never leaves a half-written file under a final name:
a file that exists is complete. That is what makes ``--resume`` safe. Files
get the permissions the umask allows (``-rw-r--r--`` under umask 022), as
``open`` would give them.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import math
import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from karyo.labeled import borders
from karyo.nuclei.measure import COLUMNS, measure
from karyo.regionprops import regionprops_table

__all__ = [
    "CELLPROFILER_NUCLEI_COLUMNS",
    "SUMMARY_COLUMNS",
    "ImageOutputs",
    "atomic_path",
    "format_settings_toml",
    "image_outputs",
    "imagej_roi_bytes",
    "output_stem",
    "read_label_tiff",
    "tiled_image_outputs",
    "trace_outline",
    "unique_stems",
    "write_cellprofiler_tables",
    "write_geojson",
    "write_image_outputs",
    "write_imagej_rois",
    "write_label_tiff",
    "write_overlay",
    "write_run_table",
    "write_settings_toml",
    "write_summary_csv",
    "write_table_csv",
    "write_thumbnail",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 200
THUMBNAIL_SIZE = 256


def output_stem(name: str) -> str:
    """The file-name stem of an input's outputs: safe on every file system.

    Only the last path component counts (so ``../x.png`` cannot write
    outside the output folder), its extension is dropped, and every
    character other than letters, digits, ``.``, ``_`` and ``-`` becomes
    ``_``. Dots and ``_`` are stripped from both ends (no hidden files, no
    ``..``, no trailing dot that Windows would drop).

    Examples
    --------
    >>> output_stem("../../etc/dna 1.png")
    'dna_1'
    >>> output_stem("C:\\\\data\\\\..\\\\.hidden.tif")
    'hidden'
    """
    if not isinstance(name, str):
        raise TypeError(f"karyo.nuclei.output_stem: `name` must be a str, got {name!r}")
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem.strip("."):
        stem = base
    stem = _UNSAFE.sub("_", stem).strip("._")[:_MAX_STEM].rstrip("._") or "image"
    return stem


def is_safe_stem(stem: str) -> bool:
    """True if `stem` could have come from :func:`output_stem`: a plain, visible file name."""
    return (isinstance(stem, str) and 0 < len(stem) <= _MAX_STEM and not _UNSAFE.search(stem)
            and stem.strip("._") == stem)


def unique_stems(names: Sequence[str]) -> list[str]:
    """:func:`output_stem` of each name, made unique by ``-2``, ``-3``... in input order.

    A suffix never takes a stem that another input owns, so the outputs of
    each input keep the same name whatever else is in the batch... except
    for the duplicates themselves, numbered in input order.

    Examples
    --------
    >>> unique_stems(["a/dna.png", "b/dna.png", "dna-2.tif"])
    ['dna', 'dna-3', 'dna-2']
    """
    stems = [output_stem(name) for name in names]
    taken = set(stems)
    seen: set[str] = set()
    unique = []
    for stem in stems:
        candidate = stem
        if candidate in seen:
            number = 2
            while f"{stem}-{number}" in taken or f"{stem}-{number}" in seen:
                number += 1
            candidate = f"{stem}-{number}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


@dataclass(frozen=True)
class ImageOutputs:
    """The paths of one image's outputs (``rois``, ``geojson`` are None when not asked for).

    A large image segmented tile by tile (:func:`tiled_image_outputs`) has
    its labels in an OME-Zarr folder and no full-size overlay (None).
    """

    labels: Path
    overlay: Path | None
    thumbnail: Path
    table: Path
    rois: Path | None = None
    geojson: Path | None = None

    def paths(self) -> list[Path]:
        """Every output path, in writing order."""
        paths = [self.labels, self.table, self.overlay, self.thumbnail, self.rois, self.geojson]
        return [path for path in paths if path is not None]

    def existing(self) -> list[Path]:
        """The outputs that already exist."""
        return [path for path in self.paths() if path.exists()]

    def complete(self) -> bool:
        """True if every output exists: files are written atomically, so they are whole.

        An OME-Zarr folder is written in place, but before the files after it
        (the table, the thumbnail): those being whole, it is whole too.
        """
        return all(path.is_dir() if path.suffix == ".zarr" else path.is_file()
                   for path in self.paths())


def image_outputs(out_dir, stem: str, *, rois: bool = False,
                  geojson: bool = False) -> ImageOutputs:
    """The output paths for the image whose stem is `stem` (see :func:`output_stem`)."""
    if not is_safe_stem(stem):
        raise ValueError(f"karyo.nuclei.image_outputs: `stem` {stem!r} is not a safe file name; "
                         "derive it with output_stem()")
    out_dir = Path(out_dir)
    return ImageOutputs(labels=out_dir / f"{stem}_labels.tif",
                        overlay=out_dir / f"{stem}_overlay.png",
                        thumbnail=out_dir / f"{stem}_thumb.png",
                        table=out_dir / f"{stem}_nuclei.csv",
                        rois=out_dir / f"{stem}_rois.zip" if rois else None,
                        geojson=out_dir / f"{stem}.geojson" if geojson else None)


def tiled_image_outputs(out_dir, stem: str) -> ImageOutputs:
    """The output paths of a large image segmented tile by tile (``karyo.nuclei.tiled``).

    ``STEM.ome.zarr`` (the image and its labels, multiscale), ``STEM_nuclei.csv``
    and ``STEM_thumb.png``; no full-size overlay, ImageJ ROIs or GeoJSON.
    """
    outputs = image_outputs(out_dir, stem)
    return ImageOutputs(labels=Path(out_dir) / f"{stem}.ome.zarr", overlay=None,
                        thumbnail=outputs.thumbnail, table=outputs.table)


@contextlib.contextmanager
def atomic_path(path, *, overwrite: bool = False):
    """Yield a temporary path beside `path`; move it onto `path` if the block succeeds.

    Without `overwrite`, raise FileExistsError if `path` exists (checked
    again at the moment of the move, with a hard link, where the file
    system allows it). On error the temporary file is removed.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                             dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        # mkstemp makes the file private (0600); give it what open() would.
        os.chmod(temporary, 0o666 & ~current_umask())
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to "
                                      "replace it") from None
            except OSError:  # no hard links here (e.g. some network shares)
                os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def current_umask() -> int:
    """The process's umask (read from /proc where possible, so nothing changes)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_partial_files(paths: Iterable) -> list[Path]:
    """Delete the temporary files :func:`atomic_path` left beside `paths` when killed.

    A run stopped by SIGKILL or a power cut cannot clean up after itself; the
    next run (``--resume`` or ``--overwrite``) calls this first. Returns the
    files removed.
    """
    removed = []
    for path in map(Path, paths):
        for partial in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
                removed.append(partial)
    return removed


def write_label_tiff(path, labels: np.ndarray, *, metadata: Mapping | None = None,
                     overwrite: bool = False) -> Path:
    """Write a label image as a zlib-compressed TIFF that Fiji and napari open.

    Parameters
    ----------
    path : str or os.PathLike
        Destination (``.tif``).
    labels : ndarray
        2-D non-negative integer labels.
    metadata : mapping, optional
        JSON-serialisable values stored in the ImageDescription tag (read
        back by :func:`read_label_tiff`).
    overwrite : bool, optional
        Replace an existing file (else FileExistsError).

    Returns
    -------
    path : Path

    Notes
    -----
    Stored as uint16 when the largest label fits (so every viewer shows
    it), else uint32; compression is Deflate (zlib, TIFF code 8) with the
    horizontal predictor, which shrinks label images about tenfold.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> labels = np.array([[0, 1], [2, 2]], np.int32)
    >>> path = write_label_tiff(os.path.join(folder, "x_labels.tif"), labels)
    >>> read_label_tiff(path)[0].tolist()
    [[0, 1], [2, 2]]
    """
    import tifffile

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "biu":
        raise ValueError(f"karyo.nuclei.write_label_tiff: `labels` must be a 2-D integer array, "
                         f"got {labels.ndim}-D {labels.dtype}")
    largest = int(labels.max()) if labels.size else 0
    if labels.size and int(labels.min()) < 0:
        raise ValueError("karyo.nuclei.write_label_tiff: `labels` has negative values")
    dtype = np.uint16 if largest <= 0xFFFF else np.uint32
    description = json.dumps({"karyo": dict(metadata or {})}, sort_keys=True, default=_jsonable)
    with atomic_path(path, overwrite=overwrite) as temporary:
        tifffile.imwrite(temporary, labels.astype(dtype, copy=False), compression="zlib",
                         predictor=True, description=description, metadata=None,
                         software="karyo")
    return Path(path)


def read_label_tiff(path) -> tuple[np.ndarray, dict]:
    """Read a label TIFF written by :func:`write_label_tiff`: (labels, metadata)."""
    import tifffile

    with tifffile.TiffFile(path) as tiff:
        labels = tiff.asarray()
        description = tiff.pages[0].description
    try:
        metadata = json.loads(description).get("karyo", {})
    except (ValueError, AttributeError):
        metadata = {}
    return labels, metadata


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple, set)):
        return list(np.asarray(list(value) if isinstance(value, set) else value).tolist())
    return str(value)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Stretch the 0.5-99.5 percentile range to 0-255 (robust to a few hot pixels)."""
    image = np.asarray(image)
    if image.size == 0:
        return np.zeros(image.shape, np.uint8)
    finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image
    if finite.size == 0:
        return np.zeros(image.shape, np.uint8)
    low, high = np.percentile(finite, [0.5, 99.5])
    if high <= low:
        high = low + 1
    scaled = (np.nan_to_num(image.astype(np.float32)) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _label_borders(labels: np.ndarray) -> np.ndarray:
    """Pixels of a nucleus with a 4-neighbour of another value (mahotas's borders)."""
    return borders(labels) & (labels > 0)


#: Colours of the overlay: outlines of nuclei, their numbers, and outlines of
#: the objects the size filter rejected.
OVERLAY_COLOURS = {"nucleus": (255, 255, 0), "number": (0, 255, 255), "rejected": (255, 0, 255)}


def write_overlay(path, image: np.ndarray, labels: np.ndarray, *, overwrite: bool = False,
                  numbers: bool = True, rejected: np.ndarray | None = None) -> Path:
    """Write a full-resolution PNG of `image` with each nucleus outlined and numbered.

    Nuclei are outlined in yellow and numbered in cyan at their centroid;
    objects the size filter rejected (`rejected`, a label image) are
    outlined in magenta. The grey image is contrast-stretched to its 0.5-99.5
    percentiles. The numbers' size follows the nuclei's (a third of their
    median equivalent diameter, 12 to 48 pixels), so they stay readable when
    the overlay is viewed at full size.
    """
    from PIL import Image, ImageDraw, ImageFont

    labels = np.asarray(labels)
    grey = _to_uint8(image)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    if rejected is not None:
        rejected = np.asarray(rejected)
        rgb[_label_borders(rejected) & (labels == 0)] = OVERLAY_COLOURS["rejected"]
    rgb[_label_borders(labels)] = OVERLAY_COLOURS["nucleus"]
    picture = Image.fromarray(rgb, "RGB")
    if numbers:
        table = regionprops_table(labels, properties=("label", "centroid",
                                                      "equivalent_diameter_area"))
        if table["label"].size:
            size = int(np.clip(np.median(table["equivalent_diameter_area"]) / 3, 12, 48))
            font = ImageFont.load_default(size=size)
            draw = ImageDraw.Draw(picture)
            centres = zip(table["label"].tolist(), table["centroid-0"].tolist(),
                          table["centroid-1"].tolist(), strict=True)
            for value, row, column in centres:
                draw.text((column, row), str(value), fill=OVERLAY_COLOURS["number"], font=font,
                          anchor="mm", stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0))
    with atomic_path(path, overwrite=overwrite) as temporary:
        # zlib level 1: a quarter of the time of the default level for a few % more bytes
        picture.save(temporary, format="PNG", compress_level=1)
    return Path(path)


def write_thumbnail(path, image: np.ndarray, *, size: int = THUMBNAIL_SIZE,
                    overwrite: bool = False) -> Path:
    """Write a contrast-stretched grey PNG whose longer side is at most `size` pixels."""
    from PIL import Image

    picture = Image.fromarray(_to_uint8(image), "L")
    picture.thumbnail((size, size), Image.Resampling.BOX)
    with atomic_path(path, overwrite=overwrite) as temporary:
        picture.save(temporary, format="PNG")
    return Path(path)


def _table_columns(table) -> dict[str, np.ndarray]:
    if hasattr(table, "to_dict") and hasattr(table, "columns"):  # a pandas DataFrame
        return {str(column): np.asarray(table[column]) for column in table.columns}
    if isinstance(table, Mapping):
        return {str(column): np.asarray(values) for column, values in table.items()}
    raise TypeError(f"karyo.nuclei.write_table_csv: `table` must be a DataFrame or a mapping "
                    f"of column names to arrays, got {type(table).__name__}")


def _format_cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def write_table_csv(path, table, *, overwrite: bool = False) -> Path:
    """Write a per-nucleus table (DataFrame or mapping of columns) as CSV, one row per nucleus.

    Floats are written with :func:`repr` (shortest exact form), NaN as an
    empty cell, so the file is the same on every machine.
    """
    columns = _table_columns(table)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError("karyo.nuclei.write_table_csv: the table's columns have different "
                         f"lengths {sorted(lengths)}")
    rows = zip(*(values.tolist() for values in columns.values()), strict=True)
    with atomic_path(path, overwrite=overwrite) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(columns)
            writer.writerows([_format_cell(cell) for cell in row] for row in rows)
    return Path(path)


# ---------------------------------------------------------------- ImageJ ROIs

_DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # east, south, west, north (y down)


def trace_outline(mask: np.ndarray) -> np.ndarray:
    """Trace the outer boundary of the first object of `mask` along pixel edges.

    Parameters
    ----------
    mask : ndarray of bool
        2-D; the object containing the first True pixel in raster order is
        traced (diagonal contacts connect, as in 8-connectivity).

    Returns
    -------
    vertices : ndarray of int64, shape (k, 2)
        The polygon's corners as (x, y) = (column, row) of pixel corners,
        clockwise on screen, without repeating the first vertex. Pixel
        ``(r, c)`` is the square ``[c, c+1] x [r, r+1]``, so the polygon's
        area equals the object's pixel count (when it has no holes).

    Notes
    -----
    Crack following (square tracing on the pixel-edge grid), as ImageJ's
    wand tool does: walking with the object on the right, at each corner
    turn left if the pixel ahead-left is inside, go straight if only the
    pixel ahead-right is, else turn right. Only corners are recorded.
    See T. Pavlidis, *Algorithms for Graphics and Image Processing* (1982),
    ch. 7.

    Examples
    --------
    >>> import numpy as np
    >>> trace_outline(np.array([[0, 1, 1], [0, 1, 0]], bool)).tolist()
    [[1, 0], [3, 0], [3, 1], [2, 1], [2, 2], [1, 2]]
    """
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"karyo.nuclei.trace_outline: `mask` must be 2-D, got {mask.ndim}-D")
    inside = np.flatnonzero(mask)
    if inside.size == 0:
        return np.zeros((0, 2), np.int64)
    height, width = mask.shape
    start_row, start_column = divmod(int(inside[0]), width)
    padded = np.pad(mask, 1).tolist()  # Python lists index faster than arrays per pixel

    def filled(row: int, column: int) -> bool:
        return padded[row + 1][column + 1]

    x, y, heading = start_column, start_row, 0
    vertices = [(x, y)]
    while True:
        x, y = x + _DIRECTIONS[heading][0], y + _DIRECTIONS[heading][1]
        if (x, y) == (start_column, start_row):
            break
        dx, dy = _DIRECTIONS[heading]
        # pixels ahead of the corner, on the left and on the right of the heading
        ahead_left = filled((2 * y + dy - dx - 1) // 2, (2 * x + dx + dy - 1) // 2)
        ahead_right = filled((2 * y + dy + dx - 1) // 2, (2 * x + dx - dy - 1) // 2)
        if ahead_left:
            turn = 3
        elif ahead_right:
            continue
        else:
            turn = 1
        heading = (heading + turn) % 4
        vertices.append((x, y))
    return np.array(vertices, np.int64)


_ROI_VERSION = 228
_ROI_TRACED = 8


def imagej_roi_bytes(vertices: np.ndarray, name: str = "") -> bytes:
    """Encode a polygon as an ImageJ ``.roi`` file (type "traced", integer coordinates).

    Parameters
    ----------
    vertices : ndarray, shape (k, 2)
        Polygon corners as (x, y) pixel-corner coordinates (see
        :func:`trace_outline`), each below 32768.
    name : str, optional
        The ROI's name, as ImageJ's ROI Manager shows it.

    Returns
    -------
    data : bytes

    Notes
    -----
    The layout follows ImageJ's ``ij.io.RoiDecoder`` (all big-endian): a
    64-byte header (``Iout``, version, type, bounding box top/left/bottom/
    right, vertex count, ... and the offset of a second header), the x then
    y coordinates as int16 relative to the box's top-left corner, then the
    64-byte second header and the name in UTF-16.
    """
    vertices = np.asarray(vertices, np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 2 or not 0 < len(vertices) < 65536:
        raise ValueError("karyo.nuclei.imagej_roi_bytes: `vertices` must have shape (k, 2) with "
                         "0 < k < 65536")
    if vertices.min() < 0 or vertices.max() > 32767:
        raise ValueError("karyo.nuclei.imagej_roi_bytes: coordinates must lie in 0..32767 (the "
                         "ImageJ integer ROI format)")
    left, top = (int(v) for v in vertices.min(axis=0))
    right, bottom = (int(v) for v in vertices.max(axis=0))
    count = len(vertices)
    header2_offset = 64 + 4 * count
    header = struct.pack(">4sHBxhhhhH", b"Iout", _ROI_VERSION, _ROI_TRACED, top, left, bottom,
                         right, count)
    header = header.ljust(60, b"\0") + struct.pack(">i", header2_offset)
    coordinates = np.concatenate([vertices[:, 0] - left, vertices[:, 1] - top]).astype(">i2")
    encoded_name = name.encode("utf-16-be")
    name_offset = header2_offset + 64
    # second header: c, z, t positions (0 = none), then the name's offset and length in chars
    header2 = struct.pack(">4xiiiii", 0, 0, 0, name_offset, len(encoded_name) // 2).ljust(64, b"\0")
    return header + coordinates.tobytes() + header2 + encoded_name


def write_imagej_rois(path, labels: np.ndarray, *, overwrite: bool = False) -> Path:
    """Write one ImageJ traced-polygon ROI per nucleus into a zip (Fiji's ROI Manager opens it).

    Each ROI is named ``nucleus-NNNNN`` after its label, and outlines the
    outer boundary of the nucleus along pixel edges (:func:`trace_outline`);
    a nucleus in several pieces is outlined by its first piece in raster order.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError("karyo.nuclei.write_imagej_rois: `labels` must be 2-D")
    with atomic_path(path, overwrite=overwrite) as temporary:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for value, outline in _outlines(labels):
                name = f"nucleus-{value:05d}"
                info = zipfile.ZipInfo(f"{name}.roi", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, imagej_roi_bytes(outline, name))
    return Path(path)


def _outlines(labels: np.ndarray):
    """(label, outline vertices in image pixel-corner coordinates) per nucleus, in label order."""
    table = regionprops_table(labels, properties=("label", "bbox"))
    boxes = zip(*(table[name].tolist() for name in ("label", "bbox-0", "bbox-1", "bbox-2",
                                                    "bbox-3")), strict=True)
    for value, min_y, min_x, max_y, max_x in boxes:
        outline = trace_outline(labels[min_y:max_y, min_x:max_x] == value)
        yield value, outline + (min_x, min_y)


# ---------------------------------------------------------------- QuPath GeoJSON

def geojson_features(labels: np.ndarray, table=None, *,
                     classification: str | None = None) -> dict:
    """The nuclei of a label image as a GeoJSON FeatureCollection of QuPath detections.

    Parameters
    ----------
    labels : (M, N) array of non-negative integers
        The label image.
    table : DataFrame or mapping of columns, optional
        Per-nucleus measurements with a ``label`` column (as from
        :func:`karyo.nuclei.measure.measure`); each nucleus's numeric values
        become its ``measurements``. Default: ``measure(labels)``.
    classification : str, optional
        A class name given to every nucleus (QuPath shows it and colours by it).

    Returns
    -------
    collection : dict
        ``{"type": "FeatureCollection", "features": [...]}``: one Feature per
        nucleus, whose geometry is a Polygon (its outer outline along pixel
        edges, in pixel coordinates x, y, a closed ring) and whose properties
        are ``objectType: "detection"``, ``name`` (``nucleus-NNNNN``), the
        optional ``classification`` and ``measurements`` (name -> number).

    Notes
    -----
    The outline traces pixel edges (:func:`trace_outline`), so the polygon's
    area equals the nucleus's pixel count when it has no holes. QuPath puts
    (0, 0) at the top-left corner of the top-left pixel, as here.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((4, 5), np.uint8)
    >>> labels[1:3, 1:4] = 1
    >>> feature = geojson_features(labels)["features"][0]
    >>> feature["geometry"]["coordinates"][0]
    [[1, 1], [4, 1], [4, 3], [1, 3], [1, 1]]
    >>> feature["properties"]["objectType"], feature["properties"]["measurements"]["area"]
    ('detection', 6)
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"karyo.nuclei.geojson_features: `labels` must be 2-D, got "
                         f"{labels.ndim}-D")
    if classification is not None and not isinstance(classification, str):
        raise TypeError("karyo.nuclei.geojson_features: `classification` must be a str, got "
                        f"{classification!r}")
    columns = _table_columns(measure(labels, as_frame=False) if table is None else table)
    if "label" not in columns:
        raise ValueError("karyo.nuclei.geojson_features: `table` has no `label` column")
    row_of = {int(value): row for row, value in enumerate(columns["label"].tolist())}
    numeric = {name: values for name, values in columns.items()
               if values.dtype.kind in "biuf" and name != "label"}
    features = []
    for value, outline in _outlines(labels):
        ring = outline.tolist() + [outline[0].tolist()]
        row = row_of.get(value)
        measurements = {} if row is None else {
            name: _json_number(values[row]) for name, values in numeric.items()}
        properties = {"objectType": "detection", "name": f"nucleus-{value:05d}"}
        if classification is not None:
            properties["classification"] = {"name": classification}
        properties["measurements"] = {name: number for name, number in measurements.items()
                                      if number is not None}
        features.append({"type": "Feature", "id": f"nucleus-{value:05d}",
                         "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _json_number(value):
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_geojson(path, labels: np.ndarray, table=None, *, classification: str | None = None,
                  overwrite: bool = False) -> Path:
    """Write :func:`geojson_features` to `path` (``STEM.geojson``), which QuPath imports.

    In QuPath: File > Import objects from file (or drag the file onto the
    image); each nucleus becomes a detection with its measurements.
    """
    collection = geojson_features(labels, table, classification=classification)
    with atomic_path(path, overwrite=overwrite) as temporary:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(collection, stream, separators=(",", ":"))
    return Path(path)


# ---------------------------------------------------------------- one image, settings, summary

def write_image_outputs(outputs: ImageOutputs, result, *, overwrite: bool = False) -> ImageOutputs:
    """Write every output of one successful :class:`~karyo.nuclei.batch.ImageResult`.

    Parameters
    ----------
    outputs : ImageOutputs
        Where to write (see :func:`image_outputs`).
    result : ImageResult
        A result with its `labels` and `image` (status ``"ok"``).
    overwrite : bool, optional
        Replace existing files; otherwise an existing output raises
        FileExistsError before anything is written.

    Returns
    -------
    outputs : ImageOutputs
    """
    if not result.ok or result.labels is None or result.image is None:
        raise ValueError(f"karyo.nuclei.write_image_outputs: the result for {result.name!r} has "
                         "no labels (it failed, or its arrays were dropped)")
    if not overwrite and outputs.existing():
        raise FileExistsError(f"{outputs.existing()[0]} exists; pass overwrite=True "
                              "(--overwrite) to replace it")
    metadata = {"image": result.name, "count": result.count, "threshold": result.threshold,
                "settings": result.settings, "pixel_size": getattr(result, "pixel_size", None),
                "image_dtype": str(np.asarray(result.image).dtype),
                "flags": list(getattr(result, "flags", ())),
                "nucleus_diameter": getattr(result, "nucleus_diameter", None),
                "input": getattr(result, "input", "")}
    write_label_tiff(outputs.labels, result.labels, metadata=metadata, overwrite=overwrite)
    table = result.table if result.table is not None else measure(
        result.labels, result.image, pixel_size=getattr(result, "pixel_size", None))
    write_table_csv(outputs.table, table, overwrite=overwrite)
    write_overlay(outputs.overlay, result.image, result.labels, overwrite=overwrite,
                  rejected=getattr(result, "rejected", None))
    write_thumbnail(outputs.thumbnail, result.image, overwrite=overwrite)
    if outputs.rois is not None:
        write_imagej_rois(outputs.rois, result.labels, overwrite=overwrite)
    if outputs.geojson is not None:
        write_geojson(outputs.geojson, result.labels, table, overwrite=overwrite)
    return outputs


def _toml_value(key: str, value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(key, item) for item in value) + "]"
    raise TypeError(f"karyo.nuclei.format_settings_toml: setting {key!r} has a value of type "
                    f"{type(value).__name__}, which TOML cannot hold")


def format_settings_toml(settings: Mapping) -> str:
    """Flat settings as TOML text (keys sorted; None values are left out: they mean "default").

    Examples
    --------
    >>> print(format_settings_toml({"recipe": "default", "diameter": (8, 40), "x": None}))
    diameter = [8, 40]
    recipe = "default"
    <BLANKLINE>
    """
    lines = []
    for key in sorted(settings):
        if not re.fullmatch(r"[A-Za-z0-9_-]+", str(key)):
            raise ValueError(f"karyo.nuclei.format_settings_toml: setting name {key!r} is not a "
                             "bare TOML key")
        if settings[key] is not None:
            lines.append(f"{key} = {_toml_value(key, settings[key])}")
    return "\n".join(lines) + "\n"


def write_settings_toml(path, settings: Mapping, *, overwrite: bool = False,
                        comment: str = "") -> Path:
    """Write flat settings as TOML (readable back with ``tomllib`` or ``--config``)."""
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    text = header + format_settings_toml(settings)
    with atomic_path(path, overwrite=overwrite) as temporary:
        Path(temporary).write_text(text, encoding="utf-8")
    return Path(path)


#: The columns of ``summary.csv``: name -> (unit, meaning).
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "image": ("", "the input, as given"),
    "status": ("", "ok, or failed"),
    "error": ("", "why the image failed (empty when ok)"),
    "count": ("", "number of nuclei"),
    "threshold": ("image units", "the foreground threshold used"),
    "seconds": ("s", "time spent reading and segmenting the image"),
    "nucleus_diameter_px": ("px", "the typical nucleus diameter the segmentation estimated"),
    "flags": ("", "quality-control flags, ';'-separated (karyo.nuclei.segment.QC_FLAGS); empty "
              "when all looks well"),
    "pixel_size_um": ("um", "pixel size (from the file's metadata or --pixel-size); empty when "
                      "unknown"),
    "input": ("", "how the file became the segmented plane (axes, channel, z projection)"),
    "labels_file": ("", "the label image (STEM_labels.tif)"),
    "table_file": ("", "the per-nucleus table (STEM_nuclei.csv)"),
    "overlay_file": ("", "the outlined, numbered full-size picture (STEM_overlay.png)"),
    "thumbnail_file": ("", "the small picture (STEM_thumb.png)"),
    "rois_file": ("", "the ImageJ ROIs (STEM_rois.zip, with --rois)"),
    "geojson_file": ("", "the QuPath detections (STEM.geojson, with --geojson)"),
}

_OUTPUT_FILE_COLUMNS = {"labels_file": "labels", "table_file": "table",
                        "overlay_file": "overlay", "thumbnail_file": "thumbnail",
                        "rois_file": "rois", "geojson_file": "geojson"}


def _optional_cell(value) -> str:
    return "" if value is None else _format_cell(value)


def write_summary_csv(path, results: Iterable, *, outputs: Mapping | None = None,
                      overwrite: bool = False) -> Path:
    """Write the run summary: one row per image, the columns of ``SUMMARY_COLUMNS``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``summary.csv``).
    results : iterable of ImageResult
    outputs : mapping of str to ImageOutputs, optional
        For each result's `name`, its files: their paths relative to the
        summary's folder fill the ``*_file`` columns (empty for a failed image
        or a file not asked for).
    overwrite : bool, optional
        Replace an existing file (else FileExistsError).

    Returns
    -------
    path : Path
    """
    outputs = outputs or {}
    folder = Path(path).parent
    with atomic_path(path, overwrite=overwrite) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(SUMMARY_COLUMNS)
            for result in results:
                written = outputs.get(result.name)
                files = []
                for attribute in _OUTPUT_FILE_COLUMNS.values():
                    file = getattr(written, attribute, None) if result.ok else None
                    files.append("" if file is None else
                                 Path(os.path.relpath(file, folder)).as_posix())
                writer.writerow([
                    result.name, result.status, result.error or "",
                    result.count if result.ok else "",
                    _format_cell(result.threshold) if result.ok else "",
                    f"{result.seconds:.3f}",
                    _optional_cell(getattr(result, "nucleus_diameter", None)),
                    ";".join(getattr(result, "flags", ())),
                    _optional_cell(getattr(result, "pixel_size", None)),
                    getattr(result, "input", ""), *files])
    return Path(path)


def _read_csv(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    return (rows[0], rows[1:]) if rows else ([], [])


def write_run_table(path, tables: Iterable[tuple[str, object]], *,
                    overwrite: bool = False) -> Path:
    """Write the run-wide ``nuclei.csv``: every image's nuclei, with an ``image`` column first.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``nuclei.csv``).
    tables : iterable of (str, path)
        Each image's name (the ``image`` column) and its ``STEM_nuclei.csv``.
        Columns absent from an image's table (the micrometre columns of an
        image without a pixel size) are left empty in its rows.
    overwrite : bool, optional
        Replace an existing file (else FileExistsError).

    Returns
    -------
    path : Path
    """
    tables = [(name, _read_csv(table)) for name, table in tables]
    seen = {column for _, (header, _) in tables for column in header}
    known = [column for column in COLUMNS if column in seen]
    header = ["image"] + known + sorted(seen - set(known) - {"image"})
    with atomic_path(path, overwrite=overwrite) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            for name, (columns, rows) in tables:
                position = {column: index for index, column in enumerate(columns)}
                for row in rows:
                    writer.writerow([name] + [row[position[column]] if column in position
                                              else "" for column in header[1:]])
    return Path(path)


# ---------------------------------------------------------------- CellProfiler's tables

#: ``cellprofiler/Nuclei.csv``: CellProfiler's measurement name -> (karyo's
#: column, how it is converted). ``"intensity"`` divides by the image's
#: scale (CellProfiler measures images scaled to 0..1: an integer image is
#: divided by its dtype's maximum, 255 or 65535); ``"degrees"`` converts
#: scikit-image's orientation in radians to CellProfiler's degrees.
CELLPROFILER_NUCLEI_COLUMNS: dict[str, tuple[str, str]] = {
    "AreaShape_Area": ("area", ""),
    "AreaShape_Perimeter": ("perimeter", ""),
    "AreaShape_Eccentricity": ("eccentricity", ""),
    "AreaShape_Solidity": ("solidity", ""),
    "AreaShape_Extent": ("extent", ""),
    "AreaShape_ConvexArea": ("area_convex", ""),
    "AreaShape_EquivalentDiameter": ("equivalent_diameter_area", ""),
    "AreaShape_MajorAxisLength": ("axis_major_length", ""),
    "AreaShape_MinorAxisLength": ("axis_minor_length", ""),
    "AreaShape_Orientation": ("orientation", "degrees"),
    "AreaShape_Center_X": ("centroid_x", ""),
    "AreaShape_Center_Y": ("centroid_y", ""),
    "AreaShape_BoundingBoxMinimum_X": ("bbox_min_x", ""),
    "AreaShape_BoundingBoxMinimum_Y": ("bbox_min_y", ""),
    "AreaShape_BoundingBoxMaximum_X": ("bbox_max_x", ""),
    "AreaShape_BoundingBoxMaximum_Y": ("bbox_max_y", ""),
    "Location_Center_X": ("centroid_x", ""),
    "Location_Center_Y": ("centroid_y", ""),
    "Intensity_MeanIntensity_DNA": ("intensity_mean", "intensity"),
    "Intensity_IntegratedIntensity_DNA": ("intensity_sum", "intensity"),
    "Intensity_MinIntensity_DNA": ("intensity_min", "intensity"),
    "Intensity_MaxIntensity_DNA": ("intensity_max", "intensity"),
    "Number_Object_Number": ("label", ""),
}

_IMAGE_COLUMNS = ("ImageNumber", "FileName_DNA", "PathName_DNA", "Count_Nuclei",
                  "Threshold_FinalThreshold_Nuclei", "Scaling_DNA")


def intensity_scale(dtype) -> float:
    """What CellProfiler divides an image of `dtype` by: its maximum for integers, else 1.

    Examples
    --------
    >>> intensity_scale("uint8"), intensity_scale("uint16"), intensity_scale("float32")
    (255.0, 65535.0, 1.0)
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return float(np.iinfo(dtype).max)
    return 1.0


def _cellprofiler_value(text: str, conversion: str, scale: float) -> str:
    if text == "" or not conversion:
        return text
    value = float(text)
    value = math.degrees(value) if conversion == "degrees" else value / scale
    return repr(value)


def write_cellprofiler_tables(folder, images: Iterable[Mapping], *,
                              overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``Image.csv`` and ``Nuclei.csv`` with CellProfiler's column names into `folder`.

    Parameters
    ----------
    folder : str or os.PathLike
        Created if needed (``OUT/cellprofiler``: a folder of its own, so
        nothing collides with karyo's files on case-insensitive disks).
    images : iterable of mapping
        One per successfully segmented image, in the run's order, with keys
        ``number`` (ImageNumber, from 1), ``path`` (the input file),
        ``count``, ``threshold`` (image units), ``dtype`` (of the segmented
        image) and ``table`` (its ``STEM_nuclei.csv``).
    overwrite : bool, optional
        Replace existing files (else FileExistsError).

    Returns
    -------
    image_csv, nuclei_csv : Path

    Notes
    -----
    The definitions are CellProfiler's MeasureObjectSizeShape (scikit-image's
    regionprops, orientation in degrees) and MeasureObjectIntensity, whose
    intensities are those of the image scaled to 0..1 as CellProfiler loads
    it: integer images divided by their dtype's maximum (``Scaling_DNA`` in
    Image.csv), float images as they are. ``ObjectNumber`` is the nucleus's
    label (1..count, as in the label image). See ``CELLPROFILER_NUCLEI_COLUMNS``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = list(images)
    image_csv, nuclei_csv = folder / "Image.csv", folder / "Nuclei.csv"
    with atomic_path(image_csv, overwrite=overwrite) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(_IMAGE_COLUMNS)
            for image in images:
                scale = intensity_scale(image["dtype"])
                source = Path(os.path.abspath(image["path"]))
                writer.writerow([image["number"], source.name, source.parent.as_posix(),
                                 image["count"], repr(float(image["threshold"]) / scale),
                                 repr(scale)])
    with atomic_path(nuclei_csv, overwrite=overwrite) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["ImageNumber", "ObjectNumber", *CELLPROFILER_NUCLEI_COLUMNS])
            for image in images:
                scale = intensity_scale(image["dtype"])
                columns, rows = _read_csv(image["table"])
                position = {column: index for index, column in enumerate(columns)}
                for row in rows:
                    values = [_cellprofiler_value(row[position[column]], conversion, scale)
                              if column in position else ""
                              for column, conversion in CELLPROFILER_NUCLEI_COLUMNS.values()]
                    writer.writerow([image["number"], row[position["label"]], *values])
    return image_csv, nuclei_csv
