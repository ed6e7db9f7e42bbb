"""Tests of karyo.nuclei.segment: the recipes, their settings and their quality on U2OS."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names
from hypothesis import given
from hypothesis import strategies as st

from karyo.nuclei.segment import DEFAULT_SETTINGS, RECIPES, Segmentation, segment


def two_disks(dtype=np.uint8, scale=1.0) -> np.ndarray:
    """Two separate bright disks on a dark, slightly textured background."""
    yy, xx = np.mgrid[:120, :200]
    image = 10 + (yy % 3 == 0)  # a faint texture keeps otsu/rc well defined
    image = image + 150 * ((yy - 60) ** 2 + (xx - 50) ** 2 < 32 ** 2)
    image = image + 120 * ((yy - 60) ** 2 + (xx - 150) ** 2 < 30 ** 2)
    return (image * scale).astype(dtype)


def assert_consecutive(result: Segmentation) -> None:
    assert result.labels.dtype == np.int32
    present = np.unique(result.labels)
    assert present[0] == 0 or result.labels.size == 0 or result.count == result.labels.size
    assert list(present[present > 0]) == list(range(1, result.count + 1))


# -- the demo image and the tutorial -------------------------------------------------------------

def test_default_recovers_demo_nuclei():
    from karyo import demos
    from karyo.nuclei.evaluate import evaluate

    image, truth = demos.load("synthetic_nuclei", return_labels=True)
    # The demo's nuclei are smaller than U2OS's (the default's diameter range).
    result = segment(image, diameter=(30, 120))
    assert evaluate(result.labels, truth)["f1"] >= 0.9


def test_tutorial_equals_mahotas_steps(u2os_dir):
    image, _ = load_u2os(u2os_names()[1])
    # The tutorial's steps, done by mahotas. otsu needs integers: the smoothed
    # image is shifted to 0 and rounded to 16-bit levels (exact for 8-bit images).
    smoothed = mahotas.gaussian_filter(image, 8)
    seeds, _ = mahotas.label(mahotas.regmax(smoothed))
    low = smoothed.min()
    threshold = low + mahotas.thresholding.otsu(np.rint(smoothed - low).astype(np.uint16))
    foreground = smoothed > threshold
    distance = mahotas.distance(foreground)
    surface = distance.max() - distance
    surface -= surface.min()
    surface = (surface / surface.max() * 255).astype(np.uint8)
    nuclei = mahotas.cwatershed(surface, seeds) * foreground
    expected, count = mahotas.labeled.relabel(nuclei.astype(np.int32))

    result = segment(image, "tutorial")
    assert result.threshold == pytest.approx(threshold)
    assert result.count == count
    np.testing.assert_array_equal(result.labels, expected)


# -- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("recipe", RECIPES)
def test_settings_round_trip(recipe):
    image = two_disks()
    result = segment(image, recipe)
    assert result.recipe == recipe
    assert set(DEFAULT_SETTINGS[recipe]) - {"channel"} <= set(result.settings)
    # The settings survive JSON and repeat the run exactly.
    settings = json.loads(json.dumps(result.settings))
    again = segment(image, **settings)
    np.testing.assert_array_equal(again.labels, result.labels)
    assert again.settings == result.settings
    assert again.threshold == result.threshold


def test_derived_settings_follow_diameter():
    result = segment(two_disks(), diameter=(40, 100))
    assert result.settings["sigma"] == pytest.approx(40 / 20)
    assert result.settings["min_seed_distance"] == pytest.approx(40 / 2)
    assert result.count == 2


@pytest.mark.parametrize("method", ["otsu", "mean", "rc", 60])
def test_threshold_methods(method):
    result = segment(two_disks(), diameter=(40, 100), threshold=method)
    assert result.count == 2
    if not isinstance(method, str):
        assert result.threshold == 60


def test_threshold_matches_mahotas_otsu():
    image = two_disks()
    smoothed = mahotas.gaussian_filter(image, 2.0)
    low = smoothed.min()
    expected = low + mahotas.thresholding.otsu(np.rint(smoothed - low).astype(np.uint16))
    result = segment(image, diameter=(40, 100), threshold="otsu", threshold_correction=1.0)
    assert result.threshold == pytest.approx(expected)


@pytest.mark.parametrize("declump", ["shape", "intensity", "none"])
def test_declump_splits_touching_disks(declump):
    yy, xx = np.mgrid[:100, :160]
    # Two overlapping disks, each brightest at its centre.
    first = 30 ** 2 - (yy - 50) ** 2 - (xx - 50) ** 2
    second = 30 ** 2 - (yy - 50) ** 2 - (xx - 105) ** 2
    image = np.where(np.maximum(first, second) > 0,
                     100 + np.maximum(first, second) // 9, 0).astype(np.uint8)
    result = segment(image, diameter=(40, 100), declump=declump, size_filter=False)
    assert result.count == (1 if declump == "none" else 2)


def test_size_filter_and_border():
    image = two_disks()
    image[5:12, 100:107] = 200  # debris far smaller than the minimum diameter
    image[50:80, 0:15] = 200  # a nucleus cut by the frame
    kept = segment(image, diameter=(40, 100))
    assert kept.count == 3
    unfiltered = segment(image, diameter=(40, 100), size_filter=False)
    assert unfiltered.count == 4
    inside = segment(image, diameter=(40, 100), exclude_border=True)
    assert inside.count == 2


def test_tutorial_voronoi_covers_image():
    result = segment(two_disks(), "tutorial", voronoi=True)
    assert (result.labels > 0).all()


# -- input validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("settings, name", [
    ({"diametre": (10, 20)}, "diametre"),
    ({"diameter": 30}, "diameter"),
    ({"diameter": (30, 10)}, "diameter"),
    ({"diameter": (0, 10)}, "diameter"),
    ({"diameter": ("a", "b")}, "diameter"),
    ({"diameter": (10, 20, 30)}, "diameter"),
    ({"threshold": "triangle"}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"threshold_correction": -1}, "threshold_correction"),
    ({"declump": "yes"}, "declump"),
    ({"fill_holes": "no"}, "fill_holes"),
    ({"size_filter": 1}, "size_filter"),
    ({"sigma": -2}, "sigma"),
    ({"min_seed_distance": 0}, "min_seed_distance"),
    ({"voronoi": True}, "voronoi"),  # a tutorial setting, unknown to 'default'
])
def test_bad_settings_raise(settings, name):
    with pytest.raises(ValueError, match=name):
        segment(two_disks(), **settings)


def test_bad_recipe_raises():
    with pytest.raises(ValueError, match="recipe"):
        segment(two_disks(), "best")
    with pytest.raises(ValueError, match="diameter"):
        segment(two_disks(), "tutorial", diameter=(10, 20))


def test_colour_images():
    grey = two_disks()
    colour = np.stack([grey, grey, grey], axis=-1)
    np.testing.assert_array_equal(segment(colour).labels, segment(grey).labels)
    rgba = np.concatenate([colour, np.full(grey.shape + (1,), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(segment(rgba).labels, segment(grey).labels)
    colour[..., 1] = 0
    with pytest.raises(ValueError, match="channel"):
        segment(colour)
    result = segment(colour, channel=0)
    np.testing.assert_array_equal(result.labels, segment(grey).labels)
    assert result.settings["channel"] == 0
    np.testing.assert_array_equal(segment(colour, **result.settings).labels, result.labels)
    with pytest.raises(ValueError, match="channel"):
        segment(colour, channel=3)
    with pytest.raises(ValueError, match="channel"):
        segment(grey, channel=0)


@pytest.mark.parametrize("image", [np.zeros((4, 5, 6)), np.zeros(5), np.zeros((2, 2, 2, 2))])
def test_bad_shapes_raise(image):
    with pytest.raises(ValueError, match="image"):
        segment(image)


def test_non_numeric_raises():
    with pytest.raises(TypeError, match="image"):
        segment(np.full((5, 5), "a"))


# -- edge images, dtypes and layouts -------------------------------------------------------------

@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("image", [
    np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8),
    np.full((30, 40), 7.5), np.zeros((1, 1), np.uint8), np.full((1, 1), 3.0),
    np.zeros((1, 50), np.uint16),
], ids=["black", "saturated", "constant", "1x1", "1x1-float", "1xN"])
def test_edge_images_give_no_nuclei(recipe, image):
    result = segment(image, recipe)
    assert result.count == 0
    assert result.labels.shape == image.shape
    assert not result.labels.any()
    assert_consecutive(result)


@pytest.mark.parametrize("dtype, scale", [
    (np.uint8, 1), (np.uint16, 257), (np.uint32, 1000), (np.uint64, 3), (np.int8, 0.5),
    (np.int16, 100), (np.int32, 1), (np.int64, 1), (np.float32, 1 / 255),
    (np.float64, 1 / 255), (np.float64, 1e6), (bool, None),
])
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_dtype_matches_uint8(dtype, scale, recipe):
    reference = segment(two_disks(), recipe)
    image = two_disks() > 100 if dtype is bool else two_disks(np.float64, scale).astype(dtype)
    result = segment(image, recipe)
    assert_consecutive(result)
    assert result.count == reference.count
    if dtype is bool:  # a mask, not an intensity image: its outlines differ
        return
    if recipe == "default":
        # Scaling the intensities scales the mean threshold: same labels.
        np.testing.assert_array_equal(result.labels, reference.labels)
    else:
        # Otsu's histogram bins change with the scale (whole steps for
        # integers, 4096 levels for floats): the outlines may move a little.
        agreement = np.mean((result.labels > 0) == (reference.labels > 0))
        assert agreement > 0.98


@pytest.mark.parametrize("layout", ["strided", "fortran", "big-endian", "read-only"])
def test_layouts(layout):
    base = np.zeros((240, 400), np.uint8)
    base[::2, ::2] = two_disks()
    expected = segment(two_disks()).labels
    if layout == "strided":
        image = base[::2, ::2]
    elif layout == "fortran":
        image = np.asfortranarray(two_disks())
    elif layout == "big-endian":
        image = two_disks(np.float64).astype(">f8")
    else:
        image = two_disks()
        image.flags.writeable = False
    np.testing.assert_array_equal(segment(image).labels, expected)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2 ** 32 - 1),
       st.sampled_from(["shape", "intensity", "none"]))
def test_random_images_are_labelled_foreground(rows, cols, seed, declump):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (rows, cols)).astype(np.uint8)
    result = segment(image, diameter=(4, 40), declump=declump, fill_holes=False)
    assert_consecutive(result)
    smoothed = mahotas.gaussian_filter(image, result.settings["sigma"])
    # Every labelled pixel is above the threshold (the watershed stays inside
    # the foreground); with no declumping every object is one whole component.
    assert (smoothed[result.labels > 0] > result.threshold).all()
    if declump == "none":
        components, _ = mahotas.label(smoothed > result.threshold, Bc=np.ones((3, 3)))
        sizes = mahotas.labeled.labeled_size(components)
        big = np.isin(components, np.flatnonzero(sizes >= np.pi * 4)) & (components > 0)
        assert ((result.labels > 0) == big).all() or result.settings["size_filter"]


def test_table_measures_lazily():
    result = segment(two_disks(), diameter=(40, 100))
    table = result.table
    assert len(table) == result.count


# -- quality on the hand-segmented collection ----------------------------------------------------

def _scores(name: str) -> tuple[dict, dict]:
    from karyo.nuclei.evaluate import evaluate

    image, truth = load_u2os(name)
    labels = segment(image).labels
    return evaluate(labels, truth, paper_compatible=True), evaluate(labels, truth)


@pytest.mark.slow
def test_default_beats_paper_on_u2os(u2os_dir):
    names = u2os_names()
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_scores, names))
    paper = {key: np.mean([r[0][key] for r in results]) for key in results[0][0]}
    f1 = np.mean([r[1]["f1"] for r in results])
    # The merging algorithm's row of Table 2 (Coelho et al. 2009), U2OS column.
    assert paper["rand_index"] >= 0.96
    assert paper["hausdorff"] < 12.9
    assert 10 * paper["nsd"] < 0.7
    assert paper["split"] < 1.8
    assert paper["merged"] < 2.1
    assert paper["spurious"] < 1.0
    assert paper["missing"] < 3.3
    assert f1 >= 0.90
