"""Differential tests of karyo.features against mahotas.features."""

from __future__ import annotations

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names, with_layout
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo as mh
from karyo import features

LAYOUTS = st.sampled_from(["c", "fortran", "strided", "bigendian", "readonly"])
GREY_DTYPES = st.sampled_from([np.uint8, np.uint16, np.int32])


def grey_images(min_side=1, max_levels=12, ndims=(2,)):
    shapes = st.sampled_from(ndims).flatmap(
        lambda nd: hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=min_side, max_side=9))
    return st.tuples(GREY_DTYPES, shapes).flatmap(
        lambda ds: hnp.arrays(ds[0], ds[1], elements=st.integers(0, max_levels)))


@pytest.fixture(scope="module")
def nucleus_image():
    names = u2os_names()
    if not names:
        pytest.skip("U2OS collection not present")
    image, truth = load_u2os(names[0])
    return image, truth


# --- haralick and cooccurence ---------------------------------------------

@settings(max_examples=15)
@given(grey_images(min_side=2, ndims=(2, 3)), st.booleans(), st.booleans(), st.booleans(),
       st.booleans(), st.integers(1, 2), LAYOUTS)
def test_haralick_matches_mahotas(image, ignore_zeros, bug, fourteenth, x_minus_y, distance,
                                  layout):
    kwargs = dict(ignore_zeros=ignore_zeros, preserve_haralick_bug=bug,
                  compute_14th_feature=fourteenth, use_x_minus_y_variance=x_minus_y,
                  distance=distance)
    try:
        expected = mahotas.features.haralick(image, **kwargs)
    except ValueError:
        # mahotas refuses images where a direction has no pixel pair; so do we
        with pytest.raises(ValueError):
            features.haralick(with_layout(image, layout), **kwargs)
        return
    result = features.haralick(with_layout(image, layout), **kwargs)
    np.testing.assert_allclose(result, expected, rtol=1e-7, atol=1e-9)


@settings(max_examples=10)
@given(grey_images(min_side=2, ndims=(2,)), st.booleans())
def test_haralick_mean_and_ptp_match_mahotas(image, ptp):
    kwargs = dict(return_mean_ptp=True) if ptp else dict(return_mean=True)
    try:
        expected = mahotas.features.haralick(image, **kwargs)
    except ValueError:
        return
    np.testing.assert_allclose(features.haralick(image, **kwargs), expected, rtol=1e-7,
                               atol=1e-9)


@given(grey_images(ndims=(2, 3)), st.data(), st.booleans(), st.integers(0, 3), LAYOUTS)
def test_cooccurence_matches_mahotas(image, data, symmetric, distance, layout):
    direction = data.draw(st.integers(0, 3 if image.ndim == 2 else 12))
    expected = mahotas.features.texture.cooccurence(image, direction, symmetric=symmetric,
                                                    distance=distance)
    result = features.texture.cooccurence(with_layout(image, layout), direction,
                                          symmetric=symmetric, distance=distance)
    np.testing.assert_array_equal(result, expected)


def test_haralick_on_a_nucleus_image(nucleus_image):
    image, _ = nucleus_image
    crop = image[100:164, 100:164]
    np.testing.assert_allclose(features.haralick(crop, compute_14th_feature=True),
                               mahotas.features.haralick(crop, compute_14th_feature=True),
                               rtol=1e-7)


@pytest.mark.parametrize("call, name", [
    (lambda: features.haralick(np.zeros((4, 4), float)), "f"),
    (lambda: features.haralick(np.full((4, 4), -1, np.int32)), "f"),
    (lambda: features.haralick(np.zeros((4, 4), np.uint8), return_mean=True,
                               return_mean_ptp=True), "return_mean"),
    (lambda: features.texture.cooccurence(np.zeros((4, 4), np.uint8), 7), "direction"),
    (lambda: features.texture.cooccurence(np.zeros((4, 4), np.uint8), 0, distance=-1),
     "distance"),
    (lambda: features.haralick(np.zeros(4, np.uint8)), "f"),
])
def test_texture_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


# --- moments, zernike, shape -------------------------------------------------

FLOAT_OR_INT = st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64])


@given(st.tuples(FLOAT_OR_INT, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                max_side=12)).flatmap(
           lambda ds: hnp.arrays(ds[0], ds[1], elements=st.integers(0, 50))),
       st.integers(0, 3), st.integers(0, 3), st.booleans(), st.booleans(), LAYOUTS)
def test_moments_match_mahotas(image, p0, p1, normalize, with_cm, layout):
    cm = (1.5, 2.25) if with_cm else None
    expected = mahotas.moments(image, p0, p1, cm=cm, normalize=normalize)
    result = features.moments(with_layout(image, layout), p0, p1, cm=cm, normalize=normalize)
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


@settings(max_examples=25)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20),
                  elements=st.integers(0, 255)),
       st.integers(0, 10), st.floats(2, 15), LAYOUTS)
def test_zernike_moments_match_mahotas(image, degree, radius, layout):
    expected = mahotas.features.zernike_moments(image, radius, degree=degree)
    result = features.zernike_moments(with_layout(image, layout), radius, degree=degree)
    np.testing.assert_allclose(result, expected, rtol=1e-7, atol=1e-10)


def test_zernike_on_a_nucleus(nucleus_image):
    _, truth = nucleus_image
    nucleus = truth == truth.max()
    np.testing.assert_allclose(features.zernike_moments(nucleus, 20, cm=(10.5, 12.0)),
                               mahotas.features.zernike_moments(nucleus, 20, cm=(10.5, 12.0)),
                               rtol=1e-7, atol=1e-10)


@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=15)),
       LAYOUTS)
def test_shape_features_match_mahotas(bw, layout):
    view = with_layout(bw, layout)
    np.testing.assert_allclose(features.roundness(view), mahotas.features.roundness(bw),
                               rtol=1e-9)
    np.testing.assert_allclose(features.eccentricity(view), mahotas.features.eccentricity(bw),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(features.ellipse_axes(view), mahotas.features.ellipse_axes(bw),
                               rtol=1e-7, atol=1e-9)


def test_shape_features_of_real_nuclei(nucleus_image):
    _, truth = nucleus_image
    for label in np.unique(truth)[1:4]:
        nucleus = truth == label
        assert features.roundness(nucleus) == pytest.approx(mahotas.features.roundness(nucleus))
        assert features.eccentricity(nucleus) == pytest.approx(
            mahotas.features.eccentricity(nucleus))


@pytest.mark.parametrize("call, name", [
    (lambda: features.roundness(np.zeros(5, bool)), "bw"),
    (lambda: features.eccentricity(np.zeros((2, 2, 2), bool)), "bw"),
    (lambda: features.zernike_moments(np.zeros((3, 3, 3)), 4), "im"),
    (lambda: features.moments(np.zeros(3), 1, 1), "img"),
])
def test_moment_and_shape_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


# --- TAS ---------------------------------------------------------------------

@given(st.tuples(st.sampled_from([np.uint8, np.uint16, np.float64]),
                 st.sampled_from([2, 3]).flatmap(
                     lambda nd: hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=1,
                                                 max_side=8))).flatmap(
           lambda ds: hnp.arrays(ds[0], ds[1], elements=st.integers(0, 255))),
       LAYOUTS)
def test_tas_matches_mahotas(image, layout):
    view = with_layout(image, layout)
    np.testing.assert_allclose(features.tas(view), mahotas.features.tas(image), rtol=1e-12)
    if image.dtype.kind != "f":
        # mahotas's pftas thresholds with otsu, which is defined for integer images only
        np.testing.assert_allclose(features.pftas(view), mahotas.features.pftas(image),
                                   rtol=1e-12)
    np.testing.assert_allclose(features.pftas(view, T=40), mahotas.features.pftas(image, T=40),
                               rtol=1e-12)


def test_tas_on_a_nucleus_image(nucleus_image):
    image, _ = nucleus_image
    np.testing.assert_allclose(features.pftas(image), mahotas.features.pftas(image))
    np.testing.assert_allclose(features.tas(image), mahotas.features.tas(image))


@pytest.mark.parametrize("call, name", [
    (lambda: features.tas(np.zeros(5)), "img"),
    (lambda: features.pftas(np.zeros((2, 2, 2, 2), np.uint8)), "img"),
    (lambda: features.pftas(np.zeros((4, 4), np.uint8), T="a"), "T"),
    (lambda: features.tas(np.zeros((4, 4), complex)), "img"),
])
def test_tas_bad_arguments(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_features_namespace_matches_mahotas():
    assert set(features.__all__) >= set(mahotas.features.__all__) - {"lbp"}
    assert mh.features is features


def test_haralick_refuses_grey_levels_whose_matrix_would_not_fit():
    """One bright uint32 pixel would ask for a 10^6 x 10^6 co-occurrence matrix (4 TB)."""
    image = np.zeros((8, 8), np.uint32)
    image[3, 3] = 10**6
    with pytest.raises(ValueError, match="`f` has grey levels up to 1000000"):
        features.haralick(image)
    image[3, 3] = features.texture.MAX_GREY_LEVELS - 1
    with pytest.raises(ValueError, match="`f`"):
        features.texture.cooccurence(image + 1, 0)
