"""karyo: fast image analysis for microscopy, mahotas-compatible.

``import karyo as mh`` runs code written for mahotas: the same flat namespace
(``mh.label``, ``mh.regmax``, ``mh.cwatershed``...) over the same modules
(``karyo.morph``, ``karyo.labeled``, ``karyo.thresholding``...), with the
same defaults. Everything is plain numpy arrays in and out.
"""

__version__ = "0.1.0"

from ._citation import citation, citation_text, short_citation_text
from .bbox import bbox, croptobbox
from .center_of_mass import center_of_mass
from .colors import rgb2gray, rgb2grey, rgb2sepia
from .convolve import (
    convolve,
    convolve1d,
    daubechies,
    find,
    gaussian_filter,
    gaussian_filter1d,
    haar,
    idaubechies,
    ihaar,
    laplacian_2D,
    mean_filter,
    median_filter,
    rank_filter,
    template_match,
    wavelet_center,
    wavelet_decenter,
)
from .distance import distance
from .edge import dog, sobel
from .euler import euler
from .features.moments import moments
from .histogram import fullhistogram
from .internal import get_threads, set_threads, threads
from .io.image_files import imread, imsave
from .labeled import border, borders, bwperim, label, labeled_sum
from .morph import (
    cdilate,
    cerode,
    close,
    close_holes,
    cwatershed,
    dilate,
    disk,
    erode,
    get_structuring_elem,
    hitmiss,
    locmax,
    locmin,
    majority_filter,
    open,
    regmax,
    regmin,
)
from .resize import imresize, resize_to
from .stretch import as_rgb, overlay, stretch, stretch_rgb
from .thin import thin
from .thresholding import otsu, rc, soft_threshold

from . import (
    colors,
    demos,
    edge,
    features,
    interpolate,
    io,
    labeled,
    morph,
    polygon,
    resize,
    segmentation,
    thresholding,
)

# everything `from karyo import *` gives: mahotas's names (its __all__ but `test`),
# karyo's additions, and the thematic modules
__all__ = [
    "__version__", "as_rgb", "bbox", "border", "borders", "bwperim", "cdilate", "center_of_mass",
    "cerode", "citation", "citation_text", "close", "close_holes", "colors", "convolve",
    "convolve1d", "croptobbox", "cwatershed", "daubechies", "demos", "dilate", "disk", "distance",
    "dog", "edge", "erode", "euler", "features", "find", "fullhistogram", "gaussian_filter",
    "gaussian_filter1d", "get_structuring_elem", "get_threads", "haar", "hitmiss", "idaubechies",
    "ihaar", "imread", "imresize", "imsave", "interpolate", "io", "label", "labeled",
    "labeled_sum", "laplacian_2D", "locmax", "locmin", "majority_filter", "mean_filter",
    "median_filter", "moments", "morph", "open", "otsu", "overlay", "polygon", "rank_filter", "rc",
    "regmax", "regmin", "resize", "resize_to", "rgb2gray", "rgb2grey", "rgb2sepia", "segmentation",
    "set_threads", "short_citation_text", "sobel", "soft_threshold", "stretch", "stretch_rgb",
    "template_match", "thin", "threads", "thresholding", "wavelet_center", "wavelet_decenter",
]
