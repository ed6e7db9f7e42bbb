"""Differential tests of karyo.thin against mahotas.thin."""

from __future__ import annotations

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names, with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo as mh

LAYOUTS = st.sampled_from(["c", "fortran", "strided", "readonly"])


@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20)),
       st.sampled_from([-1, 0, 1, 3]), LAYOUTS)
def test_thin_matches_mahotas(binary, max_iter, layout):
    expected = mahotas.thin(binary, max_iter=max_iter)
    result = mh.thin(with_layout(binary, layout), max_iter=max_iter)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_thin_of_real_nuclei():
    names = u2os_names()
    if not names:
        pytest.skip("U2OS collection not present")
    _, truth = load_u2os(names[2])
    foreground = truth[:200, :200] > 0
    np.testing.assert_array_equal(mh.thin(foreground), mahotas.thin(foreground))


@pytest.mark.parametrize("call, name", [
    (lambda: mh.thin(np.zeros((4, 4), bool), max_iter=1.5), "max_iter"),
    (lambda: mh.thin(np.zeros(4, bool)), "binimg"),
])
def test_thin_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
