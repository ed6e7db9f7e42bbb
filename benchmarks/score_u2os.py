"""Score karyo's nucleus segmentation recipes on the hand-segmented U2OS collection.

Runs each recipe with its default settings on all 48 images of Coelho et al.
(ISBI 2009, doi:10.1109/ISBI.2009.5193098), scores it with
``karyo.nuclei.evaluate.evaluate`` in paper-compatible mode (comparable with
the paper's Table 2) and in the default mode, and prints markdown tables with
the paper's rows beside ours. The default recipe's settings were chosen on the
even-numbered images (the training half) and are reported on all 48 images
and on the odd-numbered half, which played no part in choosing them.

    python benchmarks/score_u2os.py [--data ../shared/data/u2os] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

COLUMNS = ("RI", "Hausdorff", "NSD x10", "split", "merged", "spurious", "missing", "F1")

# Coelho et al. 2009, Table 2, U2OS column (F1 was not reported).
PAPER_ROWS = {
    "paper: second human annotator": (0.95, 9.7, 0.5, 1.6, 1.0, 0.8, 2.2, None),
    "paper: mean threshold": (0.96, 26.5, 1.0, 1.3, 3.4, 0.9, 3.6, None),
    "paper: merging algorithm (Lin et al.)": (0.96, 12.9, 0.7, 1.8, 2.1, 1.0, 3.3, None),
}
TRAINING = "even-numbered images (dna-0, dna-2, ...)"


def image_names(data: Path) -> list[str]:
    return sorted((p.name for p in (data / "images").glob("dna-*.png")),
                  key=lambda name: int(name[4:-4]))


def load(data: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(data / "images" / name))
    truth = np.asarray(Image.open(data / "labels" / name))
    image = image[..., 0] if image.ndim == 3 else image
    truth = truth[..., 0] if truth.ndim == 3 else truth
    return np.ascontiguousarray(image), np.ascontiguousarray(truth)


def mahotas_tutorial(image: np.ndarray) -> np.ndarray:
    """The tutorial recipe's steps, run by mahotas itself (the reference for speed)."""
    import mahotas

    smoothed = mahotas.gaussian_filter(image, 8)
    seeds, _ = mahotas.label(mahotas.regmax(smoothed))
    low = smoothed.min()
    threshold = low + mahotas.thresholding.otsu(np.rint(smoothed - low).astype(np.uint16))
    foreground = smoothed > threshold
    distance = mahotas.distance(foreground)
    surface = distance.max() - distance
    surface -= surface.min()
    if surface.max() > 0:
        surface = surface / surface.max() * 255
    nuclei = mahotas.cwatershed(surface.astype(np.uint8), seeds)
    labels, _ = mahotas.labeled.relabel((nuclei * foreground).astype(np.int32))
    return labels


def metric_row(scores) -> tuple[float, ...]:
    def get(key):
        return float(scores[key] if isinstance(scores, dict) else getattr(scores, key))
    return (get("rand_index"), get("hausdorff"), 10 * get("nsd"), get("split"),
            get("merged"), get("spurious"), get("missing"), get("f1"))


def score_one(job: tuple[str, Path, str]) -> tuple[str, str, tuple, tuple, float]:
    from karyo.nuclei.evaluate import evaluate
    from karyo.nuclei.segment import segment

    method, data, name = job
    image, truth = load(data, name)
    start = time.perf_counter()
    if method == "tutorial with mahotas":
        labels = mahotas_tutorial(image)
    else:
        labels = segment(image, method).labels
    seconds = time.perf_counter() - start
    return (method, name, metric_row(evaluate(labels, truth, paper_compatible=True)),
            metric_row(evaluate(labels, truth)), seconds)


def markdown_table(rows: dict[str, tuple]) -> str:
    lines = ["| method | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for method, values in rows.items():
        cells = []
        for column, value in zip(COLUMNS, values, strict=True):
            if value is None:
                cells.append("")
            elif column in ("RI", "F1"):
                cells.append(f"{100 * value:.1f}%" if column == "RI" else f"{value:.3f}")
            else:
                cells.append(f"{value:.2f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data" / "u2os"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", nargs="+",
                        default=["default", "tutorial", "tutorial with mahotas"])
    args = parser.parse_args()
    names = image_names(args.data)
    if not names:
        raise SystemExit(f"no dna-*.png images under {args.data / 'images'}")
    jobs = [(method, args.data, name) for method in args.methods for name in names]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(score_one, jobs))

    def mean_rows(mode: int, subset) -> dict[str, tuple]:
        rows = {}
        for method in args.methods:
            values = [r[mode] for r in results if r[0] == method and subset(r[1])]
            rows[f"karyo {method}"] = tuple(np.mean(values, axis=0))
        return rows

    every = lambda name: True  # noqa: E731
    odd = lambda name: int(name[4:-4]) % 2 == 1  # noqa: E731
    print(f"U2OS, {len(names)} images. Settings chosen on the {TRAINING}.\n")
    print("### Paper-compatible scoring, all images\n")
    print(markdown_table({**PAPER_ROWS, **mean_rows(2, every)}))
    print("\n### Paper-compatible scoring, odd-numbered images (held out)\n")
    print(markdown_table(mean_rows(2, odd)))
    print("\n### Default scoring (the metrics as defined in the paper's text), all images\n")
    print(markdown_table(mean_rows(3, every)))
    print("\nSeconds per image (one core): " + ", ".join(
        f"{method} {np.mean([r[4] for r in results if r[0] == method]):.2f}"
        for method in args.methods))


if __name__ == "__main__":
    main()
