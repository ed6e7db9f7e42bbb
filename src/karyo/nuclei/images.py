"""Read a lab's image file into the one plane segmentation needs.

Microscopes write multi-channel, z-stack and time-lapse files; karyo segments
one 2-D image of the DNA stain. :func:`read_dna_image` reads a file (or takes
an array), finds its axes (ImageJ hyperstack and OME-TIFF metadata through
tifffile; ND2, CZI and LIF through bioio, the optional extra
``karyo[vendor]``), picks the DNA channel, projects or slices the z-stack, and
reads the pixel size in micrometres. :func:`dna_plane` applies the same rule
to an array: it is the one place where karyo decides which channel of a
colour or multi-channel image holds the DNA.

Axes are named with tifffile's letters: ``T`` time, ``C`` channel, ``Z``
depth, ``Y`` and ``X`` the plane, ``S`` colour samples (RGB), ``Q`` (or
``I``) an axis of unknown kind, such as the pages of a TIFF without metadata.

Every refusal is an :class:`ImageInputError` that names the file, what was
found (shape and axes) and the argument that resolves it (``channel=N``,
``z=N``, ``time=N``, ``pixel_size=``); the ``karyo`` command prints the
matching flags instead (``--channel N``, ``--z N``, ``--time N``,
``--pixel-size MICRONS``).
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from karyo.io.image_files import (
    TIFF_SIGNATURES,
    ImageReadError,
    ImageTooLargeError,
    imread,
    refuse_too_many_pixels,
    tifffile_quiet,
)
from karyo.nuclei.measure import check_pixel_size

__all__ = ["INPUT_SETTINGS", "VENDOR_SUFFIXES", "DnaImage", "ImageInputError", "dna_plane",
           "guess_axes", "read_dna_image"]

INPUT_SETTINGS = ("channel", "z", "time", "pixel_size")
"""The settings that say how a file becomes the plane to segment (not how it is segmented)."""

VENDOR_SUFFIXES = {".nd2": "ND2 (Nikon)", ".czi": "CZI (Zeiss)", ".lif": "LIF (Leica)"}
"""File types read through bioio (``pip install 'karyo[vendor]'``), by lower-case suffix."""

_KNOWN_AXES = "TCSZYX"
_UNKNOWN_AXES = "QI"
_AXIS_MEANINGS = {"T": "time points", "C": "channels", "S": "colour samples", "Z": "z-slices",
                  "Q": "planes of unknown kind", "I": "planes of unknown kind",
                  "R": "tiles", "P": "phases", "H": "lifetime bins", "E": "wavelengths",
                  "L": "exposures", "V": "views", "A": "angles", "M": "mosaic tiles"}
_CHOOSE_PLANES = ("pass `channel=N` if they are channels, or `z='max'` or `z=N` if they are "
                  "z-slices")

# Lengths a file's metadata may use, in micrometres, keyed by casefolded unit name
# (ImageJ writes 'micron' or an escaped mu; OME writes the symbol).
_MICROMETRES_PER_UNIT = {unit.casefold(): factor for unit, factor in {
    "pm": 1e-6, "Å": 1e-4, "nm": 1e-3, "µm": 1.0, "μm": 1.0, "um": 1.0, "micron": 1.0,
    "microns": 1.0, "micrometer": 1.0, "micrometre": 1.0, "mm": 1e3, "cm": 1e4, "m": 1e6,
    "in": 25400.0, "inch": 25400.0}.items()}
_NO_UNITS = ("", "pixel", "pixels", "px")


class ImageInputError(ValueError):
    """An image karyo cannot reduce to one DNA plane without a choice, or with bad metadata.

    The message names the file (or ``image`` for an array), what was found
    and the argument that resolves it.
    """


@dataclass(frozen=True)
class DnaImage:
    """The 2-D plane to segment, with where it came from.

    Attributes
    ----------
    image : ndarray
        The 2-D grey image of the DNA channel, in the file's dtype (a maximum
        projection keeps the dtype too).
    pixel_size : float or None
        Pixel size in micrometres, from the file's metadata or as given; None
        when unknown.
    source : str
        The file as given, or ``"image"`` for an array.
    shape, axes : tuple, str
        The shape and axes found, size-1 axes included (e.g. ``(2, 5, 64,
        64)``, ``"CZYX"``).
    channel : int or None
        The channel used (None when the image has a single channel).
    channel_name : str or None
        Its name in the metadata, when there is one.
    z : int, 'max' or None
        The z-slice used, ``'max'`` for the maximum-intensity projection, or
        None when the image has no z axis.
    z_slices : int
        The number of z-slices found (1 without a z axis).
    time : int or None
        The time point used, or None without a time axis.
    pixel_size_from : str or None
        Where `pixel_size` came from: ``'ImageJ metadata'``, ``'OME
        metadata'``, ``'bioio'`` or ``'given'``.
    channel_names : tuple of str
        Every channel's name in the metadata (empty when it has none).
    """

    image: np.ndarray
    pixel_size: float | None = None
    source: str = "image"
    shape: tuple = ()
    axes: str = ""
    channel: int | None = None
    channel_name: str | None = None
    z: int | str | None = None
    z_slices: int = 1
    time: int | None = None
    pixel_size_from: str | None = None
    channel_names: tuple = ()

    @property
    def settings(self) -> dict:
        """The input settings resolved (channel index, z, time, pixel size), None ones left out.

        Examples
        --------
        >>> import numpy as np
        >>> dna_plane(np.zeros((3, 8, 8)), "ZYX").settings
        {'z': 'max'}
        """
        values = {"channel": self.channel, "z": self.z, "time": self.time,
                  "pixel_size": self.pixel_size}
        return {name: value for name, value in values.items() if value is not None}

    @property
    def description(self) -> str:
        """One line on what was done, for logs and summaries.

        Examples
        --------
        >>> import numpy as np
        >>> stack = np.zeros((2, 5, 8, 8), np.uint16)
        >>> dna_plane(stack, "CZYX", channel=1).description
        'axes CZYX (2, 5, 8, 8): channel 1, maximum projection of 5 z-slices'
        """
        parts = []
        if self.time is not None:
            parts.append(f"time point {self.time}")
        if self.channel is not None:
            named = f" ({self.channel_name})" if self.channel_name else ""
            parts.append(f"channel {self.channel}{named}")
        if self.z == "max":
            parts.append(f"maximum projection of {self.z_slices} z-slices")
        elif self.z is not None:
            parts.append(f"z-slice {self.z} of {self.z_slices}")
        if self.pixel_size is not None:
            parts.append(f"pixel size {self.pixel_size:g} µm ({self.pixel_size_from})")
        shape = ", ".join(str(n) for n in self.shape)
        found = f"axes {self.axes} ({shape})" + (": " if parts else "")
        return found + ", ".join(parts)


# ---------------------------------------------------------------- arrays

def guess_axes(shape: tuple) -> str:
    """The axes of an array without metadata, as karyo reads it.

    A 2-D array is ``YX``. A last axis of 2 to 4 that is shorter than the two
    before it holds colour samples (``YXS``: RGB, RGBA, grey and alpha), as
    Pillow and numpy store colour. Any other axis is of unknown kind (``Q``):
    channels or z-slices, which only the caller can say.

    Examples
    --------
    >>> guess_axes((1024, 1344)), guess_axes((1024, 1344, 3)), guess_axes((5, 64, 64))
    ('YX', 'YXS', 'QYX')
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"karyo.nuclei.images.guess_axes: expected at least 2 dimensions, "
                         f"got shape {shape}")
    if len(shape) >= 3 and 2 <= shape[-1] <= 4 and shape[-1] < min(shape[-3:-1]):
        return "Q" * (len(shape) - 3) + "YXS"
    return "Q" * (len(shape) - 2) + "YX"


def dna_plane(array, axes: str | None = None, *, channel: int | str | None = None,
              z: int | str | None = None, time: int | None = None,
              channel_names=None, source: str | None = None) -> DnaImage:
    """Reduce an image of any axes to the 2-D plane of its DNA channel.

    Parameters
    ----------
    array : array-like
        The image: bool, integer or floating-point values, at least 2-D.
    axes : str, optional
        One letter per dimension (``"CZYX"``, ``"YXS"``...; tifffile's
        letters). Default: :func:`guess_axes`.
    channel : int or str, optional
        The channel holding the DNA stain: its index (from 0) or its name in
        `channel_names` (case-insensitive, e.g. ``'DAPI'``). Needed when the
        image has several channels that differ.
    z : int or 'max', optional
        The z-slice to segment; by default (or ``'max'``) the
        maximum-intensity projection of the stack.
    time : int, optional
        The time point to segment; needed when there are several.
    channel_names : sequence of str, optional
        The channels' names, in channel order (from a file's metadata).
    source : str, optional
        The file the array came from, for messages.

    Returns
    -------
    DnaImage
        The 2-D plane (``.image``) and what was done to get it.

    Raises
    ------
    ImageInputError
        When a choice is needed (several differing channels and no
        `channel`; several time points and no `time`; planes of unknown kind
        and neither `channel` nor `z`), when a choice does not fit the image
        (out of range, a name that is not there), or when `axes` does not
        match the shape. The message names `source`, the shape and axes, and
        the argument to pass.
    TypeError
        For a non-numeric array or an argument of the wrong type.

    Notes
    -----
    Axes of size 1 are dropped first. Then the time point is taken, then the
    channel, then the z-slice or the maximum projection. Without `channel`,
    a colour image whose colours are equal (grey saved as RGB, with or
    without alpha) gives its first channel, as do channels that are all
    identical. An axis of unknown kind (``Q``) is read as channels when
    `channel` is given and as z-slices when `z` is given.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((2, 3, 4, 5), np.uint8)   # channels, z, y, x
    >>> stack[1, 2] = 7
    >>> plane = dna_plane(stack, "CZYX", channel=1)
    >>> plane.image.shape, int(plane.image.max()), plane.z
    ((4, 5), 7, 'max')
    >>> dna_plane(stack, "CZYX")
    Traceback (most recent call last):
    ...
    karyo.nuclei.images.ImageInputError: image: 2 channels (axes CZYX, shape (2, 3, 4, 5)); \
pass `channel=N` or `channel='NAME'`
    """
    from karyo.internal import as_array

    where = source or "image"
    array = as_array(array, "nuclei.dna_plane", "image", min_ndim=2, kinds="buif")
    if array.dtype.kind == "b":
        array = array.view(np.uint8)
    channel = _checked_channel(channel)
    z = _checked_z(z)
    time = _checked_index(time, "time")
    names = tuple(str(name) for name in channel_names) if channel_names is not None else ()
    shape = tuple(array.shape)
    axes = guess_axes(shape) if axes is None else _checked_axes(axes, shape, where)
    found = f"axes {axes}, shape {shape}"

    # Size-1 axes carry no choice; Y and X stay even when 1 pixel wide.
    kept = [i for i, (n, letter) in enumerate(zip(shape, axes, strict=True))
            if n > 1 or letter in "YX"]
    array = array.reshape([shape[i] for i in kept])
    letters = "".join(axes[i] for i in kept)
    letters = _resolve_unknown_axis(letters, array.shape, channel, z, where, found)
    for letter, n in zip(letters, array.shape, strict=True):
        if letter not in _KNOWN_AXES:
            meaning = _AXIS_MEANINGS.get(letter, f"axis {letter}")
            raise ImageInputError(f"{where}: {n} {meaning} (axis {letter}; {found}); karyo "
                                  "segments one 2-D image per file: save each of them as its "
                                  "own file")
    if "C" in letters and "S" in letters:
        raise ImageInputError(f"{where}: both channels (C) and colour samples (S) ({found}); "
                              "save the DNA channel as its own file")

    plane = DnaImage(image=array, source=where, shape=shape, axes=axes, channel_names=names)
    array, letters, plane = _take_time(array, letters, time, plane, found)
    array, letters, plane = _take_channel(array, letters, channel, names, plane, found)
    array, letters, plane = _take_z(array, letters, z, plane, found)
    if letters == "XY":
        array = array.T
    return replace(plane, image=np.ascontiguousarray(array))


def _checked_channel(channel):
    if channel is None or isinstance(channel, str):
        return channel
    if isinstance(channel, bool) or not isinstance(channel, numbers.Integral):
        raise TypeError(f"karyo.nuclei: `channel` must be an int (the channel's index) or a "
                        f"str (its name), got {channel!r}")
    return int(channel)


def _checked_z(z):
    if isinstance(z, str):
        if z.lower() != "max":
            raise ValueError(f"karyo.nuclei: `z` must be a z-slice index or 'max', got {z!r}")
        return "max"
    return _checked_index(z, "z")


def _checked_index(value, name: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"karyo.nuclei: `{name}` must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"karyo.nuclei: `{name}` must be 0 or more, got {value}")
    return int(value)


def _checked_axes(axes, shape: tuple, where: str) -> str:
    if not isinstance(axes, str):
        raise TypeError(f"karyo.nuclei: `axes` must be a str such as 'CZYX', got {axes!r}")
    axes = axes.upper()
    if (len(axes) != len(shape) or len(set(axes)) != len(axes) or "Y" not in axes
            or "X" not in axes or not axes.isalpha()):
        raise ImageInputError(f"{where}: the axes {axes!r} do not match the shape {shape} "
                              "(one letter per dimension, Y and X once each)")
    return axes


def _resolve_unknown_axis(letters: str, shape: tuple, channel, z, where: str,
                          found: str) -> str:
    unknown = [i for i, letter in enumerate(letters) if letter in _UNKNOWN_AXES]
    if not unknown:
        return letters
    if len(unknown) > 1:
        raise ImageInputError(f"{where}: {len(unknown)} axes of unknown kind ({found}); karyo "
                              "segments one 2-D image: save it as an ImageJ hyperstack or "
                              "OME-TIFF whose metadata name its axes")
    if channel is not None and not any(letter in "CS" for letter in letters):
        kind = "C"
    elif z is not None and "Z" not in letters:
        kind = "Z"
    else:
        n = shape[unknown[0]]
        raise ImageInputError(f"{where}: {n} planes of unknown kind ({found}); karyo segments "
                              f"one 2-D image: {_CHOOSE_PLANES}")
    return letters.replace(letters[unknown[0]], kind)


def _take(array: np.ndarray, letters: str, letter: str, index: int):
    axis = letters.index(letter)
    return np.take(array, index, axis=axis), letters.replace(letter, "")


def _take_time(array, letters, time, plane, found):
    if "T" not in letters:
        if time not in (None, 0):
            raise ImageInputError(f"{plane.source}: `time` is {time} but there is a single "
                                  f"time point ({found})")
        return array, letters, plane
    n = array.shape[letters.index("T")]
    if time is None:
        raise ImageInputError(f"{plane.source}: a time series of {n} time points ({found}); "
                              f"pass `time=N` to segment one of them (0 to {n - 1})")
    if time >= n:
        raise ImageInputError(f"{plane.source}: `time` is {time} but there are {n} time points "
                              f"(0 to {n - 1}; {found})")
    array, letters = _take(array, letters, "T", time)
    return array, letters, replace(plane, time=time)


def _listed(names: tuple) -> str:
    return ", ".join(f"{index} {name!r}" for index, name in enumerate(names))


def _take_channel(array, letters, channel, names, plane, found):
    where = plane.source
    axis_letter = "C" if "C" in letters else "S" if "S" in letters else None
    if axis_letter is None:
        if isinstance(channel, str):
            if len(names) == 1 and names[0].casefold() == channel.casefold():
                return array, letters, replace(plane, channel_name=names[0])
            known = f"its channel is {names[0]!r}" if len(names) == 1 else \
                "its metadata names no channels"
            raise ImageInputError(f"{where}: no channel named {channel!r}: {known} ({found})")
        if channel not in (None, 0):
            raise ImageInputError(f"{where}: `channel` is {channel} but the image has a single "
                                  f"channel ({found})")
        return array, letters, plane
    n = array.shape[letters.index(axis_letter)]
    names = names if len(names) == n else ()
    listing = f": {_listed(names)}" if names else ""
    if isinstance(channel, str):
        matches = [i for i, name in enumerate(names) if name.casefold() == channel.casefold()]
        if not names:
            raise ImageInputError(f"{where}: no channel named {channel!r}: its metadata names "
                                  f"no channels ({found}); pass `channel=N` (0 to {n - 1})")
        if len(matches) != 1:
            problem = "no channel" if not matches else f"{len(matches)} channels"
            raise ImageInputError(f"{where}: {problem} named {channel!r} among its {n} "
                                  f"channels{listing} ({found})")
        index = matches[0]
    elif channel is not None:
        if channel >= n:
            raise ImageInputError(f"{where}: `channel` is {channel} but the image has {n} "
                                  f"channels (0 to {n - 1}){listing} ({found})")
        index = channel
    else:
        colours = np.moveaxis(array, letters.index(axis_letter), 0)
        if axis_letter == "S" and n in (2, 4):
            colours = colours[:-1]  # an alpha sample carries no stain
        if not all(np.array_equal(colours[0], other) for other in colours[1:]):
            kind = "colour channels" if axis_letter == "S" else "channels"
            raise ImageInputError(f"{where}: {n} {kind} ({found}){listing}; pass "
                                  "`channel=N` or `channel='NAME'`")
        index = 0
    array, letters = _take(array, letters, axis_letter, index)
    name = names[index] if names else None
    return array, letters, replace(plane, channel=index, channel_name=name)


def _take_z(array, letters, z, plane, found):
    if "Z" not in letters:
        if z not in (None, 0, "max"):
            raise ImageInputError(f"{plane.source}: `z` is {z} but the image has no z-stack "
                                  f"({found})")
        return array, letters, plane
    n = array.shape[letters.index("Z")]
    if z is None or z == "max":
        projection = array.max(axis=letters.index("Z"))
        return projection, letters.replace("Z", ""), replace(plane, z="max", z_slices=n)
    if z >= n:
        raise ImageInputError(f"{plane.source}: `z` is {z} but the stack has {n} z-slices "
                              f"(0 to {n - 1}; {found})")
    array, letters = _take(array, letters, "Z", z)
    return array, letters, replace(plane, z=z, z_slices=n)


# ---------------------------------------------------------------- files

@dataclass
class _Found:
    """What a file holds: pixels, axes, channel names and the pixel size (or its problem)."""

    array: np.ndarray
    axes: str | None = None
    channel_names: tuple = ()
    pixel_size: float | None = None
    pixel_size_from: str | None = None
    pixel_size_problem: str | None = None
    axes_problem: str | None = None
    shape: tuple = ()


def read_dna_image(source, channel: int | str | None = None, *, z: int | str | None = None,
                   time: int | None = None, pixel_size: float | None = None) -> DnaImage:
    """Read an image file (or take an array) and return the 2-D DNA plane and its pixel size.

    Parameters
    ----------
    source : str, os.PathLike or array-like
        An image file: TIFF (ImageJ hyperstack, OME-TIFF or plain), PNG,
        JPEG...; ND2, CZI and LIF with ``pip install 'karyo[vendor]'``. Or an
        array, read as :func:`dna_plane` reads it.
    channel : int or str, optional
        The DNA channel: its index from 0, or its name in the OME metadata
        (``'DAPI'``, ``'Hoechst'``; case-insensitive).
    z : int or 'max', optional
        The z-slice to segment; by default the maximum-intensity projection.
    time : int, optional
        The time point to segment; a time series is refused without it.
    pixel_size : float, optional
        Pixel size in micrometres; overrides (and skips checking) the
        metadata's.

    Returns
    -------
    DnaImage
        ``.image`` (2-D), ``.pixel_size`` (µm or None) and a record of the
        axes found and the choices made (``.description``, ``.settings``).

    Raises
    ------
    ImageInputError
        A choice is needed or does not fit (see :func:`dna_plane`); the
        metadata's axes do not match the pixels; the metadata's pixel size is
        zero, negative, empty, non-square or in an unknown unit; a vendor file
        without bioio. Each message starts with the file.
    karyo.io.ImageTooLargeError
        The file's header claims more pixels (all planes) than
        ``karyo.io.MAX_PIXELS``; refused before its pixels are read.
    FileNotFoundError, IsADirectoryError, PermissionError, karyo.io.ImageReadError
        The file cannot be read (see :func:`karyo.io.imread`).

    See Also
    --------
    dna_plane : the same choices for an array.
    karyo.nuclei.load_image : the plane alone.

    Notes
    -----
    The axes come from tifffile's reading of the file (``series.axes``) when
    ImageJ, OME or tifffile's own metadata name them, and are guessed from
    the shape otherwise (:func:`guess_axes`). The pixel size comes from the
    OME ``PhysicalSizeX/Y`` attributes with their units, or from the
    resolution tags of an ImageJ file whose ``unit`` is a length; the
    resolution tags of other TIFF files are ignored, as they usually hold a
    printer's dots per inch. A time series is refused unless `time` says
    which point to segment: projecting over time would merge moving nuclei.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, tifffile
    >>> stack = np.zeros((2, 64, 64), np.uint16)   # actin, DNA
    >>> stack[1, 20:40, 20:40] = 1000
    >>> path = os.path.join(tempfile.mkdtemp(), "cells.ome.tif")
    >>> tifffile.imwrite(path, stack, metadata={"axes": "CYX", "PhysicalSizeX": 0.65,
    ...                  "PhysicalSizeY": 0.65, "Channel": {"Name": ["Actin", "DAPI"]}})
    >>> plane = read_dna_image(path, channel="dapi")
    >>> plane.image.shape, int(plane.image.max()), plane.pixel_size, plane.channel
    ((64, 64), 1000, 0.65, 1)
    """
    if pixel_size is not None:
        pixel_size = check_pixel_size(pixel_size, "nuclei.read_dna_image")
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        found = _read_file(Path(source), where)
    else:
        where = "image"
        found = _Found(np.asarray(source))
    if found.axes_problem and found.array.ndim > 2 and channel is None and z is None:
        raise ImageInputError(f"{where}: {found.axes_problem}; to read its "
                              f"{found.array.shape[0]} pages anyway, {_CHOOSE_PLANES}")
    plane = dna_plane(found.array, found.axes, channel=channel, z=z, time=time,
                      channel_names=found.channel_names, source=where)
    if pixel_size is not None:
        return replace(plane, pixel_size=pixel_size, pixel_size_from="given")
    if found.pixel_size_problem:
        raise ImageInputError(f"{where}: {found.pixel_size_problem}; pass `pixel_size=` in "
                              "micrometres to override it")
    return replace(plane, pixel_size=found.pixel_size, pixel_size_from=found.pixel_size_from)


def _read_file(path: Path, where: str) -> _Found:
    if not path.exists():
        raise FileNotFoundError(f"no such file: {where}")
    if path.is_dir():
        raise IsADirectoryError(f"is a folder, not an image: {where}")
    if path.stat().st_size == 0:
        raise OSError(f"empty file (0 bytes): {where}")
    if path.suffix.lower() in VENDOR_SUFFIXES:
        return _read_with_bioio(path, where)
    with open(path, "rb") as stream:
        is_tiff = stream.read(4) in TIFF_SIGNATURES
    if not is_tiff:
        return _Found(imread(path))
    found = _tiff_metadata(path, where)
    if not found.axes_problem:
        try:
            found.array = imread(path)
            return found
        except ImageReadError as error:
            if found.axes is None or isinstance(error, ImageTooLargeError):
                raise  # no metadata to blame: the file is damaged (or too large)
            found.axes_problem = (f"its metadata claims shape {found.shape} (axes "
                                  f"{found.axes}), more than its pixels hold")
            found.axes = None
    found.array = _tiff_pages(path, where)
    return found


class _SeriesComplaints(logging.Handler):
    """Collects what tifffile logs about a series that does not match its metadata."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "series" in message:
            # tifffile starts with its object's repr: "<tifffile.TiffFile 'a.tif'> ..."
            self.messages.append(message.split("> ", 1)[-1])


def _tiff_metadata(path: Path, where: str) -> _Found:
    import tifffile

    logger = logging.getLogger("tifffile")
    complaints = _SeriesComplaints()
    propagate = logger.propagate
    logger.addHandler(complaints)
    logger.propagate = False
    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            axes, shape = series.axes, tuple(series.shape)
            found = _Found(np.empty(0), axes=axes, shape=shape)
            if tiff.is_ome:
                _read_ome(tiff.ome_metadata, found)
            elif tiff.is_imagej:
                _read_imagej(tiff.imagej_metadata or {}, tiff.pages.first, found)
            described = tiff.is_ome or tiff.is_imagej or any(
                "axes" in metadata for metadata in (tiff.shaped_metadata or ()))
    except Exception as error:  # tifffile raises many types; all mean "bad file"
        raise ImageReadError(f"karyo.nuclei: cannot read {where} as TIFF: "
                             f"{' '.join(str(error).split())}") from None
    finally:
        logger.removeHandler(complaints)
        logger.propagate = propagate
    _refuse_too_many_pixels(where, shape, axes)
    if complaints.messages:
        found.axes_problem = (f"its metadata does not match its pixels "
                              f"({complaints.messages[0]})")
        found.axes = None
    elif not described:
        found.axes = None  # tifffile's generic pages: guessed from the shape like an array
    elif len(found.axes) != len(shape):
        found.axes_problem = f"its axes {axes!r} do not match its shape {shape}"
        found.axes = None
    return found


def _tiff_pages(path: Path, where: str) -> np.ndarray:
    """The pixels of a TIFF page by page, ignoring metadata that does not match them."""
    import tifffile

    try:
        with tifffile_quiet(), tifffile.TiffFile(path, is_ome=False, is_imagej=False,
                                                 is_shaped=False) as tiff:
            series = tiff.series[0]
            _refuse_too_many_pixels(where, tuple(series.shape), series.axes)
            return series.asarray()
    except ImageTooLargeError:
        raise
    except Exception as error:  # tifffile raises many types; all mean "bad file"
        raise ImageReadError(f"karyo.nuclei: cannot read {where} as TIFF: "
                             f"{' '.join(str(error).split())}") from None


def _refuse_too_many_pixels(where: str, shape: tuple, axes: str) -> None:
    """karyo.io's decompression-bomb check, before any pixels are read."""
    refuse_too_many_pixels(where, shape, axes, caller="karyo.nuclei",
                           remedy="raise karyo.io.MAX_PIXELS")


def _read_ome(xml: str | None, found: _Found) -> None:
    from xml.etree import ElementTree

    try:
        pixels = ElementTree.fromstring(xml or "").find("{*}Image/{*}Pixels")
    except ElementTree.ParseError as error:
        found.axes_problem = f"its OME metadata is not valid XML ({error})"
        return
    if pixels is None:
        return
    found.channel_names = tuple(channel.get("Name") or "" for channel in
                                pixels.findall("{*}Channel"))
    if not any(found.channel_names):
        found.channel_names = ()
    sizes = []
    for axis in "XY":
        text = pixels.get(f"PhysicalSize{axis}")
        unit = pixels.get(f"PhysicalSize{axis}Unit", "µm")
        if text is None:
            sizes.append(None)
            continue
        size, problem = _length_in_micrometres(text, unit, f"OME PhysicalSize{axis}")
        if problem:
            found.pixel_size_problem = problem
            return
        sizes.append(size)
    _set_pixel_size(found, sizes, "OME metadata")


def _read_imagej(metadata: dict, page, found: _Found) -> None:
    unit = str(metadata.get("unit", "")).replace("\\u00B5", "µ").replace("\\u03BC", "µ")
    if unit.casefold() in _NO_UNITS:
        return  # an uncalibrated ImageJ image
    try:
        x_resolution, y_resolution = page.get_resolution()
    except Exception:  # noqa: BLE001 - a malformed tag is a missing calibration
        x_resolution = y_resolution = 0
    sizes = []
    for axis, resolution in (("X", x_resolution), ("Y", y_resolution)):
        if not resolution or not math.isfinite(resolution) or resolution <= 0:
            found.pixel_size_problem = (f"its ImageJ calibration (unit {unit!r}) has no "
                                        f"pixel size ({axis} resolution {resolution})")
            return
        size, problem = _length_in_micrometres(1 / resolution, unit, "ImageJ calibration")
        if problem:
            found.pixel_size_problem = problem
            return
        sizes.append(size)
    _set_pixel_size(found, sizes, "ImageJ metadata")


def _length_in_micrometres(value, unit: str, what: str) -> tuple[float | None, str | None]:
    factor = _MICROMETRES_PER_UNIT.get(str(unit).strip().casefold())
    if factor is None:
        return None, f"its {what} is in {unit!r}, not a length unit karyo knows"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"its {what} is {value!r}, not a number"
    if not math.isfinite(number) or number <= 0:
        return None, f"its {what} is {value} {unit}; a pixel size must be positive"
    return number * factor, None


def _set_pixel_size(found: _Found, sizes: list, origin: str) -> None:
    known = [size for size in sizes if size is not None]
    if not known:
        return
    if len(known) == 2 and not math.isclose(known[0], known[1], rel_tol=1e-6):
        found.pixel_size_problem = (f"its pixels are not square ({known[0]:g} x {known[1]:g} "
                                    "µm, X by Y)")
        return
    found.pixel_size, found.pixel_size_from = known[0], origin


def _read_with_bioio(path: Path, where: str) -> _Found:
    kind = VENDOR_SUFFIXES[path.suffix.lower()]
    try:
        from bioio import BioImage
    except ImportError:
        raise ImageInputError(f"{where}: reading {kind} files needs bioio and its readers: "
                              "pip install 'karyo[vendor]'") from None
    try:
        image = BioImage(path)
        array = np.asarray(image.data)
        axes = str(image.dims.order)
        names = tuple(str(name) for name in (image.channel_names or ()))
        physical = image.physical_pixel_sizes
    except ImportError as error:
        raise ImageInputError(f"{where}: reading {kind} files needs a bioio reader that is not "
                              f"installed ({error}): pip install 'karyo[vendor]'") from None
    except Exception as error:  # a reader's failure is this file's failure
        message = " ".join(str(error).split())
        hint = "; pip install 'karyo[vendor]' installs the readers" if "plugin" in message \
            or "reader" in message.lower() else ""
        raise ImageInputError(f"{where}: cannot read this {kind} file: {message}{hint}") \
            from None
    found = _Found(array, axes=axes, channel_names=names)
    sizes = []
    for axis in "XY":
        size = getattr(physical, axis, None)
        if size is None:
            continue
        size, problem = _length_in_micrometres(size, "µm", f"pixel size along {axis}")
        if problem:
            found.pixel_size_problem = problem
            return found
        sizes.append(size)
    _set_pixel_size(found, sizes, "bioio")
    return found
