"""Feature extraction (the layout of ``mahotas.features``)."""

# As in mahotas, the name `lbp` here is the function; the module of the same
# name (with lbp_transform and lbp_names) is imported as karyo.features.lbp.
from .lbp import lbp
from .moments import moments
from .shape import eccentricity, ellipse_axes, roundness
from .tas import pftas, tas
from .texture import haralick
from .zernike import zernike, zernike_moments

__all__ = [
    "eccentricity",
    "ellipse_axes",
    "haralick",
    "lbp",
    "moments",
    "pftas",
    "roundness",
    "tas",
    "zernike",
    "zernike_moments",
]
