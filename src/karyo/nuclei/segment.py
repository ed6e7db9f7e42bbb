"""Nucleus segmentation recipes: from a DNA-stain image to a label image.

A recipe is a fixed chain of karyo operations (smoothing, background, threshold,
hole filling, declumping by watershed, size filter) driven by a few settings a
biologist can reason about, in the style of CellProfiler's
IdentifyPrimaryObjects: the expected nucleus diameter, the threshold method and
its correction factor, how clumps are split.

``segment(image)`` runs the ``'default'`` recipe, which needs no setting at
all: it measures the nuclei's size in each image and works at that scale.
``segment(image, 'tutorial')`` runs the segmentation of the mahotas tutorial,
step by step. The returned :class:`Segmentation` records every setting it
used, so that ``segment(image, **result.settings)`` repeats the run exactly,
and the quality-control flags of the image (:data:`QC_FLAGS`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from karyo.convolve import gaussian_filter
from karyo.distance import distance
from karyo.labeled import (
    label,
    labeled_max,
    labeled_min,
    labeled_size,
    labeled_sum,
    relabel,
    remove_bordering,
)
from karyo.morph import close_holes, cwatershed, dilate, disk, erode, regmax
from karyo.morph import open as grey_open
from karyo.nuclei.images import dna_plane
from karyo.nuclei.merging import FEATURES, merge_basins, touching_pixels
from karyo.regionprops import regionprops_table
from karyo.segmentation import gvoronoi
from karyo.thresholding import otsu, otsu_of_histogram, rc, rc_of_histogram

__all__ = ["DEFAULT_SETTINGS", "QC_FLAGS", "RECIPES", "DiameterEstimate", "Segmentation",
           "estimate_nucleus_diameter", "segment", "tiling_plan"]

RECIPES = ("default", "tutorial")

DEFAULT_SETTINGS: dict[str, dict] = {
    "default": {
        "diameter": None,
        "threshold": "otsu",
        "threshold_correction": 0.5,
        "object_threshold": 0.5,
        "background": True,
        "declump": "shape",
        "fill_holes": True,
        "size_filter": True,
        "exclude_border": False,
        "channel": None,
    },
    "tutorial": {
        "sigma": 8.0,
        "threshold": "otsu",
        "voronoi": False,
        "exclude_border": False,
        "channel": None,
    },
}

#: Quality-control flags an image's :class:`Segmentation` may carry, with what each means
#: and what to do about it.
QC_FLAGS: dict[str, str] = {
    "empty": "no nuclei found: nothing in the image stands out from its noise",
    "size_uncertain": "the nucleus size was estimated from few objects or from sizes that vary "
                      "widely: check the overlay, or give the diameter (--diameter MIN MAX)",
    "size_out_of_range": "the estimated nucleus diameter is outside 8-150 px, the range the "
                         "default recipe is tested on: check it, or give --diameter MIN MAX",
    "mostly_rejected": "the size filter rejected most of the foreground: the diameter may be "
                       "wrong (--diameter MIN MAX) or the image holds mostly debris",
    "few_objects": "fewer than 3 nuclei found",
    "foreground_everywhere": "the foreground covers most of the image: the threshold may have "
                             "failed (uneven illumination, a confluent field)",
}

_THRESHOLD_METHODS = ("otsu", "mean", "rc")
_DECLUMP_METHODS = ("shape", "dynamics", "intensity", "none")
# Otsu and RC need a histogram: a smoothed image that does not fit in 16-bit
# integer steps is binned into this many levels between its min and max.
_HISTOGRAM_LEVELS = 4096

# The default recipe resamples each image so that its nuclei are about this
# many pixels across, then works with fixed settings in those pixels.
_WORKING_DIAMETER = 30.0
# Sampling steps are whole sixteenths of a pixel (exact in binary, so that a
# tile of an image samples at exactly the positions the whole image does), at
# most 4 times finer than the image.
_STEP_UNIT = 1 / 16
_FINEST_STEP = 1 / 4
_MAX_WORKING_PIXELS = 64_000_000
# The size filter keeps objects between this fraction of the nucleus diameter
# and its inverse (an object of 8 nuclei's area passes).
_SIZE_RATIO = 0.4
# Nuclei are convex blobs: an object filling less of its convex hull than this is
# debris or texture (a yolk, a ragged background) that the threshold let through.
_MIN_SOLIDITY = 0.8
# In working pixels (nuclei 30 across): seeds closer than this are one nucleus;
# two regions whose lower distance peak rises less than this above their saddle
# are one nucleus; the background is an opening this wide (3 nuclei).
_SEED_DISTANCE = 10.0
_MERGE_DEPTH = 1.75
_BACKGROUND_RADIUS = 45.0
# The declumping height is the distance to the background plus this much of the
# intensity (valleys between touching nuclei), scaled to a nucleus radius.
_INTENSITY_WEIGHT = 0.2
# Foreground that stands out from the background's noise by less than this many
# noise deviations is noise: an image of no nuclei.
_MIN_CONTRAST = 4.0
_TESTED_DIAMETERS = (8.0, 150.0)
# Objects' sizes varying more than this (upper over lower quartile) make the size uncertain.
_UNCERTAIN_SPREAD = 2.5
# The size estimate outlines an object dimmer than the typical one at Otsu's
# threshold scaled by its brightness relative to the typical, down to this
# fraction (vignetting, dim nuclei).
_DIM_OUTLINE = 0.5
# Dim nuclei take the threshold from a few very bright bodies when they
# outnumber them this many times (pixels).
_DIM_MAJORITY = 5
# The threshold is taken from a histogram of the working image with this many
# bins over a range fixed by the image's (tiles' histograms add up).
_THRESHOLD_BINS = 65536
# Larger images are sized in a grid of windows, never whole.
_WHOLE_ESTIMATE_PIXELS = 4096 * 4096
_ESTIMATE_WINDOW = 1024
_ESTIMATE_GRID = 4


@dataclass
class Segmentation:
    """The result of :func:`segment`.

    Attributes
    ----------
    labels : ndarray of int32
        0 is background, nuclei are labelled 1..count consecutively.
    count : int
        The number of nuclei.
    threshold : float
        The foreground threshold actually used, in the units of the image
        (for the default recipe, of the smoothed image minus its background).
    settings : dict
        Every setting used (derived ones resolved to numbers) and the recipe;
        ``segment(image, **settings)`` repeats the run exactly.
    recipe : str
        The recipe's name.
    nucleus_diameter : float or None
        The typical nucleus diameter in pixels the recipe worked with:
        estimated from the image, or from the ``diameter`` given. None for the
        tutorial recipe and where no nucleus was found to measure.
    flags : tuple of str
        Quality-control flags (keys of :data:`QC_FLAGS`); empty when all
        looks well.
    rejected : ndarray of int32 or None
        The objects the size filter dropped, labelled 1..n (0 elsewhere), for
        drawing; None when nothing was filtered.
    """

    labels: np.ndarray
    count: int
    threshold: float
    settings: dict
    recipe: str
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    nucleus_diameter: float | None = None
    flags: tuple[str, ...] = ()
    rejected: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def table(self):
        """Per-nucleus measurements, ``karyo.nuclei.measure.measure(labels, image)``."""
        from karyo.nuclei.measure import measure

        return measure(self.labels, self.image)


class DiameterEstimate(NamedTuple):
    """The typical nucleus size of an image, from :func:`estimate_nucleus_diameter`.

    Attributes
    ----------
    diameter : float or None
        Typical nucleus diameter in pixels; None when the image shows no object.
    spread : float
        Ratio of the upper to the lower quartile of the objects' diameters
        (1 when all are alike).
    objects : int
        How many objects the estimate rests on.
    """

    diameter: float | None
    spread: float
    objects: int


def segment(image: np.ndarray, recipe: str = "default", **settings) -> Segmentation:
    """Segment the nuclei of a DNA-stain image with a named recipe.

    Parameters
    ----------
    image : ndarray
        A 2-D image of any integer or floating-point dtype, or a colour image
        (h, w, 3) or (h, w, 4): if its colour channels are all equal it is
        grey, otherwise pass ``channel=``.
    recipe : {'default', 'tutorial'}
        ``'default'``: the recommended recipe (below), which needs no
        setting. ``'tutorial'``: the segmentation of the mahotas tutorial,
        step by step.
    **settings
        Overrides of ``DEFAULT_SETTINGS[recipe]``. For ``'default'``:

        diameter : None or (min, max)
            None (the default): the typical nucleus diameter is estimated in
            each image (:func:`estimate_nucleus_diameter`), and the size
            filter keeps objects from 0.4 to 2.5 times it. (min, max): the
            nucleus diameter range in pixels; the recipe works at the scale
            of their geometric mean and the size filter keeps that range.
        threshold : 'otsu', 'mean', 'rc' or a number
            How the foreground threshold is found (on the smoothed image less
            its background), or a threshold in those units.
        threshold_correction : float
            Factor applied to an automatic threshold (> 1 is stricter). The
            default, 0.5, finds dim nuclei; each object's outline is then
            drawn by ``object_threshold``.
        object_threshold : float
            Each object's outline is at this fraction of its own mean
            brightness above the background (0 keeps the global threshold's
            outline): bright and dim nuclei are outlined alike.
        background : bool
            Subtract the background (a grey opening three nuclei wide), so
            uneven illumination does not move the threshold.
        declump : 'shape', 'dynamics', 'intensity' or 'none'
            Split touching nuclei at the necks of the foreground's shape
            (helped by the dark valleys between nuclei), the pieces joined
            again where a learned model finds them one nucleus
            (:mod:`karyo.nuclei.merging`); ``'dynamics'``: the same pieces
            joined where the neck is shallow (the classical rule, no learned
            part); at the dark valleys of the intensity alone; or not at all.
        fill_holes : bool
            Fill holes inside nuclei.
        size_filter : bool
            Drop objects smaller than a disk of the minimum diameter (a
            quarter of it for objects cut by the image border), larger than
            a disk of the maximum diameter, or ragged (filling less than 0.8
            of their convex hull: debris, texture).
        exclude_border : bool
            Drop nuclei that touch the image border.
        channel : int, str or None
            The channel of a colour image to segment.

        For ``'tutorial'``: ``sigma`` (8), ``threshold`` ('otsu', 'mean',
        'rc' or a number), ``voronoi`` (return the Voronoi territories of the
        nuclei instead of masking them by the foreground), ``exclude_border``
        and ``channel``.

    Returns
    -------
    Segmentation
        ``labels`` (int32, 1..count), ``count``, ``threshold``, ``settings``
        (every setting used, resolved, with the recipe), ``recipe``,
        ``nucleus_diameter``, quality-control ``flags``, the ``rejected``
        objects and a lazy ``table`` of per-nucleus measurements.

    Raises
    ------
    ValueError
        For an unknown recipe or setting, a bad setting value, a true colour
        image without ``channel=``, or an image that is not 2-D.
    TypeError
        For an image that is not numeric.

    See Also
    --------
    estimate_nucleus_diameter : the size estimate behind the default.
    karyo.cwatershed : the seeded watershed both recipes rely on.
    karyo.nuclei.evaluate.evaluate : score labels against a ground truth.

    Notes
    -----
    The default recipe works at the nuclei's own scale. It first lowers each
    pixel brighter than all eight neighbours to the brightest of them (hot
    pixels and cosmic rays; no nucleus is one pixel), then estimates the
    typical nucleus diameter *d* (unless given; in an image larger than 4096 x
    4096, in sixteen 1024-pixel windows spread over it) and resamples the
    image, smoothing it by a Gaussian, so that nuclei are about 30 pixels
    across; every further setting is fixed in those pixels, which makes the
    recipe the same at every magnification. It subtracts the background (a
    grey opening by a disk of three nuclei's width), thresholds at half Otsu's
    threshold [3]_ (of a 65536-bin histogram over a range set by the image's,
    which a tiled run adds up tile by tile; where a few very bright bodies
    take Otsu's split from dimmer nuclei that outnumber them five times and
    stand out from the noise, the split below it), then outlines each connected
    object at half its own mean brightness, so that dim nuclei next to bright
    ones are found and both are outlined alike. Holes are filled. Touching
    nuclei are split by a watershed [1]_ from the regional maxima of the
    distance to the background (smoothed, plus a little of the intensity);
    adjacent regions are merged again where a logistic regression on twelve
    features of the pair (how far each peak rises above the saddle, the
    boundary's width and brightness, the union's convexity, ellipse fit and
    size; :mod:`karyo.nuclei.merging`, trained on the even half of the Data
    Science Bowl 2018 images by ``training/train_merge.py``) finds them more
    than 25% likely to be one nucleus, a round at a time
    (``declump='dynamics'`` merges those whose neck is shallow instead:
    dynamics [2]_ below 1.75 working pixels, the rule before the model).
    Objects outside the diameter range are dropped, and the labels are
    brought back to the image's pixels, where a downsampled image's outlines
    are redrawn at full resolution. The fixed
    settings were chosen on half of the Data Science Bowl 2018 fluorescence
    images and half of the U2OS collection of [1]_, and checked on the other
    halves (``benchmarks/score.py``).

    References
    ----------
    .. [1] L. P. Coelho, A. Shariff, R. F. Murphy, "Nuclear segmentation in
       microscope cell images: a hand-segmented dataset and comparison of
       algorithms", ISBI 2009, doi:10.1109/ISBI.2009.5193098.
    .. [2] M. Grimaud, "New measure of contrast: the dynamics", Proc. SPIE
       1769, Image Algebra and Morphological Image Processing III (1992).
    .. [3] N. Otsu, "A threshold selection method from gray-level
       histograms", IEEE Trans. SMC 9 (1979), 62-66.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.segment import segment
    >>> yy, xx = np.mgrid[:120, :200]
    >>> image = np.zeros((120, 200), np.uint8)
    >>> image[(yy - 60) ** 2 + (xx - 50) ** 2 < 35 ** 2] = 200
    >>> image[(yy - 60) ** 2 + (xx - 150) ** 2 < 35 ** 2] = 180
    >>> result = segment(image)
    >>> result.count
    2
    >>> round(result.nucleus_diameter)
    70
    >>> result.labels.dtype
    dtype('int32')
    """
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"karyo.nuclei.segment: `recipe` must be one of {RECIPES}, "
                         f"got {recipe!r}")
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS[recipe]))
    if unknown:
        raise ValueError(f"karyo.nuclei.segment: unknown setting(s) {unknown} for recipe "
                         f"{recipe!r}; expected some of {sorted(DEFAULT_SETTINGS[recipe])}")
    used = {**DEFAULT_SETTINGS[recipe], **settings}
    grey, channel = _grey_image(image, used["channel"])
    if recipe == "tutorial":
        labels, threshold, resolved = _tutorial(grey, used)
        result = Segmentation(labels=labels, count=0, threshold=float(threshold),
                              settings=resolved, recipe=recipe, image=grey)
    else:
        result = _default(grey, used)
    result.settings["recipe"] = recipe
    if channel is not None:
        result.settings["channel"] = channel
    result.count = int(result.labels.max()) if result.labels.size else 0
    result.flags = _count_flags(result)
    return result


def estimate_nucleus_diameter(image: np.ndarray) -> DiameterEstimate:
    """Estimate the typical diameter of the nuclei in a DNA-stain image.

    Parameters
    ----------
    image : (M, N) ndarray
        A grey image, integer or floating point.

    Returns
    -------
    DiameterEstimate
        ``diameter`` in pixels (None when no object stands out), the
        ``spread`` of the objects' sizes and how many ``objects`` it rests on.

    Notes
    -----
    Hot pixels are lowered to their neighbours (as :func:`segment` does). The
    image is smoothed (sigma 1 px) and thresholded by Otsu's method (the
    nuclei's split, as :func:`segment` takes it, where a few very bright
    bodies outshine them). Each connected object of at least 16 pixels
    measures twice its largest distance to the background, the diameter of the
    largest disk it holds, which a clump of touching nuclei shares with its
    members. A first estimate, the median of those diameters, sizes a
    background (a grey opening by a disk 1.5 times that diameter, or an eighth
    of the image's side if larger), which is subtracted before measuring
    again. In that second measure an object dimmer than the typical one is
    outlined at Otsu's threshold scaled by its relative brightness (down to
    half of it), so that vignetting or a dim nucleus beside bright ones does
    not cut it into specks. The estimate is the median of the second
    measure's diameters, each object weighted by the square root of its area,
    so that specks of noise or debris count little. Where that finds fewer
    than 10 objects, a background an eighth of the image's side wide is tried
    too, and wins if it finds three times as many objects (small nuclei on a
    large bright body, such as an embryo), and is then narrowed to 1.5 times
    the diameter it finds. An image at least 512 pixels on each side is
    measured at half its size first (by this function: halved again while
    that large), and that measure is kept where nuclei are at least 48 pixels
    across and it is sure of itself (see the flags), or where the full size's
    measure is far less sure (its sizes spread twice as widely); so an image
    twice as large reads twice the diameter.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.segment import estimate_nucleus_diameter
    >>> yy, xx = np.mgrid[:200, :200]
    >>> image = np.zeros((200, 200))
    >>> for y, x in [(50, 50), (50, 150), (150, 100)]:
    ...     image[(yy - y) ** 2 + (xx - x) ** 2 < 20 ** 2] = 1.0
    >>> estimate = estimate_nucleus_diameter(image)
    >>> round(estimate.diameter), estimate.objects
    (40, 3)
    """
    from karyo.internal import as_array

    grey = as_array(image, "nuclei.estimate_nucleus_diameter", "image", min_ndim=2,
                    max_ndim=2, kinds="buif")
    grey = np.asarray(grey, dtype=np.float32)
    if grey.size == 0 or not np.isfinite(grey).all():
        if grey.size:
            raise ValueError("karyo.nuclei.estimate_nucleus_diameter: `image` has NaN or "
                             "infinite pixels")
        return DiameterEstimate(None, 1.0, 0)
    return _estimate_at_scale(_without_hot_pixels(grey))


def _estimate_at_scale(grey: np.ndarray) -> DiameterEstimate:
    """:func:`estimate_nucleus_diameter` of a checked float32 image without hot pixels."""
    if min(grey.shape) >= 512:
        # Large nuclei measure as well on an image half as wide, four times faster.
        rows, cols = grey.shape[0] // 2 * 2, grey.shape[1] // 2 * 2
        half = grey[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).mean(axis=(1, 3))
        # Measured as the whole is (halved again while large), so that an
        # image twice as large gets twice the estimate: at full resolution
        # large textured nuclei fall apart into their specks.
        halved = _estimate_at_scale(half)
        if halved.diameter is not None:
            halved = halved._replace(diameter=2 * halved.diameter)
            # Kept when it is sure of itself: an estimate from one or two
            # objects, or from sizes that vary widely, is measured again at
            # full size, as are nuclei under 48 pixels across.
            if (halved.diameter >= 48 and halved.objects >= 3
                    and halved.spread <= _UNCERTAIN_SPREAD):
                return halved
            # Where both are unsure, the half size if the full size is far less
            # sure (its sizes spread twice as widely) and half size still
            # resolves the nuclei (12 px there): at full size, the specks of a
            # large bright body (an embryo's, twice as large) can outnumber
            # its nuclei. Only "less sure" picks the half size of a saturated
            # or vignetted embryo: its bright body's clumps.
            whole = _estimate_diameter(grey)
            if whole.diameter is None or (
                    halved.objects >= 3 and halved.diameter >= 24
                    and whole.spread > max(_UNCERTAIN_SPREAD, 2 * halved.spread)):
                return halved
            return whole
    return _estimate_diameter(grey)


def _estimate_diameter(grey: np.ndarray) -> DiameterEstimate:
    smoothed = gaussian_filter(grey, 1.0)
    # A first look, without background and counting each object once (so that
    # a glow of uneven illumination counts as one object), sizes the disk of
    # the background: wide enough to leave nuclei whole.
    first = _diameter_of_objects(smoothed, flat=False)
    if first.diameter is None:
        return first
    narrow = min(grey.shape) / 8
    radius = max(narrow, 1.5 * first.diameter)
    estimate = _diameter_of_objects(smoothed - _background(smoothed, radius), flat=True)
    if estimate.objects < 10 and radius > narrow:
        # Few objects as wide as a good part of the image (an embryo, a
        # glow) may carry many small nuclei: a narrower background finds them.
        small = _diameter_of_objects(smoothed - _background(smoothed, narrow), flat=True)
        if small.objects >= max(10, 3 * estimate.objects):
            estimate = small
            # Sized by the nuclei found, as the first look sizes it otherwise.
            if 1.5 * small.diameter < narrow:
                closer = _diameter_of_objects(
                    smoothed - _background(smoothed, 1.5 * small.diameter), flat=True)
                if closer.diameter is not None and closer.objects >= small.objects:
                    estimate = closer
    return first if estimate.diameter is None else estimate


def _diameter_of_objects(smoothed: np.ndarray, flat: bool) -> DiameterEstimate:
    """Median of twice the largest inscribed radius of Otsu's objects.

    On a `flat` image (its background removed) each object weighs by the
    square root of its area and dim objects are outlined relative to their
    brightness (:func:`_relative_outlines`); otherwise each object counts
    once, outlined at Otsu's threshold.
    """
    histogram, values = _level_histogram(smoothed)
    if histogram is None:
        return DiameterEstimate(None, 1.0, 0)
    threshold = float(values[_nuclei_otsu(histogram)])
    if flat:
        foreground = _relative_outlines(smoothed, threshold)
    else:
        foreground = smoothed > threshold
    objects, count = label(foreground)
    if count == 0 or foreground.all():
        return DiameterEstimate(None, 1.0, 0)
    diameters = 2 * labeled_max(distance(foreground, metric="euclidean"), objects)[1:]
    areas = labeled_size(objects)[1:].astype(np.float64)
    large = areas >= 16
    if not large.any():
        return DiameterEstimate(None, 1.0, 0)
    diameters, areas = diameters[large], areas[large]
    order = np.argsort(diameters, kind="stable")
    weights = np.sqrt(areas[order]) if flat else np.ones(order.size)
    diameters, weights = diameters[order], np.cumsum(weights) / weights.sum()
    lower, median, upper = (float(diameters[np.searchsorted(weights, q)])
                            for q in (0.25, 0.5, 0.75))
    return DiameterEstimate(median, upper / lower, int(large.sum()))


def _relative_outlines(flat: np.ndarray, threshold: float) -> np.ndarray:
    """The objects of `flat` (an image less its background), each outlined for its brightness.

    An object as bright as the typical one (the area-weighted median of the
    objects' mean brightness), or brighter, is outlined at `threshold`; a
    dimmer one at `threshold` times its brightness relative to the typical,
    down to ``_DIM_OUTLINE`` times it. Objects are the regions above that
    lowest level, brightness measured above the image's minimum. Under
    vignetting, or for a nucleus dimmer than its neighbours, Otsu's one
    threshold cuts the dim nuclei into their brightest specks and the size
    estimate falls with them (by half at a 40% falloff); outlined for its
    brightness, each keeps the size it has in the bright part of the image.
    """
    low = float(flat.min())
    regions, count = label(flat > low + _DIM_OUTLINE * (threshold - low))
    if count == 0:
        return np.zeros(flat.shape, bool)
    sizes = labeled_size(regions).astype(np.float64)
    brightness = labeled_sum(flat - low, regions) / np.maximum(sizes, 1)
    typical = _weighted_median(brightness[1:], sizes[1:])
    relative = np.clip(brightness / typical, _DIM_OUTLINE, 1.0) if typical > 0 else np.ones(
        count + 1)
    levels = low + (threshold - low) * relative
    levels[0] = np.inf
    return flat > levels[regions]


# -- input checks --------------------------------------------------------------------------------

def _grey_image(image, channel) -> tuple[np.ndarray, int | None]:
    """The 2-D image to segment, and the channel used if it came from a colour image."""
    plane = dna_plane(image, channel=channel)
    array = plane.image
    if array.dtype.kind == "b":
        array = array.view(np.uint8)
    return array, plane.channel


def _check_number(settings: dict, name: str, *, positive: bool = True, allow_none: bool = False):
    value = settings[name]
    if value is None and allow_none:
        return None
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not math.isfinite(value) or (positive and value <= 0)):
        expected = "a positive number" if positive else "a number"
        if allow_none:
            expected += " or None"
        raise ValueError(f"karyo.nuclei.segment: setting `{name}` must be {expected}, "
                         f"got {value!r}")
    return float(value)


def _check_bool(settings: dict, name: str) -> bool:
    value = settings[name]
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"karyo.nuclei.segment: setting `{name}` must be True or False, "
                         f"got {value!r}")
    return bool(value)


def _check_choice(settings: dict, name: str, choices: tuple[str, ...]) -> str:
    value = settings[name]
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"karyo.nuclei.segment: setting `{name}` must be one of {choices}, "
                         f"got {value!r}")
    return value


def _check_threshold(settings: dict):
    value = settings["threshold"]
    if isinstance(value, str):
        return _check_choice(settings, "threshold", _THRESHOLD_METHODS)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"karyo.nuclei.segment: setting `threshold` must be one of "
                     f"{_THRESHOLD_METHODS} or a number in image units, got {value!r}")


def _check_diameter(settings: dict) -> list[float]:
    value = settings["diameter"]
    try:
        low, high = (float(v) for v in value)
        valid = (all(not isinstance(v, (bool, str)) for v in value) and math.isfinite(low)
                 and math.isfinite(high) and 0 < low <= high)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError("karyo.nuclei.segment: setting `diameter` must be (min, max), the "
                         "expected nucleus diameter range in pixels with 0 < min <= max, got "
                         f"{value!r}")
    return [_plain_number(low), _plain_number(high)]


def _plain_number(value: float):
    """An int when the value is whole, so settings read naturally once serialised."""
    return int(value) if float(value).is_integer() else float(value)


# -- thresholds ----------------------------------------------------------------------------------

def _threshold_value(smoothed: np.ndarray, method, correction: float,
                     integer_levels: bool = True) -> float:
    """The threshold of `smoothed`, in its units; `method` is a name or a number.

    `integer_levels` says the image was integer, so whole steps are its natural
    histogram bins; a floating-point image is binned into a fixed number of levels.
    """
    if not isinstance(method, str):
        return float(method)
    if smoothed.size == 0:
        return 0.0
    if method == "mean":
        return float(smoothed.mean(dtype=np.float64)) * correction
    low, high = float(smoothed.min()), float(smoothed.max())
    if high == low:
        return high * correction
    # Otsu and RC take integer histograms: shift by the minimum; bin floats, and
    # integers whose range does not fit in whole 16-bit steps.
    whole_steps = integer_levels and high - low <= 65535
    step = 1.0 if whole_steps else (high - low) / (_HISTOGRAM_LEVELS - 1)
    levels = np.rint((smoothed - low) / step).astype(np.uint16)
    if method == "otsu":
        level = otsu(levels)
    else:
        level = rc(levels)
    return (low + float(level) * step) * correction


def _nuclei_otsu(histogram: np.ndarray) -> int:
    """Otsu's level of a histogram, unless a few very bright objects took it from the nuclei.

    Otsu's method splits the two largest modes; where a handful of very
    bright bodies (mitotic or apoptotic nuclei, debris) outshine the nuclei,
    it splits them from everything else. Below its level, a second Otsu
    split then finds a population that stands out from the background's
    noise and outnumbers the bright pixels many times over: the nuclei,
    whose level is taken instead.
    """
    level = otsu_of_histogram(histogram)
    lower = histogram[: level + 1]
    above = int(histogram[level + 1:].sum())
    if level < 2 or not lower[1:].any():
        return level
    second = otsu_of_histogram(lower)
    band = int(lower[second + 1:].sum())
    values = np.arange(lower.size, dtype=np.float64)
    if band > _DIM_MAJORITY * above and _histogram_stands_out(lower, values, values > second):
        return second
    return level


# -- recipes -------------------------------------------------------------------------------------

def _tutorial(image: np.ndarray, settings: dict) -> tuple[np.ndarray, float, dict]:
    """The mahotas tutorial: smoothed regional maxima flood the inverted distance transform."""
    sigma = _check_number(settings, "sigma")
    method = _check_threshold(settings)
    voronoi = _check_bool(settings, "voronoi")
    exclude_border = _check_bool(settings, "exclude_border")
    resolved = {"sigma": _plain_number(sigma), "threshold": method, "voronoi": voronoi,
                "exclude_border": exclude_border}

    smoothed = gaussian_filter(image, sigma)
    seeds, _ = label(regmax(smoothed))
    threshold = _threshold_value(smoothed, method, 1.0, image.dtype.kind != "f")
    foreground = smoothed > threshold
    distances = distance(foreground)
    surface = distances.max() - distances
    surface -= surface.min()
    spread = float(surface.max())
    surface = (surface / spread * 255 if spread > 0 else surface).astype(np.uint8)
    nuclei = cwatershed(surface, seeds)
    if voronoi:
        labels = gvoronoi(nuclei)
    else:
        labels = nuclei * foreground
    return _finish(labels, exclude_border), threshold, resolved


def _default(image: np.ndarray, settings: dict, basins: list | None = None) -> Segmentation:
    """The default recipe (see :func:`segment`'s Notes), at the nuclei's own scale.

    The global passes on the whole image, then the region pass on the whole
    image: the same steps a tiled run takes (:func:`tiling_plan`). `basins`:
    as for :func:`_region_pass`.
    """
    resolved = _default_settings(settings)
    grey = _float_image(image)
    low, high = (float(grey.min()), float(grey.max())) if grey.size else (0.0, 0.0)
    found = _scale_pass(grey.__getitem__, grey.shape, low, high, resolved)
    if found["nucleus"] is not None:
        working, smoothed = _working_image(grey, found["step"])
        if resolved["background"]:
            _background_pass(_background_levels(working, found), found)
        working, background = _less_background(working, found, resolved)
        _threshold_pass(_working_histogram(working, found, resolved), found, resolved)
    nucleus, flags = found["nucleus"], list(found["flags"])
    if found["empty"]:
        labels = np.zeros(image.shape, np.int32)
        return Segmentation(labels, 0, found["threshold"], resolved, "default", image, nucleus,
                            tuple(flags))
    labels, rejected, mostly_rejected = _region_pass(
        grey, (0, 0), grey.shape, found, resolved,
        prepared={"working": working, "background": background, "smoothed": smoothed},
        basins=basins)
    if mostly_rejected:
        flags.append("mostly_rejected")
    if rejected is not None:
        rejected, _ = relabel(np.ascontiguousarray(rejected, dtype=np.int32))
    return Segmentation(_finish(labels, resolved["exclude_border"]), 0, found["threshold"],
                        resolved, "default", image, nucleus, tuple(flags), rejected)


def _default_settings(settings: dict) -> dict:
    """The default recipe's settings, checked and resolved (the diameter as given)."""
    diameter = None if settings["diameter"] is None else _check_diameter(settings)
    method = _check_threshold(settings)
    correction = _check_number(settings, "threshold_correction")
    object_fraction = _check_number(settings, "object_threshold", positive=False)
    if object_fraction < 0:
        raise ValueError("karyo.nuclei.segment: setting `object_threshold` must be >= 0, got "
                         f"{settings['object_threshold']!r}")
    background = _check_bool(settings, "background")
    declump = _check_choice(settings, "declump", _DECLUMP_METHODS)
    fill_holes = _check_bool(settings, "fill_holes")
    size_filter = _check_bool(settings, "size_filter")
    exclude_border = _check_bool(settings, "exclude_border")
    return {"diameter": diameter, "threshold": method,
            "threshold_correction": _plain_number(correction),
            "object_threshold": _plain_number(object_fraction), "background": background,
            "declump": declump, "fill_holes": fill_holes, "size_filter": size_filter,
            "exclude_border": exclude_border}


def _float_image(image: np.ndarray) -> np.ndarray:
    """The image the default recipe segments: float32, without hot pixels."""
    grey = np.asarray(image, dtype=np.float32)
    if grey.size and not np.isfinite(grey).all():
        raise ValueError("karyo.nuclei.segment: `image` has NaN or infinite pixels; replace "
                         "them (e.g. np.nan_to_num) before segmenting")
    return _without_hot_pixels(grey)


def _without_hot_pixels(grey: np.ndarray) -> np.ndarray:
    """`grey` with each pixel brighter than all eight neighbours lowered to the brightest of them.

    A hot pixel or a cosmic ray is one bright pixel, a nucleus never is. Left
    in, one at twenty times the nuclei's brightness becomes a speck that the
    size estimate counts and raises its nucleus's own threshold (U2OS, odd
    half, one pixel in 10^4 hot: F1 0.937 -> 0.905; lowered: 0.937). Where
    nuclei are, a pixel brighter than its neighbours loses the difference to
    the brightest of them, well within the noise. Neighbours beyond the
    image's sides are its own pixels mirrored.
    """
    if grey.ndim != 2 or min(grey.shape) < 2:
        return grey
    padded = np.pad(grey, 1, mode="reflect")
    sides = np.maximum(padded[:, :-2], padded[:, 2:])
    columns = np.maximum(sides, padded[:, 1:-1])
    around = np.maximum(sides[1:-1], np.maximum(columns[:-2], columns[2:]))
    return np.minimum(grey, around, out=around)


def _read_float(source, window: tuple[slice, slice]) -> np.ndarray:
    """A window of a tiled run's image as :func:`_float_image` makes the whole image.

    Read with one more pixel on each side inside the image, so that a pixel
    at the window's edge is compared with its real neighbours.
    """
    shape = source.shape
    grown = tuple(slice(max(0, part.start - 1), min(n, part.stop + 1))
                  for part, n in zip(window, shape, strict=True))
    grey = _float_image(source.read(grown))
    return grey[tuple(slice(part.start - g.start, part.stop - g.start)
                      for part, g in zip(window, grown, strict=True))]


def _scale_pass(read, shape: tuple[int, int], low: float, high: float, resolved: dict) -> dict:
    """The first global pass: the nucleus diameter and the working step.

    `read(window)` returns the float image in a window (a pair of slices) of
    an image of `shape` whose pixels range from `low` to `high`. `resolved`
    gains the diameter range. The result is the plain numbers every region
    needs; its ``nucleus`` is None (and ``empty`` true) when nothing can be
    segmented: an empty or flat image, or no object to size.
    """
    flags = []
    diameter = resolved["diameter"]
    if diameter is None:
        estimate = _estimate_in_windows(read, shape)
        nucleus = estimate.diameter
        if nucleus is not None and (estimate.objects < 3 or estimate.spread > _UNCERTAIN_SPREAD):
            flags.append("size_uncertain")
    else:
        nucleus = math.sqrt(diameter[0] * diameter[1])
    found = {"nucleus": None, "diameter": diameter, "step": 1.0, "low": low, "high": high,
             "background": None, "threshold": 0.0, "empty": True, "flags": flags}
    if nucleus is None or low == high:
        return found
    nucleus = round(nucleus, 2)
    if diameter is None:
        # Written out so that the settings repeat the run: sqrt(min * max) is the nucleus.
        diameter = [_SIZE_RATIO * nucleus, nucleus / _SIZE_RATIO]
        resolved["diameter"] = [_plain_number(round(v, 6)) for v in diameter]
    if not _TESTED_DIAMETERS[0] <= nucleus <= _TESTED_DIAMETERS[1]:
        flags.append("size_out_of_range")
    found.update(nucleus=nucleus, diameter=diameter, step=_working_step(nucleus, shape))
    return found


def _estimate_in_windows(read, shape: tuple[int, int]) -> DiameterEstimate:
    """The nucleus diameter of the whole image, or, for a large one, of windows spread over it.

    An image of more than ``_WHOLE_ESTIMATE_PIXELS`` is measured in a 4 x 4
    grid of 1024-pixel windows (so that the estimate never needs the whole
    image in memory); windows whose objects do not stand out from their
    noise are left out, and the estimate is the median of the others',
    weighted by their objects.
    """
    if shape[0] * shape[1] == 0:
        return DiameterEstimate(None, 1.0, 0)
    if shape[0] * shape[1] <= _WHOLE_ESTIMATE_PIXELS:
        return _estimate_at_scale(read((slice(0, shape[0]), slice(0, shape[1]))))
    starts = [np.unique(np.linspace(0, max(0, n - _ESTIMATE_WINDOW), _ESTIMATE_GRID).round()
                        .astype(int)) for n in shape]
    estimates = []
    for top in starts[0]:
        for left in starts[1]:
            window = read((slice(top, top + _ESTIMATE_WINDOW),
                           slice(left, left + _ESTIMATE_WINDOW)))
            estimate = _estimate_at_scale(window)
            if estimate.diameter is not None and _objects_stand_out(window):
                estimates.append(estimate)
    if not estimates:
        return DiameterEstimate(None, 1.0, 0)
    estimates.sort(key=lambda e: e.diameter)
    weights = np.cumsum([e.objects for e in estimates], dtype=np.float64)
    weights /= weights[-1]
    lower, median, upper = (estimates[np.searchsorted(weights, q)] for q in (0.25, 0.5, 0.75))
    # Windows that disagree make the estimate as uncertain as objects that do.
    spread = max(median.spread, upper.diameter / lower.diameter)
    return DiameterEstimate(median.diameter, spread, sum(e.objects for e in estimates))


def _objects_stand_out(grey: np.ndarray) -> bool:
    """Whether Otsu's objects of the smoothed image stand out from its background's noise."""
    histogram, values = _level_histogram(gaussian_filter(grey, 1.0))
    if histogram is None:
        return False
    return _histogram_stands_out(histogram, values, values > values[_nuclei_otsu(histogram)])


def _level_histogram(smoothed: np.ndarray):
    """`smoothed` binned into ``_HISTOGRAM_LEVELS`` levels from its min to its max.

    Returns the histogram and each bin's value, or (None, None) for a flat image.
    """
    low, high = float(smoothed.min()), float(smoothed.max())
    if high == low:
        return None, None
    step = (high - low) / (_HISTOGRAM_LEVELS - 1)
    levels = np.rint((smoothed - low) / step).astype(np.intp)
    histogram = np.bincount(levels.ravel(), minlength=_HISTOGRAM_LEVELS)
    return histogram, low + step * np.arange(_HISTOGRAM_LEVELS)


def _working_crop(grey: np.ndarray, found: dict, resolved: dict, origin: tuple[int, int] = (0, 0),
                  first: tuple[int, int] = (0, 0)):
    """The working image of a crop less its background, the background, the smoothed crop.

    `grey` is a crop at image pixel `origin` whose first working pixel is
    `first` (the whole image by default); see :func:`_working_image`.
    """
    working, full_smoothed = _working_image(grey, found["step"], origin, first)
    working, working_background = _less_background(working, found, resolved, first)
    return working, working_background, full_smoothed


def _less_background(working: np.ndarray, found: dict, resolved: dict,
                     first: tuple[int, int] = (0, 0)):
    """A working crop from working pixel `first` less the image's background, and the background.

    The background is the whole image's, ``found["background"]`` on its
    coarse grid (:func:`_background_pass`), so that a crop needs no margin
    for the opening's reach.
    """
    if not resolved["background"]:
        return working, None
    background = _from_coarse(found["background"], working.shape, _background_grid(found)[0],
                              first)
    working -= background
    return working, background


def _background_grid(found: dict) -> tuple[int, float, float]:
    """The recipe background's coarsening factor, level unit and lowest level."""
    low, high = found["low"], found["high"]
    return _coarse_factor(_BACKGROUND_RADIUS), (high - low) / 65535, low


def _background_levels(working: np.ndarray, found: dict) -> np.ndarray:
    """The working image on the background's coarse grid (:func:`_coarse_levels`)."""
    return _coarse_levels(working, *_background_grid(found))


def _background_pass(levels: np.ndarray, found: dict) -> None:
    """The global pass between size and threshold: the background from the whole image's levels.

    Sets ``background``, the opening of `levels` (:func:`_background_levels`
    of the whole working image) on the coarse grid, in `found`.
    """
    factor, unit, low = _background_grid(found)
    found["background"] = _coarse_background(levels, _BACKGROUND_RADIUS / factor, unit, low)


def _histogram_scale(found: dict, resolved: dict) -> tuple[float, float]:
    """The value of the working histogram's first bin and the bins' width.

    Fixed by the image's range alone, so that tiles' histograms add up to
    the whole image's: a working image less its background lies within
    +-(high - low), one without within low..high.
    """
    low, high = found["low"], found["high"]
    first = low - high if resolved["background"] else low
    return first, (high - first) / (_THRESHOLD_BINS - 1)


def _working_histogram(working: np.ndarray, found: dict, resolved: dict) -> np.ndarray:
    """How many working pixels fall in each of ``_THRESHOLD_BINS`` bins (int64)."""
    first, width = _histogram_scale(found, resolved)
    bins = np.rint((working - np.float32(first)) / np.float32(width))
    bins = np.clip(bins, 0, _THRESHOLD_BINS - 1).astype(np.intp)
    return np.bincount(bins.ravel(), minlength=_THRESHOLD_BINS)


def _threshold_pass(histogram: np.ndarray, found: dict, resolved: dict) -> None:
    """The second global pass, from the working image's histogram: the threshold and the flags.

    Sets ``threshold``, ``empty`` (nothing stands out from the noise) and the
    ``foreground_everywhere`` flag in `found`.
    """
    first, width = _histogram_scale(found, resolved)
    method, correction = resolved["threshold"], resolved["threshold_correction"]
    values = first + width * np.arange(histogram.size)
    if not isinstance(method, str):
        threshold = float(method)
    elif method == "mean":
        threshold = float(np.dot(histogram, values) / histogram.sum()) * correction
    else:
        level = _nuclei_otsu(histogram) if method == "otsu" else rc_of_histogram(histogram)
        threshold = (first + float(level) * width) * correction
    found["threshold"] = threshold
    above = values > threshold
    foreground = int(histogram[above].sum())
    if foreground and not _histogram_stands_out(histogram, values, above):
        # Noise has no nucleus size to doubt: the one flag is that it is empty.
        found["flags"] = ["empty"]
        return
    if foreground > 0.8 * histogram.sum():
        found["flags"].append("foreground_everywhere")
    found["empty"] = False


def _histogram_stands_out(histogram: np.ndarray, values: np.ndarray, above: np.ndarray) -> bool:
    """Whether the foreground (the bins `above` marks) differs from the rest by more than noise.

    The medians of the two differ by more than ``_MIN_CONTRAST`` times the
    background's noise (its median absolute deviation, as a standard deviation).
    """
    outside, counts = values[~above], histogram[~above]
    if counts.sum() < 16:
        return True
    middle = _weighted_median(outside, counts)
    noise = 1.4826 * _weighted_median(np.abs(outside - middle), counts)
    return _weighted_median(values[above], histogram[above]) - middle > _MIN_CONTRAST * noise


def _weighted_median(values: np.ndarray, counts: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(counts[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _region_pass(grey: np.ndarray, origin: tuple[int, int], shape: tuple[int, int], found: dict,
                 resolved: dict, prepared: dict | None = None, support: list | None = None,
                 basins: list | None = None):
    """The default recipe's local steps on `grey`, a crop at `origin` of an image of `shape`.

    Every sampling position is computed from the image's own indices, so that
    a crop whose origin is a multiple of the working grid's alignment
    (:func:`_alignment`) samples exactly where the whole image does. Returns
    the labels (not yet numbered 1..n), the objects the size filter dropped
    (or None) and whether it dropped most of the foreground. With `support` a
    list, the initial foreground grown by 2 working pixels, at the image's
    resolution, is appended to it: the pixels each nucleus depends on. With
    `basins` a list, the shape declumping's basins (before the learned merge),
    height, brightness and the step are appended to it (:func:`basin_pairs`).
    """
    step, threshold = found["step"], found["threshold"]
    background, fill_holes = resolved["background"], resolved["fill_holes"]
    object_fraction, declump = resolved["object_threshold"], resolved["declump"]
    # The working pixel at the crop's origin (a whole number: crops are aligned).
    first = tuple(int(round(o / step)) for o in origin)
    if prepared:
        working, working_background = prepared["working"], prepared["background"]
        full_smoothed = prepared["smoothed"]
    else:
        working, working_background, full_smoothed = _working_crop(grey, found, resolved,
                                                                   origin, first)
    foreground = working > threshold
    if support is not None:
        grown = dilate(foreground, np.ones((5, 5), bool))
        support.append(_nearest(grown, grey.shape, step, origin, first))
    levels = None
    if object_fraction > 0 and foreground.any():
        levels = _object_levels(working, foreground, threshold, object_fraction)
        foreground = working > levels
    if fill_holes:
        foreground = close_holes(foreground)

    eight = np.ones((3, 3), bool)
    if declump == "none" or not foreground.any():
        labels, _ = label(foreground, Bc=eight)
    else:
        if declump == "intensity":
            labels = _watershed_from_peaks(working - threshold, foreground, _SEED_DISTANCE, 0.0)
        else:
            height = gaussian_filter(distance(foreground, metric="euclidean"), 1.0)
            height += _valley_depth(working, foreground, threshold)
            if declump == "dynamics":
                labels = _watershed_from_peaks(height, foreground, _SEED_DISTANCE, _MERGE_DEPTH)
            else:
                labels = _watershed_from_peaks(height, foreground, _SEED_DISTANCE, 0.0)
                brightness = working - threshold
                if basins is not None:
                    basins.append((labels, height, brightness, step))
                labels = merge_basins(labels, height, brightness, _WORKING_DIAMETER)
    # Which sides of the crop are the image's border (all four for the whole image).
    edges = (origin[0] == 0, origin[0] + grey.shape[0] == shape[0],
             origin[1] == 0, origin[1] + grey.shape[1] == shape[1])
    rejected = None
    mostly_rejected = False
    if resolved["size_filter"]:
        labels, rejected = _filter_objects(labels, [v / step for v in found["diameter"]], edges)
        rejected_area = np.count_nonzero(rejected)
        mostly_rejected = rejected_area > np.count_nonzero(labels)
        if not rejected_area or support is not None:
            # A tiled run (which asks for the support) shows no rejected objects.
            rejected = None
    # Four bytes a pixel at the image's resolution (a crop of a large image).
    labels = labels.astype(np.int32, copy=False)
    if rejected is not None:
        rejected = rejected.astype(np.int32, copy=False)
    if step != 1:
        refine = None
        if step > 1:
            full_background = (_sample_linear(working_background, grey.shape, 1 / step,
                                              0.5 / step - 0.5, origin, first)
                               if background else 0.0)
            # Each nucleus keeps its own threshold (its object's) at full resolution.
            label_levels = (np.full(int(labels.max()) + 1, threshold, np.float32)
                            if levels is None else labeled_max(levels, labels))
            # In place: the smoothed image is not needed again (memory of a large crop).
            full_smoothed -= full_background
            del full_background
            refine = (full_smoothed, label_levels, fill_holes)
        labels = _to_image_pixels(labels, grey.shape, step, refine, origin, first)
        if rejected is not None:
            rejected = _nearest(rejected, grey.shape, step, origin, first)
    return labels, rejected, mostly_rejected


def basin_pairs(image: np.ndarray, truth: np.ndarray,
                model=None) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of basins the default recipe's learned merge decides, with the truth.

    For training the model of :mod:`karyo.nuclei.merging`
    (``training/train_merge.py``): the image is segmented with the default
    settings, its basins are merged round by round by `model`, and for each
    pair of adjacent regions of any round both mostly inside a nucleus of
    `truth` (sampled at the working resolution), the pair's features and
    whether that nucleus is the same one are returned (each pair once).

    Parameters
    ----------
    image : numpy.ndarray
        A 2-D image of nuclei.
    truth : numpy.ndarray
        Labels of the nuclei drawn by hand, of the image's shape.
    model : karyo.nuclei.merging.MergeModel, optional
        The model that merges (default: the shipped one).

    Returns
    -------
    features : numpy.ndarray
        n x len(:data:`karyo.nuclei.merging.FEATURES`).
    same : numpy.ndarray
        n booleans: the two basins are one nucleus.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.segment import basin_pairs
    >>> yy, xx = np.mgrid[:120, :200]
    >>> truth = np.zeros((120, 200), np.int32)
    >>> truth[(yy - 60) ** 2 + (xx - 70) ** 2 < 33 ** 2] = 1
    >>> truth[(yy - 60) ** 2 + (xx - 130) ** 2 < 33 ** 2] = 2
    >>> features, same = basin_pairs((truth > 0) * 200.0, truth)
    >>> same.tolist()
    [False]
    """
    grey = _float_image(image)
    if grey.ndim != 2 or np.shape(truth) != grey.shape:
        raise ValueError(f"karyo.nuclei.basin_pairs: `image` must be 2-D and `truth` of its "
                         f"shape, got {grey.shape} and {np.shape(truth)}")
    collected: list = []
    _default(grey, dict(DEFAULT_SETTINGS["default"]), basins=collected)
    if not collected:
        return np.zeros((0, len(FEATURES))), np.zeros(0, bool)
    basins, height, brightness, step = collected[0]
    nuclei = _truth_at_working(np.asarray(truth), basins.shape, step)
    rounds: list = []
    merge_basins(basins, height, brightness, _WORKING_DIAMETER, model, rounds)
    features, same = [np.zeros((0, len(FEATURES)))], [np.zeros(0, bool)]
    for regions, pairs, round_features in rounds:
        # The nucleus of `truth` covering most of each region.
        inside = regions > 0
        combos, counts = np.unique(np.stack([regions[inside], nuclei[inside]]).astype(np.int64),
                                   axis=1, return_counts=True)
        order = np.lexsort((counts, combos[0]))
        region, nucleus = combos[0][order], combos[1][order]
        most = np.r_[region[1:] != region[:-1], True]
        majority = np.zeros(int(regions.max()) + 1, np.int64)
        majority[region[most]] = nucleus[most]
        first, second = majority[pairs[:, 0]], majority[pairs[:, 1]]
        known = (first > 0) & (second > 0)
        features.append(round_features[known])
        same.append((first == second)[known])
    # A pair no merge touched is the same in the next round: counted once.
    features, rows = np.unique(np.concatenate(features), axis=0, return_index=True)
    return features, np.concatenate(same)[rows]


def _truth_at_working(truth: np.ndarray, shape: tuple[int, int], step: float) -> np.ndarray:
    """`truth` at the working pixels (at image position (j + 1/2) step - 1/2, nearest)."""
    rows, cols = (np.clip(np.rint((np.arange(n) + 0.5) * step - 0.5).astype(np.intp), 0, size - 1)
                  for n, size in zip(shape, truth.shape, strict=True))
    return truth[rows[:, None], cols[None, :]]


def _count_flags(result: Segmentation) -> tuple[str, ...]:
    """The recipe's flags plus those that follow from the count alone."""
    flags = list(result.flags)
    if result.count == 0 and "empty" not in flags:
        flags.append("empty")
    elif 0 < result.count < 3:
        flags.append("few_objects")
    return tuple(flags)


# -- scale ---------------------------------------------------------------------------------------

def _working_step(nucleus: float, shape: tuple[int, int]) -> float:
    """Image pixels per working pixel: nuclei become about 30 working pixels across."""
    step = max(_FINEST_STEP, round(nucleus / _WORKING_DIAMETER / _STEP_UNIT) * _STEP_UNIT)
    # A huge image of tiny nuclei would become larger still: coarsen the step instead.
    while shape[0] * shape[1] / step ** 2 > _MAX_WORKING_PIXELS:
        step += _STEP_UNIT
    return step


def _working_shape(shape: tuple[int, int], step: float) -> tuple[int, int]:
    return tuple(max(1, int(math.ceil(n / step))) for n in shape)


def _working_image(grey: np.ndarray, step: float, origin: tuple[int, int] = (0, 0),
                   first: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray | None]:
    """The image smoothed by one working pixel and sampled every `step` pixels.

    Working pixel j sits at image position (j + 1/2) step - 1/2. `grey` may be
    a crop at image pixel `origin`, whose first working pixel is `first`.
    Returns the full-resolution smoothed image too when it was made (`step` > 1).
    """
    if step == 1:
        return gaussian_filter(grey, 1.0), None
    shape = _working_shape(grey.shape, step)
    if step > 1:
        smoothed = gaussian_filter(grey, step)
        return _sample_linear(smoothed, shape, step, 0.5 * step - 0.5, first, origin), smoothed
    return gaussian_filter(_sample_linear(grey, shape, step, 0.5 * step - 0.5, first, origin),
                           1.0), None


def _sample_linear(image: np.ndarray, shape: tuple[int, int], step: float, offset: float,
                   first: tuple[int, int] = (0, 0),
                   start: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Bilinear samples of `image` at positions ``offset + j * step`` along each axis.

    Sample j counts from `first`, and `image` starts at position `start` (a
    crop of a larger image): positions are computed from the whole image's
    indices, so that a crop samples exactly where the whole image does.
    Positions are clamped to the image (the border pixel extends outwards).
    """
    result = image
    for axis, size in enumerate(shape):
        n = result.shape[axis]
        indices = np.arange(first[axis], first[axis] + size)
        position = np.clip(offset + indices * step - start[axis], 0, n - 1)
        before = np.minimum(np.floor(position).astype(np.intp), n - 1)
        after = np.minimum(before + 1, n - 1)
        weight = (position - before).astype(np.float32)
        if axis == 0:
            weight = weight[:, None]
        # In place: two images of the result's size at a time, not five.
        sampled = np.take(result, before, axis=axis).astype(np.float32, copy=False)
        sampled *= 1 - weight
        following = np.take(result, after, axis=axis).astype(np.float32, copy=False)
        following *= weight
        sampled += following
        del following
        result = sampled
    return np.ascontiguousarray(result, dtype=np.float32)


def _nearest(working: np.ndarray, shape: tuple[int, int], step: float,
             origin: tuple[int, int] = (0, 0), first: tuple[int, int] = (0, 0)) -> np.ndarray:
    """`working` brought to the image's pixels by nearest neighbour.

    `shape` pixels from image pixel `origin`; `working` starts at working pixel `first`.
    """
    rows, cols = (np.minimum(np.rint((np.arange(o, o + n) + 0.5) / step - 0.5).clip(0)
                             .astype(np.intp) - f, size - 1)
                  for n, size, o, f in zip(shape, working.shape, origin, first, strict=True))
    return working[rows[:, None], cols[None, :]]


def _to_image_pixels(labels: np.ndarray, shape: tuple[int, int], step: float, refine,
                     origin: tuple[int, int] = (0, 0),
                     first: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Working labels at the image's resolution.

    From a downsampled image (`refine` given: the full-resolution smoothed
    image less its background, the threshold of each label, whether holes are
    filled), outlines are redrawn at full resolution: a pixel within two
    working pixels of a nucleus takes the nearest nucleus's label where the
    smoothed image is above that nucleus's threshold, and (holes filled) the
    nucleus's interior, a working pixel in from its outline, is kept whole.
    """
    if refine is None or not labels.any():
        return _nearest(labels, shape, step, origin, first)
    smoothed, label_levels, fill_holes = refine
    # Who is nearest is decided in working pixels, a step**2 times fewer.
    near = distance(labels == 0) <= 4
    nearest_label = _nearest(np.where(near, gvoronoi(labels), 0), shape, step, origin, first)
    foreground = smoothed > label_levels[nearest_label]
    if fill_holes:
        foreground |= _nearest(erode(labels > 0), shape, step, origin, first)
    nearest_label[~foreground] = 0
    return nearest_label


def _coarse_factor(radius: float) -> int:
    """The background's grid coarsening: a power of two, about 8 grid steps per radius."""
    return 2 ** max(0, round(math.log2(max(radius / 8, 1.0))))


def _background(image: np.ndarray, radius: float, unit: float | None = None,
                low: float | None = None) -> np.ndarray:
    """A grey opening of `image` by a disk of `radius` pixels: its smooth background.

    Computed on a grid coarser by a power of two (about 8 grid steps per
    radius), on whole multiples of `unit` above `low` (by default, 65536
    levels between the image's min and max), then interpolated back.
    """
    factor = _coarse_factor(radius)
    if low is None:
        low = float(image.min())
    if unit is None:
        unit = (float(image.max()) - low) / 65535
    if unit <= 0:
        return np.full(image.shape, low, np.float32)
    coarse = _coarse_background(_coarse_levels(image, factor, unit, low), radius / factor, unit,
                                low)
    return _from_coarse(coarse, image.shape, factor)


def _coarse_levels(image: np.ndarray, factor: int, unit: float, low: float) -> np.ndarray:
    """`image` smoothed, sampled every `factor` pixels and quantised to multiples of `unit`.

    Sample k is pixel ``k * factor`` of `image`.
    """
    coarse = gaussian_filter(image, factor / 2)[::factor, ::factor] if factor > 1 else image
    return np.rint(np.clip((coarse - low) / unit, 0, 65535)).astype(np.uint16)


def _coarse_background(levels: np.ndarray, radius: float, unit: float, low: float) -> np.ndarray:
    """The background on the coarse grid: `levels` opened by a disk of `radius` grid steps."""
    opened = grey_open(levels, disk(max(1, round(radius))))
    return gaussian_filter(opened.astype(np.float32) * np.float32(unit) + np.float32(low), 1.0)


def _from_coarse(coarse: np.ndarray, shape: tuple[int, int], factor: int,
                 first: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The coarse background interpolated at `shape` pixels from pixel `first` of the fine grid."""
    if factor == 1:
        return coarse[first[0]:first[0] + shape[0], first[1]:first[1] + shape[1]]
    return _sample_linear(coarse, shape, 1 / factor, 0.0, first)


# -- foreground ----------------------------------------------------------------------------------

def _object_levels(working: np.ndarray, foreground: np.ndarray, threshold: float,
                   fraction: float) -> np.ndarray:
    """Per pixel, the threshold of its connected object: `fraction` of the object's mean."""
    objects, _ = label(foreground, Bc=np.ones((3, 3), bool))
    means = labeled_sum(working, objects) / np.maximum(labeled_size(objects), 1)
    levels = np.maximum(threshold, fraction * means).astype(np.float32)
    levels[0] = threshold
    return levels[objects]


def _valley_depth(working: np.ndarray, foreground: np.ndarray, threshold: float) -> np.ndarray:
    """The intensity part of the declumping height, per connected object.

    0 at the threshold and a fifth of a nucleus radius at the object's
    brightest pixel, so that dim and bright clumps split alike.
    """
    objects, _ = label(foreground, Bc=np.ones((3, 3), bool))
    peaks = labeled_max(working, objects) - threshold
    scale = np.zeros(peaks.shape, np.float32)
    bright = peaks > 0
    scale[bright] = _INTENSITY_WEIGHT * _WORKING_DIAMETER / 2 / peaks[bright]
    scale[0] = 0
    return scale[objects] * (working - threshold)


# -- declumping and size ------------------------------------------------------------------------

def _watershed_from_peaks(height: np.ndarray, foreground: np.ndarray, seed_distance: float,
                          merge_depth: float) -> np.ndarray:
    """Flood `height` downwards from its regional maxima, inside the foreground.

    Seeds closer than `seed_distance` join; then adjacent regions whose lower
    peak rises less than `merge_depth` above their common saddle join.
    """
    eight = np.ones((3, 3), bool)
    seeds, count = label(regmax(height, Bc=eight) & foreground, Bc=eight)
    if count > 1:
        seeds = _merge_close_seeds(seeds, count, seed_distance)
    surface = height.max() - height
    # Flooded as 65536 levels (1/65535 of the height's range apart): the
    # bucket queue, about 4x faster than the heap a float surface needs.
    top = float(surface.max()) if surface.size else 0.0
    if top > 0:
        surface = np.rint(surface * (65535 / top)).astype(np.uint16)
    labels = cwatershed(surface, seeds) * foreground
    if merge_depth > 0 and labels.max() > 1:
        labels = _merge_shallow_regions(labels, height, merge_depth)
    return labels


def _merge_close_seeds(seeds: np.ndarray, count: int, min_distance: float) -> np.ndarray:
    """Give one label, the lowest, to seeds whose centroids are closer than `min_distance`.

    Chains join too: seeds a and c share a label if a is close to b and b to c.
    """
    rows, cols = np.nonzero(seeds)
    ids = seeds[rows, cols]
    sizes = np.bincount(ids, minlength=count + 1)[1:]
    centres = np.stack([np.bincount(ids, rows, count + 1)[1:] / sizes,
                        np.bincount(ids, cols, count + 1)[1:] / sizes], axis=1)
    first, second = _close_pairs(centres, min_distance)
    first, second = first + 1, second + 1
    roots = np.arange(count + 1)
    # Each seed takes the lowest label among its close neighbours, and each
    # label its own label's (pointer jumping), until no close pair differs.
    while first.size:
        lowest = np.minimum(roots[first], roots[second])
        differ = (roots[first] != lowest) | (roots[second] != lowest)
        if not differ.any():
            break
        np.minimum.at(roots, first, lowest)
        np.minimum.at(roots, second, lowest)
        roots = roots[roots]
    return roots[seeds].astype(seeds.dtype, copy=False)


def _close_pairs(points: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """The index pairs (i < j) of `points` (n x 2) closer than `distance`.

    Points are binned in square cells `distance` wide, and each is compared
    with the points of its own cell and of four of its eight neighbours (each
    pair of cells once): time grows with the points, not with their square
    (a noisy image can have tens of thousands of seeds).
    """
    if len(points) < 2:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    cells = np.floor(points / distance).astype(np.int64)
    cells -= cells.min(axis=0)
    # One empty column between rows, so that a step left never wraps to a real cell.
    width = int(cells[:, 1].max()) + 2
    keys = cells[:, 0] * width + cells[:, 1]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    firsts, seconds = [], []
    for dy, dx in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):
        target = keys + dy * width + dx
        start = np.searchsorted(sorted_keys, target, "left")
        found = np.searchsorted(sorted_keys, target, "right") - start
        mine = np.repeat(np.arange(len(points)), found)
        offsets = np.arange(found.sum()) - np.repeat(np.cumsum(found) - found, found)
        theirs = order[np.repeat(start, found) + offsets]
        if dy == dx == 0:
            keep = mine < theirs
            mine, theirs = mine[keep], theirs[keep]
        firsts.append(mine)
        seconds.append(theirs)
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    close = ((points[first] - points[second]) ** 2).sum(axis=1) < distance ** 2
    first, second = first[close], second[close]
    return np.minimum(first, second), np.maximum(first, second)


def _merge_shallow_regions(labels: np.ndarray, height: np.ndarray, depth: float) -> np.ndarray:
    """Join adjacent regions whose lower peak is less than `depth` above their saddle.

    The saddle of two regions is the highest point of their common boundary;
    processing boundaries from the highest saddle down, with each merged
    region keeping the higher peak, gives the dynamics criterion (h-maxima).
    """
    count = int(labels.max())
    peaks = np.zeros(count + 1)
    peaks[:] = labeled_max(height, labels)[: count + 1]
    first, second, (saddles,) = touching_pixels(labels, height)
    if first.size == 0:
        return labels
    pair = np.minimum(first, second) * (count + 1) + np.maximum(first, second)
    # The highest saddle of each pair of neighbours.
    order = np.lexsort((-saddles, pair))
    pair, saddles = pair[order], saddles[order]
    keep = np.r_[True, pair[1:] != pair[:-1]]
    pair, saddles = pair[keep], saddles[keep]
    parent = np.arange(count + 1)
    for index in np.argsort(-saddles, kind="stable"):
        root_a = _find_root(parent, pair[index] // (count + 1))
        root_b = _find_root(parent, pair[index] % (count + 1))
        if root_a == root_b or min(peaks[root_a], peaks[root_b]) - saddles[index] >= depth:
            continue
        if peaks[root_a] < peaks[root_b]:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
    roots = np.array([_find_root(parent, i) for i in range(count + 1)])
    return roots[labels]


def _find_root(parent: np.ndarray, node: int) -> int:
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return int(node)


def _filter_objects(labels: np.ndarray, diameter: list[float],
                    edges: tuple[bool, bool, bool, bool] = (True, True, True, True),
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Drop objects smaller than a disk of the minimum diameter or larger than the maximum's,
    and ragged ones (solidity below ``_MIN_SOLIDITY``).

    Objects touching the image's border (the sides of `labels` that `edges`
    marks: top, bottom, left, right) need only a quarter of the minimum area.
    Returns the labels kept and those dropped (0 elsewhere).
    """
    sizes = labeled_size(labels)
    min_area = np.full(sizes.shape, math.pi * diameter[0] ** 2 / 4)
    # The frame cuts nuclei on the border: one in a corner shows a quarter of itself.
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    on_border = np.unique(np.concatenate([side for side, edge in zip(sides, edges, strict=True)
                                          if edge] or [np.zeros(1, labels.dtype)]))
    min_area[on_border] /= 4
    max_area = math.pi * diameter[1] ** 2 / 4
    outside = (sizes < min_area) | (sizes > max_area)
    shapes = regionprops_table(labels, properties=("label", "solidity"))
    outside[shapes["label"][shapes["solidity"] < _MIN_SOLIDITY]] = True
    outside = np.flatnonzero(outside)
    outside = outside[outside > 0]
    dropped = np.isin(labels, outside)
    return np.where(dropped, 0, labels), np.where(dropped, labels, 0)


def _finish(labels: np.ndarray, exclude_border: bool) -> np.ndarray:
    """Border removal if asked, then labels 1..count as int32."""
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    if exclude_border and labels.size:
        labels = remove_bordering(labels)
    if labels.size == 0:
        return labels
    labels, _ = relabel(np.ascontiguousarray(labels, dtype=np.int32))
    return np.ascontiguousarray(labels, dtype=np.int32)


# -- tiles ---------------------------------------------------------------------------------------

# How far, in working pixels, a crop's results depend on the image beyond
# them: the working image's Gaussian and sampling (5) and, for the background
# pass, the coarse grid's Gaussian (9); for labels, the declumping height's
# Gaussian (4) and the full-resolution redraw (2). Rounded up. The background's
# opening reaches much further (90) but is computed once, on the whole image.
_REACH = 16


def tiling_plan(source, settings: dict, tile: int = 2048, map=map):
    """The default recipe as global passes and a region pass, for a tiled run.

    The global passes run tile by tile, so that the whole image is never in
    memory: the image's range, the nucleus size (on the whole image, or on
    windows of a large one, as :func:`segment` does), and the histogram of
    the working image, whose threshold and flags every region then shares.
    The background is opened once on the coarse grid of the whole image
    (small: a sixteenth of the working image) from levels the tiles compute.
    Each crop then runs the region pass, whose result equals the whole
    image's wherever a nucleus lies at least `margin` pixels inside the crop.

    Parameters
    ----------
    source : karyo.nuclei.tiled.ImageSource
        The image, read a window at a time.
    settings : dict
        Settings of the default recipe (as for :func:`segment`; no `channel`).
    tile : int, optional
        The side of the tiles the global passes read (default 2048).
    map : callable, optional
        ``map(function, tiles)``: how the passes run a function over the
        tiles (default: the built-in ``map``, one after another; a tiled run
        passes Dask's).

    Returns
    -------
    karyo.nuclei.tiled.TilingPlan
        The region function, halo, margin, alignment and global quantities.

    Examples
    --------
    >>> from karyo.demos import load
    >>> from karyo.nuclei.segment import tiling_plan
    >>> from karyo.nuclei.tiled import ImageSource
    >>> plan = tiling_plan(ImageSource(load("synthetic_nuclei")), {}, tile=128)
    >>> plan.halo > plan.margin > 0
    True
    """
    from functools import partial

    from karyo.nuclei.tiled import TilingPlan
    from karyo.tiles import tile_grid

    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS["default"]))
    if unknown:
        raise ValueError(f"karyo.nuclei.segment_tiled: unknown setting(s) {unknown}; expected "
                         f"some of {sorted(DEFAULT_SETTINGS['default'])}")
    if settings.get("channel") is not None:
        raise ValueError("karyo.nuclei.segment_tiled: the image must be one DNA plane: "
                         "`channel` is not a setting of a tiled run")
    resolved = _default_settings({**DEFAULT_SETTINGS["default"], **settings})
    shape = source.shape
    # A tile that cannot be read is left out here; the region pass reports it.
    # None that can: the file is broken, not a region of it.
    ranges = list(map(partial(_tile_range, source), tile_grid(shape, tile, 0)))
    unreadable = [r for r in ranges if isinstance(r, OSError)]
    if unreadable and len(unreadable) == len(ranges):
        raise OSError(f"none of the image's {len(ranges)} tiles of {tile} x {tile} pixels can "
                      f"be read: {unreadable[0]}")
    ranges = [r for r in ranges if r is not None and not isinstance(r, OSError)]
    low, high = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else (0.0, 0.0)
    found = _scale_pass(partial(_read_float, source), shape, low, high,
                        resolved)
    step = found["step"]
    factor = _coarse_factor(_BACKGROUND_RADIUS)
    margin = math.ceil(_REACH * step) + math.ceil(4 * step) + 2
    nucleus = found["nucleus"] or _WORKING_DIAMETER
    halo = margin + math.ceil(2 * nucleus)
    align = _alignment(step, factor)
    if found["nucleus"] is not None:
        # The global passes need exact working pixels only: the margin is halo enough.
        grid = tile_grid(shape, tile, margin, align=align)
        if resolved["background"]:
            whole = _working_shape(shape, step)
            levels = np.zeros([math.ceil(n / factor) for n in whole], np.uint16)
            for rows, cols, block in filter(None, map(
                    partial(_tile_background_levels, source, found, factor), grid)):
                levels[rows, cols] = block
            _background_pass(levels, found)
        histogram = np.zeros(_THRESHOLD_BINS, np.int64)
        for bins, counts in filter(None, map(partial(_tile_histogram, source, found, resolved),
                                             grid)):
            histogram[bins] += counts
        _threshold_pass(histogram, found, resolved)
    return TilingPlan(partial(_tiled_region, found=found, resolved=resolved), halo=halo,
                      margin=margin, align=align, globals=found, settings=resolved,
                      nucleus_diameter=found["nucleus"], threshold=found["threshold"],
                      flags=tuple(found["flags"]))


def _tile_range(source, tile) -> tuple[float, float] | OSError | None:
    """The least and greatest pixel of a tile's core (None: it is empty; the error: unreadable)."""
    try:
        grey = _read_float(source, tile.core)
    except OSError as error:
        return error
    return (float(grey.min()), float(grey.max())) if grey.size else None


def _tile_background_levels(source, found: dict, factor: int, tile):
    """The background's coarse levels (:func:`_background_levels`) of the samples a tile owns.

    Returns the rows and columns of the coarse grid and the levels there
    (None: the tile cannot be read). Coarse sample k is working pixel
    ``k * factor``; it belongs to the tile that owns that working pixel.
    """
    try:
        crop = source.read(tile.crop)
    except OSError:
        return None
    origin, first, owned = _owned_working(source.shape, found["step"], tile)
    working, _ = _working_image(_float_image(crop), found["step"], origin, first)
    levels = _background_levels(working, found)
    # Crops start on the coarse grid (:func:`_alignment`): local k is global first / factor + k.
    where = tuple(slice(-(-(f + part.start) // factor), -(-(f + part.stop) // factor))
                  for f, part in zip(first, owned, strict=True))
    local = tuple(slice(w.start - f // factor, w.stop - f // factor)
                  for w, f in zip(where, first, strict=True))
    return where[0], where[1], levels[local]


def _tile_histogram(source, found: dict, resolved: dict, tile):
    """The histogram of the working pixels a tile owns, as (bins, counts) of its non-zero bins.

    A working pixel belongs to the tile whose core holds its position in the
    image, so that the tiles' histograms add up to the whole image's.
    """
    try:
        crop = source.read(tile.crop)
    except OSError:
        return None
    origin, first, owned = _owned_working(source.shape, found["step"], tile)
    working, _, _ = _working_crop(_float_image(crop), found, resolved, origin, first)
    histogram = _working_histogram(working[owned], found, resolved)
    bins = np.flatnonzero(histogram)
    return bins, histogram[bins]


def _owned_working(shape: tuple[int, int], step: float, tile):
    """A tile's crop origin, its first working pixel, and the working pixels it owns (in its crop).

    A working pixel belongs to the tile whose core holds its position in the image.
    """
    origin = (tile.crop[0].start, tile.crop[1].start)
    first = tuple(int(round(o / step)) for o in origin)
    whole = _working_shape(shape, step)
    owned = tuple(slice(_first_owned(core.start, step) - f,
                        (whole[axis] if core.stop == n else _first_owned(core.stop, step)) - f)
                  for axis, (core, n, f) in enumerate(zip(tile.core, shape, first, strict=True)))
    return origin, first, owned


def _first_owned(start: int, step: float) -> int:
    """The first working pixel j whose position, (j + 1/2) step - 1/2, is at least `start`."""
    if start == 0:
        return 0
    return math.ceil((Fraction(start) + Fraction(1, 2)) / Fraction(step) - Fraction(1, 2))


def _alignment(step: float, factor: int) -> int:
    """The least whole number of image pixels that is an even number of coarse background pixels.

    A crop starting there starts on the working grid and on the background's
    coarse grid, and an even number of working pixels in (ties of rint break alike).
    """
    pixels = 2 * factor
    while not (pixels * step).is_integer():
        pixels += 2 * factor
    return int(pixels * step)


def _tiled_region(crop, origin: tuple[int, int], shape: tuple[int, int], *, found: dict,
                  resolved: dict) -> tuple[np.ndarray, np.ndarray]:
    """One crop's labels and support (:func:`karyo.tiles.label_tile`)."""
    grey = _float_image(crop)
    if found["empty"] or grey.size == 0:
        empty = np.zeros(grey.shape, np.int32)
        return empty, empty > 0
    support: list = []
    labels, _, _ = _region_pass(grey, origin, shape, found, resolved, support=support)
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    if resolved["exclude_border"]:
        edges = (origin[0] == 0, origin[0] + grey.shape[0] == shape[0],
                 origin[1] == 0, origin[1] + grey.shape[1] == shape[1])
        labels = _remove_at_edges(labels, edges)
    return labels, _join_label_parts(labels, support[0])


def _join_label_parts(labels: np.ndarray, support: np.ndarray) -> np.ndarray:
    """`support` with a line joining the parts of each label that lie in different units.

    Seeds closer than the seed distance join across separate objects, so one
    nucleus may span several units of the support: joined, they are kept or
    left whole by one tile.
    """
    eight = np.ones((3, 3), bool)
    units, count = label(support | (labels > 0), Bc=eight)
    if count < 2 or not labels.any():
        return support
    # A label lies in several units exactly where its least and greatest unit differ.
    least, greatest = labeled_min(units, labels), labeled_max(units, labels)
    split = np.flatnonzero(least != greatest)
    split = split[split > 0]
    if split.size == 0:
        return support
    support = support | (labels > 0)
    is_split = np.zeros(least.size, bool)
    is_split[split] = True
    inside = np.flatnonzero(is_split[labels])
    pairs, first = np.unique(np.stack([labels.ravel()[inside], units.ravel()[inside]]), axis=1,
                             return_index=True)
    where = np.stack(np.divmod(inside[first], labels.shape[1]), axis=1)
    for value in split:
        ends = where[pairs[0] == value]
        for end in ends[1:]:
            points = int(np.abs(end - ends[0]).max()) + 1
            rows = np.rint(np.linspace(ends[0][0], end[0], points)).astype(np.intp)
            cols = np.rint(np.linspace(ends[0][1], end[1], points)).astype(np.intp)
            support[rows, cols] = True
    return support


def _remove_at_edges(labels: np.ndarray, edges: tuple[bool, bool, bool, bool]) -> np.ndarray:
    """`labels` without the objects touching the sides `edges` marks (top, bottom, left, right)."""
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    touching = [side for side, edge in zip(sides, edges, strict=True) if edge]
    if not touching:
        return labels
    bordering = np.unique(np.concatenate(touching))
    return np.where(np.isin(labels, bordering[bordering > 0]), 0, labels)
