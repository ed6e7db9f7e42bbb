"""karyo.euler against mahotas.euler (and skimage's euler_number where it agrees)."""

from __future__ import annotations

import doctest
import importlib

import mahotas
import numpy as np
import pytest
from conftest import load_u2os
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.measure import euler_number

from karyo.euler import euler

MODES = ["constant", "reflect", "nearest", "wrap", "mirror", "ignore"]


@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12)),
       st.sampled_from([4, 8]), st.sampled_from(MODES))
def test_matches_mahotas(image, n, mode):
    expected = mahotas.euler(image, n, mode)
    assert euler(image, n, mode) == expected
    assert euler(np.asfortranarray(image), n, mode) == expected
    assert euler(image.astype(np.uint8), n, mode) == expected
    assert euler(np.repeat(image, 2, axis=1)[:, ::2], n, mode) == expected


@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12)),
       st.sampled_from([4, 8]))
def test_matches_skimage_away_from_the_border(image, n):
    # mahotas (and karyo) only pad the top and left borders; with a background
    # frame all round, the count is the true Euler number.
    framed = np.pad(image, 1)
    assert euler(framed, n) == euler_number(framed, connectivity=1 if n == 4 else 2)


def test_u2os_mask():
    image, _ = load_u2os("dna-5.png")
    mask = image > 30
    for n in (4, 8):
        assert euler(mask, n) == mahotas.euler(mask, n)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`n`"):
        euler(np.ones((2, 2), bool), 6)
    with pytest.raises(ValueError, match="`mode`"):
        euler(np.ones((2, 2), bool), mode="bogus")
    with pytest.raises(ValueError, match="`f`"):
        # mahotas raises AssertionError
        euler(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="`f`"):
        euler(np.ones(3, bool))


def test_doctests():
    assert doctest.testmod(importlib.import_module("karyo.euler")).failed == 0
