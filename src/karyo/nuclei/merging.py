"""Learned merging of watershed basins: which touching basins are one nucleus.

The default recipe floods a height map (distance to the background plus a
little intensity) from its peaks. A textured nucleus floods as several basins;
two touching nuclei may flood as one if nothing separates them. Whether two
adjacent basins are one nucleus is decided here by a logistic regression on
twelve features of the pair, all scale-free at the recipe's working resolution
(nuclei about 30 pixels across): how far each peak rises above the saddle, how
wide and how bright the shared boundary is, how convex and how elliptical the
union is, and how the two sizes compare.

The model is trained by ``training/train_merge.py`` on the even half of the
DSB2018 collection (CC0) and shipped as ``merge_model.json`` beside this
module: 38 numbers (each feature's mean, scale and weight, an intercept
and the threshold), read once, the same on every run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from karyo.distance import distance
from karyo.labeled import labeled_max, labeled_sum, relabel
from karyo.regionprops import regionprops_table

__all__ = ["FEATURES", "MergeModel", "fit_merge_model", "load_merge_model", "merge_basins",
           "pair_features", "touching_pixels"]

FEATURES = (
    "lower_peak_above_saddle",
    "higher_peak_above_saddle",
    "saddle_width",
    "boundary_length",
    "boundary_brightness",
    "boundary_brightest",
    "union_solidity",
    "least_solidity",
    "union_area",
    "area_ratio",
    "union_ellipse_fill",
    "radius_ratio",
)
# Caps on features whose tails say nothing more (a peak far above its saddle
# is separate whatever its height; a boundary far brighter than a dim basin).
_CAPS = {"lower_peak_above_saddle": (None, 10.0), "higher_peak_above_saddle": (None, 20.0),
         "boundary_brightness": (-1.0, 3.0), "boundary_brightest": (-1.0, 3.0)}


@dataclass(frozen=True)
class MergeModel:
    """A logistic regression over :data:`FEATURES`: P(same nucleus) of a pair of basins.

    Attributes
    ----------
    mean, scale : numpy.ndarray
        Each feature is standardised as ``(x - mean) / scale`` ...
    weights : numpy.ndarray
        ... and weighted: ``intercept + weights @ standardised``.
    intercept : float
    threshold : float
        Pairs more likely than this to be one nucleus are merged.
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(same nucleus) for each row of `features` (n x len(FEATURES))."""
        features = np.asarray(features, dtype=np.float64).reshape(-1, len(FEATURES))
        score = self.intercept + ((features - self.mean) / self.scale) @ self.weights
        return 1.0 / (1.0 + np.exp(-score))

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "weights": self.weights.tolist(),
                "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_json(cls, data: dict) -> MergeModel:
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"merge model: features {data['features']} are not {list(FEATURES)}")
        return cls(np.array(data["mean"], float), np.array(data["scale"], float),
                   np.array(data["weights"], float), float(data["intercept"]),
                   float(data["threshold"]))


@cache
def load_merge_model() -> MergeModel:
    """The model shipped with karyo (``merge_model.json``, trained by ``training/train_merge.py``).

    Examples
    --------
    >>> from karyo.nuclei.merging import load_merge_model
    >>> 0 < load_merge_model().threshold < 1
    True
    """
    text = resources.files("karyo.nuclei").joinpath("merge_model.json").read_text("utf-8")
    return MergeModel.from_json(json.loads(text))


def fit_merge_model(features: np.ndarray, same: np.ndarray, threshold: float = 0.5,
                    penalty: float = 0.01, iterations: int = 50) -> MergeModel:
    """Fit the logistic regression of :class:`MergeModel` by Newton's method.

    Parameters
    ----------
    features : numpy.ndarray
        One row of :data:`FEATURES` per pair of basins (:func:`pair_features`).
    same : numpy.ndarray
        True where the pair is one nucleus.
    threshold : float, optional
        The probability above which :func:`merge_basins` merges.
    penalty : float, optional
        L2 penalty on the standardised weights (not on the intercept).
    iterations : int, optional
        Newton steps; a fixed number, so that the result is the same on every run.

    Returns
    -------
    MergeModel

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.merging import FEATURES, fit_merge_model
    >>> x = np.random.default_rng(0).normal(size=(500, len(FEATURES)))
    >>> model = fit_merge_model(x, x[:, 0] > 0)
    >>> bool(model.weights[0] > 5 * np.abs(model.weights[1:]).max())
    True
    """
    features = np.asarray(features, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if features.ndim != 2 or features.shape[1] != len(FEATURES):
        raise ValueError(f"fit_merge_model: `features` must be n x {len(FEATURES)}, got "
                         f"shape {features.shape}")
    if same.shape != (features.shape[0],) or same.all() or not same.any():
        raise ValueError("fit_merge_model: `same` needs one flag per row of `features`, "
                         "both values present")
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.column_stack([np.ones(len(features)), (features - mean) / scale])
    ridge = penalty * np.diag(np.r_[0.0, np.ones(len(FEATURES))])
    coefficients = np.zeros(design.shape[1])
    for _ in range(iterations):
        probability = 1.0 / (1.0 + np.exp(-design @ coefficients))
        gradient = design.T @ (probability - same) + ridge @ coefficients
        hessian = (design * (probability * (1 - probability))[:, None]).T @ design + ridge
        coefficients -= np.linalg.solve(hessian, gradient)
    return MergeModel(mean, scale, coefficients[1:], float(coefficients[0]), float(threshold))


def pair_features(basins: np.ndarray, height: np.ndarray, brightness: np.ndarray,
                  diameter: float = 30.0, inside: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`FEATURES` of every pair of adjacent basins.

    Parameters
    ----------
    basins : numpy.ndarray
        Labels 1..n of the basins (0: background), 2-D.
    height : numpy.ndarray
        The flooded height map (higher inside nuclei).
    brightness : numpy.ndarray
        The image less its threshold (0 at the foreground's edge).
    diameter : float, optional
        A typical nucleus's diameter in pixels (the union's area is relative to it).
    inside : numpy.ndarray, optional
        The Euclidean distance of each pixel of a basin to the background
        (computed when not given: merging keeps the background, so rounds share it).

    Returns
    -------
    pairs : numpy.ndarray
        n x 2 labels of adjacent basins, the smaller first.
    features : numpy.ndarray
        n x len(FEATURES).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.merging import FEATURES, pair_features
    >>> basins = np.zeros((9, 12), np.int32)
    >>> basins[2:7, 2:6], basins[2:7, 6:10] = 1, 2
    >>> pairs, features = pair_features(basins, (basins > 0) * 1.0, (basins > 0) * 1.0, 6)
    >>> pairs.tolist(), features.shape == (1, len(FEATURES))
    ([[1, 2]], True)
    """
    if inside is None:
        inside = distance(basins > 0, metric="euclidean")
    return _Regions(basins, height, brightness, inside).pair_features(diameter)


def touching_pixels(labels: np.ndarray, *images: np.ndarray):
    """Where two labels touch: each pair of 4-neighbouring pixels of different nonzero labels.

    Parameters
    ----------
    labels : numpy.ndarray
        2-D labels (0: background).
    *images : numpy.ndarray
        Images of the same shape.

    Returns
    -------
    first, second : numpy.ndarray
        The two labels of each pair of pixels (int64).
    values : list of numpy.ndarray
        For each image, the lower of its two values at each pair.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.merging import touching_pixels
    >>> labels = np.array([[1, 1, 2], [1, 0, 2]])
    >>> first, second, (lower,) = touching_pixels(labels, np.array([[5, 4, 3], [0, 0, 9]]))
    >>> first.tolist(), second.tolist(), lower.tolist()
    ([2], [1], [3])
    """
    first, second, values = [], [], [[] for _ in images]
    for here, there in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                        ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        label_here, label_there = labels[here], labels[there]
        boundary = (label_here != label_there) & (label_here > 0) & (label_there > 0)
        first.append(label_here[boundary])
        second.append(label_there[boundary])
        for parts, image in zip(values, images, strict=True):
            parts.append(np.minimum(image[here][boundary], image[there][boundary]))
    return (np.concatenate(first).astype(np.int64), np.concatenate(second).astype(np.int64),
            [np.concatenate(parts) for parts in values])


class _Regions:
    """Basins grouped into regions as they merge, with what the pair features need.

    What a pair's features use adds up over basins (areas, brightness,
    moments), is a maximum over them (peaks, radii) or lies on the boundary
    between basins, which merging only shrinks: it is all measured once, on
    the basins, and each round regroups it. Only the convex hull of a union
    needs pixels again; it is measured once per pair of regions.
    """

    def __init__(self, basins: np.ndarray, height: np.ndarray, brightness: np.ndarray,
                 inside: np.ndarray):
        self.basins = basins
        count = int(basins.max()) if basins.size else 0
        # Region of each basin: the basin that stands for it (every basin its own, at first).
        self.region = np.arange(count + 1)
        # Every basin's pixels, basin after basin: basin k's are pixels[:, starts[k]:starts[k + 1]].
        pixels = np.stack(np.nonzero(basins))
        ids = basins[pixels[0], pixels[1]]
        order = np.argsort(ids, kind="stable")
        self.pixels, ids = pixels[:, order], ids[order]
        self.starts = np.searchsorted(ids, np.arange(count + 2))
        rows, cols = self.pixels.astype(np.float64)
        # Area, first and second moments, and brightness, per basin.
        self.sums = np.stack([np.bincount(ids, weights, count + 1) for weights in
                              (None, rows, cols, rows * rows, cols * cols, rows * cols)]
                             + [np.asarray(labeled_sum(brightness, basins),
                                           np.float64)[: count + 1]])
        self.peak = np.asarray(labeled_max(height, basins), np.float64)[: count + 1]
        self.radius = np.asarray(labeled_max(inside, basins), np.float64)[: count + 1]
        self.solidity = np.ones(count + 1)
        if count:
            table = regionprops_table(basins, properties=("label", "solidity"))
            self.solidity[table["label"]] = table["solidity"]
        self.members = {int(k): np.array([k]) for k in np.flatnonzero(np.diff(self.starts))
                        if k > 0}
        # The height, distance and brightness where basins touch.
        self.first, self.second, values = touching_pixels(basins, height, inside, brightness)
        self.boundary = np.array(values, np.float64).reshape(3, -1)
        # Union solidities measured, by the pair's regions and how often each has merged.
        self.merges = np.zeros(count + 1, np.int64)
        self.union_solidities: dict[tuple, float] = {}

    def pair_features(self, diameter: float) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of adjacent regions (smaller label first) and their features."""
        first, second = self.region[self.first], self.region[self.second]
        apart = first != second
        # Boundaries inside a region stay inside: forget them.
        self.first, self.second = self.first[apart], self.second[apart]
        self.boundary = self.boundary[:, apart]
        first, second = first[apart], second[apart]
        if first.size == 0:
            return np.zeros((0, 2), np.int64), np.zeros((0, len(FEATURES)))
        size = self.region.size
        keys, which = np.unique(np.minimum(first, second) * size + np.maximum(first, second),
                                return_inverse=True)
        pairs = np.stack(np.divmod(keys, size), axis=1)
        a, b = pairs[:, 0], pairs[:, 1]
        saddle, width, brightest = (self._highest(values, which, keys.size)
                                    for values in self.boundary)
        length = np.bincount(which, minlength=keys.size).astype(np.float64)
        boundary_mean = np.bincount(which, self.boundary[2], minlength=keys.size) / length
        # Per region: sums over its basins, maxima over them.
        n, r, c, rr, cc, rc, light = (np.bincount(self.region, values, size)
                                      for values in self.sums)
        peak, radius = (self._highest(values, self.region, size)
                        for values in (self.peak, self.radius))
        dimmer = np.maximum(np.minimum(light[a] / n[a], light[b] / n[b]), 1e-6)
        smaller_radius = np.maximum(np.minimum(radius[a], radius[b]), 1.0)
        # The union's ellipse of the same second moments (moments add).
        union_n = n[a] + n[b]
        mean_r, mean_c = (r[a] + r[b]) / union_n, (c[a] + c[b]) / union_n
        var_r = (rr[a] + rr[b]) / union_n - mean_r ** 2
        var_c = (cc[a] + cc[b]) / union_n - mean_c ** 2
        cov = (rc[a] + rc[b]) / union_n - mean_r * mean_c
        # The product of the ellipse's semi-axes is 4 sqrt(det) of the covariance.
        semi_axes = 4 * np.sqrt(np.maximum(var_r * var_c - cov ** 2, 1e-12))
        columns = {
            "lower_peak_above_saddle": np.minimum(peak[a], peak[b]) - saddle,
            "higher_peak_above_saddle": np.maximum(peak[a], peak[b]) - saddle,
            "saddle_width": width / smaller_radius,
            "boundary_length": length / 2 / (2 * smaller_radius),
            "boundary_brightness": boundary_mean / dimmer,
            "boundary_brightest": brightest / dimmer,
            "union_solidity": self._union_solidity(pairs),
            "least_solidity": np.minimum(self.solidity[a], self.solidity[b]),
            "union_area": np.log(union_n / (math.pi * diameter ** 2 / 4)),
            "area_ratio": np.log(np.minimum(n[a], n[b]) / np.maximum(n[a], n[b])),
            "union_ellipse_fill": union_n / (math.pi * np.maximum(semi_axes, 0.25)),
            "radius_ratio": (np.minimum(radius[a], radius[b])
                             / np.maximum(np.maximum(radius[a], radius[b]), 1)),
        }
        for name, (low, high) in _CAPS.items():
            columns[name] = np.clip(columns[name], low, high)
        return pairs, np.column_stack([columns[name] for name in FEATURES])

    def merge(self, pairs: np.ndarray) -> None:
        """Merge each pair of regions (disjoint pairs; the first keeps its label)."""
        target = np.arange(self.region.size)
        for a, b in pairs:
            target[b] = a
            self.members[a] = np.concatenate([self.members[a], self.members.pop(b)])
            self.solidity[a] = self.union_solidities[self._key(a, b)]
            self.merges[a] += 1
        self.region = target[self.region]

    def labels(self) -> np.ndarray:
        """Each pixel's region (labelled by the basin that stands for it)."""
        return self.region[self.basins]

    def _key(self, a: int, b: int) -> tuple:
        return (a, self.merges[a], b, self.merges[b])

    @staticmethod
    def _highest(values: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
        result = np.full(size, -np.inf)
        np.maximum.at(result, groups, values)
        return result

    def _union_solidity(self, pairs: np.ndarray, batch: int = 512) -> np.ndarray:
        """Area / convex hull area of each pair's union, measured once per pair.

        The unions not yet measured are cut out and stacked one above the
        other, each under its own label, so that one
        :func:`karyo.regionprops.regionprops_table` call measures a batch.
        """
        new = [(int(a), int(b)) for a, b in pairs if self._key(a, b) not in self.union_solidities]
        for first in range(0, len(new), batch):
            members = []
            for a, b in new[first:first + batch]:
                member = np.concatenate([self.pixels[:, self.starts[k]:self.starts[k + 1]]
                                         for k in (*self.members[a], *self.members[b])], axis=1)
                members.append(member - member.min(axis=1, keepdims=True))
            tops = np.cumsum([0, *(int(member[0].max()) + 1 for member in members)])
            stack = np.zeros((tops[-1], max(int(member[1].max()) + 1 for member in members)),
                             np.int32)
            for index, member in enumerate(members):
                stack[member[0] + tops[index], member[1]] = index + 1
            table = regionprops_table(stack, properties=("label", "solidity"))
            for index, solidity in zip(table["label"], table["solidity"], strict=True):
                self.union_solidities[self._key(*new[first + index - 1])] = float(solidity)
        return np.array([self.union_solidities[self._key(a, b)] for a, b in pairs])


def merge_basins(basins: np.ndarray, height: np.ndarray, brightness: np.ndarray,
                 diameter: float = 30.0, model: MergeModel | None = None,
                 rounds: list | None = None) -> np.ndarray:
    """Merge adjacent basins the model finds likely to be one nucleus, a round at a time.

    Each round measures every pair of adjacent regions and merges, from the
    most likely down, those above the model's threshold whose regions no
    likelier pair of the round has merged; the merged regions are measured
    again in the next round. So three basins join only if their union still
    looks like one nucleus, not because each touches the next.

    Parameters
    ----------
    basins, height, brightness, diameter
        As for :func:`pair_features` (basins may be any non-negative labels).
    model : MergeModel, optional
        Default: the shipped model (:func:`load_merge_model`).
    rounds : list, optional
        Each round's regions, pairs and features are appended to it as a
        tuple (what the model decided; for training).

    Returns
    -------
    numpy.ndarray
        Labels 1..m (int32), each the union of one or more basins.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.nuclei.merging import merge_basins
    >>> yy, xx = np.mgrid[:40, :60]
    >>> ellipse = ((yy - 20) / 12.0) ** 2 + ((xx - 30) / 18.0) ** 2 <= 1
    >>> basins = np.where(ellipse, 1 + (xx >= 30), 0).astype(np.int32)  # one nucleus, cut in two
    >>> height = np.where(ellipse, 1 - ((yy - 20) / 12.0) ** 2 - ((xx - 30) / 18.0) ** 2, 0) * 12
    >>> int(merge_basins(basins, height, height).max())
    1
    """
    model = model or load_merge_model()
    labels, _ = relabel(np.ascontiguousarray(basins, dtype=np.int32))
    regions = _Regions(labels, height, brightness, distance(labels > 0, metric="euclidean"))
    while True:
        pairs, features = regions.pair_features(diameter)
        if rounds is not None:
            rounds.append((regions.labels(), pairs, features))
        probability = model.probability(features)
        likely = np.flatnonzero(probability > model.threshold)
        if likely.size == 0:
            merged, _ = relabel(np.ascontiguousarray(regions.labels(), dtype=np.int32))
            return merged
        taken = np.zeros(regions.region.size, bool)
        chosen = []
        for a, b in pairs[likely[np.argsort(-probability[likely], kind="stable")]]:
            if not (taken[a] or taken[b]):
                taken[a] = taken[b] = True
                chosen.append((a, b))
        regions.merge(np.array(chosen))
