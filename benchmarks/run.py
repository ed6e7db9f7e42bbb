"""karyo against its peers, side by side, on the same inputs in one process.

For every operation of the nuclei tutorial, each library's implementation runs
on the same input, interleaved (one call of each per round, after a warm-up
round), and the table gives the median time of each and the ratio of karyo to
the fastest peer. It also gives karyo's peak extra memory per call (resident
set high-water mark, which sees C allocations too) against the size of the
output, and how karyo's time grows with the pixel count.

    python benchmarks/run.py [--repeat 7] [--out bench-output] [--quick]

The table is printed and written to benchmarks/RESULTS.md. Quote ratios, not
absolute times: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

import karyo as kr

try:
    import cv2
except ImportError:  # peers are optional: a missing one is a missing column
    cv2 = None
try:
    import mahotas
except ImportError:
    mahotas = None
try:
    import scipy.ndimage as ndi
except ImportError:
    ndi = None
try:
    import skimage
    import skimage.filters
    import skimage.measure
    import skimage.morphology
    import skimage.segmentation
except ImportError:
    skimage = None

PEERS = ("mahotas", "skimage", "scipy", "opencv")
RESULTS_FILE = Path(__file__).with_name("RESULTS.md")


@dataclass
class Case:
    """One operation on one input: a karyo call and the peers' calls."""

    operation: str
    size: str
    karyo: Callable[[], object]
    peers: dict[str, Callable[[], object]] = field(default_factory=dict)
    goal: float | None = None


def median_times(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per call, interleaving the implementations round by round."""
    for call in calls.values():  # warm-up: caches, lazy imports, first-touch page faults
        call()
    samples = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def peak_extra_bytes(call: Callable[[], object]) -> int | None:
    """Peak resident memory a call adds, measured in a forked child.

    The child resets its high-water mark (VmHWM, via /proc/self/clear_refs),
    runs the call once and reports VmHWM minus the resident size before the
    call. Unlike tracemalloc this sees allocations made in C.
    """
    if not hasattr(os, "fork") or not os.path.exists("/proc/self/clear_refs"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            before = _status_kib("VmRSS")
            result = call()
            peak = _status_kib("VmHWM")
            del result
            os.write(write_end, str((peak - before) * 1024).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return int(text) if text else None


# ---------------------------------------------------------------- inputs

def demo_image() -> np.ndarray:
    return np.ascontiguousarray(kr.demos.load("synthetic_nuclei"))


def tile(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    reps = (-(-shape[0] // image.shape[0]), -(-shape[1] // image.shape[1]))
    return np.ascontiguousarray(np.tile(image, reps)[: shape[0], : shape[1]])


def volume(side: int) -> np.ndarray:
    """A 3-D stack of blobs: the demo generator's nuclei shifted along z."""
    rng = np.random.default_rng(0)
    zz, yy, xx = np.ogrid[:side, :side, :side]
    stack = np.zeros((side, side, side), np.float32)
    for _ in range(60):
        cz, cy, cx = rng.uniform(0, side, 3)
        radius = rng.uniform(side / 20, side / 9)
        stack += np.exp(-((zz - cz) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2) / radius**2)
    stack += rng.normal(0, 0.05, stack.shape).astype(np.float32)
    return np.ascontiguousarray(np.clip(stack * 120, 0, 255).astype(np.uint8))


# ---------------------------------------------------------------- cases

def tutorial_inputs(image: np.ndarray) -> dict[str, np.ndarray]:
    """The intermediate images of the seed tutorial, computed once with karyo."""
    smooth = kr.gaussian_filter(image, 8)
    threshold = kr.thresholding.otsu(image)
    foreground = smooth > threshold
    seeds, _ = kr.label(kr.regmax(smooth))
    dist = kr.distance(foreground)
    surface = kr.stretch(dist.max() - dist)
    nuclei = kr.cwatershed(surface, seeds)
    return dict(image=image, smooth=smooth, foreground=foreground, seeds=seeds,
                surface=surface, nuclei=nuclei * foreground)


def gaussian_cases(image, size, sigmas=(2, 8, 16)):
    for sigma in sigmas:
        peers = {}
        if mahotas:
            peers["mahotas"] = lambda s=sigma: mahotas.gaussian_filter(image, s)
        if ndi:
            peers["scipy"] = lambda s=sigma: ndi.gaussian_filter(image, s, output=np.float64)
        if skimage:
            peers["skimage"] = lambda s=sigma: skimage.filters.gaussian(
                image, sigma=s, mode="reflect", preserve_range=True)
        if cv2 and image.ndim == 2:
            peers["opencv"] = lambda s=sigma: cv2.GaussianBlur(
                image.astype(np.float64), (0, 0), s, borderType=cv2.BORDER_REFLECT)
        yield Case(f"gaussian_filter sigma={sigma}", size,
                   lambda s=sigma: kr.gaussian_filter(image, s), peers, goal=0.5)


def otsu_cases(image, size):
    for dtype in (np.uint8, np.uint16):
        data = image.astype(dtype) * (257 if dtype == np.uint16 else 1)
        peers = {}
        if mahotas:
            peers["mahotas"] = lambda d=data: mahotas.otsu(d)
        if skimage:
            peers["skimage"] = lambda d=data: skimage.filters.threshold_otsu(d)
        if cv2 and dtype == np.uint8:
            peers["opencv"] = lambda d=data: cv2.threshold(
                d, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
        yield Case(f"otsu {np.dtype(dtype).name}", size,
                   lambda d=data: kr.otsu(d), peers, goal=1.0)


def label_cases(foreground, size):
    connectivities = (4, 8) if foreground.ndim == 2 else (6, 26)
    bw_u8 = foreground.astype(np.uint8)
    for connectivity in connectivities:
        Bc = kr.morph.get_structuring_elem(foreground, connectivity)
        full = connectivity in (8, 26)
        peers = {}
        if mahotas:
            peers["mahotas"] = lambda B=Bc: mahotas.label(foreground, B)
        if ndi:
            peers["scipy"] = lambda B=Bc: ndi.label(foreground, B)
        if skimage:
            peers["skimage"] = lambda f=full: skimage.measure.label(
                foreground, connectivity=foreground.ndim if f else 1)
        if cv2 and foreground.ndim == 2:
            peers["opencv"] = lambda c=connectivity: cv2.connectedComponents(
                bw_u8, connectivity=c, ltype=cv2.CV_32S)
        yield Case(f"label {connectivity}-connected", size,
                   lambda B=Bc: kr.label(foreground, B), peers, goal=1.0)


def regmax_cases(smooth, size):
    for name, karyo_call, mahotas_call, sk_call in (
        ("regmax", kr.regmax, getattr(mahotas, "regmax", None),
         skimage and skimage.morphology.local_maxima),
        ("regmin", kr.regmin, getattr(mahotas, "regmin", None),
         skimage and skimage.morphology.local_minima),
    ):
        peers = {}
        if mahotas_call:
            peers["mahotas"] = lambda c=mahotas_call: c(smooth)
        if sk_call:
            peers["skimage"] = lambda c=sk_call: c(smooth, connectivity=1)
        yield Case(name, size, lambda c=karyo_call: c(smooth), peers, goal=0.5)


def distance_cases(foreground, size):
    bw_u8 = foreground.astype(np.uint8)
    peers = {}
    if mahotas:
        peers["mahotas"] = lambda: mahotas.distance(foreground, "euclidean")
    if ndi:
        peers["scipy"] = lambda: ndi.distance_transform_edt(foreground)
    if cv2 and foreground.ndim == 2:
        peers["opencv"] = lambda: cv2.distanceTransform(bw_u8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    yield Case("distance euclidean", size, lambda: kr.distance(foreground, "euclidean"),
               peers, goal=1.0)


def close_holes_cases(foreground, size):
    peers = {}
    if mahotas:
        peers["mahotas"] = lambda: mahotas.close_holes(foreground)
    if ndi:
        peers["scipy"] = lambda: ndi.binary_fill_holes(foreground)
    yield Case("close_holes", size, lambda: kr.close_holes(foreground), peers, goal=0.5)


def watershed_cases(surface, seeds, size):
    peers = {}
    if mahotas:
        peers["mahotas"] = lambda: mahotas.cwatershed(surface, seeds)
    if skimage:
        peers["skimage"] = lambda: skimage.segmentation.watershed(surface, seeds)
    if cv2 and surface.ndim == 2:
        surface_bgr = np.ascontiguousarray(np.dstack([surface] * 3))
        seeds32 = seeds.astype(np.int32)
        # cv2.watershed overwrites its markers: the copy is part of its cost.
        peers["opencv"] = lambda: cv2.watershed(surface_bgr, seeds32.copy())
    n_seeds = int(seeds.max())
    yield Case(f"cwatershed uint8, {n_seeds} seeds", size,
               lambda: kr.cwatershed(surface, seeds), peers, goal=0.5)


def gvoronoi_cases(nuclei, size):
    peers = {}
    if mahotas:
        peers["mahotas"] = lambda: mahotas.segmentation.gvoronoi(nuclei)
    if ndi:
        def scipy_gvoronoi():
            _, indices = ndi.distance_transform_edt(nuclei == 0, return_indices=True)
            return nuclei[tuple(indices)]
        peers["scipy"] = scipy_gvoronoi
    if skimage:
        big = float(sum(nuclei.shape))
        peers["skimage"] = lambda: skimage.segmentation.expand_labels(nuclei, big)
    yield Case("gvoronoi", size, lambda: kr.segmentation.gvoronoi(nuclei), peers, goal=0.3)


# ---------------------------------------------------------------- pipelines

def tutorial_pipeline(lib) -> Callable[[np.ndarray], np.ndarray]:
    """The seed tutorial, written once against the mahotas API of `lib`."""
    def run(image):
        smooth = lib.gaussian_filter(image, 8)
        seeds, _ = lib.label(lib.regmax(smooth))
        foreground = smooth > lib.thresholding.otsu(image)
        dist = lib.distance(foreground)
        surface = lib.stretch(dist.max() - dist)
        nuclei = lib.cwatershed(surface, seeds)
        whole = lib.segmentation.gvoronoi(nuclei)
        return lib.labeled.remove_bordering(whole * foreground)
    return run


def fastest_peer_pipeline(image: np.ndarray) -> np.ndarray:
    """The same steps composed from the fastest peer for each (see RESULTS.md)."""
    smooth = cv2.GaussianBlur(image.astype(np.float64), (0, 0), 8, borderType=cv2.BORDER_REFLECT)
    seeds = skimage.morphology.local_maxima(smooth, connectivity=1)
    _, seeds = cv2.connectedComponents(seeds.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    threshold, _ = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    foreground = (smooth > threshold).view(np.uint8)
    dist = cv2.distanceTransform(foreground, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dist = dist * dist
    surface = mahotas.stretch(dist.max() - dist)
    nuclei = cv2.watershed(np.dstack([surface] * 3), seeds.copy())
    _, indices = ndi.distance_transform_edt(nuclei <= 0, return_indices=True)
    whole = nuclei[tuple(indices)]
    return mahotas.labeled.remove_bordering(whole * foreground)


def pipeline_cases(image, size):
    # Two goals, two rows: <= 0.1 of mahotas, and no slower than the pipeline
    # composed from the fastest peer for each step.
    karyo_pipeline = tutorial_pipeline(kr)
    if mahotas:
        yield Case("tutorial pipeline vs mahotas", size, lambda: karyo_pipeline(image),
                   {"mahotas": lambda: tutorial_pipeline(mahotas)(image)}, goal=0.1)
    if cv2 and mahotas and skimage and ndi:
        yield Case("tutorial pipeline vs fastest peers", size, lambda: karyo_pipeline(image),
                   {"fastest peers": lambda: fastest_peer_pipeline(image)}, goal=1.0)


# ---------------------------------------------------------------- the default recipe

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def recipe_rows(repeat: int) -> list[list[str]]:
    """The default recipe (segment + measure) beside the tutorial pipeline, in one run.

    On a U2OS image (1030 x 1349) when the shared collection is present, and
    per image over DSB2018's images of each size (the first eight of each).
    """
    from PIL import Image

    from karyo.nuclei.measure import measure
    from karyo.nuclei.segment import segment

    def recipe(image):
        result = segment(image)
        return measure(result.labels, image)

    pipeline = tutorial_pipeline(kr)
    sets = {}
    u2os = SHARED_DATA / "u2os" / "images" / "dna-0.png"
    if u2os.is_file():
        image = np.asarray(Image.open(u2os))
        sets["U2OS dna-0"] = [np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image)]
    dsb = SHARED_DATA / "dsb2018" / "images"
    if dsb.is_dir():
        by_shape: dict[tuple, list] = {}
        for path in sorted(dsb.iterdir()):
            image = np.asarray(Image.open(path))
            by_shape.setdefault(image.shape, []).append(image)
        for shape, images in sorted(by_shape.items(), key=lambda item: item[0][0] * item[0][1]):
            sets[f"DSB2018 {shape[0]}x{shape[1]}"] = images[:8]
    rows = []
    for name, images in sets.items():
        times = median_times({"recipe": lambda images=images: [recipe(i) for i in images],
                              "tutorial": lambda images=images: [pipeline(i) for i in images]},
                             repeat)
        ratio = times["recipe"] / times["tutorial"]
        rows.append([name, str(len(images)), format_ms(times["recipe"] / len(images)),
                     format_ms(times["tutorial"] / len(images)),
                     f"{ratio:.2f}" + (" ✗" if name.startswith("U2OS") and ratio > 3 else "")])
    return rows


# ---------------------------------------------------------------- running

def all_cases(quick: bool):
    image = demo_image()
    main_size = "x".join(map(str, image.shape))
    steps = tutorial_inputs(image)
    yield from gaussian_cases(image, main_size)
    yield from otsu_cases(image, main_size)
    yield from label_cases(steps["foreground"], main_size)
    yield from regmax_cases(steps["smooth"], main_size)
    yield from distance_cases(steps["foreground"], main_size)
    yield from close_holes_cases(steps["foreground"], main_size)
    yield from watershed_cases(steps["surface"], steps["seeds"], main_size)
    yield from gvoronoi_cases(steps["nuclei"], main_size)
    yield from pipeline_cases(image, main_size)
    if quick:
        return
    big = tile(image, (4096, 4096))
    big_steps = tutorial_inputs(big)
    yield from gaussian_cases(big, "4096x4096", sigmas=(8,))
    yield from label_cases(big_steps["foreground"], "4096x4096")
    yield from distance_cases(big_steps["foreground"], "4096x4096")
    yield from close_holes_cases(big_steps["foreground"], "4096x4096")
    yield from watershed_cases(big_steps["surface"], big_steps["seeds"], "4096x4096")
    yield from gvoronoi_cases(big_steps["nuclei"], "4096x4096")
    stack = volume(256)
    stack_foreground = stack > kr.thresholding.otsu(stack)
    yield from gaussian_cases(stack, "256^3", sigmas=(2,))
    yield from label_cases(stack_foreground, "256^3")
    yield from distance_cases(stack_foreground, "256^3")


def scaling_exponent(image: np.ndarray, repeat: int) -> list[tuple[str, float]]:
    """Slope of log(time) against log(pixels) from 1 to 16 Mpx, per operation."""
    sides = (1024, 2048, 4096)
    inputs = {side: tutorial_inputs(tile(image, (side, side))) for side in sides}
    operations = {
        "gaussian_filter sigma=8": lambda s: kr.gaussian_filter(s["image"], 8),
        "label": lambda s: kr.label(s["foreground"]),
        "regmax": lambda s: kr.regmax(s["smooth"]),
        "distance": lambda s: kr.distance(s["foreground"]),
        "cwatershed": lambda s: kr.cwatershed(s["surface"], s["seeds"]),
        "gvoronoi": lambda s: kr.segmentation.gvoronoi(s["nuclei"]),
    }
    exponents = []
    for name, operation in operations.items():
        times = [median_times({"karyo": lambda s=inputs[side], op=operation: op(s)},
                              repeat)["karyo"] for side in sides]
        slope = np.polyfit(np.log([side * side for side in sides]), np.log(times), 1)[0]
        exponents.append((name, float(slope)))
    return exponents


def versions() -> str:
    names = ["karyo", "numpy", "mahotas", "scikit-image", "scipy", "opencv-python-headless"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _nbytes(result) -> int:
    """Bytes of the arrays a call returns (0 for a scalar)."""
    if isinstance(result, tuple):
        return sum(_nbytes(part) for part in result)
    return result.nbytes if isinstance(result, np.ndarray) and result.ndim else 0


def format_ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1e3:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per case")
    parser.add_argument("--quick", action="store_true",
                        help="only the 1024x1344 demo image, no scaling run")
    parser.add_argument("--out", type=Path, default=RESULTS_FILE.parent,
                        help="folder for RESULTS.md (default: benchmarks/)")
    args = parser.parse_args(argv)

    header = (f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}\nversions: {versions()}\n")
    print(header)
    columns = ["operation", "size", "karyo ms", *[f"{p} ms" for p in PEERS], "fastest peers ms",
               "karyo / fastest", "goal", "peak extra MB", "peak / output"]
    rows = []
    for case in all_cases(args.quick):
        calls = {"karyo": case.karyo, **case.peers}
        times = median_times(calls, args.repeat)
        peer_times = {name: t for name, t in times.items() if name != "karyo"}
        fastest = min(peer_times.values()) if peer_times else None
        ratio = times["karyo"] / fastest if fastest else None
        output_bytes = _nbytes(case.karyo())
        # the least of three forked runs: page-touching noise only ever adds
        peaks = [peak_extra_bytes(case.karyo) for _ in range(3)]
        peak = None if None in peaks else min(peaks)
        row = [case.operation, case.size, format_ms(times["karyo"]),
               *[format_ms(times.get(p)) for p in PEERS], format_ms(times.get("fastest peers")),
               "" if ratio is None else f"{ratio:.2f}" + (" ✗" if case.goal and ratio > case.goal
                                                          else ""),
               "" if case.goal is None else f"<= {case.goal}",
               "" if peak is None else f"{peak / 2**20:.1f}",
               "" if peak is None or not output_bytes else
               f"{peak / output_bytes:.2f}" + (" ✗" if peak > 2 * output_bytes else "")]
        rows.append(row)
        print(" | ".join(row), flush=True)

    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    text = ["# karyo benchmark", "", "Produced by `make bench` (benchmarks/run.py). Median of "
            f"{args.repeat} interleaved rounds after a warm-up; ratio = karyo / fastest peer "
            "(✗ where the goal of issue 3 is not met). Peak extra memory: resident high-water "
            "mark added by one karyo call, in a forked child (least of three); peak / output over "
            "2 is marked ✗ (issue 3's memory bound).", "", "```", header.strip(), "```",
            "", *table]
    recipe_columns = ["images", "n", "default recipe ms / image (segment + measure)",
                      "tutorial pipeline ms / image", "recipe / tutorial"]
    print("\n" + " | ".join(recipe_columns))
    text += ["", "## The default recipe beside the tutorial pipeline", "",
             "Goal (issue 9): on U2OS at most 3 x the tutorial pipeline's time.", "",
             "| " + " | ".join(recipe_columns) + " |", "|" + "---|" * len(recipe_columns)]
    for row in recipe_rows(max(3, args.repeat // 2)):
        print(" | ".join(row), flush=True)
        text.append("| " + " | ".join(row) + " |")
    if not args.quick:
        print("\nscaling, 1 to 16 Mpx (time ~ pixels^exponent):")
        text += ["", "## Scaling (1024^2, 2048^2, 4096^2)", "",
                 "| operation | exponent |", "|---|---|"]
        for name, exponent in scaling_exponent(demo_image(), max(3, args.repeat // 2)):
            print(f"  {name}: {exponent:.2f}")
            text.append(f"| {name} | {exponent:.2f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "RESULTS.md").write_text("\n".join(text) + "\n")
    print(f"\nwritten to {args.out / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
