"""Shared fixtures: the hand-segmented U2OS collection, when it is present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# CI runs a bounded number of examples per property; a developer can ask for
# more with HYPOTHESIS_PROFILE=thorough.
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
U2OS = SHARED_DATA / "u2os"


def u2os_names() -> list[str]:
    """File names of the U2OS images, sorted by their number."""
    if not (U2OS / "images").is_dir():
        return []
    return sorted((p.name for p in (U2OS / "images").glob("dna-*.png")),
                  key=lambda name: int(name[4:-4]))


@pytest.fixture(scope="session")
def u2os_dir() -> Path:
    if not (U2OS / "images").is_dir():
        pytest.skip(f"the U2OS collection is not at {U2OS} (it sits beside the project as "
                    "../shared/data; tests that need it skip without it)")
    return U2OS


def load_u2os(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The grey image (channel 0) and the ground-truth labels of one U2OS image."""
    from PIL import Image

    image = np.asarray(Image.open(U2OS / "images" / name))
    truth = np.asarray(Image.open(U2OS / "labels" / name))
    if image.ndim == 3:
        image = image[..., 0]
    if truth.ndim == 3:
        truth = truth[..., 0]
    return np.ascontiguousarray(image), np.ascontiguousarray(truth)


def with_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """The same values as `array` in another memory layout.

    `layout` is 'c' (unchanged), 'fortran', 'strided' (every other row of a
    larger array), 'bigendian' or 'readonly'.
    """
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided":
        wide = np.zeros((array.shape[0] * 2,) + array.shape[1:], array.dtype)
        wide[::2] = array
        return wide[::2]
    if layout == "bigendian":
        return array.astype(array.dtype.newbyteorder(">"))
    if layout == "readonly":
        array = array.copy()
        array.flags.writeable = False
    return array


def assert_column_matches_skimage(name: str, ours, theirs, axis_major_length) -> None:
    """One column of a per-label table against scikit-image's, to its rounding.

    scikit-image takes the axis lengths from the eigenvalues of the inertia
    tensor (``numpy.linalg.eigvalsh``), which are right to a few ulps of the
    larger eigenvalue; the square root turns that rounding into up to about
    ``sqrt(eps) * axis_major_length``. So a line of pixels, whose minor axis is
    exactly 0 (karyo computes the moments in exact integers), can come out
    1e-7 wide there: that much is allowed on ``axis_minor_length``.
    """
    ours = np.asarray(ours, np.float64)
    theirs = np.asarray(theirs, np.float64)
    if name == "orientation":  # -pi/2 and pi/2 are the same axis: compare the doubled angle
        ours, theirs = np.sin(2 * ours), np.sin(2 * theirs)
    atol = np.full(theirs.shape, 1e-7)
    if name == "axis_minor_length":
        rounding = 2 * np.sqrt(np.finfo(np.float64).eps) * np.asarray(axis_major_length)
        atol = np.maximum(atol, rounding)
    close = np.abs(ours - theirs) <= atol + 1e-9 * np.abs(theirs)
    close |= (np.isnan(ours) & np.isnan(theirs))
    assert close.all(), (name, ours[~close], theirs[~close])


def hot_pixels(image: np.ndarray) -> np.ndarray:
    """`image` (float32) with single pixels at 20 times its maximum: on a sparse grid and
    every 7th pixel of rows and columns 200, 400, ... (where tiles of 200 meet)."""
    hot = np.zeros(image.shape, bool)
    hot[::23, ::29] = True
    hot[200::200, ::7] = True
    hot[::7, 200::200] = True
    image = np.asarray(image, np.float32)
    return np.where(hot, 20 * image.max(), image)
