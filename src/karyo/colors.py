"""Colour-space conversions: RGB to grey, CIE XYZ, CIE L*a*b* and sepia."""

from __future__ import annotations

import numpy as np

from .internal import as_array

__all__ = ["rgb2grey", "rgb2gray", "rgb2xyz", "xyz2rgb", "xyz2lab", "rgb2lab", "rgb2sepia"]

_GREY_WEIGHTS = np.array([0.30, 0.59, 0.11])
# sRGB (D65) primaries, as mahotas (IEC 61966-2-1, rounded to 4 decimals).
_RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805],
                        [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])
_XYZ_TO_RGB = np.array([[3.2406, -1.5372, -0.4986],
                        [-0.9689, 1.8758, 0.0415],
                        [0.0557, -0.2040, 1.0570]])
_SEPIA = np.array([[.393, .769, .189],
                   [.349, .686, .168],
                   [.272, .534, .131]])
_WHITE_D65 = (0.95047, 1.0, 1.08883)


def _as_colour_image(array, fname: str, name: str) -> np.ndarray:
    array = as_array(array, fname, name, min_ndim=3, max_ndim=3)
    if array.shape[2] != 3:
        raise ValueError(f"karyo.{fname}: `{name}` has shape {array.shape}; expected "
                         "(height, width, 3)")
    return array


def _transform(array: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply `matrix` to the colour vector of every pixel."""
    return np.dot(array, matrix.T)


def rgb2grey(array: np.ndarray, dtype=float) -> np.ndarray:
    """Convert an RGB image to grey: ``0.30 R + 0.59 G + 0.11 B``.

    Parameters
    ----------
    array : ndarray
        Image of shape (height, width, 3).
    dtype : dtype, optional
        Type of the result (default float64; values are truncated when
        cast to an integer type, as mahotas).

    Returns
    -------
    grey : ndarray
        Image of shape (height, width).

    See Also
    --------
    rgb2lab : perceptual lightness.

    Notes
    -----
    The luma weights of ITU-R BT.601 (rounded to two decimals, as mahotas).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import rgb2grey
    >>> rgb2grey(np.array([[[100, 100, 100], [255, 0, 0]]], np.uint8))
    array([[100. ,  76.5]])
    """
    array = _as_colour_image(array, "colors.rgb2grey", "array")
    return np.dot(array, _GREY_WEIGHTS).astype(dtype, copy=False)


rgb2gray = rgb2grey


def rgb2xyz(rgb: np.ndarray, dtype=None) -> np.ndarray:
    """Convert sRGB (0-255) to CIE XYZ (D65 white point).

    Parameters
    ----------
    rgb : ndarray
        Image of shape (height, width, 3), values in 0-255.
    dtype : dtype, optional
        Type of the result (default float64).

    Returns
    -------
    xyz : ndarray
        Image of shape (height, width, 3).

    See Also
    --------
    xyz2rgb : the inverse.
    rgb2lab

    Notes
    -----
    Undo the sRGB gamma (linear below 0.04045, a 2.4 power above) and
    apply the sRGB-to-XYZ matrix (IEC 61966-2-1:1999).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import rgb2xyz
    >>> rgb2xyz(np.full((1, 1, 3), 255, np.uint8)).round(4)
    array([[[0.9505, 1.    , 1.089 ]]])
    """
    rgb = _as_colour_image(rgb, "colors.rgb2xyz", "rgb") / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, np.power((rgb + 0.055) / 1.055, 2.4))
    xyz = _transform(linear, _RGB_TO_XYZ)
    return xyz if dtype is None else xyz.astype(dtype, copy=False)


def xyz2rgb(xyz: np.ndarray, dtype=None) -> np.ndarray:
    """Convert CIE XYZ (D65) to sRGB on a 0-255 scale (float64, not clipped).

    Parameters
    ----------
    xyz : ndarray
        Image of shape (height, width, 3).
    dtype : dtype, optional
        Type of the linear RGB intermediate (as mahotas; default float64).

    Returns
    -------
    rgb : ndarray
        Image of shape (height, width, 3), float.

    See Also
    --------
    rgb2xyz : the inverse.

    Notes
    -----
    Apply the XYZ-to-sRGB matrix, then the sRGB gamma (IEC 61966-2-1:1999).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import rgb2xyz, xyz2rgb
    >>> xyz2rgb(rgb2xyz(np.full((1, 1, 3), 128, np.uint8))).round(1)
    array([[[128., 128., 128.]]])
    """
    xyz = _as_colour_image(xyz, "colors.xyz2rgb", "xyz")
    linear = _transform(xyz, _XYZ_TO_RGB)
    if dtype is not None:
        linear = linear.astype(dtype, copy=False)
    with np.errstate(invalid="ignore"):
        high = 1.055 * np.power(linear, 1.0 / 2.4) - 0.055
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, high)
    srgb *= 255.0
    return srgb


def xyz2lab(xyz: np.ndarray, dtype=None) -> np.ndarray:
    """Convert CIE XYZ (D65) to CIE L*a*b*.

    Parameters
    ----------
    xyz : ndarray
        Image of shape (height, width, 3).
    dtype : dtype, optional
        Type of the result (default float64).

    Returns
    -------
    lab : ndarray
        Image of shape (height, width, 3): L*, a*, b*.

    See Also
    --------
    rgb2lab

    Notes
    -----
    CIE 1976 L*a*b* with the D65 reference white: cube root above
    (6/29)^3, the linear segment below.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import xyz2lab
    >>> xyz2lab(np.array([[[0.95047, 1.0, 1.08883]]])).round(6)
    array([[[100.,   0.,   0.]]])
    """
    xyz = _as_colour_image(xyz, "colors.xyz2lab", "xyz")
    scaled = xyz / np.array(_WHITE_D65)
    cube_root = np.cbrt(scaled)
    linear_part = ((1 / 3.0) * (29.0 / 6) * (29.0 / 6)) * scaled + 4 / 29.0
    f = np.where(scaled <= (6.0 / 29) ** 3, linear_part, cube_root)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lab = np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)
    return lab if dtype is None else lab.astype(dtype, copy=False)


def rgb2lab(rgb: np.ndarray, dtype=None) -> np.ndarray:
    """Convert sRGB (0-255) to CIE L*a*b* (D65).

    Parameters
    ----------
    rgb : ndarray
        Image of shape (height, width, 3), values in 0-255.
    dtype : dtype, optional
        Type of the result (default float64).

    Returns
    -------
    lab : ndarray
        Image of shape (height, width, 3).

    See Also
    --------
    rgb2xyz, xyz2lab : the two steps.

    Notes
    -----
    ``xyz2lab(rgb2xyz(rgb))``.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import rgb2lab
    >>> [round(float(value), 2) for value in rgb2lab(np.full((1, 1, 3), 255, np.uint8))[0, 0]]
    [100.0, 0.01, -0.01]
    """
    return xyz2lab(rgb2xyz(rgb), dtype=dtype)


def rgb2sepia(rgb: np.ndarray) -> np.ndarray:
    """Give an RGB image a sepia tone.

    Parameters
    ----------
    rgb : ndarray
        Image of shape (height, width, 3), values in 0-255.

    Returns
    -------
    sepia : ndarray of uint8
        Image of shape (height, width, 3).

    See Also
    --------
    rgb2grey

    Notes
    -----
    A fixed 3x3 colour matrix (the classic sepia matrix), computed in
    float32, clipped to 0-255 and truncated to uint8 (as mahotas).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.colors import rgb2sepia
    >>> rgb2sepia(np.full((1, 1, 3), 100, np.uint8))
    array([[[135, 120,  93]]], dtype=uint8)
    """
    rgb = _as_colour_image(rgb, "colors.rgb2sepia", "rgb")
    sepia = _transform(rgb, _SEPIA).astype(np.float32)
    np.clip(sepia, 0, 255, out=sepia)
    return sepia.astype(np.uint8)
