"""Differential tests of karyo.polygon against mahotas.polygon."""

from __future__ import annotations

import mahotas
import mahotas.polygon
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo.polygon

# mahotas indexes the canvas without clipping, so endpoints stay inside it
points = st.tuples(st.integers(0, 11), st.integers(0, 12))


@given(points, points, st.sampled_from([np.uint8, np.int32, np.float64, bool]))
def test_line_matches_mahotas(p0, p1, dtype):
    expected = np.zeros((12, 13), dtype)
    result = np.zeros((12, 13), dtype)
    mahotas.polygon.line(p0, p1, expected, color=1)
    karyo.polygon.line(p0, p1, result, color=1)
    np.testing.assert_array_equal(result, expected)


@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 12)), min_size=3, max_size=7),
       st.sampled_from([np.uint8, np.int32, bool]))
def test_fill_polygon_matches_mahotas(polygon, dtype):
    expected = np.zeros((12, 13), dtype)
    result = np.zeros((12, 13), dtype)
    mahotas.polygon.fill_polygon(polygon, expected, color=1)
    karyo.polygon.fill_polygon(polygon, result, color=1)
    np.testing.assert_array_equal(result, expected)


@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=14)),
       st.booleans())
def test_convexhull_matches_mahotas(binary, fortran):
    view = np.asfortranarray(binary) if fortran else binary
    if binary.sum() < 3:
        return
    expected = mahotas.polygon.convexhull(binary)
    result = karyo.polygon.convexhull(view)
    # the hull's vertex set is what mahotas defines; compare it order-free
    assert sorted(map(tuple, result.tolist())) == sorted(map(tuple, expected.tolist()))
    np.testing.assert_array_equal(karyo.polygon.fill_convexhull(view),
                                  mahotas.polygon.fill_convexhull(binary))


@pytest.mark.parametrize("call, name", [
    (lambda: karyo.polygon.line((0, 0), (1, 1), [[0, 0]]), "canvas"),
    (lambda: karyo.polygon.line((0, 0), (1, 1), np.zeros((2, 2, 2))), "canvas"),
    (lambda: karyo.polygon.fill_polygon([(0, 0), (1,)], np.zeros((4, 4))), "polygon"),
])
def test_polygon_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
