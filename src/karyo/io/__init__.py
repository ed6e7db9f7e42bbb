"""Read and write images: ``imread`` and ``imsave``, as in ``mahotas.io``.

PNG, JPEG, BMP, GIF... go through Pillow; TIFF goes through tifffile, which
reads 8/16/32-bit integer and floating-point pages and returns a multi-page
file as one ``(pages, height, width)`` stack. Every failure is reported as an
exception that names the file and the cause: ``FileNotFoundError``,
``IsADirectoryError`` and ``PermissionError`` for the file system, and
:class:`~karyo.io.image_files.ImageReadError` (both an ``OSError`` and a
``ValueError``) for content that is not a readable image.

Files whose header claims more than ``karyo.io.MAX_PIXELS`` pixels are
refused before any pixel memory is allocated (a decompression bomb: a few
kilobytes of compressed data can claim gigabytes of pixels). Setting
``karyo.io.MAX_PIXELS`` sets :data:`karyo.io.image_files.MAX_PIXELS`: the
two names are one setting.

The functions are defined in :mod:`karyo.io.image_files`; :mod:`karyo.io.pil`
reads and writes through Pillow alone, as ``mahotas.io.pil``.
"""

from __future__ import annotations

import sys
import types

from . import image_files
from .image_files import (
    ImageReadError,
    ImageTooLargeError,
    error_imread,
    error_imsave,
    imread,
    imsave,
)

__all__ = ["MAX_PIXELS", "ImageReadError", "ImageTooLargeError", "error_imread",
           "error_imsave", "imread", "imsave"]


class _IoPackage(types.ModuleType):
    """karyo.io, whose ``MAX_PIXELS`` is the one in :mod:`karyo.io.image_files`."""

    @property
    def MAX_PIXELS(self) -> int:  # noqa: N802 - mahotas-style module constant
        return image_files.MAX_PIXELS

    @MAX_PIXELS.setter
    def MAX_PIXELS(self, value: int) -> None:  # noqa: N802
        image_files.MAX_PIXELS = value


sys.modules[__name__].__class__ = _IoPackage


def __getattr__(name: str):
    # mahotas.io.freeimage binds the FreeImage C library and raises OSError on
    # import where it is absent; karyo never binds it (Pillow and tifffile read
    # the same formats), so `from karyo.io import freeimage` raises the same
    # OSError and code that guards that import takes its fallback
    if name == "freeimage":
        raise OSError("karyo.io.freeimage: karyo does not bind the FreeImage library (as "
                      "mahotas does where it is installed); use karyo.io.imread and "
                      "karyo.io.imsave, which read and write the same formats through Pillow "
                      "and tifffile")
    raise AttributeError(f"module 'karyo.io' has no attribute {name!r}")
