"""Nucleus segmentation recipes: from a DNA-stain image to a label image.

A recipe is a fixed chain of karyo operations (smoothing, threshold, hole
filling, declumping by watershed, size filter) driven by a few settings a
biologist can reason about, in the style of CellProfiler's
IdentifyPrimaryObjects: the expected nucleus diameter, the threshold method and
its correction factor, how clumps are split.

``segment(image)`` runs the ``'default'`` recipe; ``segment(image, 'tutorial')``
runs the segmentation of the mahotas tutorial, step by step. The returned
:class:`Segmentation` records every setting it used, so that
``segment(image, **result.settings)`` repeats the run exactly.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DEFAULT_SETTINGS", "RECIPES", "Segmentation", "segment"]

RECIPES = ("default", "tutorial")

# diameter is a list (not a tuple) so that the settings are the same after a
# round trip through JSON or TOML.
DEFAULT_SETTINGS: dict[str, dict] = {
    "default": {
        "diameter": [70, 200],
        "threshold": "mean",
        "threshold_correction": 1.3,
        "declump": "shape",
        "fill_holes": True,
        "size_filter": True,
        "exclude_border": False,
        "sigma": None,
        "min_seed_distance": None,
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

_THRESHOLD_METHODS = ("otsu", "mean", "rc")
_DECLUMP_METHODS = ("intensity", "shape", "none")
# Otsu and RC need a histogram: a smoothed image that does not fit in 16-bit
# integer steps is binned into this many levels between its min and max.
_HISTOGRAM_LEVELS = 4096


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
        The foreground threshold actually used, in the units of the image.
    settings : dict
        Every setting used (derived ones resolved to numbers) and the recipe;
        ``segment(image, **settings)`` repeats the run exactly.
    recipe : str
        The recipe's name.
    """

    labels: np.ndarray
    count: int
    threshold: float
    settings: dict
    recipe: str
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def table(self):
        """Per-nucleus measurements, ``karyo.nuclei.measure.measure(labels, image)``."""
        from karyo.nuclei.measure import measure

        return measure(self.labels, self.image)


def segment(image: np.ndarray, recipe: str = "default", **settings) -> Segmentation:
    """Segment the nuclei of a DNA-stain image with a named recipe.

    Parameters
    ----------
    image : ndarray
        A 2-D image of any integer or floating-point dtype, or a colour image
        (h, w, 3) or (h, w, 4): if its colour channels are all equal it is
        grey, otherwise pass ``channel=``.
    recipe : {'default', 'tutorial'}
        ``'default'``: the recommended recipe (below). ``'tutorial'``: the
        segmentation of the mahotas tutorial, step by step.
    **settings
        Overrides of ``DEFAULT_SETTINGS[recipe]``. For ``'default'``:

        diameter : (min, max)
            Expected nucleus diameter range, in pixels. Sets the smoothing,
            the seed distance and the size filter unless given explicitly.
        threshold : 'otsu', 'mean', 'rc' or a number
            How the foreground threshold is found (on the smoothed image),
            or a threshold in image units.
        threshold_correction : float
            Factor applied to an automatic threshold (> 1 is stricter).
        declump : 'shape', 'intensity' or 'none'
            Split touching nuclei at the necks of the foreground's shape, at
            the dark valleys of the intensity, or not at all.
        fill_holes : bool
            Fill holes inside nuclei.
        size_filter : bool
            Drop objects smaller than a disk of the minimum diameter (a
            quarter of it for objects cut by the image border) or larger than
            a disk of the maximum diameter.
        exclude_border : bool
            Drop nuclei that touch the image border.
        sigma : float or None
            Gaussian smoothing in pixels; None means ``min diameter / 20``.
        min_seed_distance : float or None
            Two nuclei whose centres are closer than this are merged; None
            means ``min diameter / 2``.
        channel : int or None
            The channel of a colour image to segment.

        For ``'tutorial'``: ``sigma`` (8), ``threshold`` ('otsu', 'mean',
        'rc' or a number), ``voronoi`` (return the Voronoi territories of the
        nuclei instead of masking them by the foreground), ``exclude_border``
        and ``channel``.

    Returns
    -------
    Segmentation
        ``labels`` (int32, 1..count), ``count``, ``threshold``, ``settings``
        (every setting used, resolved, with the recipe), ``recipe`` and a lazy
        ``table`` of per-nucleus measurements.

    Raises
    ------
    ValueError
        For an unknown recipe or setting, a bad setting value, a true colour
        image without ``channel=``, or an image that is not 2-D.
    TypeError
        For an image that is not numeric.

    See Also
    --------
    karyo.cwatershed : the seeded watershed both recipes rely on.
    karyo.nuclei.evaluate.evaluate : score labels against a ground truth.

    Notes
    -----
    The default recipe: Gaussian smoothing (sigma from the diameter); a
    threshold of the smoothed image (by default 1.3 x its mean, which follows
    the tight outlines of hand-drawn nuclei); holes filled; for
    ``declump='shape'`` the Euclidean distance transform of the foreground,
    whose regional maxima seed a watershed of the inverted distance restricted
    to the foreground (seeds closer than ``min_seed_distance`` merged); then
    adjacent regions separated by a shallow neck are merged: regions whose
    smaller peak rises less than ``min_seed_distance / 5`` above the saddle
    between them (their dynamics [2]_), as h-maxima would do; finally objects
    outside the diameter's area range are dropped. Watershed segmentation of
    nuclei follows [1]_.

    References
    ----------
    .. [1] L. P. Coelho, A. Shariff, R. F. Murphy, "Nuclear segmentation in
       microscope cell images: a hand-segmented dataset and comparison of
       algorithms", ISBI 2009, doi:10.1109/ISBI.2009.5193098.
    .. [2] M. Grimaud, "New measure of contrast: the dynamics", Proc. SPIE
       1769, Image Algebra and Morphological Image Processing III (1992).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.segment import segment
    >>> yy, xx = np.mgrid[:120, :200]
    >>> image = np.zeros((120, 200), np.uint8)
    >>> image[(yy - 60) ** 2 + (xx - 50) ** 2 < 35 ** 2] = 200
    >>> image[(yy - 60) ** 2 + (xx - 150) ** 2 < 35 ** 2] = 180
    >>> result = segment(image, diameter=(40, 100))
    >>> result.count
    2
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
    else:
        labels, threshold, resolved = _default(grey, used)
    resolved["recipe"] = recipe
    if channel is not None:
        resolved["channel"] = channel
    count = int(labels.max()) if labels.size else 0
    return Segmentation(labels=labels, count=count, threshold=float(threshold),
                        settings=resolved, recipe=recipe, image=grey)


# -- input checks --------------------------------------------------------------------------------

def _grey_image(image, channel) -> tuple[np.ndarray, int | None]:
    """The 2-D image to segment, and the channel used if it came from a colour image."""
    from karyo.internal import as_array

    array = as_array(image, "nuclei.segment", "image", min_ndim=2, max_ndim=3, kinds="buif")
    if array.dtype.kind == "b":
        array = array.view(np.uint8)
    if array.ndim == 2:
        if channel is not None:
            raise ValueError("karyo.nuclei.segment: `channel` was given but `image` is 2-D "
                             f"(shape {array.shape}); pass channel only for a colour image")
        return array, None
    if array.shape[2] not in (3, 4):
        raise ValueError(f"karyo.nuclei.segment: `image` has shape {array.shape}; expected a "
                         "2-D image or a colour image of shape (h, w, 3) or (h, w, 4)")
    if channel is not None:
        if (not isinstance(channel, numbers.Integral) or isinstance(channel, bool)
                or not 0 <= channel < array.shape[2]):
            raise ValueError(f"karyo.nuclei.segment: setting `channel` must be an integer in "
                             f"0..{array.shape[2] - 1}, got {channel!r}")
        return array[:, :, int(channel)], int(channel)
    colour = array[:, :, :3]
    if np.array_equal(colour[:, :, 0], colour[:, :, 1]) and np.array_equal(colour[:, :, 0],
                                                                            colour[:, :, 2]):
        return colour[:, :, 0], None
    raise ValueError(f"karyo.nuclei.segment: `image` is a colour image (shape {array.shape}) "
                     "whose channels differ; pass `channel=` to say which one holds the DNA "
                     "stain")


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
    import karyo as mh

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
        level = mh.thresholding.otsu(levels)
    else:
        level = mh.thresholding.rc(levels)
    return (low + float(level) * step) * correction


# -- recipes -------------------------------------------------------------------------------------

def _tutorial(image: np.ndarray, settings: dict) -> tuple[np.ndarray, float, dict]:
    """The mahotas tutorial: smoothed regional maxima flood the inverted distance transform."""
    import karyo as mh

    sigma = _check_number(settings, "sigma")
    method = _check_threshold(settings)
    voronoi = _check_bool(settings, "voronoi")
    exclude_border = _check_bool(settings, "exclude_border")
    resolved = {"sigma": _plain_number(sigma), "threshold": method, "voronoi": voronoi,
                "exclude_border": exclude_border}

    smoothed = mh.gaussian_filter(image, sigma)
    seeds, _ = mh.label(mh.regmax(smoothed))
    threshold = _threshold_value(smoothed, method, 1.0, image.dtype.kind != "f")
    foreground = smoothed > threshold
    distance = mh.distance(foreground)
    surface = distance.max() - distance
    surface -= surface.min()
    spread = float(surface.max())
    surface = (surface / spread * 255 if spread > 0 else surface).astype(np.uint8)
    nuclei = mh.cwatershed(surface, seeds)
    if voronoi:
        labels = mh.segmentation.gvoronoi(nuclei)
    else:
        labels = nuclei * foreground
    return _finish(labels, exclude_border), threshold, resolved


def _default(image: np.ndarray, settings: dict) -> tuple[np.ndarray, float, dict]:
    """Mean threshold, filled holes, distance-transform watershed with shallow necks merged."""
    import karyo as mh

    diameter = _check_diameter(settings)
    method = _check_threshold(settings)
    correction = _check_number(settings, "threshold_correction")
    declump = _check_choice(settings, "declump", _DECLUMP_METHODS)
    fill_holes = _check_bool(settings, "fill_holes")
    size_filter = _check_bool(settings, "size_filter")
    exclude_border = _check_bool(settings, "exclude_border")
    sigma = _check_number(settings, "sigma", positive=False, allow_none=True)
    if sigma is None:
        sigma = diameter[0] / 20
    elif sigma < 0:
        raise ValueError(f"karyo.nuclei.segment: setting `sigma` must be >= 0 or None, got "
                         f"{settings['sigma']!r}")
    seed_distance = _check_number(settings, "min_seed_distance", allow_none=True)
    if seed_distance is None:
        seed_distance = diameter[0] / 2
    resolved = {"diameter": diameter, "threshold": method, "threshold_correction":
                _plain_number(correction), "declump": declump, "fill_holes": fill_holes,
                "size_filter": size_filter, "exclude_border": exclude_border,
                "sigma": _plain_number(sigma), "min_seed_distance": _plain_number(seed_distance)}

    smoothed = mh.gaussian_filter(image, sigma) if sigma > 0 else image.astype(np.float64)
    threshold = _threshold_value(smoothed, method, correction, image.dtype.kind != "f")
    foreground = smoothed > threshold
    if fill_holes:
        foreground = mh.close_holes(foreground)
    if declump == "none" or not foreground.any():
        labels, _ = mh.label(foreground, Bc=np.ones((3, 3), bool))
    else:
        if declump == "shape":
            height = np.sqrt(mh.distance(foreground))
            merge_depth = seed_distance / 5
        else:
            height = smoothed - threshold
            merge_depth = 0.0
        labels = _watershed_from_peaks(height, foreground, seed_distance, merge_depth)
    if size_filter:
        labels = _filter_by_area(labels, diameter)
    return _finish(labels, exclude_border), threshold, resolved


def _watershed_from_peaks(height: np.ndarray, foreground: np.ndarray, seed_distance: float,
                          merge_depth: float) -> np.ndarray:
    """Flood `height` downwards from its regional maxima, inside the foreground.

    Seeds closer than `seed_distance` join; then adjacent regions whose lower
    peak rises less than `merge_depth` above their common saddle join.
    """
    import karyo as mh

    eight = np.ones((3, 3), bool)
    seeds, count = mh.label(mh.regmax(height, Bc=eight) & foreground, Bc=eight)
    if count > 1:
        seeds = _merge_close_seeds(seeds, count, seed_distance)
    surface = height.max() - height
    labels = mh.cwatershed(surface, seeds) * foreground
    if merge_depth > 0 and labels.max() > 1:
        labels = _merge_shallow_regions(labels, height, merge_depth)
    return labels


def _merge_close_seeds(seeds: np.ndarray, count: int, min_distance: float) -> np.ndarray:
    """Give one label to seeds whose centroids are closer than `min_distance`."""
    rows, cols = np.nonzero(seeds)
    ids = seeds[rows, cols]
    sizes = np.bincount(ids, minlength=count + 1)[1:]
    centres = np.stack([np.bincount(ids, rows, count + 1)[1:] / sizes,
                        np.bincount(ids, cols, count + 1)[1:] / sizes], axis=1)
    # Pairwise distances over the seeds only: a few hundred per image at most.
    gaps = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    first, second = np.nonzero(np.triu(gaps < min_distance, 1))
    parent = np.arange(count + 1)
    for a, b in zip(first + 1, second + 1, strict=True):
        root_a, root_b = _find_root(parent, a), _find_root(parent, b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    roots = np.array([_find_root(parent, i) for i in range(count + 1)])
    return roots[seeds].astype(seeds.dtype, copy=False)


def _merge_shallow_regions(labels: np.ndarray, height: np.ndarray, depth: float) -> np.ndarray:
    """Join adjacent regions whose lower peak is less than `depth` above their saddle.

    The saddle of two regions is the highest point of their common boundary;
    processing boundaries from the highest saddle down, with each merged
    region keeping the higher peak, gives the dynamics criterion (h-maxima).
    """
    import karyo as mh

    count = int(labels.max())
    peaks = np.zeros(count + 1)
    peaks[:] = mh.labeled.labeled_max(height, labels)[: count + 1]
    first_parts, second_parts, saddle_parts = [], [], []
    for here, there in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                        ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        label_here, label_there = labels[here], labels[there]
        boundary = (label_here != label_there) & (label_here > 0) & (label_there > 0)
        first_parts.append(label_here[boundary])
        second_parts.append(label_there[boundary])
        saddle_parts.append(np.minimum(height[here][boundary], height[there][boundary]))
    first = np.concatenate(first_parts).astype(np.int64)
    second = np.concatenate(second_parts).astype(np.int64)
    saddles = np.concatenate(saddle_parts)
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


def _filter_by_area(labels: np.ndarray, diameter: list[float]) -> np.ndarray:
    """Drop objects smaller than a disk of the minimum diameter or larger than the maximum's.

    Objects touching the border need only a quarter of the minimum area.
    """
    import karyo as mh

    sizes = mh.labeled.labeled_size(labels)
    min_area = np.full(sizes.shape, math.pi * diameter[0] ** 2 / 4)
    # The frame cuts nuclei on the border: one in a corner shows a quarter of itself.
    on_border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    min_area[on_border] /= 4
    max_area = math.pi * diameter[1] ** 2 / 4
    outside = np.flatnonzero((sizes < min_area) | (sizes > max_area))
    outside = outside[outside > 0]
    if outside.size:
        labels = mh.labeled.remove_regions(labels, outside)
    return labels


def _finish(labels: np.ndarray, exclude_border: bool) -> np.ndarray:
    """Border removal if asked, then labels 1..count as int32."""
    import karyo as mh

    labels = np.ascontiguousarray(labels, dtype=np.int32)
    if exclude_border and labels.size:
        labels = mh.labeled.remove_bordering(labels)
    if labels.size == 0:
        return labels
    labels, _ = mh.labeled.relabel(np.ascontiguousarray(labels, dtype=np.int32))
    return np.ascontiguousarray(labels, dtype=np.int32)
