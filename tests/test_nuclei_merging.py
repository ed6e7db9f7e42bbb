"""Tests for karyo.nuclei.merging: the learned merge of watershed basins."""

import json
import math
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.measure import regionprops

from karyo.nuclei.merging import (
    FEATURES,
    MergeModel,
    fit_merge_model,
    load_merge_model,
    merge_basins,
    pair_features,
)
from karyo.segmentation import gvoronoi


def _disk_heights(shape, centres, radius):
    """Basins, a distance-like height and brightness of disks of `radius` at `centres`."""
    yy, xx = np.indices(shape)
    height = np.zeros(shape)
    for row, col in centres:
        height = np.maximum(height, radius - np.hypot(yy - row, xx - col))
    foreground = height > 0
    seeds = np.zeros(shape, np.int32)
    for index, (row, col) in enumerate(centres, 1):
        seeds[row, col] = index
    basins = np.where(foreground, gvoronoi(seeds), 0).astype(np.int32)
    return basins, np.where(foreground, height, 0), np.where(foreground, height, 0)


def test_shipped_model_is_small_and_matches_the_features():
    text = resources.files("karyo.nuclei").joinpath("merge_model.json").read_text("utf-8")
    assert len(text.encode()) < 5 * 2 ** 20
    data = json.loads(text)
    assert tuple(data["features"]) == FEATURES
    model = load_merge_model()
    assert model.weights.shape == model.mean.shape == model.scale.shape == (len(FEATURES),)
    assert 0 < model.threshold < 1
    assert np.all(model.scale > 0)
    # It was trained on DSB2018's even half (training/train_merge.py).
    assert "DSB2018" in data["trained_on"] and data["examples"] > 1000


def test_model_with_other_features_is_refused():
    data = load_merge_model().to_json()
    data["features"] = data["features"][::-1]
    with pytest.raises(ValueError, match="features"):
        MergeModel.from_json(data)


def test_fit_recovers_the_weights_of_a_logistic_model():
    rng = np.random.default_rng(1)
    features = rng.normal(2.0, 3.0, size=(20000, len(FEATURES)))
    true_weights = np.linspace(-1.5, 1.5, len(FEATURES))
    standardised = (features - features.mean(0)) / features.std(0)
    probability = 1 / (1 + np.exp(-(0.5 + standardised @ true_weights)))
    same = rng.random(len(features)) < probability
    model = fit_merge_model(features, same, penalty=0.0)
    np.testing.assert_allclose(model.weights, true_weights, atol=0.08)
    assert model.intercept == pytest.approx(0.5, abs=0.08)
    np.testing.assert_allclose(model.probability(features), probability, atol=0.1)


def test_fit_is_the_same_on_every_run():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(300, len(FEATURES)))
    same = features[:, 0] + rng.normal(size=300) > 0
    first, second = fit_merge_model(features, same), fit_merge_model(features, same)
    assert first.to_json() == second.to_json()


@pytest.mark.parametrize(("features", "same", "match"), [
    (np.zeros((4, 3)), [True, False, True, False], "features"),
    (np.zeros((4, len(FEATURES))), [True, True, True, True], "both values"),
    (np.zeros((4, len(FEATURES))), [True, False], "one flag per row"),
])
def test_fit_rejects_bad_input(features, same, match):
    with pytest.raises(ValueError, match=match):
        fit_merge_model(features, same)


def test_two_touching_disks_stay_apart_and_a_cut_ellipse_is_whole():
    basins, height, brightness = _disk_heights((80, 140), [(40, 45), (40, 95)], 27)
    assert merge_basins(basins, height, brightness).max() == 2
    yy, xx = np.mgrid[:60, :90]
    inside = ((yy - 30) / 14.0) ** 2 + ((xx - 45) / 20.0) ** 2
    ellipse = inside <= 1
    for cut in (35, 45, 55):  # one nucleus flooded as two basins
        basins = np.where(ellipse, 1 + (xx >= cut), 0).astype(np.int32)
        height = np.where(ellipse, (1 - inside) * 14, 0)
        assert merge_basins(basins, height, height).max() == 1, cut


def test_no_pairs():
    basins = np.zeros((10, 10), np.int32)
    basins[2:5, 2:5] = 3
    assert merge_basins(basins, basins * 1.0, basins * 1.0).max() == 1
    pairs, features = pair_features(np.zeros((0, 4), np.int32), np.zeros((0, 4)),
                                    np.zeros((0, 4)))
    assert pairs.shape == (0, 2) and features.shape == (0, len(FEATURES))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), count=st.integers(2, 7))
def test_union_features_match_scikit_image(seed, count):
    # Random disks split among random seeds: each pair's union measured by
    # scikit-image directly against the features computed from the basins.
    rng = np.random.default_rng(seed)
    centres = [tuple(rng.integers(10, 50, size=2)) for _ in range(count)]
    basins, height, brightness = _disk_heights((60, 60), centres, rng.uniform(6, 14))
    pairs, features = pair_features(basins, height, brightness, 20.0)
    column = {name: features[:, index] for index, name in enumerate(FEATURES)}
    regions = {region.label: region for region in regionprops(basins)}
    for index, (a, b) in enumerate(pairs):
        union = regionprops(np.isin(basins, [a, b]).astype(np.uint8))[0]
        assert column["union_solidity"][index] == pytest.approx(union.solidity, rel=1e-6)
        ellipse = math.pi * union.axis_major_length * union.axis_minor_length / 4
        if union.axis_minor_length > 0:
            assert column["union_ellipse_fill"][index] == pytest.approx(union.area / ellipse,
                                                                        rel=1e-6)
        assert column["union_area"][index] == pytest.approx(
            math.log(union.area / (math.pi * 100)))
        small, large = sorted((regions[a].area, regions[b].area))
        assert column["area_ratio"][index] == pytest.approx(math.log(small / large))
        assert column["least_solidity"][index] == pytest.approx(
            min(regions[a].solidity, regions[b].solidity), rel=1e-6)
        # Only neighbours are pairs: some pixel of a has a 4-neighbour in b.
        grown = np.zeros_like(basins, bool)
        grown[1:] |= basins[:-1] == a
        grown[:-1] |= basins[1:] == a
        grown[:, 1:] |= basins[:, :-1] == a
        grown[:, :-1] |= basins[:, 1:] == a
        assert (grown & (basins == b)).any()
    assert np.isfinite(features).all()
