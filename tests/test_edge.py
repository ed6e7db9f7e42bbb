"""Differential tests of karyo.edge (sobel, dog) against mahotas."""

from __future__ import annotations

import mahotas
import mahotas.edge
import numpy as np
import pytest
from conftest import load_u2os, u2os_names, with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo as mh
import karyo.edge

LAYOUTS = st.sampled_from(["c", "fortran", "strided", "bigendian", "readonly"])


images_2d = st.tuples(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64]),
                      hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=16)
                      ).flatmap(lambda ds: hnp.arrays(ds[0], ds[1], elements=st.integers(0, 200)))


@given(images_2d, st.booleans(), LAYOUTS)
def test_sobel_matches_mahotas(image, just_filter, layout):
    expected = mahotas.sobel(image, just_filter=just_filter)
    result = mh.sobel(with_layout(image, layout), just_filter=just_filter)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)


@given(images_2d, st.floats(0.5, 3), st.floats(1.001, 2), st.booleans(), LAYOUTS)
def test_dog_matches_mahotas(image, sigma1, multiplier, just_filter, layout):
    expected = mahotas.edge.dog(image, sigma1=sigma1, multiplier=multiplier,
                                just_filter=just_filter)
    result = karyo.edge.dog(with_layout(image, layout), sigma1=sigma1, multiplier=multiplier,
                            just_filter=just_filter)
    if just_filter:
        np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)
    else:
        # The edges are signs of, and thresholded differences between, responses
        # that agree with mahotas's to 1e-6 (the Gaussian tolerance): where a
        # response is that close to 0 or a difference to the threshold, either
        # answer is right (hypothesis found multiplier 1.001, a near-zero DoG).
        undecided = _undecided_dog_pixels(mahotas.edge.dog(image, sigma1=sigma1,
                                                           multiplier=multiplier,
                                                           just_filter=True), image)
        np.testing.assert_array_equal(result[~undecided], expected[~undecided])


def _undecided_dog_pixels(response, image):
    """Pixels whose DoG edge decision flips under a 1e-6 change of the response."""
    eps = 1e-6 * max(1.0, float(np.abs(image).max()))
    threshold = 0.75 * np.mean(np.abs(response))
    undecided = np.zeros(response.shape, bool)
    near_zero = np.abs(response) < eps
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            undecided |= np.roll(near_zero, (dy, dx), axis=(0, 1))
    for axis in (0, 1):
        step = np.abs(np.diff(response, axis=axis))
        close = np.abs(step - threshold) < eps * 4
        shape = list(response.shape)
        shape[axis] = 1
        undecided |= np.concatenate([close, np.zeros(shape, bool)], axis=axis)
        undecided |= np.concatenate([np.zeros(shape, bool), close], axis=axis)
    undecided |= np.abs(np.mean(np.abs(response))) < eps  # the threshold itself near 0
    return undecided


def test_edges_of_a_nucleus_image():
    names = u2os_names()
    if not names:
        pytest.skip("U2OS collection not present")
    image, _ = load_u2os(names[1])
    np.testing.assert_array_equal(mh.sobel(image), mahotas.sobel(image))
    np.testing.assert_allclose(karyo.edge.dog(image, just_filter=True),
                               mahotas.edge.dog(image, just_filter=True), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call, name", [
    (lambda: mh.sobel(np.zeros(5)), "img"),
    (lambda: mh.sobel(np.zeros((3, 3), complex)), "img"),
    (lambda: karyo.edge.dog(np.zeros((4, 4)), sigma1=-1), "sigma1"),
    (lambda: karyo.edge.dog(np.zeros((4, 4)), multiplier=0), "multiplier"),
])
def test_edge_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


# ---------------------------------------------- mahotas's names around the edge module

def test_dog_at_top_level_like_mahotas():
    image = mh.demos.load("synthetic_nuclei")[:128, :160].astype(float)
    assert mh.dog is karyo.edge.dog
    np.testing.assert_allclose(mh.dog(image, just_filter=True),
                               mahotas.dog(image, just_filter=True), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(mh.dog(image), mahotas.dog(image))


def test_module_level_aliases_like_mahotas():
    # mahotas's modules import these helpers at module level, and code reaches
    # them there (e.g. mahotas.edge.gaussian_filter); karyo's modules expose the
    # same functions under the same names.
    import importlib
    import sys

    import mahotas.features

    aliases = [("edge", "convolve"), ("edge", "gaussian_filter"), ("euler", "convolve"),
               ("features.tas", "convolve"), ("features.zernike", "center_of_mass"),
               ("features.shape", "bwperim"), ("labeled", "get_structuring_elem")]
    image = np.random.default_rng(0).random((9, 11))
    for module_name, name in aliases:
        ours = getattr(importlib.import_module(f"karyo.{module_name}"), name)
        theirs = getattr(sys.modules[f"mahotas.{module_name}"], name)
        assert ours.__name__ == theirs.__name__ == name
        assert ours is getattr(mh, name)  # the one karyo function of that name
    edge = sys.modules["karyo.edge"]
    np.testing.assert_allclose(edge.gaussian_filter(image, 1.5),
                               sys.modules["mahotas.edge"].gaussian_filter(image, 1.5),
                               rtol=1e-12, atol=1e-12)
    weights = np.arange(9.).reshape(3, 3)
    np.testing.assert_allclose(sys.modules["karyo.euler"].convolve(image, weights),
                               mahotas.convolve(image, weights), rtol=1e-12)
    disc = np.hypot(*np.mgrid[-5:6, -5:6]) <= 4
    np.testing.assert_array_equal(sys.modules["karyo.features.shape"].bwperim(disc),
                                  mahotas.bwperim(disc))
    np.testing.assert_allclose(sys.modules["karyo.features.zernike"].center_of_mass(image),
                               mahotas.center_of_mass(image), rtol=1e-12)
