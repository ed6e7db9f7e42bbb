"""Read and write image files: what :mod:`karyo.io` offers, and the pixel limit.

PNG, JPEG, BMP, GIF... go through Pillow; TIFF goes through tifffile, which
reads 8/16/32-bit integer and floating-point pages and returns a multi-page
file as one ``(pages, height, width)`` stack. Every failure is reported as an
exception that names the file and the cause: ``FileNotFoundError``,
``IsADirectoryError`` and ``PermissionError`` for the file system, and
:class:`ImageReadError` (both an ``OSError`` and a ``ValueError``) for content
that is not a readable image.

Files whose header claims more than :data:`MAX_PIXELS` pixels are refused
before any pixel memory is allocated (a decompression bomb: a few kilobytes of
compressed data can claim gigabytes of pixels). :func:`refuse_too_many_pixels`
is that check, for any reader of image files (``karyo.nuclei.images`` too).

:func:`read_image` and :func:`write_image` are :func:`imread` and
:func:`imsave` with a choice of TIFF library, for :mod:`karyo.io.pil`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

__all__ = ["MAX_PIXELS", "TIFF_SIGNATURES", "ImageReadError", "ImageTooLargeError",
           "error_imread", "error_imsave", "imread", "imsave", "read_image",
           "refuse_too_many_pixels", "tifffile_quiet", "write_image"]

MAX_PIXELS: int = 2**30
"""Largest image :func:`imread` accepts, in pixels (width x height x pages).

2**30 pixels is a 32768 x 32768 slide scan, 1 GiB as 8-bit grey. Raise it
(``karyo.io.MAX_PIXELS = 2**34``) or pass ``max_pixels=`` for larger files.
"""

TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
"""The first four bytes of a TIFF file (classic and BigTIFF, either byte order)."""

_TIFF_SUFFIXES = (".tif", ".tiff")
# Pillow's own bomb check is replaced by ours; only needed for files between
# Pillow's limit and ours, under a lock because Pillow's limit is a global.
_PILLOW_LIMIT_LOCK = threading.Lock()


class ImageReadError(OSError, ValueError):
    """A file exists and is readable but does not hold an image karyo can decode.

    Both an ``OSError`` (like Pillow's errors) and a ``ValueError`` (bad
    content), so either ``except`` clause catches it.
    """


class ImageTooLargeError(ImageReadError):
    """The file's header claims more pixels than the allowed maximum."""


def imread(filename: str | os.PathLike, as_grey: bool = False, *,
           max_pixels: int | None = None) -> np.ndarray:
    """Read an image file into an ndarray.

    Parameters
    ----------
    filename : str or path-like
        File to read. TIFF files (recognised by their content, not their
        name) are read with tifffile; every other format with Pillow.
    as_grey : bool, optional
        If True and the image is in colour, return its luminance
        ``0.30 R + 0.59 G + 0.11 B`` as float64 (as ``mahotas.colors.rgb2grey``);
        an alpha channel is dropped first. Grey images are returned unchanged.
    max_pixels : int, optional
        Refuse files whose header claims more pixels than this (width x
        height x pages), before decoding. Default: :data:`MAX_PIXELS`.

    Returns
    -------
    image : ndarray
        ``(h, w)`` for grey, ``(h, w, 3)`` for RGB, ``(h, w, 4)`` for RGBA, in
        the file's dtype (bool, uint8, uint16, int32, float32...). A multi-page
        TIFF gives ``(pages, h, w)`` (or ``(pages, h, w, 3)``). Other
        multi-frame formats (GIF, APNG) give their first frame, as mahotas.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        The path does not name a readable file.
    ImageTooLargeError
        The header claims more than `max_pixels` pixels.
    ImageReadError
        The file is empty, truncated, corrupt or not an image.

    See Also
    --------
    imsave : write an array to an image file.

    Notes
    -----
    The header is parsed first (Pillow opens lazily; tifffile reads the page
    directory) so the size check happens before pixel memory is allocated.
    This is the defence against decompression bombs recommended by Pillow's
    documentation (``Image.MAX_IMAGE_PIXELS``), with a limit suited to
    microscopy rather than to photographs.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from karyo.io import imread, imsave
    >>> image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.png")
    >>> imsave(path, image)
    >>> np.array_equal(imread(path), image)
    True
    """
    return read_image(filename, as_grey, max_pixels)


def read_image(filename: str | os.PathLike, as_grey: bool = False,
               max_pixels: int | None = None, *, tiff_with: str = "tifffile") -> np.ndarray:
    """:func:`imread`, reading TIFF files with tifffile or with Pillow.

    Parameters
    ----------
    filename, as_grey, max_pixels
        As :func:`imread`.
    tiff_with : {'tifffile', 'pillow'}, optional
        The library that decodes TIFF files. Pillow gives a multi-page
        file's first page, as ``mahotas.io.pil`` does.

    Returns
    -------
    image : ndarray
        As :func:`imread`.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError, ImageReadError
        As :func:`imread`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "stack.tif")
    >>> imsave(path, np.zeros((2, 5, 6), np.uint8))
    >>> read_image(path).shape, read_image(path, tiff_with="pillow").shape
    ((2, 5, 6), (5, 6))
    """
    tiff_readers = {"tifffile": _read_tiff, "pillow": _read_with_pillow}
    if tiff_with not in tiff_readers:
        raise ValueError(f"karyo.io.read_image: `tiff_with` must be 'tifffile' or 'pillow', "
                         f"got {tiff_with!r}")
    path = _checked_path(filename, "imread", "filename")
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"karyo.imread: `max_pixels` must be a positive integer, got {limit!r}")
    if not isinstance(as_grey, (bool, np.bool_, int, np.integer)) and as_grey is not None:
        raise TypeError(f"karyo.imread: `as_grey` must be a bool, got {type(as_grey).__name__}")
    try:
        with open(path, "rb") as stream:
            magic = stream.read(4)
    except PermissionError:
        raise PermissionError(f"karyo.imread: cannot read {path}: permission denied") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"karyo.imread: {path} is a directory, not an image file") from None
    if not magic:
        raise ImageReadError(f"karyo.imread: cannot read {path}: the file is empty (0 bytes)")
    if magic in TIFF_SIGNATURES:
        image, has_colour_axis = tiff_readers[tiff_with](path, int(limit))
    else:
        image, has_colour_axis = _read_with_pillow(path, int(limit))
    if as_grey and has_colour_axis:
        image = _luminance(image)
    return image


def _checked_path(filename, fname: str, name: str) -> Path:
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"karyo.{fname}: `{name}` must be a path (str or os.PathLike), got "
                        f"{type(filename).__name__}")
    path = Path(filename)
    if fname == "imread":
        if path.is_dir():
            raise IsADirectoryError(f"karyo.imread: {path} is a directory, not an image file")
        if not path.exists():
            raise FileNotFoundError(f"karyo.imread: no such file: {path}")
    return path


def refuse_too_many_pixels(path: str | os.PathLike, shape: tuple, axes: str = "", *,
                           max_pixels: int | None = None, caller: str = "karyo.imread",
                           remedy: str = "pass max_pixels= or raise karyo.io.MAX_PIXELS",
                           ) -> None:
    """Refuse an image whose header claims more pixels than the limit, before reading it.

    Parameters
    ----------
    path : str or path-like
        The file, for the message.
    shape : tuple of int
        The shape its header claims.
    axes : str, optional
        One letter per dimension (tifffile's letters); colour samples
        (``S``) do not count as pixels. Default: every dimension counts.
    max_pixels : int, optional
        The limit. Default: :data:`MAX_PIXELS`, read when called.
    caller : str, optional
        The function named at the start of the message.
    remedy : str, optional
        What the user can do if they trust the file.

    Raises
    ------
    ImageTooLargeError
        The image has more pixels than the limit; the message names the
        file, the pixel count, the shape and the limit.

    Examples
    --------
    >>> refuse_too_many_pixels("small.tif", (3, 512, 512))
    >>> refuse_too_many_pixels("slide.tif", (60000, 60000, 3), "YXS")
    Traceback (most recent call last):
    ...
    karyo.io.image_files.ImageTooLargeError: karyo.imread: slide.tif claims 3600000000 pixels \
(shape (60000, 60000, 3)), more than the limit of 1073741824; if you trust the file, pass \
max_pixels= or raise karyo.io.MAX_PIXELS
    """
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    counted = [n for n, axis in itertools.zip_longest(shape, axes[:len(shape)]) if axis != "S"]
    pixels = int(np.prod(counted, dtype=np.int64))
    if pixels > limit:
        raise ImageTooLargeError(
            f"{caller}: {os.fspath(path)} claims {pixels} pixels (shape {tuple(shape)}), more "
            f"than the limit of {limit}; if you trust the file, {remedy}")


@contextlib.contextmanager
def tifffile_quiet():
    """Silence tifffile's logger: a damaged file gets our one-line error, not its log lines.

    Examples
    --------
    >>> import logging
    >>> with tifffile_quiet():
    ...     logging.getLogger("tifffile").isEnabledFor(logging.CRITICAL)
    False
    """
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_tiff(path: Path, limit: int) -> tuple[np.ndarray, bool]:
    import tifffile

    try:
        with tifffile_quiet(), tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            shape, axes = tuple(series.shape), series.axes
            refuse_too_many_pixels(path, shape, axes, max_pixels=limit)
            with warnings.catch_warnings():
                # tifffile warns and fills missing strips with zeros; we refuse instead
                warnings.simplefilter("error")
                try:
                    image = series.asarray()
                except ValueError as error:
                    if "imagecodecs" not in str(error):
                        raise
                    # LZW, JPEG... need the optional imagecodecs; Pillow decodes them
                    image = _read_tiff_pages_with_pillow(path, shape)
    except ImageTooLargeError:
        raise
    except (Exception, Warning) as error:  # tifffile raises many types; all mean "bad file"
        raise ImageReadError(f"karyo.imread: cannot read {path} as TIFF: "
                             f"{_one_line(error)}") from None
    return _native(image), axes.endswith("S")


def _read_tiff_pages_with_pillow(path: Path, shape: tuple) -> np.ndarray:
    from PIL import Image, ImageSequence

    with Image.open(path) as picture:
        pages = [np.array(page) for page in ImageSequence.Iterator(picture)]
    return np.stack(pages).reshape(shape)


def _read_with_pillow(path: Path, limit: int) -> tuple[np.ndarray, bool]:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                picture = Image.open(path)
            except Image.DecompressionBombError:
                # Pillow's limit is lower than ours: open again with it lifted
                with _PILLOW_LIMIT_LOCK:
                    pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                    try:
                        picture = Image.open(path)
                    finally:
                        Image.MAX_IMAGE_PIXELS = pillow_limit
    except UnidentifiedImageError:
        raise ImageReadError(f"karyo.imread: cannot read {path}: not an image file in a format "
                             "karyo reads (PNG, JPEG, TIFF, BMP, GIF...)") from None
    except PermissionError:
        raise PermissionError(f"karyo.imread: cannot read {path}: permission denied") from None
    except Exception as error:
        raise ImageReadError(f"karyo.imread: cannot read {path}: {_one_line(error)}") from None
    with picture:
        width, height = picture.size
        refuse_too_many_pixels(path, (height, width), max_pixels=limit)
        try:
            picture.load()
            image = np.asarray(picture)
        except Exception as error:
            raise ImageReadError(f"karyo.imread: cannot decode {path} ({picture.format}): "
                                 f"{_one_line(error)}") from None
    has_colour_axis = image.ndim == 3
    return _native(image), has_colour_axis


def _native(image: np.ndarray) -> np.ndarray:
    # big-endian TIFF samples and Pillow's read-only buffers become ordinary arrays
    if not image.dtype.isnative:
        image = image.astype(image.dtype.newbyteorder("="))
    if not image.flags.writeable:
        image = image.copy()
    return image


def _luminance(image: np.ndarray) -> np.ndarray:
    # drop alpha (RGBA, grey+alpha) before weighting, as the eye does on black
    channels = image.shape[-1]
    if channels in (1, 2):
        return image[..., 0].astype(np.float64)
    weights = np.array([0.30, 0.59, 0.11])
    return np.dot(image[..., :3], weights)


def _one_line(error: BaseException) -> str:
    message = " ".join(str(error).split()) or type(error).__name__
    return message if len(message) < 200 else message[:197] + "..."


def imsave(filename: str | os.PathLike, array) -> None:
    """Write `array` to the image file `filename`; the format follows the extension.

    Parameters
    ----------
    filename : str or path-like
        Destination. ``.tif``/``.tiff`` are written with tifffile (any numeric
        dtype; a 3-D array without a colour axis becomes a multi-page file);
        other extensions (``.png``, ``.jpg``, ``.bmp``...) with Pillow.
    array : array-like
        ``(h, w)`` grey, ``(h, w, 3)`` RGB or ``(h, w, 4)`` RGBA. PNG takes
        bool, uint8 and uint16 (grey) values; JPEG takes uint8 grey or RGB.

    Raises
    ------
    ValueError
        The dtype or shape cannot be stored in the chosen format, or the
        extension is unknown.
    OSError
        The file cannot be written (missing directory, no permission).

    See Also
    --------
    imread : read an image file.

    Notes
    -----
    Lossless formats round-trip exactly through :func:`imread`. JPEG is lossy.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from karyo.io import imread, imsave
    >>> stack = np.zeros((2, 5, 6), np.uint16)
    >>> path = os.path.join(tempfile.mkdtemp(), "stack.tif")
    >>> imsave(path, stack)
    >>> imread(path).shape
    (2, 5, 6)
    """
    write_image(filename, array)


def write_image(filename: str | os.PathLike, array, *, tiff_with: str = "tifffile") -> None:
    """:func:`imsave`, writing ``.tif``/``.tiff`` files with tifffile or with Pillow.

    Parameters
    ----------
    filename, array
        As :func:`imsave`.
    tiff_with : {'tifffile', 'pillow'}, optional
        The library that writes TIFF files. Pillow takes the dtypes and
        shapes it takes for other formats (one page).

    Raises
    ------
    ValueError, OSError
        As :func:`imsave`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.tif")
    >>> write_image(path, np.eye(2, dtype=np.uint8), tiff_with="pillow")
    >>> imread(path).tolist()
    [[1, 0], [0, 1]]
    """
    tiff_writers = {"tifffile": _write_tiff,
                    "pillow": lambda path, image: _write_with_pillow(path, image,
                                                                path.suffix.lower())}
    if tiff_with not in tiff_writers:
        raise ValueError(f"karyo.io.write_image: `tiff_with` must be 'tifffile' or 'pillow', "
                         f"got {tiff_with!r}")
    path = _checked_path(filename, "imsave", "filename")
    image = np.asarray(array)
    if image.dtype.kind not in "buif":
        raise TypeError(f"karyo.imsave: `array` has dtype {image.dtype}; expected bool, "
                        "integer or floating-point values")
    if image.ndim < 2 or image.size == 0:
        raise ValueError(f"karyo.imsave: `array` has shape {image.shape}; expected a non-empty "
                         "image of at least 2 dimensions")
    suffix = path.suffix.lower()
    try:
        if suffix in _TIFF_SUFFIXES:
            tiff_writers[tiff_with](path, image)
        else:
            _write_with_pillow(path, image, suffix)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
        raise type(error)(f"karyo.imsave: cannot write {path}: "
                          f"{error.strerror or _one_line(error)}") from None


def _write_tiff(path: Path, image: np.ndarray) -> None:
    import tifffile

    is_rgb = image.ndim >= 3 and image.shape[-1] in (3, 4) and image.dtype == np.uint8
    photometric = "rgb" if is_rgb else "minisblack"
    if image.dtype == bool:
        image = image.astype(np.uint8)
    tifffile.imwrite(path, image, photometric=photometric)


# Pillow's (dtype, channels) -> mode for the formats whose limits we state
_PILLOW_MODES = {
    ("bool", 1): "1", ("uint8", 1): "L", ("uint8", 3): "RGB", ("uint8", 4): "RGBA",
    ("uint16", 1): "I;16", ("int32", 1): "I", ("float32", 1): "F",
}
_FORMAT_MODES = {
    ".png": {"1", "L", "RGB", "RGBA", "I;16"},
    ".jpg": {"L", "RGB"}, ".jpeg": {"L", "RGB"},
}


def _write_with_pillow(path: Path, image: np.ndarray, suffix: str) -> None:
    from PIL import Image

    channels = 1 if image.ndim == 2 else image.shape[-1]
    mode = _PILLOW_MODES.get((image.dtype.name, channels)) if image.ndim <= 3 else None
    allowed = _FORMAT_MODES.get(suffix)
    if mode is None or (allowed is not None and mode not in allowed):
        what = f"{suffix or 'this'} files" if allowed is not None else "Pillow"
        raise ValueError(f"karyo.imsave: cannot store an array of shape {image.shape} and dtype "
                         f"{image.dtype} in {path} ({what} cannot hold it); convert it (e.g. "
                         "with karyo.stretch) or save as .tif")
    picture = Image.fromarray(np.ascontiguousarray(image))
    try:
        picture.save(path)
    except ValueError as error:
        raise ValueError(f"karyo.imsave: cannot write {path}: {_one_line(error)}") from None
    except KeyError as error:
        raise ValueError(f"karyo.imsave: cannot write {path}: unknown format "
                         f"{_one_line(error)}") from None


def error_imread(*args, **kwargs):
    """Stand-in for :func:`imread` when no image library can be imported (as in mahotas).

    Always raises ImportError, naming what to install; accepts any arguments.

    Raises
    ------
    ImportError
        Always.

    Examples
    --------
    >>> from karyo.io import error_imread
    >>> error_imread("cells.png")
    Traceback (most recent call last):
    ...
    ImportError: karyo.imread needs Pillow (and tifffile for TIFF): pip install pillow tifffile
    """
    raise ImportError(_MISSING_BACKEND.format(function="imread"))


def error_imsave(*args, **kwargs):
    """Stand-in for :func:`imsave` when no image library can be imported (as in mahotas).

    Always raises ImportError, naming what to install; accepts any arguments.

    Raises
    ------
    ImportError
        Always.
    """
    raise ImportError(_MISSING_BACKEND.format(function="imsave"))


_MISSING_BACKEND = ("karyo.{function} needs Pillow (and tifffile for TIFF): "
                    "pip install pillow tifffile")

