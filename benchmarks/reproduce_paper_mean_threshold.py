"""Reproduce the "mean threshold" row of Coelho et al. (ISBI 2009), Table 2, U2OS.

Segments every U2OS image by a mean threshold of the raw image, a 5x5
majority filter and a 2500-pixel size filter (with mahotas, the peer the
recipe was written for), scores it with ``karyo.nuclei.evaluate`` in
``paper_compatible`` mode (and, for comparison, the default mode), and prints
the means over the images beside the published row.

Run from the project's root: ``.venv/bin/python benchmarks/reproduce_paper_mean_threshold.py``.
The data are looked for in ``../shared/data/u2os`` (see its README).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import mahotas
import numpy as np
from PIL import Image

from karyo.nuclei.evaluate import evaluate

U2OS = Path(__file__).resolve().parents[2] / "shared" / "data" / "u2os"
PUBLISHED = {"rand_index": 0.96, "jaccard_index": 2.2, "hausdorff": 26.5, "nsd_x10": 1.0,
             "split": 1.3, "merged": 3.4, "spurious": 0.9, "missing": 3.6}
MIN_SIZE = 2500


def mean_threshold_segmentation(image: np.ndarray) -> np.ndarray:
    """Mean threshold, 5x5 majority filter, objects of 2500 pixels or more."""
    foreground = mahotas.majority_filter(image > image.mean(), 5)
    labelled, _ = mahotas.label(foreground)
    sizes = mahotas.labeled.labeled_size(labelled)
    labelled = mahotas.labeled.remove_regions_where(labelled, sizes < MIN_SIZE)
    labelled, _ = mahotas.labeled.relabel(labelled)
    return labelled


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(U2OS / "images" / name))
    truth = np.asarray(Image.open(U2OS / "labels" / name))
    if image.ndim == 3:
        image = image[..., 0]
    if truth.ndim == 3:
        truth = truth[..., 0]
    return image, truth


def main() -> int:
    if not (U2OS / "images").is_dir():
        print(f"The U2OS collection is not at {U2OS}", file=sys.stderr)
        return 1
    names = sorted((p.name for p in (U2OS / "images").glob("dna-*.png")),
                   key=lambda name: int(name[4:-4]))
    rows = {True: [], False: []}
    scoring_time = 0.0
    for name in names:
        image, truth = load(name)
        segmented = mean_threshold_segmentation(image)
        for paper_compatible in (True, False):
            start = time.perf_counter()
            scores = evaluate(segmented, truth, paper_compatible=paper_compatible)
            scoring_time += time.perf_counter() - start
            scores["nsd_x10"] = 10 * scores.pop("nsd")
            rows[paper_compatible].append(scores)

    columns = list(PUBLISHED)
    print(f"{len(names)} images; mean scoring time {scoring_time / (2 * len(names)):.3f} s")
    print(f"{'':>10} " + " ".join(f"{c:>13}" for c in columns))
    print(f"{'published':>10} " + " ".join(f"{PUBLISHED[c]:>13.2f}" for c in columns))
    for paper_compatible, title in ((True, "paper"), (False, "default")):
        means = {c: np.nanmean([row[c] for row in rows[paper_compatible]]) for c in columns}
        print(f"{title:>10} " + " ".join(f"{means[c]:>13.2f}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
