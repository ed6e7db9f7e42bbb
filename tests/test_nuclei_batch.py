"""karyo.nuclei.batch and karyo.nuclei.outputs: batches, failure isolation, files."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tomllib
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage as ndi

from karyo.nuclei import outputs
from karyo.nuclei.batch import ImageResult, load_image, segment_many, summarise_nuclei


@dataclass
class StandInSegmentation:
    labels: np.ndarray
    count: int
    threshold: float
    settings: dict
    table: object = None


def standin_segment(image, recipe="default", **settings):
    """A tiny, deterministic stand-in for karyo.nuclei.segment.segment (mean threshold)."""
    image = np.asarray(load_image(image, settings.get("channel")), np.float64)
    threshold = float(image.mean()) * settings.get("threshold_correction", 1.0)
    labels, count = ndi.label(image > threshold)
    try:  # like the real segment, report every setting, defaults included
        from karyo.nuclei.segment import DEFAULT_SETTINGS
    except ImportError:
        DEFAULT_SETTINGS = {}
    used = {**DEFAULT_SETTINGS.get(recipe, {}), **settings, "recipe": recipe}
    return StandInSegmentation(labels.astype(np.int32), int(count), threshold, used)


def synthetic_nuclei(seed: int, shape=(64, 80), count: int = 6) -> np.ndarray:
    """Bright round blobs on a dim noisy background, uint8."""
    rng = np.random.default_rng(seed)
    rows, columns = np.indices(shape)
    image = rng.normal(20, 3, shape)
    for _ in range(count):
        row, column = rng.uniform(6, shape[0] - 6), rng.uniform(6, shape[1] - 6)
        radius = rng.uniform(3, 6)
        image += 120 * np.exp(-((rows - row) ** 2 + (columns - column) ** 2) / (2 * radius**2))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image_folder(folder: Path, n_good: int = 3, bad: bool = True) -> dict[str, np.ndarray]:
    """PNG images in `folder` (plus a text file, an empty file and a truncated PNG)."""
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for seed in range(n_good):
        path = folder / f"cells-{seed}.png"
        images[str(path)] = synthetic_nuclei(seed)
        Image.fromarray(images[str(path)]).save(path)
    if bad:
        (folder / "notes.png").write_text("this is not an image\n")
        (folder / "empty.png").write_bytes(b"")
        whole = (folder / "cells-0.png").read_bytes()
        (folder / "truncated.png").write_bytes(whole[: len(whole) // 2])
    return images


def comparable(result: ImageResult) -> tuple:
    """Everything of a result except its timing (which varies run to run)."""
    return (result.index, result.name, result.status, result.error, result.count,
            repr(result.threshold), None if result.labels is None else result.labels.tobytes(),
            result.areas.tolist(), result.mean_intensities.tolist())


# ---------------------------------------------------------------- load_image

def test_load_image_channels():
    grey = synthetic_nuclei(1)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    assert np.array_equal(load_image(rgb), grey)
    rgba = np.dstack([rgb, np.full(grey.shape, 255, np.uint8)])
    assert np.array_equal(load_image(rgba), grey)
    colour = rgb.copy()
    colour[..., 1] = 0
    with pytest.raises(ValueError, match="channel"):
        load_image(colour)
    assert np.array_equal(load_image(colour, channel=1), np.zeros_like(grey))
    with pytest.raises(ValueError, match="channel"):
        load_image(colour, channel=3)
    with pytest.raises(TypeError, match="channel"):
        load_image(colour, channel=1.0)
    with pytest.raises(ValueError, match="2-D"):
        load_image(np.zeros((2, 3, 4, 5)))


def test_load_image_real_u2os_is_channel_zero(u2os_dir):
    from conftest import load_u2os

    path = u2os_dir / "images" / "dna-1.png"
    assert np.array_equal(load_image(path), load_u2os("dna-1.png")[0])


@given(st.lists(st.integers(0, 4), min_size=0, max_size=30))
def test_summarise_nuclei_matches_scipy(values):
    labels = np.array(values, np.int64).reshape(1, -1)
    image = np.arange(labels.size, dtype=np.float64).reshape(labels.shape)
    areas, means = summarise_nuclei(labels, image)
    present = [v for v in range(1, 5) if v in values]
    assert areas.tolist() == [values.count(v) for v in present]
    if present:
        assert np.allclose(means, ndi.mean(image, labels, present))


# ---------------------------------------------------------------- segment_many

def test_failures_are_isolated_and_results_match_single_runs(tmp_path):
    images = write_image_folder(tmp_path)
    paths = sorted(str(path) for path in tmp_path.iterdir())
    results = segment_many(paths, jobs=1, segmenter=standin_segment)
    assert [result.name for result in results] == paths
    failed = {Path(result.name).name: result.error for result in results if not result.ok}
    assert set(failed) == {"notes.png", "empty.png", "truncated.png"}
    assert all(failed.values())
    for result in results:
        if result.ok:
            alone = standin_segment(images[result.name])
            assert np.array_equal(result.labels, alone.labels)
            assert result.count == alone.count and result.threshold == alone.threshold


def test_jobs_1_and_2_give_identical_results(tmp_path):
    write_image_folder(tmp_path)
    paths = sorted(str(path) for path in tmp_path.iterdir())
    seen = []
    serial = segment_many(paths, jobs=1, segmenter=standin_segment)
    parallel = segment_many(paths, jobs=2, segmenter=standin_segment, on_result=seen.append)
    assert [comparable(r) for r in serial] == [comparable(r) for r in parallel]
    assert sorted(result.index for result in seen) == list(range(len(paths)))


def test_dask_local_cluster_gives_identical_results(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    write_image_folder(tmp_path, n_good=2)
    paths = sorted(str(path) for path in tmp_path.iterdir())
    serial = segment_many(paths, jobs=1, segmenter=standin_segment)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        on_address = segment_many(paths, scheduler=cluster.scheduler_address,
                                  segmenter=standin_segment)
        with distributed.Client(cluster) as client:
            on_client = segment_many(paths, scheduler=client, segmenter=standin_segment)
    assert [comparable(r) for r in serial] == [comparable(r) for r in on_address]
    assert [comparable(r) for r in serial] == [comparable(r) for r in on_client]


def test_arrays_and_mappings_and_keep_arrays():
    images = [synthetic_nuclei(4), synthetic_nuclei(5)]
    results = segment_many(images, jobs=1, segmenter=standin_segment, keep_arrays=False)
    assert [r.name for r in results] == ["image-0000", "image-0001"]
    assert all(r.ok and r.labels is None and r.image is None for r in results)
    assert [r.count for r in results] == [standin_segment(i).count for i in images]
    named = segment_many({"a": images[0]}, jobs=1, segmenter=standin_segment,
                         settings={"threshold_correction": 1.5})
    assert named[0].name == "a"
    assert named[0].settings["threshold_correction"] == 1.5
    assert named[0].count == standin_segment(images[0], threshold_correction=1.5).count


def test_channel_setting_reaches_the_segmenter():
    grey = synthetic_nuclei(6)
    colour = np.dstack([np.zeros_like(grey), grey])
    result = segment_many([colour], jobs=1, segmenter=standin_segment, settings={"channel": 1})[0]
    assert result.ok, result.error
    assert np.array_equal(result.labels, standin_segment(grey).labels)
    assert result.settings["channel"] == 1


def test_segment_many_rejects_bad_arguments():
    with pytest.raises(TypeError, match="inputs"):
        segment_many("one.png")
    with pytest.raises(ValueError, match="jobs"):
        segment_many([], jobs=0)
    with pytest.raises(TypeError, match="jobs"):
        segment_many([], jobs=1.5)
    with pytest.raises(TypeError, match="settings"):
        segment_many([], settings=[("a", 1)])
    with pytest.raises(TypeError, match="recipe"):
        segment_many([], recipe=3)
    with pytest.raises(TypeError, match="scheduler"):
        segment_many([np.zeros((3, 3))], scheduler=8786)


def test_a_crashing_worker_fails_only_its_image():
    images = {"good": synthetic_nuclei(7), "crash": synthetic_nuclei(8)}
    results = segment_many(images, jobs=2, segmenter=crash_on_dark_corner_segment)
    assert results[0].ok
    assert not results[1].ok and "died" in results[1].error


def test_pool_workers_share_the_cores_between_their_kernel_threads():
    from karyo import internal
    from karyo.nuclei import batch

    for workers in (1, 2):
        with batch._pool(workers) as pool:
            threads = pool.submit(kernel_threads).result()
        assert threads == max(1, min(internal.THREADS, internal.available_cores() // workers))


def kernel_threads() -> int:
    from karyo import internal

    return internal.THREADS


def crash_on_dark_corner_segment(image, recipe="default", **settings):
    if image[0, 0] == synthetic_nuclei(8)[0, 0] and np.array_equal(image, synthetic_nuclei(8)):
        import os

        os._exit(3)  # what a segfault or the OOM killer looks like to the pool
    return standin_segment(image, recipe, **settings)


# ---------------------------------------------------------------- outputs

@pytest.mark.parametrize("name, stem", [
    ("../x.png", "x"), ("../../etc/passwd", "passwd"), ("a\\b\\..\\c.tif", "c"),
    ("..", "image"), (".hidden.png", "hidden"), ("dna 1 (copy).png", "dna_1_copy"),
    ("ünï/cødé.tif", "c_d"), ("plate1/A01.ome.tif", "A01.ome"), ("", "image"),
])
def test_output_stem_never_escapes(name, stem):
    assert outputs.output_stem(name) == stem


@given(st.text(max_size=40) | st.text(".a0_ ", max_size=12) | st.text(min_size=190))
def test_output_stem_is_a_plain_file_name(name):
    stem = outputs.output_stem(name)
    assert stem and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    assert not stem.endswith(".") and len(stem) <= 200
    assert outputs.is_safe_stem(stem)
    outputs.image_outputs("out", stem)  # accepted, whatever the input name (e.g. a.ome.tif)


@pytest.mark.parametrize("stem", ["", ".x", "x.", "a/b", "..", "_a", "a" * 201, "é"])
def test_image_outputs_refuses_unsafe_stems(stem):
    assert not outputs.is_safe_stem(stem)
    with pytest.raises(ValueError, match="`stem`"):
        outputs.image_outputs("out", stem)


def test_unique_stems_keep_duplicates_apart():
    stems = outputs.unique_stems(["a/dna.png", "b/dna.png", "dna-2.tif", "c/dna.tif"])
    assert len(set(stems)) == 4 and stems[0] == "dna" and stems[2] == "dna-2"


@pytest.mark.parametrize("largest, dtype", [(300, np.uint16), (70000, np.uint32)])
def test_label_tiff_round_trip(tmp_path, largest, dtype):
    import tifffile

    labels = np.zeros((40, 50), np.int32)
    labels[5:9, 7:20] = 1
    labels[20:30, 30:45] = largest
    path = outputs.write_label_tiff(tmp_path / "x_labels.tif", labels,
                                    metadata={"count": 2, "threshold": np.float32(0.25)})
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        stored = tiff.asarray()
    assert stored.dtype == dtype and np.array_equal(stored, labels)
    assert outputs.read_label_tiff(path)[1] == {"count": 2, "threshold": 0.25}
    with pytest.raises(FileExistsError, match="overwrite"):
        outputs.write_label_tiff(path, labels)
    with pytest.raises(ValueError, match="labels"):
        outputs.write_label_tiff(tmp_path / "y.tif", labels.astype(float))


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "a.csv"
    with pytest.raises(RuntimeError):
        with outputs.atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def _polygon_area(vertices: np.ndarray) -> float:
    x, y = vertices[:, 0].astype(float), vertices[:, 1].astype(float)
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 12))
def test_trace_outline_encloses_the_filled_object(seed, height, width):
    rng = np.random.default_rng(seed)
    mask = rng.random((height, width)) < 0.6
    traced = outputs.trace_outline(mask)
    if not mask.any():
        assert traced.shape == (0, 2)
        return
    objects, _ = ndi.label(mask, structure=np.ones((3, 3)))
    first = objects.ravel()[np.flatnonzero(mask)[0]]
    # The polygon runs along pixel edges, so its area is the pixel count of the
    # object with its holes filled.
    filled = ndi.binary_fill_holes(objects == first)
    if _polygon_area(traced) != filled.sum():
        # 8-connected pieces that touch only at a corner make the polygon pass
        # through that corner twice; the shoelace area still counts every pixel
        # once, but holes enclosed only through corners are not "holes" for
        # binary_fill_holes (4-connected background), so compare with those filled.
        filled = ndi.binary_fill_holes(objects == first, structure=np.ones((3, 3)))
    assert _polygon_area(traced) == filled.sum()
    assert traced[:, 0].min() >= 0 and traced[:, 0].max() <= width
    assert traced[:, 1].min() >= 0 and traced[:, 1].max() <= height


def test_imagej_rois_open_with_roifile(tmp_path):
    roifile = pytest.importorskip("roifile")
    image = synthetic_nuclei(9, shape=(90, 120), count=10)
    labels = standin_segment(image).labels
    path = outputs.write_imagej_rois(tmp_path / "x_rois.zip", labels)
    rois = roifile.ImagejRoi.fromfile(path)
    present = np.unique(labels[labels > 0])
    assert len(rois) == len(present)
    for roi, value in zip(rois, present, strict=True):
        assert roi.name == f"nucleus-{value:05d}"
        assert roi.roitype == roifile.ROI_TYPE.TRACED
        filled = ndi.binary_fill_holes(labels == value)
        assert _polygon_area(roi.coordinates()) == filled.sum()
        rows, columns = np.nonzero(labels == value)
        assert (roi.left, roi.top, roi.right, roi.bottom) == (
            columns.min(), rows.min(), columns.max() + 1, rows.max() + 1)
    with zipfile.ZipFile(path) as archive:
        assert len(archive.namelist()) == len(present)


def test_imagej_roi_bytes_rejects_bad_polygons():
    with pytest.raises(ValueError, match="vertices"):
        outputs.imagej_roi_bytes(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="32767"):
        outputs.imagej_roi_bytes(np.array([[0, 0], [40000, 0], [0, 5]]))


def test_write_image_outputs_and_overlay(tmp_path):
    image = synthetic_nuclei(10)
    result = segment_many([image], jobs=1, segmenter=standin_segment)[0]
    written = outputs.write_image_outputs(outputs.image_outputs(tmp_path, "x", rois=True), result)
    assert written.complete()
    overlay = np.asarray(Image.open(written.overlay))
    assert overlay.shape == image.shape + (3,)
    # outlines are yellow; they sit on nucleus pixels only
    yellow = np.all(overlay == (255, 255, 0), axis=2)
    assert yellow.any() and np.all(result.labels[yellow] > 0)
    thumbnail = Image.open(written.thumbnail)
    assert max(thumbnail.size) <= outputs.THUMBNAIL_SIZE
    table = np.genfromtxt(written.table, delimiter=",", names=True)
    assert len(np.atleast_1d(table)) == result.count
    with pytest.raises(FileExistsError):
        outputs.write_image_outputs(written, result)
    failed = ImageResult(0, "bad.png", status="failed", error="OSError: x")
    with pytest.raises(ValueError, match="bad.png"):
        outputs.write_image_outputs(outputs.image_outputs(tmp_path, "y"), failed)


def test_settings_toml_round_trip(tmp_path):
    settings = {"recipe": "default", "diameter": [8, 40.5], "threshold": "otsu",
                "threshold_correction": 1.25, "fill_holes": False, "channel": 0,
                "name": 'quote " and \\ backslash', "unset": None}
    path = outputs.write_settings_toml(tmp_path / "settings.toml", settings, comment="a\nb")
    read = tomllib.loads(path.read_text())
    assert read == {key: value for key, value in settings.items() if value is not None}
    with pytest.raises(TypeError, match="odd"):
        outputs.format_settings_toml({"odd": {"nested": 1}})
    with pytest.raises(ValueError, match="bare"):
        outputs.format_settings_toml({"a b": 1})


def test_summary_csv(tmp_path):
    results = [ImageResult(0, "a.png", count=3, threshold=0.5, seconds=0.25),
               ImageResult(1, "b,c.png", status="failed", error='OSError: "x"')]
    path = outputs.write_summary_csv(tmp_path / "summary.csv", results)
    import csv

    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(outputs.SUMMARY_COLUMNS)
    assert {key: rows[0][key] for key in ("image", "status", "error", "count", "threshold",
                                          "seconds", "flags", "labels_file")} == {
        "image": "a.png", "status": "ok", "error": "", "count": "3", "threshold": "0.5",
        "seconds": "0.250", "flags": "", "labels_file": ""}
    assert rows[1]["image"] == "b,c.png" and rows[1]["error"] == 'OSError: "x"'
    assert json.loads(json.dumps(rows))  # plain strings only
