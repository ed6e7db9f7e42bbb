"""The napari writer: a labels layer to a karyo label TIFF."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["write_labels"]


def write_labels(path: str, data, meta: dict) -> list[str]:
    """Save a 2-D labels layer as a label TIFF that karyo and Fiji read.

    Parameters
    ----------
    path : str
        Destination file (``.tif`` or ``.tiff``); replaced if it exists, as
        napari's save dialog has already asked.
    data : array-like
        The label image: 0 is background, 1..n the nuclei.
    meta : dict
        The layer's attributes from napari (``name``, ``scale``...); the name
        is kept in the file's metadata.

    Returns
    -------
    list of str
        The path written, as napari's writer contract asks.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from karyo.nuclei.outputs import read_label_tiff
    >>> path = os.path.join(tempfile.mkdtemp(), "nuclei.tif")
    >>> write_labels(path, np.array([[0, 1], [2, 2]]), {"name": "nuclei"})  # doctest: +ELLIPSIS
    ['...nuclei.tif']
    >>> labels, metadata = read_label_tiff(path)
    >>> labels.tolist(), metadata["layer"]
    ([[0, 1], [2, 2]], 'nuclei')
    """
    from karyo.nuclei.outputs import write_label_tiff

    labels = np.asarray(data)
    metadata = {"layer": str(meta.get("name", "")), "count": int(np.unique(labels[labels > 0])
                                                                 .size)}
    write_label_tiff(path, labels, metadata=metadata, overwrite=True)
    return [os.fspath(path)]
