"""karyo.nuclei.evaluate against naive implementations and worked cases.

The oracles here follow the definitions word for word, pixel pair by pixel
pair and pixel by pixel (O(n^2)), so they only run on small images.
"""

from __future__ import annotations

import importlib
import math

import mahotas
import numpy as np
import pytest
from conftest import load_u2os
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import directed_hausdorff

evaluate_module = importlib.import_module("karyo.nuclei.evaluate")
evaluate = evaluate_module.evaluate
SCORE_NAMES = evaluate_module.SCORE_NAMES

LABEL_DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.uint64]


# ----------------------------------------------------------------- naive oracles

def naive_pair_counts(labels: np.ndarray, truth: np.ndarray) -> tuple[int, int, int, int]:
    """a, b, c, d over all pixel pairs i < j, by comparing every pair."""
    pred, ref = labels.ravel(), truth.ravel()
    upper = np.triu(np.ones((pred.size, pred.size), bool), 1)
    same_pred = (pred[:, None] == pred[None, :])[upper]
    same_ref = (ref[:, None] == ref[None, :])[upper]
    return (int(np.sum(same_pred & same_ref)), int(np.sum(same_pred & ~same_ref)),
            int(np.sum(~same_pred & same_ref)), int(np.sum(~same_pred & ~same_ref)))


def best_overlap(own: np.ndarray, other: np.ndarray, label: int) -> int:
    """The label of `other`, background included, most overlapping `own == label`."""
    candidates = np.unique(other)
    overlaps = [np.sum((own == label) & (other == value)) for value in candidates]
    return int(candidates[int(np.argmax(overlaps))])  # argmax: ties to the lowest label


def naive_border_distance(reference: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the nearest pixel of the other side of `reference`."""
    coords = np.argwhere(np.ones(reference.shape, bool))
    inside = reference.ravel()
    pairwise = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    other_side = inside[:, None] != inside[None, :]
    return np.where(other_side, pairwise, np.inf).min(1).reshape(reference.shape)


def naive_object_distances(labels, truth, pred_label, truth_label, margin):
    both = (labels == pred_label) | (truth == truth_label)
    rows, cols = np.nonzero(both)
    crop = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    reference = truth[crop] == truth_label
    segmented = labels[crop] == pred_label
    if margin or reference.all():
        reference, segmented = np.pad(reference, 1), np.pad(segmented, 1)
    distance = naive_border_distance(reference)
    wrong = reference != segmented
    if not wrong.any():
        return 0.0, 0.0
    return distance[wrong].max(), distance[wrong].sum() / distance[reference | segmented].sum()


def naive_scores(labels: np.ndarray, truth: np.ndarray, paper: bool) -> dict[str, float]:
    """The documented definitions, one object at a time."""
    preds = [int(v) for v in np.unique(labels) if v]
    refs = [int(v) for v in np.unique(truth) if v]
    best_ref = {p: best_overlap(labels, truth, p) for p in preds}
    best_pred = {r: best_overlap(truth, labels, r) for r in refs}
    if paper:
        pairs = [(p, best_ref[p]) for p in preds]
    else:
        pairs = [(best_pred[r], r) for r in refs]
    nsds, hausdorffs = [], []
    for pred_label, truth_label in pairs:
        if pred_label == 0 or truth_label == 0:
            nsds.append(1.0)
            continue
        hausdorff, nsd = naive_object_distances(labels, truth, pred_label, truth_label,
                                                margin=not paper)
        nsds.append(nsd)
        hausdorffs.append(hausdorff)
    empty_nsd, empty_hausdorff = (1.0, 128.0) if paper else (math.nan, math.nan)
    return {
        "nsd": np.mean(nsds) if nsds else empty_nsd,
        "hausdorff": np.mean(hausdorffs) if hausdorffs else empty_hausdorff,
        "spurious": sum(best_ref[p] == 0 for p in preds),
        "missing": sum(best_pred[r] == 0 for r in refs),
        "split": sum(sum(best_ref[p] == r for p in preds) >= 2 for r in refs),
        "merged": sum(sum(best_pred[r] == p for r in refs) >= 2 for p in preds),
    }


def naive_iou_matches(labels, truth, threshold):
    matches = 0
    for r in np.unique(truth[truth > 0]):
        for p in np.unique(labels[labels > 0]):
            intersection = np.sum((truth == r) & (labels == p))
            union = np.sum((truth == r) | (labels == p))
            matches += intersection / union > threshold
    return matches


def consecutive(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 1..n in increasing order (the paper's inputs were)."""
    values = np.unique(labels)
    values = values[values > 0]
    return np.where(labels > 0, np.searchsorted(values, labels) + 1, 0)


# ----------------------------------------------------------------- strategies

@st.composite
def label_pairs(draw, max_side=9):
    shape = draw(st.tuples(st.integers(1, max_side), st.integers(1, max_side)))
    dtype = draw(st.sampled_from(LABEL_DTYPES))
    truth = draw(hnp.arrays(dtype, shape, elements=st.integers(0, 4)))
    labels = draw(hnp.arrays(dtype, shape, elements=st.integers(0, 4)))
    # Sometimes a perturbed copy of the truth, closer to real use.
    if draw(st.booleans()):
        keep = draw(hnp.arrays(bool, shape))
        labels = np.where(keep, truth, labels).astype(dtype)
    labels = labels * draw(st.sampled_from([1, 3, 40]))
    return labels, truth


# ----------------------------------------------------------------- tests

@given(label_pairs(), st.booleans())
def test_rand_and_jaccard_match_naive_pair_counting(pair, paper):
    labels, truth = pair
    a, b, c, d = naive_pair_counts(labels, truth)
    scores = evaluate(labels, truth, paper_compatible=paper)
    total = a + b + c + d
    if total:
        assert scores["rand_index"] == pytest.approx((a + d) / total)
    else:
        assert math.isnan(scores["rand_index"])
    if b + c + d:
        assert scores["jaccard_index"] == pytest.approx((a + d) / (b + c + d))
    else:
        assert math.isnan(scores["jaccard_index"])


@given(label_pairs(max_side=7))
def test_default_mode_matches_the_definitions(pair):
    labels, truth = pair
    scores = evaluate(labels, truth)
    expected = naive_scores(labels, truth, paper=False)
    for name in ("spurious", "missing", "split", "merged"):
        assert scores[name] == expected[name], name
    for name in ("nsd", "hausdorff"):
        np.testing.assert_allclose(scores[name], expected[name], rtol=1e-9, err_msg=name)


@given(label_pairs(max_side=7))
def test_paper_mode_distances_match_the_published_definition(pair):
    labels, truth = consecutive(pair[0]), consecutive(pair[1])
    scores = evaluate(labels, truth, paper_compatible=True)
    expected = naive_scores(labels, truth, paper=True)
    for name in ("spurious", "missing"):
        assert scores[name] == expected[name], name
    for name in ("nsd", "hausdorff"):
        np.testing.assert_allclose(scores[name], expected[name], rtol=1e-9, err_msg=name)


@given(label_pairs())
def test_f1_and_average_precision_match_naive_iou_matching(pair):
    labels, truth = pair
    scores = evaluate(labels, truth)
    n_pred = len(np.unique(labels[labels > 0]))
    n_truth = len(np.unique(truth[truth > 0]))
    assert (scores["n_pred"], scores["n_truth"]) == (n_pred, n_truth)
    if n_pred + n_truth == 0:
        assert scores["f1"] == scores["average_precision"] == 1.0
        return
    matches = [naive_iou_matches(labels, truth, t) for t in np.arange(0.5, 0.96, 0.05)]
    assert scores["f1"] == pytest.approx(2 * matches[0] / (n_pred + n_truth))
    assert scores["average_precision"] == pytest.approx(
        np.mean([m / (n_pred + n_truth - m) for m in matches]))


@given(label_pairs(), st.sampled_from(["fortran", "strided", "big_endian", "read_only"]))
def test_memory_layouts_give_the_same_scores(pair, layout):
    labels, truth = pair

    def as_layout(array):
        if layout == "fortran":
            return np.asfortranarray(array)
        if layout == "strided":
            wide = np.zeros((array.shape[0] * 2, array.shape[1] * 3), array.dtype)
            wide[::2, ::3] = array
            return wide[::2, ::3]
        if layout == "big_endian":
            return array.astype(array.dtype.newbyteorder(">"))
        read_only = array.copy()
        read_only.flags.writeable = False
        return read_only

    expected = evaluate(labels, truth)
    scores = evaluate(as_layout(labels), as_layout(truth))
    np.testing.assert_equal(scores, expected)


def test_hand_worked_f1_and_average_precision():
    truth = np.zeros((30, 40), np.uint8)
    truth[2:12, 2:12] = 1
    truth[15:25, 15:25] = 2
    labels = np.zeros_like(truth)
    labels[2:12, 2:12] = 5                     # exact: IoU 1
    labels[15:25, 17:27] = 6                   # shifted by 2: IoU 80 / 120 = 0.667
    labels[26:29, 30:33] = 7                   # spurious
    scores = evaluate(labels, truth)
    assert scores["f1"] == pytest.approx(2 * 2 / (3 + 2))
    # IoU 0.667 passes the thresholds 0.5 to 0.65 (4 of 10): TP 2, FP 1, FN 0;
    # above, TP 1, FP 2, FN 1.
    assert scores["average_precision"] == pytest.approx((4 * 2 / 3 + 6 * 1 / 4) / 10)
    assert (scores["spurious"], scores["missing"]) == (1, 0)


def test_perfect_segmentation_in_both_modes():
    truth = np.zeros((20, 20), np.uint16)
    truth[1:5, 1:5] = 1
    truth[1:5, 10:15] = 2
    truth[10:18, 3:9] = 3
    truth[12:19, 12:19] = 4
    scores = evaluate(truth, truth)
    assert (scores["split"], scores["merged"], scores["spurious"], scores["missing"]) == (0,) * 4
    assert (scores["rand_index"], scores["nsd"], scores["hausdorff"]) == (1.0, 0.0, 0.0)
    # The published code's binning puts labels 3 and 4 in one bin: one split
    # and (that bin not being ignored) one merge, for a perfect segmentation.
    paper = evaluate(truth, truth, paper_compatible=True)
    assert (paper["split"], paper["merged"]) == (1, 1)
    assert (paper["spurious"], paper["missing"]) == (0, 0)

    # One spurious object: the background's bin now holds two entries.
    labels = truth.copy()
    labels[7, 17:19] = 5
    paper = evaluate(labels, truth, paper_compatible=True)
    assert (paper["split"], paper["spurious"]) == (2, 1)
    default = evaluate(labels, truth)
    assert (default["split"], default["spurious"]) == (0, 1)


def test_split_and_merged_in_default_mode():
    truth = np.zeros((10, 20), np.uint8)
    truth[1:9, 1:9] = 1
    truth[1:9, 11:14] = 2
    truth[1:9, 15:19] = 3
    labels = np.zeros_like(truth)
    labels[1:9, 1:5] = 1                       # truth 1 split in two
    labels[1:9, 5:9] = 2
    labels[1:9, 11:19] = 3                     # truths 2 and 3 merged
    scores = evaluate(labels, truth)
    assert (scores["split"], scores["merged"]) == (1, 1)
    assert (scores["n_pred"], scores["n_truth"]) == (3, 3)


def test_paper_crop_overstates_distances_at_the_crop_edge():
    # Reference: a 5x5 square without its bottom-right corner; segmentation:
    # the same without the reference's left column. The union's box is the
    # reference's box, whose only outside pixel is that corner.
    truth = np.zeros((12, 12), np.uint8)
    truth[2:7, 2:7] = 1
    truth[6, 6] = 0
    labels = truth.copy()
    labels[:, 2] = 0
    default = evaluate(labels, truth)
    paper = evaluate(labels, truth, paper_compatible=True)
    # True distance: the left column is next to the outside (distance 1).
    assert default["hausdorff"] == 1.0
    # Paper: the left column's distance is to the corner (6, 6).
    wrong_column = [math.hypot(6 - row, 4) for row in range(2, 7)]
    assert paper["hausdorff"] == pytest.approx(math.sqrt(32))
    reference_pixels = [(r, c) for r in range(2, 7) for c in range(2, 7) if (r, c) != (6, 6)]
    paper_total = sum(math.hypot(6 - r, 6 - c) for r, c in reference_pixels)
    assert paper["nsd"] == pytest.approx(sum(wrong_column) / paper_total)
    # Default: NSD = 5 wrong pixels at distance 1 over the reference's true
    # distances (the segmentation lies inside the reference).
    true_distance = naive_border_distance(np.pad(truth[2:7, 2:7] == 1, 1))
    true_total = true_distance[1:-1, 1:-1][truth[2:7, 2:7] == 1].sum()
    assert default["nsd"] == pytest.approx(5 / true_total)
    assert paper["hausdorff"] > default["hausdorff"]


@given(st.integers(3, 9), st.integers(3, 9), st.integers(0, 4), st.integers(0, 4),
       st.integers(0, 5), st.integers(0, 5))
def test_hausdorff_of_a_superset_is_scipys_directed_hausdorff(height, width, top, left,
                                                              grow_y, grow_x):
    # When the segmentation contains the reference, every wrong pixel lies
    # outside it and D is its distance to the reference: the maximum is the
    # directed Hausdorff distance from the segmentation to the reference.
    truth = np.zeros((24, 24), np.uint8)
    truth[5 + top:5 + top + height, 5 + left:5 + left + width] = 3
    labels = mahotas.dilate(truth > 0, np.ones((2 * grow_y + 1, 2 * grow_x + 1), bool))
    labels = labels.astype(np.uint8) * 2
    expected = directed_hausdorff(np.argwhere(labels), np.argwhere(truth))[0]
    assert evaluate(labels, truth)["hausdorff"] == pytest.approx(expected)
    # The paper matches the segmented object to the reference only if it
    # overlaps it more than background (else it is spurious, and excluded).
    if np.count_nonzero(labels) < 2 * np.count_nonzero(truth):
        paper = evaluate(labels, truth, paper_compatible=True)
        assert paper["hausdorff"] == pytest.approx(expected)


def test_empty_images():
    empty = np.zeros((5, 6), np.uint8)
    scores = evaluate(empty, empty)
    assert (scores["f1"], scores["average_precision"], scores["rand_index"]) == (1.0, 1.0, 1.0)
    assert math.isnan(scores["nsd"]) and math.isnan(scores["hausdorff"])
    # The published code's values when there is nothing to average.
    paper = evaluate(empty, empty, paper_compatible=True)
    assert (paper["nsd"], paper["hausdorff"], paper["split"], paper["merged"]) == (1, 128, 0, 0)
    truth = empty.copy()
    truth[1:3, 1:3] = 1
    scores = evaluate(empty, truth)
    assert (scores["missing"], scores["nsd"], scores["f1"]) == (1, 1.0, 0.0)


@pytest.mark.parametrize("name", ["dna-0.png", "dna-20.png"])
def test_u2os_truth_against_itself_and_perturbations(u2os_dir, name):
    _, truth = load_u2os(name)
    n_truth = len(np.unique(truth)) - 1
    perfect = evaluate(truth, truth)
    assert perfect["rand_index"] == 1.0 and perfect["f1"] == 1.0
    assert (perfect["nsd"], perfect["hausdorff"], perfect["split"]) == (0.0, 0.0, 0)
    assert perfect["n_truth"] == perfect["n_pred"] == n_truth

    # Growing every nucleus by one pixel: the directed Hausdorff distance of
    # each grown nucleus to its original is 1 (or 0 where growth is blocked).
    grown = mahotas.dilate(truth)
    scores = evaluate(grown, truth)
    assert 0.5 < scores["hausdorff"] <= 1.0
    assert scores["missing"] == scores["spurious"] == 0
    assert scores["rand_index"] < 1.0

    # Merging everything into one object (on a corner, to keep this fast:
    # each nucleus then needs a distance transform of the whole box).
    corner = truth[:500, :500]
    merged = evaluate((corner > 0).astype(np.uint8), corner)
    assert merged["merged"] == 1 and merged["n_pred"] == 1
    assert merged["n_truth"] > 5 and merged["f1"] < 0.3

    # Scrambled label values do not change anything.
    permutation = np.random.default_rng(0).permutation(np.arange(1, 256))
    scrambled = np.where(truth > 0, permutation[truth.astype(int) - 1] * 1000, 0)
    np.testing.assert_equal(evaluate(scrambled, truth), perfect)


@pytest.mark.parametrize(("labels", "truth", "kwargs", "error", "argument"), [
    (np.zeros((3, 3), np.float32), np.zeros((3, 3), np.uint8), {}, TypeError, "labels"),
    (np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.float64), {}, TypeError, "truth"),
    (np.full((3, 3), -2, np.int16), np.zeros((3, 3), np.uint8), {}, ValueError, "labels"),
    (np.zeros((3, 3), np.uint8), np.full((3, 3), -1, np.int64), {}, ValueError, "truth"),
    (np.zeros((3, 3), np.uint8), np.zeros((3, 4), np.uint8), {}, ValueError, "truth"),
    (np.zeros((3, 3, 2), np.uint8), np.zeros((3, 3, 2), np.uint8), {}, ValueError, "labels"),
    (np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.uint8), {"paper_compatible": "yes"},
     TypeError, "paper_compatible"),
])
def test_bad_arguments_are_named(labels, truth, kwargs, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        evaluate(labels, truth, **kwargs)


def test_scores_are_keyed_in_order():
    truth = np.zeros((4, 4), np.uint8)
    truth[1:3, 1:3] = 1
    assert tuple(evaluate(truth, truth)) == SCORE_NAMES
