"""Image resizing by B-spline interpolation, as ``mahotas.resize``.

Front ends to :func:`karyo.interpolate.zoom`, with mahotas's names and
meanings of their size arguments. The values are scipy.ndimage.zoom's, not
mahotas 1.4.19's: mahotas does not interpolate between pixels (see
:func:`karyo.interpolate.zoom`), so its resized images are shifted by a
pixel, blocky, and have a cval border.
"""

from __future__ import annotations

import numpy as np

from .internal import as_array, as_int
from .interpolate import zoom

__all__ = ["imresize", "resize_rgb_to", "resize_to"]


def _new_shape(nsize, ndim: int, fname: str) -> tuple[int, ...]:
    """`nsize` checked as `ndim` non-negative integers."""
    try:
        sizes = list(nsize)
    except TypeError:
        raise TypeError(f"karyo.{fname}: `nsize` must be a sequence of integers, got "
                        f"{nsize!r}") from None
    if len(sizes) != ndim:
        raise ValueError(f"karyo.{fname}: `nsize` has {len(sizes)} values; expected {ndim}, "
                         "one per axis of the image")
    for size in sizes:
        as_int(size, fname, "nsize", low=0)
    return tuple(int(size) for size in sizes)


def resize_to(im, nsize, order: int = 3) -> np.ndarray:
    """Resize `im` to exactly the shape `nsize`, keeping its dtype.

    Parameters
    ----------
    im : array-like
        Image of any number of dimensions; bool, integer or floating point.
    nsize : sequence of int
        The new shape, one size per axis of `im`.
    order : int, optional
        Spline order, 0 to 5 (default 3).

    Returns
    -------
    resized : ndarray
        Array of shape exactly `nsize` and of `im`'s dtype. Values are
        computed in float64; integers are rounded (half away from zero)
        and clipped to the dtype's range, and a bool is True where the
        value rounds to 1 or more.

    See Also
    --------
    imresize : resize by a factor, or to a size.
    resize_rgb_to : resize each channel of an RGB image.
    karyo.interpolate.zoom : the interpolation.

    Notes
    -----
    Equals ``scipy.ndimage.zoom(im, np.divide(nsize, im.shape), order=order,
    output=im.dtype)`` (a bool image: see Returns), with the default
    'constant' mode: the corners of the result sample the corners of `im`.

    Differences from mahotas 1.4.19, deliberate: mahotas samples the input
    one pixel further on and without interpolating, so its result is
    shifted, blocky and has a black last row and column; it truncates
    integer values instead of rounding them and lets them wrap around
    instead of clipping them.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.resize import resize_to
    >>> resize_to(np.array([[0, 30], [60, 90]], np.uint8), (3, 4), order=1)
    array([[ 0, 10, 20, 30],
           [30, 40, 50, 60],
           [60, 70, 80, 90]], dtype=uint8)
    """
    image = as_array(im, "resize_to", "im", min_ndim=1)
    shape = _new_shape(nsize, image.ndim, "resize_to")
    return zoom(image, 1.0, out=np.empty(shape, image.dtype), order=order)


def resize_rgb_to(im, nsize, order: int = 3) -> np.ndarray:
    """Resize each channel of an RGB image of shape (h, w, 3) to ``nsize + (3,)``.

    Parameters
    ----------
    im : array-like
        RGB image of shape (h, w, 3).
    nsize : sequence of 2 ints
        The new (height, width).
    order : int, optional
        Spline order, 0 to 5 (default 3).

    Returns
    -------
    resized : ndarray
        Array of shape ``(nsize[0], nsize[1], 3)`` and of `im`'s dtype.

    See Also
    --------
    resize_to : the same for one channel (or any array); its Notes say how
        karyo differs from mahotas.

    Notes
    -----
    Each channel is `resize_to`'s result for that channel (channels are
    not mixed).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.resize import resize_rgb_to
    >>> resize_rgb_to(np.zeros((4, 6, 3), np.uint8), (2, 3)).shape
    (2, 3, 3)
    """
    image = as_array(im, "resize_rgb_to", "im", min_ndim=3, max_ndim=3)
    if image.shape[2] != 3:
        raise ValueError(f"karyo.resize_rgb_to: `im` has shape {image.shape}; expected "
                         "(h, w, 3)")
    shape = _new_shape(nsize, 2, "resize_rgb_to")
    resized = np.empty(shape + (3,), image.dtype)
    channel = np.empty(shape, image.dtype)
    for c in range(3):
        zoom(image[:, :, c], 1.0, out=channel, order=order)
        resized[:, :, c] = channel
    return resized


def imresize(img, nsize, order: int = 3) -> np.ndarray:
    """Resize `img` by a factor, or to a size, as ``mahotas.imresize``.

    Parameters
    ----------
    img : array-like
        Image of any number of dimensions; bool, integer or floating point.
    nsize : float, sequence of floats or tuple/list of ints
        A tuple or list whose first element is a Python ``int`` gives the
        new shape (as mahotas, only the first element's type is looked at);
        anything else is a zoom factor, for all axes or one per axis.
    order : int, optional
        Spline order, 0 to 5 (default 3).

    Returns
    -------
    resized : ndarray
        float64 array. For a size, its shape is exactly `nsize`; for a
        factor, it is ``round(img.shape[i] * factor[i])``.

    See Also
    --------
    resize_to : resize to an exact shape, keeping the dtype.
    karyo.interpolate.zoom : the interpolation.

    Notes
    -----
    Equals ``scipy.ndimage.zoom(img, factor, order=order, output=np.float64)``,
    the factor being ``nsize[i] / img.shape[i]`` for a size.

    Differences from mahotas 1.4.19, deliberate: mahotas does not
    interpolate (its result is shifted by a pixel, blocky, with a black
    border; see `karyo.interpolate.zoom`), and it truncates the new shape
    ``img.shape[i] * factor[i]``, so that a size it is asked for can come
    out one pixel short (e.g. 26 rows for 27 from 49, 0 for 1).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.resize import imresize
    >>> imresize(np.ones((4, 6)), 0.5).shape
    (2, 3)
    >>> imresize(np.ones((49, 30)), [27, 7]).shape
    (27, 7)
    >>> imresize(np.array([[0., 3.]]), [1, 4], order=1)
    array([[0., 1., 2., 3.]])
    """
    image = as_array(img, "imresize", "img", min_ndim=1)
    if isinstance(nsize, (tuple, list)):
        if len(nsize) != image.ndim:
            raise ValueError(f"karyo.imresize: `nsize` has {len(nsize)} values; expected "
                             f"{image.ndim}, one per axis of the image")
        # as in mahotas, a Python int first means "sizes" (numpy integers,
        # like floats, are factors)
        if isinstance(nsize[0], int) and not isinstance(nsize[0], bool):
            shape = _new_shape(nsize, image.ndim, "imresize")
            return zoom(image, 1.0, out=np.empty(shape, np.float64), order=order)
    return zoom(image, nsize, order=order)
