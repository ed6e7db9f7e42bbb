"""Peak memory of `karyo segment` on a 16-bit 8192 x 8192 image.

    python benchmarks/memory_8k.py [--size 8192] [--recipe default]

Builds a 16-bit image of the given size by tiling the synthetic demo image
(karyo.demos), writes it as a TIFF, runs the `karyo segment` command on it in
a child process (the whole job: read, segment, measure, write labels, table,
overlay, report) and prints the child's peak resident memory (ru_maxrss,
which sees allocations made in C) next to the size of the image. The README
quotes the figure for 8192.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

import karyo


def tiled_image(size: int) -> np.ndarray:
    """A `size` x `size` uint16 image of nuclei, the demo image tiled (mirrored)."""
    tile = karyo.demos.synthetic_nuclei().astype(np.uint16) * 257
    reps = (-(-size // tile.shape[0]), -(-size // tile.shape[1]))
    return np.pad(tile, [(0, (r - 1) * s) for r, s in zip(reps, tile.shape, strict=True)],
                  mode="symmetric")[:size, :size]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--recipe", default="default")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        image = tiled_image(args.size)
        path = Path(folder) / f"tile{args.size}.tif"
        tifffile.imwrite(path, image)
        image_mib = image.nbytes / 2**20
        del image
        start = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "karyo", "segment", str(path), "--out",
                                    str(Path(folder) / "out"), "--recipe", args.recipe,
                                    "--diameter", "30", "120", "-j", "1"],
                                   capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if completed.returncode != 0:
            print(completed.stderr, file=sys.stderr)
            return completed.returncode
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**10
    print(f"{args.size} x {args.size} uint16 ({image_mib:.0f} MiB), recipe {args.recipe}: "
          f"peak resident memory of `karyo segment` {peak_mib:.0f} MiB "
          f"({peak_mib / image_mib:.1f} x the image), {seconds:.0f} s")
    print(completed.stdout.strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
