"""Feature extraction (the layout of ``mahotas.features``)."""

from .moments import moments
from .shape import eccentricity, ellipse_axes, roundness
from .tas import pftas, tas
from .texture import haralick
from .zernike import zernike, zernike_moments

__all__ = [
    "eccentricity",
    "ellipse_axes",
    "haralick",
    "moments",
    "pftas",
    "roundness",
    "tas",
    "zernike",
    "zernike_moments",
]
