"""``imread`` and ``imsave`` through Pillow alone, as ``mahotas.io.pil``.

:func:`karyo.io.imread` already reads every format Pillow reads; this module
is for code written against ``mahotas.io.pil`` and for TIFF files that should
go through Pillow rather than tifffile (a multi-page TIFF then gives its first
page). Errors, the pixel limit and the colour-to-grey rule are those of
:mod:`karyo.io`.
"""

from __future__ import annotations

import os

import numpy as np

from .image_files import read_image, write_image

__all__ = ["imread", "imsave"]


def imread(filename: str | os.PathLike, as_grey: bool = False) -> np.ndarray:
    """Read an image file with Pillow.

    Parameters
    ----------
    filename : str or path-like
        File to read, in any format Pillow reads (TIFF included: its first
        page).
    as_grey : bool, optional
        If True and the image is in colour, return its luminance as float64,
        as :func:`karyo.io.imread` does.

    Returns
    -------
    image : ndarray
        ``(h, w)``, ``(h, w, 3)`` or ``(h, w, 4)``, in the file's dtype.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError, karyo.io.ImageReadError
        As :func:`karyo.io.imread`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from karyo.io import pil
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.tif")
    >>> pil.imsave(path, np.eye(3, dtype=np.uint8))
    >>> pil.imread(path)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 0, 1]], dtype=uint8)
    """
    return read_image(filename, as_grey, tiff_with="pillow")


def imsave(filename: str | os.PathLike, array) -> None:
    """Write `array` to `filename` with Pillow; the format follows the extension.

    Parameters
    ----------
    filename : str or path-like
        Destination (``.png``, ``.tif``, ``.jpg``, ``.bmp``...).
    array : array-like
        bool, uint8 (grey, RGB, RGBA), uint16 (grey), int32 or float32 (grey,
        TIFF) values.

    Raises
    ------
    ValueError
        Pillow cannot store this dtype and shape in that format.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from karyo.io import pil
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.png")
    >>> pil.imsave(path, np.full((2, 3), 7, np.uint8))
    >>> pil.imread(path).tolist()
    [[7, 7, 7], [7, 7, 7]]
    """
    write_image(filename, array, tiff_with="pillow")
