"""Haralick texture features from grey-level co-occurrence matrices."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..internal import INTEGER_KINDS, as_array
from . import _texture

__all__ = ["haralick", "haralick_features", "haralick_labels", "cooccurence"]

haralick_labels = ["Angular Second Moment", "Contrast", "Correlation",
                   "Sum of Squares: Variance", "Inverse Difference Moment", "Sum Average",
                   "Sum Variance", "Sum Entropy", "Entropy", "Difference Variance",
                   "Difference Entropy", "Information Measure of Correlation 1",
                   "Information Measure of Correlation 2", "Maximal Correlation Coefficient"]

# Directions (as mahotas): 4 in 2-D (0, 45, 90, 135 degrees), 13 in 3-D.
_DIRECTIONS_2D = [(0, 1), (1, 1), (1, 0), (1, -1)]
_DIRECTIONS_3D = [(1, 0, 0), (1, 1, 0), (0, 1, 0), (1, -1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1),
                  (1, 1, 1), (1, -1, 1), (1, 0, -1), (0, 1, -1), (1, 1, -1), (1, -1, -1)]
# mahotas's name for the same table, which code written for mahotas reads to
# loop over the 3-D directions (mahotas's own tests do)
_3d_deltas = _DIRECTIONS_3D


# The co-occurrence matrix has (f.max() + 1)**2 int32 cells: 1 GiB at this limit.
MAX_GREY_LEVELS = 2**14


def _as_grey_levels(f, fname: str) -> np.ndarray:
    f = as_array(f, fname, "f", min_ndim=2, max_ndim=3, kinds=INTEGER_KINDS)
    if f.dtype == bool:
        f = f.view(np.uint8)
    if f.size == 0:
        raise ValueError(f"karyo.{fname}: `f` is empty; expected at least one pixel")
    if f.dtype.kind == "i" and f.min() < 0:
        raise ValueError(f"karyo.{fname}: `f` has negative values; expected grey levels >= 0")
    if int(f.max()) >= MAX_GREY_LEVELS:
        raise ValueError(f"karyo.{fname}: `f` has grey levels up to {int(f.max())}; expected "
                         f"fewer than {MAX_GREY_LEVELS} (the co-occurrence matrix is levels^2 "
                         "cells): quantise the image first, e.g. with karyo.stretch(f)")
    return f


def cooccurence(f: np.ndarray, direction: int, output: np.ndarray | None = None,
                symmetric: bool = True, distance: int = 1) -> np.ndarray:
    """Return the grey-level co-occurrence matrix of `f` in one direction.

    Parameters
    ----------
    f : ndarray of int
        2-D or 3-D image of non-negative grey levels.
    direction : int
        Index of the direction: 0-3 in 2-D ((0, 1), (1, 1), (1, 0), (1, -1)),
        0-12 in 3-D.
    output : ndarray of int32, optional
        Square matrix of side > ``f.max()`` to fill (overwritten).
    symmetric : bool, optional
        Count each pair in both orders (default True).
    distance : int, optional
        Distance between the two pixels of a pair, in steps of the direction
        (default 1).

    Returns
    -------
    cmat : ndarray of int32
        ``cmat[i, j]`` counts pixels of level i whose neighbour at
        ``distance * direction`` has level j (plus the transpose if
        `symmetric`).

    See Also
    --------
    haralick : texture features computed from these matrices.

    Notes
    -----
    One pass over the pixel pairs (Haralick, Shanmugam and Dinstein,
    "Textural features for image classification", IEEE Trans. SMC, 1973).

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.texture import cooccurence
    >>> cooccurence(np.array([[0, 1], [1, 1]], np.uint8), 0, symmetric=False)
    array([[0, 1],
           [0, 1]], dtype=int32)
    """
    fname = "features.texture.cooccurence"
    f = _as_grey_levels(f, fname)
    directions = _DIRECTIONS_2D if f.ndim == 2 else _DIRECTIONS_3D
    if isinstance(direction, bool) or not isinstance(direction, (int, np.integer)) \
            or not 0 <= direction < len(directions):
        raise ValueError(f"karyo.{fname}: `direction` must be an int in range({len(directions)}) "
                         f"for a {f.ndim}-D image, got {direction!r}")
    if isinstance(distance, bool) or not isinstance(distance, (int, np.integer)) or distance < 0:
        raise ValueError(f"karyo.{fname}: `distance` must be a non-negative int, got {distance!r}")
    levels = int(f.max()) + 1
    if output is None:
        output = np.zeros((levels, levels), np.int32)
    else:
        if not isinstance(output, np.ndarray) or output.dtype != np.int32:
            raise TypeError(f"karyo.{fname}: `output` must be an int32 numpy array")
        if output.ndim != 2 or output.shape[0] != output.shape[1] or output.shape[0] < levels \
                or not output.flags.c_contiguous:
            raise ValueError(f"karyo.{fname}: `output` has shape {output.shape}; expected a "
                             f"C-contiguous square matrix of side at least {levels}")
        output.fill(0)
    offset = [distance * step for step in directions[direction]]
    if f.ndim == 2:
        _texture.cooccurrence_2d(f, offset[0], offset[1], output)
    else:
        _texture.cooccurrence_3d(f, offset[0], offset[1], offset[2], output)
    if symmetric:
        _texture.symmetrise(output)
    return output


def _entropy(p: np.ndarray) -> float:
    """Shannon entropy in bits of the probabilities `p` (0 log 0 = 0)."""
    p = p.ravel()
    return -np.dot(np.log2(np.where(p == 0, 1.0, p)), p)


def haralick(f: np.ndarray, ignore_zeros: bool = False, preserve_haralick_bug: bool = False,
             compute_14th_feature: bool = False, return_mean: bool = False,
             return_mean_ptp: bool = False, use_x_minus_y_variance: bool = False,
             distance: int = 1) -> np.ndarray:
    """Compute Haralick texture features of a 2-D or 3-D grey-level image.

    Parameters
    ----------
    f : ndarray of int
        2-D or 3-D image of non-negative integer grey levels.
    ignore_zeros : bool, optional
        Leave out pairs involving level 0 (e.g. a masked background).
    preserve_haralick_bug : bool, optional
        Compute feature 7 (Sum Variance) with Sum Entropy, as in Haralick's
        paper, instead of Sum Average (default False: the correct formula).
    compute_14th_feature : bool, optional
        Also compute the Maximal Correlation Coefficient.
    return_mean, return_mean_ptp : bool, optional
        Return the mean over directions, or the mean followed by the
        peak-to-peak range (at most one of the two).
    use_x_minus_y_variance : bool, optional
        Compute Difference Variance as the variance of the ``|x - y|``
        distribution instead of mahotas's default (variance of its values).
    distance : int, optional
        Pixel distance of the co-occurrences (default 1).

    Returns
    -------
    feats : ndarray of float64
        Shape (directions, 13 or 14): 4 directions in 2-D, 13 in 3-D; or
        1-D with `return_mean` / `return_mean_ptp`.

    See Also
    --------
    cooccurence : the co-occurrence matrix of one direction.
    haralick_labels : names of the features.

    Notes
    -----
    Haralick, Shanmugam and Dinstein, "Textural features for image
    classification", IEEE Trans. SMC, 1973. Co-occurrence matrices are
    symmetric and normalised to probabilities; feature order and
    conventions (including ``preserve_haralick_bug``) follow mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import haralick
    >>> image = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 2]], np.uint8)
    >>> haralick(image).shape
    (4, 13)
    """
    fname = "features.haralick"
    f = _as_grey_levels(f, fname)
    if return_mean and return_mean_ptp:
        raise ValueError(f"karyo.{fname}: `return_mean` and `return_mean_ptp` cannot both be set")
    n_directions = len(_DIRECTIONS_2D) if f.ndim == 2 else len(_DIRECTIONS_3D)
    levels = int(f.max()) + 1
    cmat = np.empty((levels, levels), np.int32)

    def all_cmatrices():
        for direction in range(n_directions):
            yield cooccurence(f, direction, cmat, symmetric=True, distance=distance)

    return haralick_features(all_cmatrices(), ignore_zeros=ignore_zeros,
                             preserve_haralick_bug=preserve_haralick_bug,
                             compute_14th_feature=compute_14th_feature,
                             return_mean=return_mean, return_mean_ptp=return_mean_ptp,
                             use_x_minus_y_variance=use_x_minus_y_variance)


def haralick_features(cmats: Iterable[np.ndarray], ignore_zeros: bool = False,
                      preserve_haralick_bug: bool = False, compute_14th_feature: bool = False,
                      return_mean: bool = False, return_mean_ptp: bool = False,
                      use_x_minus_y_variance: bool = False) -> np.ndarray:
    """Compute Haralick features from co-occurrence matrices (see :func:`haralick`).

    Parameters
    ----------
    cmats : iterable of square ndarray
        Co-occurrence matrices, all of the same size. With `ignore_zeros`,
        their row and column 0 are zeroed in place.
    ignore_zeros, preserve_haralick_bug, compute_14th_feature, return_mean, \
return_mean_ptp, use_x_minus_y_variance : bool, optional
        As in :func:`haralick`.

    Returns
    -------
    feats : ndarray of float64
        One row of 13 (or 14) features per matrix, or their mean (and range).

    See Also
    --------
    haralick

    Notes
    -----
    Haralick, Shanmugam and Dinstein, IEEE Trans. SMC, 1973.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features.texture import haralick_features
    >>> round(float(haralick_features([np.array([[2, 1], [1, 2]])])[0, 0]), 6)  # 10/36
    0.277778
    """
    fname = "features.haralick_features"
    if return_mean and return_mean_ptp:
        raise ValueError(f"karyo.{fname}: `return_mean` and `return_mean_ptp` cannot both be set")
    rows = []
    size = None
    for cmat in cmats:
        if ignore_zeros:
            cmat[0] = 0
            cmat[:, 0] = 0
        total = cmat.sum()
        if not total:
            raise ValueError(f"karyo.{fname}: the co-occurrence matrix is empty (no pixel "
                             "pairs), so no features can be computed; with `ignore_zeros`, "
                             "this happens when the image is 0 almost everywhere")
        if size is None:
            size = len(cmat)
            levels = np.arange(size, dtype=np.float64)
            levels_sq = levels ** 2
            sum_levels = np.arange(2 * size, dtype=np.float64)
            i, j = np.mgrid[:size, :size]
            products = (i * j).ravel()
            inverse_difference = (1.0 / ((i - j) ** 2 + 1)).ravel()
        elif len(cmat) != size:
            raise ValueError(f"karyo.{fname}: all co-occurrence matrices must have the same size")
        rows.append(_features_of_one(cmat, total, levels, levels_sq, sum_levels, products,
                                     inverse_difference, preserve_haralick_bug,
                                     compute_14th_feature, use_x_minus_y_variance))
    features = np.array(rows)
    if return_mean:
        return features.mean(axis=0)
    if return_mean_ptp:
        return np.concatenate((features.mean(axis=0), np.ptp(features, axis=0)))
    return features


def _features_of_one(cmat, total, levels, levels_sq, sum_levels, products, inverse_difference,
                     preserve_haralick_bug, compute_14th_feature, use_x_minus_y_variance):
    feats = np.zeros(13 + bool(compute_14th_feature), np.float64)
    p = np.ascontiguousarray(cmat / float(total))
    p_flat = p.ravel()
    px = p.sum(0)
    py = p.sum(1)
    mean_x = np.dot(px, levels)
    mean_y = np.dot(py, levels)
    var_x = np.dot(px, levels_sq) - mean_x ** 2
    var_y = np.dot(py, levels_sq) - mean_y ** 2
    std_x = np.sqrt(var_x)
    std_y = np.sqrt(var_y)
    p_sum = np.zeros(2 * len(p), np.float64)
    p_difference = np.zeros(len(p), np.float64)
    _texture.sum_and_difference_histograms(p, p_sum, p_difference)

    feats[0] = np.dot(p_flat, p_flat)
    feats[1] = np.dot(levels_sq, p_difference)
    if std_x == 0.0 or std_y == 0.0:
        feats[2] = 1.0
    else:
        feats[2] = (1.0 / std_x / std_y) * (np.dot(products, p_flat) - mean_x * mean_y)
    feats[3] = var_x
    feats[4] = np.dot(inverse_difference, p_flat)
    feats[5] = np.dot(sum_levels, p_sum)
    feats[7] = _entropy(p_sum)
    if preserve_haralick_bug:
        # Haralick's paper centres the sum variance on the sum entropy.
        feats[6] = ((sum_levels - feats[7]) ** 2 * p_sum).sum()
    else:
        feats[6] = np.dot(sum_levels ** 2, p_sum) - feats[5] ** 2
    feats[8] = _entropy(p_flat)
    if use_x_minus_y_variance:
        feats[9] = np.dot(p_difference, levels_sq) - np.dot(p_difference, levels) ** 2
    else:
        feats[9] = p_difference.var()
    feats[10] = _entropy(p_difference)
    entropy_x = _entropy(px)
    entropy_y = _entropy(py)
    independent = np.outer(px, py).ravel()
    independent = np.where(independent == 0, 1.0, independent)
    cross_entropy_1 = -np.dot(p_flat, np.log2(independent))
    cross_entropy_2 = _entropy(independent)
    largest = max(entropy_x, entropy_y)
    feats[11] = (feats[8] - cross_entropy_1) / (largest if largest != 0.0 else 1.0)
    feats[12] = np.sqrt(max(0, 1 - np.exp(-2.0 * (cross_entropy_2 - feats[8]))))
    if compute_14th_feature:
        occupied = px != 0
        occupied_p = p[occupied][:, occupied]
        if occupied_p.shape[0] > 2:
            eigenvalues = np.sort(np.linalg.eigvalsh(np.corrcoef(occupied_p)))
            feats[13] = np.sqrt(eigenvalues[-2])
        else:
            feats[13] = 0
    return feats
