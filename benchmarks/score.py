"""Score karyo's nucleus segmentation on hand-segmented collections.

A collection is a folder with ``images/`` and ``labels/`` holding files of the
same names. For each collection given, every image is segmented with the
recipe's defaults (no settings: the point is that one default works), scored
with ``karyo.nuclei.evaluate.evaluate``, and the means are printed as markdown
tables beside the reference rows: the whole set, its even and odd halves
(sorted names; settings are chosen on one half and checked on the other), and
one row per image size, so that the note shows where errors remain.

    python benchmarks/score.py                       # U2OS, U2OS at 1/2 and 1/3, DSB2018
    python benchmarks/score.py ../shared/data/dsb2018 --shrink 1 --jobs 2
    python benchmarks/score.py DATA --segmenter mymodule:myfunction   # score your own

``--shrink K`` resamples each image by area averaging (K x K blocks) and its
truth by nearest neighbour (the centre pixel of each block), as a lower
magnification would show the same cells. ``--perturb KIND`` changes each
image as another microscope or camera might before segmenting it (the truth
stays), to check that the default holds up on images unlike these:

    python benchmarks/score.py --perturb shading --half odd

``--only-annotated`` leaves out the objects that lie at least 90% outside the
truth's nuclei before scoring: how much of the error is what the annotators
chose not to draw.

U2OS is scored in the paper's mode too (Coelho et al., ISBI 2009, Table 2).
"""

from __future__ import annotations

import argparse
import importlib
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PAPER_COLUMNS = ("RI", "Hausdorff", "NSD x10", "split", "merged", "spurious", "missing", "F1")
STANDARD_COLUMNS = ("F1", "AP", "split", "merged", "spurious", "missing", "n", "ms")

# Coelho et al. 2009, Table 2, U2OS column (F1 was not reported).
PAPER_ROWS = {
    "paper: second human annotator": (0.95, 9.7, 0.5, 1.6, 1.0, 0.8, 2.2, None),
    "paper: mean threshold": (0.96, 26.5, 1.0, 1.3, 3.4, 0.9, 3.6, None),
    "paper: merging algorithm (Lin et al.)": (0.96, 12.9, 0.7, 1.8, 2.1, 1.0, 3.3, None),
}
# The DSB2018 README's reference results (F1 at IoU 0.5).
DSB_ROWS = {
    "reference: Otsu + connected components": (0.76,) + (None,) * 7,
    "reference: textbook distance watershed": (0.78,) + (None,) * 7,
    "reference: published deep models": (0.92,) + (None,) * 7,
}


def image_names(data: Path) -> list[str]:
    """Names present in both images/ and labels/, in a natural sort order."""
    def natural(name: str):
        stem = Path(name).stem
        prefix = stem.rstrip("0123456789")
        digits = stem[len(prefix):]
        return (prefix, int(digits) if digits else -1, name)

    labelled = {p.name for p in (data / "labels").iterdir()}
    return sorted((p.name for p in (data / "images").iterdir() if p.name in labelled),
                  key=natural)


def shrink(image: np.ndarray, truth: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-averaged image and nearest-neighbour truth, `factor` times smaller."""
    if factor == 1:
        return image, truth
    rows, cols = (n // factor * factor for n in image.shape)
    blocks = image[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    small = blocks.mean(axis=(1, 3))
    if image.dtype.kind in "ui":
        small = np.rint(small).astype(image.dtype)
    return small, np.ascontiguousarray(truth[factor // 2:rows:factor, factor // 2:cols:factor])


# What --perturb does to an image (the truth stays as drawn).
PERTURBATIONS = {
    "noise": "Gaussian noise, sd 8% of the image's 1-99.5 percentile range",
    "shading": "light falling off to 40% across the columns (vignetting) and a background "
               "rising by 30% of the range down the rows",
    "hot": "one pixel in 10^4 at 20 times the image's maximum (hot pixels, cosmic rays)",
    "saturated": "clipped halfway from the median to the 99.9th percentile (overexposed: "
                 "the brighter nuclei flat-topped)",
    "dim": "the 1-99.5 percentile range scaled to 16 grey levels, rounded: a short "
           "exposure's few levels",
    "upsampled": "twice the size (each pixel 2 x 2; the labels are read back at every "
                 "other pixel): nuclei beyond the 150 px the default is tested to",
}


def perturb(image: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """`image` changed as PERTURBATIONS[kind] says, the same on every run for a `seed`."""
    grey = image.astype(np.float32)
    low, high = np.percentile(grey, [1, 99.5])
    if kind == "noise":
        rng = np.random.default_rng(seed)
        return grey + rng.normal(0, 0.08 * (high - low), grey.shape).astype(np.float32)
    if kind == "shading":
        rows, cols = np.ogrid[:grey.shape[0], :grey.shape[1]]
        falloff = 0.4 + 0.6 * cols / max(1, grey.shape[1] - 1)
        return grey * falloff + 0.3 * (high - low) * rows / max(1, grey.shape[0] - 1)
    if kind == "hot":
        rng = np.random.default_rng(seed)
        return np.where(rng.random(grey.shape) < 1e-4, 20 * grey.max(), grey)
    if kind == "saturated":
        middle, top = np.percentile(grey, [50, 99.9])
        return np.minimum(grey, middle + (top - middle) / 2)
    if kind == "dim":
        return np.rint((grey - low) * 16 / max(high - low, 1e-6)).clip(0, None).astype(np.uint16)
    if kind == "upsampled":
        return np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    raise ValueError(f"--perturb: unknown kind {kind!r}; one of {sorted(PERTURBATIONS)}")


def load(data: Path, name: str, factor: int) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(data / "images" / name))
    truth = np.asarray(Image.open(data / "labels" / name))
    image = image[..., 0] if image.ndim == 3 else image
    truth = truth[..., 0] if truth.ndim == 3 else truth
    return shrink(np.ascontiguousarray(image), np.ascontiguousarray(truth), factor)


def segmenter(spec: str):
    if ":" in spec:
        module, name = spec.split(":", 1)
        return getattr(importlib.import_module(module), name)
    from karyo.nuclei.segment import segment

    return lambda image: segment(image, spec).labels


def only_annotated(labels: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """`labels` without the objects lying at least 90% outside the truth's nuclei.

    What the annotators did not draw at all (bright bodies, debris, border
    slivers, the odd whole nucleus) no longer counts: the scores then show
    how much of the error is the collection's convention of what to draw.
    """
    labels = np.asarray(labels)
    sizes = np.bincount(labels.ravel())
    inside = np.bincount(labels.ravel(), weights=(truth > 0).ravel(), minlength=sizes.size)
    keep = inside >= 0.1 * sizes
    keep[0] = False
    return np.where(keep[labels], labels, 0)


def score_one(job: tuple) -> dict:
    from karyo.nuclei.evaluate import evaluate

    spec, data, name, factor, paper, *rest = job
    options = rest[0] if rest else {}
    image, truth = load(data, name, factor)
    kind = options.get("perturb")
    if kind:
        image = perturb(image, kind, zlib.crc32(name.encode()))
    start = time.perf_counter()
    labels = segmenter(spec)(image)
    seconds = time.perf_counter() - start
    if kind == "upsampled":
        labels = np.ascontiguousarray(labels[::2, ::2])
    if options.get("only_annotated"):
        labels = only_annotated(labels, truth)
    standard = evaluate(labels, truth)
    row = {"name": name, "shape": image.shape, "seconds": seconds,
           "standard": (standard["f1"], standard["average_precision"], standard["split"],
                        standard["merged"], standard["spurious"], standard["missing"],
                        standard["n_truth"], 1000 * seconds)}
    if paper:
        scores = evaluate(labels, truth, paper_compatible=True)
        row["paper"] = (scores["rand_index"], scores["hausdorff"], 10 * scores["nsd"],
                        scores["split"], scores["merged"], scores["spurious"],
                        scores["missing"], standard["f1"])
    return row


def markdown_table(columns: tuple, rows: dict[str, tuple]) -> str:
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for title, values in rows.items():
        cells = []
        for column, value in zip(columns, values, strict=True):
            if value is None:
                cells.append("")
            elif column == "RI":
                cells.append(f"{100 * value:.1f}%")
            elif column in ("F1", "AP"):
                cells.append(f"{value:.3f}")
            elif column in ("n", "ms"):
                cells.append(f"{value:.0f}")
            else:
                cells.append(f"{value:.2f}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(title: str, results: list[dict], paper: bool, references: dict) -> str:
    def mean(rows, key):
        return tuple(np.mean([row[key] for row in rows], axis=0)) if rows else None

    halves = {"all": results, "even": results[0::2], "odd": results[1::2]}
    parts = [f"## {title} ({len(results)} images)\n"]
    if paper:
        parts.append("Paper-compatible scoring:\n")
        parts.append(markdown_table(PAPER_COLUMNS, {**references, **{
            f"karyo, {half}": mean(rows, "paper") for half, rows in halves.items()}}))
        parts.append("\nStandard scoring:\n")
        references = {}
    rows = {**references, **{f"karyo, {half}": mean(rows, "standard")
                             for half, rows in halves.items()}}
    shapes = sorted({row["shape"] for row in results}, key=lambda s: s[0] * s[1])
    if len(shapes) > 1:
        for shape in shapes:
            group = [row for row in results if row["shape"] == shape]
            rows[f"{shape[0]} x {shape[1]} ({len(group)} images)"] = mean(group, "standard")
    parts.append(markdown_table(STANDARD_COLUMNS, rows))
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collections", nargs="*", type=Path,
                        help="folders with images/ and labels/ (default: the shared sets)")
    parser.add_argument("--shrink", type=int, nargs="+", default=None, metavar="K",
                        help="also score each collection shrunk K times (default: U2OS at "
                             "1, 2 and 3; other sets at 1)")
    parser.add_argument("--recipe", default="default", help="recipe name (default: default)")
    parser.add_argument("--segmenter", metavar="MODULE:FUNCTION",
                        help="score your own function image -> labels instead of a recipe")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--half", choices=("even", "odd"),
                        help="score one half only (faster, for choosing settings)")
    parser.add_argument("--only-annotated", action="store_true",
                        help="leave out objects lying at least 90%% outside the truth's nuclei "
                             "(what the collection's annotators did not draw) before scoring")
    parser.add_argument("--perturb", choices=sorted(PERTURBATIONS),
                        help="change each image first: " + "; ".join(
                            f"{kind}: {what}" for kind, what in PERTURBATIONS.items()))
    args = parser.parse_args()
    collections = args.collections or [DATA / "u2os", DATA / "dsb2018"]
    spec = args.segmenter or args.recipe
    with ProcessPoolExecutor(args.jobs) as pool:
        for data in collections:
            names = image_names(data)
            if args.half:
                names = names[0 if args.half == "even" else 1::2]
            if not names:
                raise SystemExit(f"no images with labels under {data}")
            is_u2os = data.name == "u2os"
            factors = args.shrink or ([1, 2, 3] if is_u2os else [1])
            for factor in factors:
                paper = is_u2os and factor == 1
                options = {"perturb": args.perturb, "only_annotated": args.only_annotated}
                jobs = [(spec, data, name, factor, paper, options) for name in names]
                results = list(pool.map(score_one, jobs))
                title = data.name + (f" shrunk 1/{factor}" if factor > 1 else "")
                if args.perturb:
                    title += f", {args.perturb}"
                if args.only_annotated:
                    title += ", only objects on annotated nuclei"
                references = (PAPER_ROWS if paper else
                              DSB_ROWS if data.name == "dsb2018" else {})
                print(report(title, results, paper, references), flush=True)


if __name__ == "__main__":
    main()
