"""Shape descriptors of binary objects: roundness, ellipse axes, eccentricity."""

from __future__ import annotations

import numpy as np

from ..internal import as_array
from ..labeled import bwperim
from .moments import moments

__all__ = ["roundness", "eccentricity", "ellipse_axes"]


def _as_binary(bw, fname: str) -> np.ndarray:
    bw = as_array(bw, fname, "bw", min_ndim=2, max_ndim=2)
    return bw if bw.dtype == bool else bw != 0


def roundness(bw: np.ndarray) -> float:
    """Return the roundness ``perimeter**2 / (4 pi area)`` of a binary object.

    Parameters
    ----------
    bw : ndarray
        2-D binary image.

    Returns
    -------
    roundness : float
        0 for an empty image.

    See Also
    --------
    eccentricity

    Notes
    -----
    The perimeter is the number of foreground pixels with a background
    4-neighbour (``karyo.bwperim``), as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import roundness
    >>> disc = np.hypot(*np.mgrid[-5:6, -5:6]) <= 4
    >>> round(float(roundness(disc)), 3)
    0.65
    """
    bw = _as_binary(bw, "features.roundness")
    area = np.sum(bw)
    if area == 0:
        return 0.0
    perimeter = float(np.sum(bwperim(bw)))
    return perimeter * perimeter / 4.0 / np.pi / area


def ellipse_axes(bwimage: np.ndarray) -> tuple[float, float]:
    """Return the semi-major and semi-minor axes of the ellipse with the same moments.

    Parameters
    ----------
    bwimage : ndarray
        2-D binary image.

    Returns
    -------
    semimajor, semiminor : float
        Both 0 for an empty image.

    See Also
    --------
    eccentricity

    Notes
    -----
    From the second-order central moments mu20, mu02, mu11 and the area
    mu00: ``sqrt(2 (mu20 + mu02 +- sqrt((mu20 - mu02)**2 + 4 mu11**2)) / mu00)``
    (Prokop and Reeves, "A survey of moment-based techniques for unoccluded
    object representation", CVGIP, 1992).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.shape import ellipse_axes
    >>> bar = np.zeros((5, 9), bool)
    >>> bar[2, 1:8] = True
    >>> [round(float(a), 3) for a in ellipse_axes(bar)]
    [4.0, 0.0]
    """
    from ..center_of_mass import center_of_mass

    bwimage = _as_binary(bwimage, "features.ellipse_axes")
    if not np.any(bwimage):
        return 0.0, 0.0
    centre = center_of_mass(bwimage)
    mu00 = moments(bwimage, 0, 0, centre)
    mu11 = moments(bwimage, 1, 1, centre)
    mu02 = moments(bwimage, 0, 2, centre)
    mu20 = moments(bwimage, 2, 0, centre)
    root = np.sqrt((mu20 - mu02) ** 2 + 4 * mu11 ** 2)
    semimajor = np.sqrt((2 * (mu20 + mu02 + root)) / mu00)
    semiminor = np.sqrt((2 * (mu20 + mu02 - root)) / mu00)
    return semimajor, semiminor


def eccentricity(bwimage: np.ndarray) -> float:
    """Return the eccentricity of the ellipse with the same second moments.

    Parameters
    ----------
    bwimage : ndarray
        2-D binary image.

    Returns
    -------
    eccentricity : float
        0 for a circle (or an empty image), near 1 for a line.

    See Also
    --------
    ellipse_axes

    Notes
    -----
    ``sqrt(a**2 - b**2) / a`` with a, b the semi-axes of :func:`ellipse_axes`.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import eccentricity
    >>> disc = np.hypot(*np.mgrid[-5:6, -5:6]) <= 4
    >>> float(eccentricity(disc))
    0.0
    """
    semimajor, semiminor = ellipse_axes(bwimage)
    if semimajor == 0.0:
        return 0.0
    return np.sqrt(semimajor ** 2 - semiminor ** 2) / semimajor
