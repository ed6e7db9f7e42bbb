"""Tiled against untiled segmentation: time, peak memory, scaling, equality.

    python benchmarks/tiled.py                 # 1k, 4k, 8k and 20k sides (20k tiled only)
    python benchmarks/tiled.py --sides 1024 4096 --tile 1024
    python benchmarks/tiled.py --toy           # the tiling machinery alone (a toy recipe)

Each run is a child process, so that its peak resident memory is its own
(VmHWM: Linux carries ru_maxrss across exec, so a child of this large parent
would report the parent's peak). Images are mosaics of the U2OS frames
(shared/data/u2os), written as tiled BigTIFFs that the tiled run reads
lazily; the tiled run writes OME-Zarr labels and the per-nucleus table.
Prints a table, the scaling exponent of the tiled time (a fit of log time on
log pixels: 1.0 is linear) and, for the 4 x 4 U2OS mosaic, whether tiled
equals untiled and the ratio of their peaks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

U2OS = Path(__file__).resolve().parents[2] / "shared" / "data" / "u2os" / "images"

CHILD = r"""
import json, sys, time
import numpy as np
mode, path, out = sys.argv[1:4]
tile, toy = int(sys.argv[4]), sys.argv[5] == "1"
if toy:
    from karyo.convolve import gaussian_filter
    from karyo.labeled import label
    from karyo.nuclei import tiled
    def region(crop, origin, shape):
        labels = label(gaussian_filter(np.asarray(crop, np.float32), 2.0) > 40,
                       Bc=np.ones((3, 3), bool))[0]
        return labels, labels > 0
    tiled._PLANS["default"] = lambda source, settings, tile, map: tiled.TilingPlan(
        region, halo=64, margin=9, align=1, globals={}, settings={}, nucleus_diameter=None,
        threshold=40.0)
started = time.perf_counter()
if mode == "untiled":
    import tifffile
    image = tifffile.imread(path)
    if toy:
        labels = region(image, (0, 0), image.shape)[0]
    else:
        from karyo.nuclei.segment import segment
        labels = segment(image).labels
    np.save(out + "/untiled.npy", labels)
    count = int(labels.max())
else:
    from karyo.nuclei.tiled import return_freed_memory, segment_tiled
    return_freed_memory()  # as `karyo segment --tile` does
    result = segment_tiled(path, out, tile=tile, zarr=True, name="tiled")
    count = result.count
seconds = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak": peak, "count": count}))
"""


def mosaic(side: int) -> np.ndarray:
    """A side x side 8-bit image tiled from the U2OS frames."""
    import tifffile  # noqa: F401 - the frames are PNG, read through karyo

    from karyo.nuclei.images import read_dna_image

    frames = [read_dna_image(f).image for f in sorted(U2OS.glob("dna-*.png"))[:16]]
    frames = [np.clip(f.astype(np.float32) / max(1, f.max()) * 255, 0, 255).astype(np.uint8)
              for f in frames]
    height, width = frames[0].shape
    rows = []
    for i in range(-(-side // height)):
        rows.append(np.concatenate([frames[(i * 7 + j) % len(frames)]
                                    for j in range(-(-side // width))], axis=1))
    return np.ascontiguousarray(np.concatenate(rows)[:side, :side])


def u2os_4x4() -> np.ndarray:
    from karyo.nuclei.images import read_dna_image

    frames = [read_dna_image(f).image for f in sorted(U2OS.glob("dna-*.png"))[:16]]
    return np.block([[frames[4 * i + j] for j in range(4)] for i in range(4)])


def run(mode: str, path: Path, out: Path, tile: int, toy: bool) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(out), str(tile),
                           "1" if toy else "0"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_up_to_numbering(a, b) -> bool:
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return (np.unique(pairs[0]).size == pairs.shape[1]
            and np.unique(pairs[1]).size == pairs.shape[1])


def main() -> None:
    import tifffile
    import zarr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[1024, 4096, 8192, 20000])
    parser.add_argument("--tile", type=int, default=2048)
    parser.add_argument("--untiled-max", type=int, default=8192,
                        help="largest side run untiled too (default 8192)")
    parser.add_argument("--toy", action="store_true", help="a toy recipe: the machinery alone")
    parser.add_argument("--skip-mosaic", action="store_true")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="karyo-tiled-"))
    print(f"{'side':>6} {'mode':>8} {'seconds':>8} {'s/MP':>6} {'peak MiB':>9} {'nuclei':>7}")
    tiled_points = []
    for side in arguments.sides:
        path = work / f"slide_{side}.tif"
        tifffile.imwrite(path, mosaic(side), tile=(512, 512), bigtiff=True)
        modes = ["tiled"] + (["untiled"] if side <= arguments.untiled_max else [])
        for mode in modes:
            result = run(mode, path, work / f"{mode}_{side}", arguments.tile, arguments.toy)
            megapixels = side * side / 1e6
            print(f"{side:>6} {mode:>8} {result['seconds']:>8.1f} "
                  f"{result['seconds'] / megapixels:>6.2f} {result['peak'] / 2**20:>9.0f} "
                  f"{result['count']:>7}", flush=True)
            if mode == "tiled":
                tiled_points.append((side * side, result["seconds"]))
        path.unlink()
    if len(tiled_points) > 1:
        pixels, seconds = np.log(np.array(tiled_points)).T
        print(f"scaling exponent of the tiled time: {np.polyfit(pixels, seconds, 1)[0]:.2f}")
    if not arguments.skip_mosaic:
        image = u2os_4x4()
        path = work / "u2os_4x4.tif"
        tifffile.imwrite(path, image, tile=(512, 512), bigtiff=True)
        tiled = run("tiled", path, work / "mosaic_tiled", 1024, arguments.toy)
        untiled = run("untiled", path, work / "mosaic_untiled", 1024, arguments.toy)
        labels = zarr.open(str(work / "mosaic_tiled" / "tiled.ome.zarr" / "labels" / "nuclei"
                               / "0"))[:]
        equal = same_up_to_numbering(labels, np.load(work / "mosaic_untiled" / "untiled.npy"))
        print(f"U2OS 4 x 4 mosaic {image.shape}, --tile 1024: equal to untiled: {equal}; "
              f"peak {tiled['peak'] / 2**20:.0f} MiB tiled vs {untiled['peak'] / 2**20:.0f} "
              f"MiB untiled (ratio {tiled['peak'] / untiled['peak']:.2f}); "
              f"{tiled['seconds']:.1f} s vs {untiled['seconds']:.1f} s")


if __name__ == "__main__":
    main()
