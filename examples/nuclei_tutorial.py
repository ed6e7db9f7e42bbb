"""
Counting nuclei: the mahotas tutorial, run with karyo
=====================================================

This follows Luis Pedro Coelho's "Python Image Tutorial: counting nuclei"
(https://mahotas.readthedocs.io, and the 2013 SciPy tutorial), in Python 3,
with one change: ``import karyo as mh`` instead of ``import mahotas as mh``.
Every call below is a mahotas call; karyo runs it unchanged, faster.

The image is karyo's demo image (synthetic DNA-stained nuclei), written to
disk first so that the tutorial reads a file as it would in real life; pass
``--image`` to use one of your own. Each step saves a figure into ``--out``.

Run it with ``python examples/nuclei_tutorial.py --out demo-output/tutorial``.
The documentation's gallery runs this same script and shows its figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures go to files; no display needed
import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

import karyo as mh  # noqa: E402


def save_figure(image, path: Path, title: str, cmap="gray") -> None:
    figure, axes = plt.subplots(figsize=(6.72, 5.12), dpi=100)
    # the figure is 672 px wide: show every other pixel rather than make
    # matplotlib resample the full image (the result is the same to the eye)
    axes.imshow(image[::2, ::2], cmap=cmap, interpolation="nearest")
    axes.set_title(title)
    axes.set_axis_off()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    print(f"  figure: {path}")


parser = argparse.ArgumentParser(
    description="Counting nuclei: the mahotas tutorial, run with karyo.")
parser.add_argument("--out", type=Path, default=Path("demo-output/tutorial"),
                    help="directory for the figures (default: %(default)s)")
parser.add_argument("--image", type=Path, default=None,
                    help="a greyscale nuclei image (default: karyo's demo image)")
args = parser.parse_args()
out = args.out
out.mkdir(parents=True, exist_ok=True)

# %%
# Step 1. Read the image. The demo image is written to disk first, then read back.
path = args.image
if path is None:
    path = out / "dna.png"
    mh.imsave(path, mh.demos.load("synthetic_nuclei"))
dna = mh.imread(path)
if dna.ndim == 3:  # an RGB file with identical channels: keep one
    dna = dna[:, :, 0]
print(f"image {path}: shape {dna.shape}, dtype {dna.dtype}, "
      f"min {dna.min()}, max {dna.max()}")
save_figure(dna, out / "01-dna.png", "DNA channel")

# %%
# Step 2. A global Otsu threshold: nuclei are brighter than the background.
T = mh.thresholding.otsu(dna)
print(f"Otsu threshold: {T}")
save_figure(dna > T, out / "02-otsu.png", f"dna > {T} (Otsu)")

# %%
# Step 3. Smooth first: the threshold then gives whole nuclei, not speckles.
dnaf = mh.gaussian_filter(dna, 8).astype(np.uint8)
T = mh.thresholding.otsu(dnaf)
save_figure(dnaf > T, out / "03-smoothed-threshold.png", "gaussian_filter(dna, 8) > T")

# %%
# Step 4. Count the connected regions: touching nuclei merge into one object.
labeled, nr_objects = mh.label(dnaf > T)
print(f"nr_objects: {nr_objects}")
save_figure(labeled, out / "04-labeled.png", f"{nr_objects} objects", cmap="jet")

# %%
# Step 5. Seeds: the regional maxima of the smoothed image, one per nucleus.
rmax = mh.regmax(dnaf)
seeds, nr_nuclei = mh.label(rmax)
print(f"nr_nuclei: {nr_nuclei}")
save_figure(mh.overlay(dna, rmax), out / "05-regmax.png", f"{nr_nuclei} seeds (regmax)")

# %%
# Step 6. Distance to the background, inverted: a basin in each nucleus centre.
dist = mh.distance(dnaf > T)
dist = dist.max() - dist
dist = mh.stretch(dist)
save_figure(dist, out / "06-distance.png", "inverted distance transform")

# %%
# Step 7. Watershed from the seeds splits touching nuclei; keep the foreground.
nuclei = mh.cwatershed(dist, seeds)
nuclei *= dnaf > T
save_figure(nuclei, out / "07-watershed.png", "cwatershed(dist, seeds)", cmap="jet")

# %%
# Step 8. Generalised Voronoi: every pixel goes to its nearest nucleus.
whole = mh.segmentation.gvoronoi(nuclei)
save_figure(whole, out / "08-voronoi.png", "gvoronoi(nuclei)", cmap="jet")

# %%
# Step 9. Drop the nuclei cut by the image border: they cannot be measured.
nuclei = mh.labeled.remove_bordering(nuclei)
kept = len(np.unique(nuclei[nuclei > 0]))
print(f"nuclei not touching the border: {kept}")
save_figure(nuclei, out / "09-remove-bordering.png", f"{kept} nuclei inside", cmap="jet")

# %%
# Step 10. Overlay the nucleus outlines on the image.
outlines = mh.labeled.borders(nuclei) & (nuclei > 0)
save_figure(mh.overlay(dna, red=outlines), out / "10-overlay.png", "final segmentation")

# %%
# The labels, for Fiji, napari or the next script.
mh.imsave(out / "nuclei.tif", nuclei.astype(np.int32))
print(f"labels: {out / 'nuclei.tif'}")
print(f"figures written to {out}/")
