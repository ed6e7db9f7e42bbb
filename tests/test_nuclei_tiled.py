"""karyo.nuclei.tiled: tiles on Dask, lazy input, OME-Zarr output, resume, bad chunks.

The machinery runs here with a toy recipe (a Gaussian, a threshold and
8-connected labels: local, with a known reach), so that these tests say
what the tiling does whatever the recipe; the default recipe's equality is
tested in test_nuclei_tiled_recipe.py.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from karyo.convolve import gaussian_filter
from karyo.demos import load
from karyo.labeled import label
from karyo.nuclei import tiled
from karyo.nuclei.tiled import TilingPlan, segment_tiled

zarr = pytest.importorskip("zarr")


def toy_region(crop, origin, shape):
    labels = label(gaussian_filter(np.asarray(crop, np.float32), 2.0) > 30,
                   Bc=np.ones((3, 3), bool))[0]
    return labels, labels > 0


def toy_plan(source, settings, tile, map):
    return TilingPlan(toy_region, halo=40, margin=9, align=1, globals={"level": 30},
                      settings={}, nucleus_diameter=None, threshold=30.0)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(tiled._PLANS, "default", toy_plan)


def same_up_to_numbering(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return (np.unique(pairs[0]).size == pairs.shape[1]
            and np.unique(pairs[1]).size == pairs.shape[1])


@pytest.fixture(scope="module")
def demo():
    return load("synthetic_nuclei")[:512, :640]


@pytest.mark.parametrize("tile", [16, 100, 256])
def test_in_memory_equals_untiled(toy, demo, tile):
    result = segment_tiled(demo, tile=tile, workers=2)
    whole = toy_region(demo, (0, 0), demo.shape)[0]
    assert same_up_to_numbering(result.labels, whole)
    assert result.count == int(whole.max())
    assert not result.failed


def test_tiled_tiff_to_ome_zarr_and_table(toy, demo, tmp_path):
    import pandas as pd
    import tifffile

    path = tmp_path / "slide.tif"
    tifffile.imwrite(path, demo, tile=(64, 64), bigtiff=True)
    result = segment_tiled(path, tmp_path / "out", tile=128)
    whole = toy_region(demo, (0, 0), demo.shape)[0]
    labels = zarr.open(str(tmp_path / "out" / "slide.ome.zarr" / "labels" / "nuclei" / "0"))
    assert same_up_to_numbering(labels[:], whole)
    image = zarr.open(str(tmp_path / "out" / "slide.ome.zarr" / "0"))
    assert np.array_equal(image[:], demo)
    table = pd.read_csv(result.files["table"])
    assert table["label"].tolist() == list(range(1, result.count + 1))
    assert table["crosses_seam"].sum() == result.seam > 0
    assert {"tile_row", "tile_col", "area", "centroid_y"} <= set(table.columns)
    # Centroids are in the slide's coordinates.
    for row in table.itertuples():
        assert labels[int(round(row.centroid_y)), int(round(row.centroid_x))] == row.label


def test_ome_zarr_opens_in_ome_zarr_py(toy, demo, tmp_path):
    pytest.importorskip("ome_zarr")
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Multiscales, Reader

    segment_tiled(demo, tmp_path, tile=128, name="demo")
    nodes = list(Reader(parse_url(str(tmp_path / "demo.ome.zarr")))())
    label_nodes = [n for n in nodes if any(isinstance(s, Label) for s in n.specs)]
    assert label_nodes and any(isinstance(s, Multiscales) for s in nodes[0].specs)
    assert label_nodes[0].data[0].shape == demo.shape and len(label_nodes[0].data) > 1


def test_ome_zarr_input_and_bad_chunks_reported(toy, demo, tmp_path):
    segment_tiled(demo, tmp_path / "first", tile=128, name="demo")
    source = tmp_path / "first" / "demo.ome.zarr"
    chunk_folder = source / "0"
    # The image's chunks are 128 x 128: one corrupt, one missing.
    (chunk_folder / "1" / "1").write_bytes(b"not a chunk")
    (chunk_folder / "3" / "4").unlink()
    result = segment_tiled(source, tmp_path / "second", tile=128)
    assert result.failed
    text = "\n".join(result.failed)
    assert "chunk (1, 1)" in text and "corrupt" in text
    assert "chunk (3, 4)" in text and "missing" in text
    assert "rows 128-255, columns 128-255" in text
    # Tiles away from the bad chunks finish.
    labels = zarr.open(str(tmp_path / "second" / "demo.ome.zarr" / "labels" / "nuclei" / "0"))
    whole = toy_region(demo, (0, 0), demo.shape)[0]
    assert labels[:].max() > 0 and np.array_equal(labels[:128, 512:] > 0, whole[:128, 512:] > 0)


KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
import numpy as np
from test_nuclei_tiled import toy_plan
from karyo.nuclei import tiled
tiled._PLANS["default"] = toy_plan
image = np.load({image!r})

def stop_after_first(index, count):
    open({marker!r}, "w").close()
    time.sleep(600)

tiled.segment_tiled(image, {out!r}, tile=128, workers=1, name="demo", on_tile=stop_after_first)
"""


def test_killed_run_resumes_to_the_same_result(toy, demo, tmp_path):
    np.save(tmp_path / "image.npy", demo)
    marker = tmp_path / "first-tile-saved"
    script = KILLED_RUN.format(tests=str(Path(__file__).parent), image=str(tmp_path / "image.npy"),
                               marker=str(marker), out=str(tmp_path / "resumed"))
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, "the run ended before its first tile was saved"
            assert time.monotonic() < deadline, "no tile saved in 300 s"
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait()
    saved = list((tmp_path / "resumed" / "demo.tiles").glob("tile_*.npz"))
    assert len(saved) == 1
    resumed = segment_tiled(demo, tmp_path / "resumed", tile=128, name="demo", resume=True)
    fresh = segment_tiled(demo, tmp_path / "fresh", tile=128, name="demo")
    assert resumed.resumed == 1 and fresh.resumed == 0
    assert np.array_equal(resumed.labels[:], fresh.labels[:])
    assert (tmp_path / "resumed" / "demo_nuclei.csv").read_text() == \
        (tmp_path / "fresh" / "demo_nuclei.csv").read_text()


def test_resume_refuses_another_plan(toy, demo, tmp_path):
    segment_tiled(demo, tmp_path, tile=128, name="demo")
    with pytest.raises(ValueError, match="cannot resume"):
        segment_tiled(demo, tmp_path, tile=256, name="demo", resume=True)


def test_bad_arguments(toy, demo):
    with pytest.raises(ValueError, match="`tile`"):
        segment_tiled(demo, tile=4)
    with pytest.raises(ValueError, match="2-D"):
        segment_tiled(np.zeros((3, 40, 40)))
    with pytest.raises(ValueError, match="`table`"):
        segment_tiled(demo, table="xlsx")


def test_dask_array_input(toy, demo):
    dask_array = pytest.importorskip("dask.array")
    result = segment_tiled(dask_array.from_array(demo, chunks=100), tile=200)
    assert same_up_to_numbering(result.labels, toy_region(demo, (0, 0), demo.shape)[0])


if os.name == "nt":  # pragma: no cover - subprocess kill semantics differ
    test_killed_run_resumes_to_the_same_result = pytest.mark.skip(
        test_killed_run_resumes_to_the_same_result)


def test_command_line_tile_and_zarr(toy, demo, tmp_path, capsys):
    import tifffile

    from karyo.cli import main

    tifffile.imwrite(tmp_path / "slide.tif", demo, tile=(64, 64))
    status = main(["segment", str(tmp_path / "slide.tif"), "--out", str(tmp_path / "out"),
                   "--tile", "128", "--zarr", "-j", "1"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "nuclei in 20 tiles" in printed and "slide.ome.zarr" in printed
    whole = toy_region(demo, (0, 0), demo.shape)[0]
    labels = zarr.open(str(tmp_path / "out" / "slide.ome.zarr" / "labels" / "nuclei" / "0"))
    assert same_up_to_numbering(labels[:], whole)
    assert (tmp_path / "out" / "slide_nuclei.csv").exists()


def test_command_line_tile_reports_a_bad_file_and_goes_on(toy, demo, tmp_path, capsys):
    import tifffile

    from karyo.cli import main

    (tmp_path / "broken.tif").write_bytes(b"II*\x00 not a TIFF")
    tifffile.imwrite(tmp_path / "slide.tif", demo)
    status = main(["segment", str(tmp_path / "broken.tif"), str(tmp_path / "slide.tif"),
                   "--out", str(tmp_path / "out"), "--tile", "128", "-j", "1"])
    printed = capsys.readouterr()
    assert status == 1
    assert "broken.tif" in printed.err and "slide.tif: " in printed.out
    assert (tmp_path / "out" / "slide_nuclei.csv").exists()



def test_command_line_tiles_large_images_of_a_folder(demo, tmp_path, capsys, monkeypatch):
    import csv

    import tifffile

    from karyo.cli import main
    from karyo.nuclei.segment import segment

    tifffile.imwrite(tmp_path / "slide.tif", demo)
    tifffile.imwrite(tmp_path / "small.tif", demo[:64, :64])
    monkeypatch.setattr(tiled, "AUTO_TILE_PIXELS", 64 * 64)
    out = tmp_path / "out"
    arguments = ["segment", str(tmp_path / "slide.tif"), str(tmp_path / "small.tif"),
                 "--out", str(out), "-j", "1"]
    assert main(arguments) == 0, capsys.readouterr()
    whole = segment(demo)
    labels = zarr.open(str(out / "slide.ome.zarr" / "labels" / "nuclei" / "0"))[:]
    assert same_up_to_numbering(labels, whole.labels)
    assert (out / "small_labels.tif").exists() and not (out / "slide_labels.tif").exists()
    with open(out / "summary.csv", newline="") as stream:
        summary = {Path(row["image"]).name: row for row in csv.DictReader(stream)}
    assert summary["slide.tif"]["status"] == "ok"
    assert int(summary["slide.tif"]["count"]) == whole.count
    assert summary["slide.tif"]["labels_file"] == "slide.ome.zarr"
    assert summary["slide.tif"]["overlay_file"] == ""
    assert "tile by tile" in summary["slide.tif"]["input"]
    with open(out / "nuclei.csv", newline="") as stream:
        images = [row["image"] for row in csv.DictReader(stream)]
    assert sum(Path(name).name == "slide.tif" for name in images) == whole.count
    assert "slide.ome.zarr" in (out / "report.html").read_text()
    capsys.readouterr()
    # Resumed, the tiled image is done; its summary row is kept.
    assert main(arguments + ["--resume"]) == 0
    assert "2 already done" in capsys.readouterr().out
    with open(out / "summary.csv", newline="") as stream:
        again = {Path(row["image"]).name: row for row in csv.DictReader(stream)}
    assert again["slide.tif"]["count"] == summary["slide.tif"]["count"]
    # Another recipe cannot tile: a note names the image, which is segmented whole.
    assert main(arguments[:-2] + ["--recipe", "tutorial", "--overwrite", "-j", "1"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "tile by tile" in line]
    assert len(notes) == 1 and "slide.tif" in notes[0]
    assert (out / "slide_labels.tif").exists()


FREED_MEMORY_CHILD = """
import sys
import numpy as np
from karyo.nuclei.tiled import return_freed_memory

def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

if sys.argv[1] == "set":
    assert return_freed_memory()
first = np.ones(3 << 20)   # 24 MiB, in its own pages; freed, glibc then keeps blocks this large
del first
before = resident()
arrays, pins = [], []
for _ in range(4):
    arrays.append(np.ones(1 << 20))   # 8 MiB each
    pins.append(np.ones(1000))        # a small block after each: the heap cannot shrink
del arrays
print((resident() - before) / 2**20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
def test_return_freed_memory_gives_freed_arrays_back():
    def kept(mode):
        done = subprocess.run([sys.executable, "-c", FREED_MEMORY_CHILD, mode],
                              capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1])

    # Without the setting glibc keeps the 32 MiB of freed arrays resident; with it, none.
    assert kept("default") > 24
    assert kept("set") < 4
