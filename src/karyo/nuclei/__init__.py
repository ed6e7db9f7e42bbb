"""karyo.nuclei: count, segment and measure DNA-stained nuclei, one image or thousands.

The application layer over the karyo library:

- ``segment(image, recipe="default", **settings)``: one image's nuclei
  (``karyo.nuclei.segment``);
- ``measure(labels, image)``: per-nucleus measurements (``karyo.nuclei.measure``);
- ``evaluate(labels, truth)``: agreement with a hand segmentation
  (``karyo.nuclei.evaluate``);
- :func:`segment_many`: many images on all cores or a Dask cluster, with
  failures isolated (``karyo.nuclei.batch``);
- ``karyo.nuclei.outputs`` and ``karyo.nuclei.report``: the files a batch
  writes (label TIFF, overlay, CSV, ImageJ ROIs, HTML report).
"""

from __future__ import annotations

from karyo.nuclei.batch import ImageResult, load_image, segment_many

__all__ = ["ImageResult", "evaluate", "load_image", "measure", "segment", "segment_many"]

# Bind the functions over their same-named submodules (importing a submodule
# sets the package attribute to the module). A module that is not importable
# yet leaves a lazy lookup that raises a clear ImportError on use.
try:
    from karyo.nuclei.segment import segment
except ImportError:
    globals().pop("segment", None)
try:
    from karyo.nuclei.measure import measure
except ImportError:
    globals().pop("measure", None)
try:
    from karyo.nuclei.evaluate import evaluate
except ImportError:
    globals().pop("evaluate", None)

_LAZY = {"segment": "karyo.nuclei.segment", "measure": "karyo.nuclei.measure",
         "evaluate": "karyo.nuclei.evaluate"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        try:
            return getattr(module, name)
        except AttributeError:
            raise ImportError(f"karyo.nuclei.{name} is not available: {_LAZY[name]} does not "
                              f"define {name}()") from None
    raise AttributeError(f"module 'karyo.nuclei' has no attribute {name!r}")
