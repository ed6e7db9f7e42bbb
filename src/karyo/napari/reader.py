"""The napari reader: a ``karyo segment --out`` folder as image and labels layers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["get_reader", "is_output_folder", "read_output_folder"]

_LABELS_SUFFIX = "_labels.tif"
_TABLE_SUFFIX = "_nuclei.csv"


def is_output_folder(path) -> bool:
    """True for a folder that holds karyo label images (``STEM_labels.tif``).

    Examples
    --------
    >>> import tempfile
    >>> is_output_folder(tempfile.mkdtemp())
    False
    """
    folder = Path(path)
    return folder.is_dir() and any(folder.glob("*" + _LABELS_SUFFIX))


def get_reader(path) -> Callable | None:
    """napari's reader hook: :func:`read_output_folder` for a karyo output folder, else None.

    Examples
    --------
    >>> get_reader("no-such-folder") is None
    True
    """
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    return read_output_folder if is_output_folder(path) else None


def read_output_folder(path) -> list[tuple]:
    """The layers of a karyo output folder: each input image and its labels with their table.

    Parameters
    ----------
    path : str or os.PathLike (or a list holding one)
        A folder written by ``karyo segment --out`` (or
        :func:`karyo.nuclei.run.segment_folder`).

    Returns
    -------
    list of (data, attributes, layer_type)
        napari's layer data tuples, per ``STEM_labels.tif`` in name order:
        the DNA plane that was segmented (read again from the input file, with
        the channel, z-slice and time point the run used), when that file is
        still where the run found it; then the labels, whose ``features`` are
        the rows of ``STEM_nuclei.csv`` (with napari's ``index`` column set to
        the label). Both are scaled to micrometres when the run knew the
        pixel size.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from karyo.nuclei.run import segment_folder
    >>> out = tempfile.mkdtemp()
    >>> image = np.zeros((100, 100), np.uint8)
    >>> image[30:70, 30:70] = 200
    >>> import tifffile, os
    >>> source = os.path.join(out, "cell.tif")
    >>> tifffile.imwrite(source, image)
    >>> run = segment_folder([source], os.path.join(out, "results"), jobs=1,
    ...                      settings={"diameter": [20, 80], "pixel_size": 0.5})
    >>> layers = read_output_folder(os.path.join(out, "results"))
    >>> [(attributes["name"], kind) for _, attributes, kind in layers]
    [('cell', 'image'), ('cell nuclei', 'labels')]
    >>> labels, attributes, _ = layers[1]
    >>> int(labels.max()), attributes["scale"]
    (1, (0.5, 0.5))
    >>> features = attributes["features"]
    >>> features["area_um2"].tolist() == (features["area"] * 0.5 ** 2).tolist()
    True
    """
    from karyo.nuclei.images import read_dna_image
    from karyo.nuclei.outputs import read_label_tiff

    if isinstance(path, (list, tuple)):
        path = path[0]
    folder = Path(path)
    layers = []
    for labels_path in sorted(folder.glob("*" + _LABELS_SUFFIX)):
        stem = labels_path.name[: -len(_LABELS_SUFFIX)]
        labels, metadata = read_label_tiff(labels_path)
        pixel_size = metadata.get("pixel_size")
        scale = (pixel_size, pixel_size) if pixel_size else (1.0, 1.0)
        settings = metadata.get("settings") or {}
        source = _source_file(metadata.get("image"), folder)
        if source is not None:
            reading = {key: settings[key] for key in ("channel", "z", "time")
                       if settings.get(key) is not None}
            plane = read_dna_image(source, **reading)
            layers.append((plane.image, {"name": stem, "scale": scale,
                                         "metadata": {"karyo": {"input": plane.description}}},
                           "image"))
        attributes = {"name": f"{stem} nuclei", "scale": scale,
                      "metadata": {"karyo": metadata}}
        table_path = folder / (stem + _TABLE_SUFFIX)
        if table_path.exists():
            attributes["features"] = _read_table(table_path)
        layers.append((labels, attributes, "labels"))
    return layers


def _source_file(name, folder: Path) -> Path | None:
    """The input file of a run: as recorded, or beside the folder (moved together)."""
    if not name:
        return None
    for candidate in (Path(name), folder / name, folder.parent / Path(name).name):
        if candidate.is_file():
            return candidate
    return None


def _read_table(path: Path) -> dict[str, np.ndarray]:
    """A per-nucleus CSV as columns: numbers where every cell is one, else text."""
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    header, body = rows[0], rows[1:]
    columns = {}
    for position, name in enumerate(header):
        cells = [row[position] for row in body]
        try:
            values = np.array([float(cell) if cell != "" else np.nan for cell in cells])
        except ValueError:
            values = np.array(cells, dtype=object)
        if name == "label":
            values = values.astype(np.int64)
        columns[name] = values
    if "label" in columns:
        columns["index"] = columns["label"].copy()  # napari finds a label's row by `index`
    return columns
