"""karyo.nuclei: count, segment and measure DNA-stained nuclei, one image or thousands.

The application layer over the karyo library:

- ``segment(image, recipe="default", **settings)``: one image's nuclei
  (``karyo.nuclei.segment``);
- ``measure(labels, image, pixel_size=None)``: per-nucleus measurements, whose
  columns ``karyo.nuclei.measure.COLUMNS`` describes (``karyo.nuclei.measure``);
- ``evaluate(labels, truth)``: agreement with a hand segmentation
  (``karyo.nuclei.evaluate``);
- :func:`segment_many`: many images on all cores or a Dask cluster, with
  failures isolated (``karyo.nuclei.batch``);
- :func:`segment_folder`: many image files into an output folder, resumable,
  with the tables and the report (``karyo.nuclei.run``; what ``karyo
  segment`` runs);
- ``karyo.nuclei.images``: lab files (channels, z-stacks, pixel size) to the
  2-D plane to segment; ``karyo.nuclei.outputs`` and ``karyo.nuclei.report``:
  the files a run writes (label TIFF, overlay, CSV, ImageJ ROIs, GeoJSON,
  CellProfiler tables, HTML report).
- :func:`segment_tiled`: a whole-slide image tile by tile on Dask, lazily
  from TIFF or OME-Zarr to OME-Zarr labels, equal to the untiled result
  (``karyo.nuclei.tiled``).
"""

from __future__ import annotations

from karyo.nuclei.batch import ImageResult, load_image, segment_many
from karyo.nuclei.evaluate import evaluate
from karyo.nuclei.measure import measure
from karyo.nuclei.run import segment_folder
from karyo.nuclei.segment import segment
from karyo.nuclei.tiled import segment_tiled

__all__ = ["ImageResult", "evaluate", "load_image", "measure", "segment", "segment_folder",
           "segment_many", "segment_tiled"]
