"""Train the default recipe's merge model (karyo.nuclei.merging) on DSB2018's even half.

The Data Science Bowl 2018 fluorescence images (CC0) are segmented with the
default settings; every pair of adjacent basins of the shape declumping that
lies inside hand-drawn nuclei is one example (the same nucleus or two), and a
logistic regression over the pair's features is fitted with a fixed number of
Newton steps. Only the even positions of the sorted names are used, so that
the odd half and the U2OS collection (evaluation only) check the model. The
result is written to ``src/karyo/nuclei/merge_model.json``::

    python training/train_merge.py                  # about a minute on two cores
    python benchmarks/score.py --jobs 2             # then check it

The merge threshold (0.25: merge pairs more than 25% likely to be one nucleus)
was chosen by scoring the even halves of DSB2018 and U2OS at 0.2, 0.25 and 0.3
(``benchmarks/score.py --half even``); it trades splits against merges.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from score import DATA, image_names, load  # noqa: E402

from karyo.nuclei.merging import FEATURES, MergeModel, fit_merge_model  # noqa: E402
from karyo.nuclei.segment import basin_pairs  # noqa: E402

MODEL = ROOT / "src" / "karyo" / "nuclei" / "merge_model.json"


def examples(job) -> tuple[np.ndarray, np.ndarray]:
    name, model = job
    image, truth = load(DATA / "dsb2018", name, 1)
    return basin_pairs(image, truth, model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.25,
                        help="merge pairs more likely than this to be one nucleus")
    parser.add_argument("--rounds", type=int, default=1,
                        help="refit on the pairs of every merge round this many times")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=MODEL)
    args = parser.parse_args()
    names = image_names(DATA / "dsb2018")[0::2]
    # First the basins' own pairs (a model that merges nothing has one round),
    # then, with each fitted model, the pairs of every round it merges.
    model = MergeModel(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), np.zeros(len(FEATURES)),
                       0.0, threshold=1.0)
    for _ in range(1 + args.rounds):
        with ProcessPoolExecutor(args.jobs) as pool:
            found = list(pool.map(examples, [(name, model) for name in names]))
        features = np.concatenate([f for f, _ in found])
        same = np.concatenate([s for _, s in found])
        model = fit_merge_model(features, same, threshold=args.threshold)
    data = {**model.to_json(), "trained_on": f"DSB2018, even half ({len(names)} images)",
            "examples": int(len(same)), "same_nucleus": int(same.sum())}
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    accuracy = np.mean((model.probability(features) > model.threshold) == same)
    print(f"{len(same)} pairs ({same.sum()} one nucleus) from {len(names)} images; "
          f"training accuracy {accuracy:.3f} at threshold {model.threshold}; wrote {args.out}")


if __name__ == "__main__":
    main()
