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
from .io import imread, imsave
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
