"""Segment many images: in-process, on a local process pool, or on a Dask cluster.

One image's failure never stops the batch: it becomes a failed
:class:`ImageResult` that carries its cause, and the other images finish.
Results are the same whichever way the work is spread, because each image
is segmented on its own by the same deterministic function and the results
are returned in input order.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from karyo import internal
from karyo.nuclei.images import INPUT_SETTINGS, read_dna_image
from karyo.nuclei.measure import measure
from karyo.regionprops import regionprops_table

__all__ = ["ImageResult", "load_image", "segment_many", "summarise_nuclei"]



@dataclass
class ImageResult:
    """The outcome of segmenting one image of a batch.

    Attributes
    ----------
    index : int
        Position of the image in the batch's inputs.
    name : str
        The path as given, or ``image-NNNN`` for an array input (or the key
        when the inputs were a mapping).
    status : str
        ``"ok"`` or ``"failed"``.
    error : str or None
        The cause of a failure, one line (``"OSError: cannot identify ..."``).
    traceback : str or None
        The full traceback of a failure, for debugging.
    count : int
        Number of nuclei found (0 when failed).
    threshold : float
        The intensity threshold used (NaN when failed).
    seconds : float
        Wall time spent reading and segmenting this image.
    settings : dict
        The settings actually used, as reported by ``segment``.
    labels, image : ndarray or None
        The label image and the grey image it was computed from (None when
        failed, or when the batch was run with ``keep_arrays=False``).
    table : object
        The per-nucleus table from ``segment``.
    areas, mean_intensities : ndarray
        Per-nucleus area (pixels) and mean intensity, in label order: small
        summaries that outlive the arrays, for reports.
    pixel_size : float or None
        Pixel size in micrometres, from the file's metadata or the
        ``pixel_size`` setting; None when unknown.
    input : str
        What was read: the axes found and the channel, z-slice or projection
        used (``karyo.nuclei.images.DnaImage.description``).
    flags : tuple of str
        Quality-control flags raised by the segmentation (see
        ``karyo.nuclei.segment.QC_FLAGS``); empty when all looks well.
    nucleus_diameter : float or None
        The typical nucleus diameter the segmentation estimated, in pixels.
    rejected : ndarray or None
        Label image of the objects the size filter dropped (dropped with the
        other arrays when ``keep_arrays=False``).
    image_dtype : str
        The dtype of the segmented image (``'uint8'``...), by which
        CellProfiler-style intensities are scaled.
    """

    index: int
    name: str
    status: str = "ok"
    error: str | None = None
    traceback: str | None = None
    count: int = 0
    threshold: float = float("nan")
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)
    labels: np.ndarray | None = None
    image: np.ndarray | None = None
    table: Any = None
    areas: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    mean_intensities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pixel_size: float | None = None
    input: str = ""
    flags: tuple = ()
    nucleus_diameter: float | None = None
    rejected: np.ndarray | None = None
    image_dtype: str = ""

    @property
    def ok(self) -> bool:
        """True when the image was segmented."""
        return self.status == "ok"

    @classmethod
    def failure(cls, index: int, name: str, error: BaseException, *, seconds: float = 0.0,
                traceback: str | None = None) -> ImageResult:
        """The result of an image that failed with `error` (described in one line).

        Examples
        --------
        >>> ImageResult.failure(0, "a.tif", OSError("cannot   read")).error
        'OSError: cannot read'
        """
        return cls(index=index, name=name, status="failed", error=_describe(error),
                   traceback=traceback, seconds=seconds)


def load_image(source, channel: int | str | None = None, *, z: int | str | None = None,
               time: int | None = None) -> np.ndarray:
    """Read an image file (or take an array) and return it as a 2-D grey image.

    The plane of :func:`karyo.nuclei.images.read_dna_image`, which also gives
    the pixel size in micrometres and says what was done.

    Parameters
    ----------
    source : str, os.PathLike or ndarray
        A file path (TIFF, ImageJ hyperstack, OME-TIFF, PNG...; ND2, CZI, LIF
        with ``karyo[vendor]``), or an image array.
    channel : int or str, optional
        For a multi-channel image, the channel holding the DNA stain: its
        index from 0, or its name in the OME metadata (``'DAPI'``). When
        omitted, a colour image whose channels are all equal (a grey image
        saved as RGB) gives its first channel; other multi-channel images
        raise.
    z : int or 'max', optional
        For a z-stack, the slice to use; by default its maximum projection.
    time : int, optional
        For a time series, the time point to use.

    Returns
    -------
    image : ndarray
        2-D image, in the file's own dtype (no conversion to float).

    Raises
    ------
    karyo.nuclei.images.ImageInputError
        A ``ValueError`` naming the file, the shape and axes found, and the
        argument to pass: several distinct channels and no `channel`, a
        `channel` out of range or not named in the file, a time series
        without `time`, metadata that does not match the pixels.
    OSError
        If the file is missing or cannot be decoded.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.zeros((4, 5, 3), np.uint8)
    >>> load_image(rgb).shape
    (4, 5)
    >>> load_image(np.zeros((2, 4, 5)), channel=1).shape
    (4, 5)
    """
    from karyo.nuclei.images import read_dna_image

    return read_dna_image(source, channel, z=z, time=time).image


def summarise_nuclei(labels: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-nucleus area (pixels) and mean intensity, for labels 1..labels.max().

    Labels absent from the image (gaps in the numbering) are left out.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[0, 1, 1], [2, 2, 2]])
    >>> areas, means = summarise_nuclei(labels, np.arange(6).reshape(2, 3))
    >>> areas.tolist(), means.tolist()
    ([2, 3], [1.5, 4.0])
    """
    table = regionprops_table(labels, image, ("area", "intensity_mean"))
    return table["area"], table["intensity_mean"]


def _default_segmenter(image, recipe, **settings):
    from karyo.nuclei.segment import segment

    return segment(image, recipe=recipe, **settings)


def _segment_one(index: int, name: str, source, recipe: str, settings: dict,
                 segmenter: Callable | None) -> ImageResult:
    """Read and segment one image; any exception becomes a failed result."""
    start = time.perf_counter()
    try:
        # The file's channel, z-slice and pixel size are chosen here; segment sees one plane.
        reading = {key: settings[key] for key in INPUT_SETTINGS if settings.get(key) is not None}
        recipe_settings = {key: value for key, value in settings.items()
                           if key not in INPUT_SETTINGS}
        loaded = read_dna_image(source, **reading)
        segment = segmenter if segmenter is not None else _default_segmenter
        segmentation = segment(loaded.image, recipe=recipe, **recipe_settings)
        labels = np.asarray(segmentation.labels)
        image = getattr(segmentation, "image", None)
        if image is None:
            image = loaded.image
        table = measure(labels, image, pixel_size=loaded.pixel_size)
        diameter = getattr(segmentation, "nucleus_diameter", None)
        used = {**(getattr(segmentation, "settings", None) or recipe_settings), **loaded.settings}
        return ImageResult(
            index=index, name=name, status="ok", count=int(segmentation.count),
            threshold=float(segmentation.threshold), seconds=time.perf_counter() - start,
            settings=used, labels=labels, image=image,
            table=table, areas=np.asarray(table["area"]),
            mean_intensities=np.asarray(table["intensity_mean"]),
            pixel_size=loaded.pixel_size, input=loaded.description,
            flags=tuple(getattr(segmentation, "flags", ())),
            nucleus_diameter=None if diameter is None else float(diameter),
            rejected=getattr(segmentation, "rejected", None), image_dtype=str(image.dtype))
    except Exception as error:  # noqa: BLE001 - isolating the failure is the point
        return ImageResult.failure(index, name, error, traceback=traceback.format_exc(),
                                   seconds=time.perf_counter() - start)


def _describe(error: BaseException) -> str:
    message = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {message}"


def _named_inputs(inputs) -> list[tuple[str, Any]]:
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        raise TypeError("karyo.nuclei.segment_many: `inputs` must be a list of paths or arrays "
                        "(or a mapping of names to them), not a single "
                        f"{type(inputs).__name__}; wrap one image in a list")
    if isinstance(inputs, Mapping):
        return [(str(name), source) for name, source in inputs.items()]
    if not isinstance(inputs, Iterable):
        raise TypeError("karyo.nuclei.segment_many: `inputs` must be a list of paths or arrays, "
                        f"got {type(inputs).__name__}")
    named = []
    for index, source in enumerate(inputs):
        if isinstance(source, (str, os.PathLike)):
            named.append((os.fspath(source), source))
        else:
            named.append((f"image-{index:04d}", source))
    return named


def segment_many(inputs, *, recipe: str = "default", settings: Mapping | None = None,
                 jobs: int | None = None, scheduler=None,
                 on_result: Callable[[ImageResult], None] | None = None,
                 keep_arrays: bool = True,
                 segmenter: Callable | None = None) -> list[ImageResult]:
    """Segment the nuclei of many images, isolating failures.

    Parameters
    ----------
    inputs : sequence of paths or arrays, or mapping of names to them
        The images. Paths are read by the worker that segments them (so a
        Dask worker must see the same files). Array inputs are named
        ``image-NNNN`` after their position.
    recipe : str, optional
        The segmentation recipe (see ``karyo.nuclei.segment.RECIPES``).
    settings : mapping, optional
        Settings passed to ``segment`` as keywords (see
        ``karyo.nuclei.segment.DEFAULT_SETTINGS``), e.g. ``channel`` for the
        DNA channel of colour images.
    jobs : int, optional
        Number of worker processes on this machine; default all cores.
        ``jobs=1`` runs in this process (no pickling, easiest to debug).
    scheduler : str or dask.distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``) or client: run on
        that cluster instead of local processes (needs ``karyo[dask]``).
    on_result : callable, optional
        Called in this process with each :class:`ImageResult` as soon as it
        is ready (completion order), e.g. to write its outputs.
    keep_arrays : bool, optional
        If False, each result's `labels` and `image` are dropped after
        `on_result` returns, so a long batch does not hold every image.
    segmenter : callable, optional
        Replaces ``karyo.nuclei.segment.segment`` (same signature); must be
        picklable (a module-level function) for ``jobs > 1`` and Dask.

    Returns
    -------
    results : list of ImageResult
        One per input, in input order; failed images have ``status ==
        "failed"`` and their cause in ``error``.

    See Also
    --------
    karyo.nuclei.segment.segment : segments one image.
    karyo.nuclei.outputs.write_image_outputs : writes one result's files.

    Notes
    -----
    Work is spread with :class:`concurrent.futures.ProcessPoolExecutor`
    (``spawn`` start method, so no lock or thread is inherited from this
    process) or with ``dask.distributed``'s ``Client.map``. If a worker
    process dies (out of memory, a crash in a C library), the images it may
    have held are retried one per process, so only the culprit fails.

    Examples
    --------
    >>> import numpy as np
    >>> class Found:  # a stand-in for segment's result
    ...     def __init__(self, image):
    ...         self.labels = (image > 0).astype(np.int32)
    ...         self.count, self.threshold, self.settings = 1, 0.0, {}
    >>> results = segment_many([np.eye(3), "missing.png"], jobs=1,
    ...                        segmenter=lambda image, recipe: Found(image))
    >>> [(r.name, r.status, r.count) for r in results]
    [('image-0000', 'ok', 1), ('missing.png', 'failed', 0)]
    >>> results[1].error
    'FileNotFoundError: no such file: missing.png'
    """
    fname = "nuclei.segment_many"
    named = _named_inputs(inputs)
    if not isinstance(recipe, str):
        raise TypeError(f"karyo.{fname}: `recipe` must be a str, got {type(recipe).__name__}")
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping):
        raise TypeError(f"karyo.{fname}: `settings` must be a mapping of setting names to "
                        f"values, got {type(settings).__name__}")
    settings = dict(settings)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer))):
        raise TypeError(f"karyo.{fname}: `jobs` must be an int, got {jobs!r}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"karyo.{fname}: `jobs` must be at least 1, got {jobs}")
    if on_result is not None and not callable(on_result):
        raise TypeError(f"karyo.{fname}: `on_result` must be callable")

    results: list[ImageResult | None] = [None] * len(named)
    tasks = [(index, name, source, recipe, settings, segmenter)
             for index, (name, source) in enumerate(named)]

    def deliver(result: ImageResult) -> None:
        if on_result is not None:
            on_result(result)
        if not keep_arrays:
            result = replace(result, labels=None, image=None, rejected=None)
        results[result.index] = result

    if scheduler is not None:
        _run_on_dask(tasks, scheduler, deliver)
    else:
        workers = min(jobs or internal.available_cores(), len(tasks))
        if workers <= 1:
            for task in tasks:
                deliver(_segment_one(*task))
        else:
            _run_on_pool(tasks, workers, deliver)
    return results  # type: ignore[return-value]


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    # The workers share the cores: each one's kernels use its share of them.
    threads = max(1, min(internal.THREADS, internal.available_cores() // workers))
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(), threads))


def _start_worker(parent_pid: int, threads: int) -> None:
    """Set up a pool worker: `threads` threads for its kernels, and an exit with its parent.

    A parent killed with SIGKILL cannot stop its workers, and they would wait
    for work forever (holding memory and the parent's output pipes).
    """
    internal.THREADS = threads

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="karyo-parent-watch", daemon=True).start()


def _run_on_pool(tasks: list[tuple], workers: int, deliver: Callable) -> None:
    crashed = []
    with _pool(workers) as pool:
        pending = {pool.submit(_segment_one, *task): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        crashed.append(task)
                        continue
                    deliver(result)
        finally:
            for future in pending:
                future.cancel()
    # A dead worker breaks the whole pool: retry its possible victims one per
    # process, so that only the image that kills its process fails.
    for task in sorted(crashed, key=lambda task: task[0]):
        with _pool(1) as pool:
            try:
                result = pool.submit(_segment_one, *task).result()
            except BrokenProcessPool:
                result = ImageResult(index=task[0], name=task[1], status="failed",
                                     error="WorkerCrashed: the process segmenting this image "
                                           "died (out of memory, or a crash in native code)")
        deliver(result)


def _run_on_dask(tasks: list[tuple], scheduler, deliver: Callable) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise ImportError("karyo.nuclei.segment_many: `scheduler` needs dask.distributed; "
                          "install it with pip install 'karyo[dask]'") from error
    own_client = not isinstance(scheduler, Client)
    if own_client and not isinstance(scheduler, str):
        raise TypeError("karyo.nuclei.segment_many: `scheduler` must be an address such as "
                        f"'tcp://127.0.0.1:8786' or a dask Client, got {type(scheduler).__name__}")
    client = Client(scheduler) if own_client else scheduler
    try:
        futures = [client.submit(_segment_one, *task, pure=False) for task in tasks]
        task_of = {future.key: task for future, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker fails only its image
                task = task_of[future.key]
                result = ImageResult.failure(task[0], task[1], error)
            deliver(result)
            future.release()
    finally:
        if own_client:
            client.close()
