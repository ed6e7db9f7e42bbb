"""Threshold Adjacency Statistics: :func:`tas` and its parameter-free :func:`pftas`."""

from __future__ import annotations

import numpy as np

from ..convolve import convolve  # noqa: F401 (mahotas.features.tas exposes it)
from ..internal import as_array
from ..thresholding import otsu

__all__ = ["tas", "pftas"]


def _as_tas_image(img, fname: str) -> np.ndarray:
    return as_array(img, fname, "img", min_ndim=2, max_ndim=3, kinds="biuf")


def _adjacency_histogram(binary: np.ndarray) -> np.ndarray:
    """Normalised histogram of the foreground-neighbour counts of background pixels.

    mahotas convolves with a kernel whose centre weight exceeds the number of
    neighbours and keeps only the bins below it, so only background pixels
    are counted; the border replicates the edge pixel ('reflect' mode with a
    radius of 1).
    """
    ndim = binary.ndim
    padded = np.pad(binary.view(np.uint8), 1, mode="edge")
    neighbours = np.zeros(binary.shape, np.uint8)
    for offset in np.ndindex(*((3,) * ndim)):
        if offset == (1,) * ndim:
            continue
        window = tuple(slice(o, o + n) for o, n in zip(offset, binary.shape, strict=True))
        neighbours += padded[window]
    nr_bins = 3 ** ndim
    counts = np.bincount(neighbours[~binary].ravel(), minlength=nr_bins)[:nr_bins]
    total = counts.sum()
    if total > 0:
        return counts / float(total)
    return counts


def _tas(img: np.ndarray, thresh, margin) -> np.ndarray:
    above = img > thresh
    mean = (above * img).sum() / (above.sum() + 1e-8)
    binaries = [(img > mean - margin) & (img < mean + margin),
                img > mean - margin,
                img > mean]
    positive = [_adjacency_histogram(binary) for binary in binaries]
    negative = [_adjacency_histogram(~binary) for binary in binaries]
    return np.concatenate(positive + negative)


def tas(img: np.ndarray) -> np.ndarray:
    """Compute the Threshold Adjacency Statistics of Hamilton et al.

    Parameters
    ----------
    img : ndarray
        2-D or 3-D image (bool, integer or float).

    Returns
    -------
    values : ndarray of float64
        54 values for a 2-D image (6 histograms of 9 bins), 162 for 3-D.

    See Also
    --------
    pftas : the parameter-free variant (Otsu threshold, standard deviation margin).

    Notes
    -----
    The image is binarised three ways around the mean ``mu`` of the pixels
    above 30 (``mu-30 < img < mu+30``, ``img > mu-30``, ``img > mu``); for
    each binarisation and its negative, the histogram of the number of
    foreground neighbours (8 in 2-D, 26 in 3-D) of background pixels is
    normalised to sum to 1, as mahotas computes it.

    References: N. A. Hamilton et al., "Fast automated cell phenotype image
    classification", BMC Bioinformatics 8:110, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import tas
    >>> tas(np.eye(8, dtype=np.uint8) * 200).shape
    (54,)
    """
    img = _as_tas_image(img, "tas")
    return _tas(img, 30, 30)


def pftas(img: np.ndarray, T: float | None = None) -> np.ndarray:
    """Compute the parameter-free Threshold Adjacency Statistics.

    Parameters
    ----------
    img : ndarray
        2-D or 3-D image; integer (or bool) unless ``T`` is given.
    T : number, optional
        Threshold (default: ``karyo.otsu(img)``).

    Returns
    -------
    values : ndarray of float64
        54 values for a 2-D image, 162 for 3-D.

    See Also
    --------
    tas : the original statistics with fixed parameters.

    Notes
    -----
    As :func:`tas`, but the threshold is ``T`` (Otsu's by default) and the
    margin is the standard deviation of the pixels above it.

    References: L. P. Coelho et al., "Structured Literature Image Finder:
    extracting information from text and images in biomedical literature",
    LNCS 6004, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.features import pftas
    >>> pftas(np.eye(8, dtype=np.uint8) * 200).shape
    (54,)
    """
    img = _as_tas_image(img, "pftas")
    if T is None:
        T = otsu(img)
    elif not np.isscalar(T) or isinstance(T, (str, bytes)):
        raise TypeError(f"karyo.features.pftas: T must be a number, got {T!r}")
    pixels = img[img > T]
    margin = pixels.std() if pixels.size else 0
    return _tas(img, T, margin)
