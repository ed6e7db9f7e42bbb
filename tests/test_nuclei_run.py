"""karyo.nuclei.run.segment_folder and the run's files: tables, GeoJSON, CellProfiler, umask."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from test_nuclei_batch import synthetic_nuclei

from karyo.nuclei import outputs
from karyo.nuclei.measure import MEASURE_COLUMNS
from karyo.nuclei.run import RunFolderError, segment_folder

SETTINGS = {"diameter": [5, 20]}


def _images(folder: Path, count: int = 2) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"cells-{seed}.tif"
        tifffile.imwrite(path, synthetic_nuclei(seed))
        paths.append(str(path))
    return paths


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_run_wide_table_summary_and_resume(tmp_path):
    inputs = _images(tmp_path / "in")
    run = segment_folder(inputs, tmp_path / "out", settings={**SETTINGS, "pixel_size": 0.65},
                         jobs=1)
    assert run.failed == 0 and run.already_done == 0
    assert sum(result.count for result in run.results) > 0
    everything = _rows(run.table)
    assert list(everything[0])[:3] == ["image", "label", "area"]
    for name, written in zip(inputs, run.outputs, strict=True):
        own = _rows(written.table)
        with open(written.table, encoding="utf-8") as stream:
            header = stream.readline().strip().split(",")
        assert header[:len(MEASURE_COLUMNS)] == list(MEASURE_COLUMNS)
        assert "area_um2" in header
        mine = [{key: value for key, value in row.items() if key != "image"}
                for row in everything if row["image"] == name]
        assert mine == own
        for row in own:  # micrometre twins
            assert float(row["area_um2"]) == pytest.approx(int(row["area"]) * 0.65**2)
            assert float(row["perimeter_um"]) == pytest.approx(float(row["perimeter"]) * 0.65)
    summary = _rows(run.summary)
    assert list(summary[0]) == list(outputs.SUMMARY_COLUMNS)
    for row in summary:
        assert row["pixel_size_um"] == "0.65"
        for column in ("labels_file", "table_file", "overlay_file", "thumbnail_file"):
            assert (run.out / row[column]).is_file(), column
        assert row["rois_file"] == "" and row["geojson_file"] == ""

    again = segment_folder(inputs, run.out, settings={**SETTINGS, "pixel_size": 0.65},
                           resume=True, jobs=1)
    assert again.already_done == 2
    assert [r.count for r in again.results] == [r.count for r in run.results]
    assert _rows(again.table) == everything
    with pytest.raises(RunFolderError, match="--resume"):
        segment_folder(inputs, run.out, settings=SETTINGS, jobs=1)
    with pytest.raises(RunFolderError, match="differs"):
        segment_folder(inputs, run.out, settings=SETTINGS, resume=True, jobs=1)


def test_report_shows_settings_used_and_score(tmp_path):
    inputs = _images(tmp_path / "in", count=1)
    truth = segment_folder(inputs, tmp_path / "first", settings=SETTINGS, jobs=1)
    reference = outputs.read_label_tiff(truth.outputs[0].labels)[0]
    run = segment_folder(inputs, tmp_path / "out", settings=SETTINGS, jobs=1,
                         truth={inputs[0]: reference})
    assert run.scores[inputs[0]]["f1"] == 1.0
    text = run.report.read_text(encoding="utf-8")
    assert "Scores against the reference" in text and "can exceed 1" in text
    settings = text[text.index("<h2>Settings</h2>"):text.index("<h2>Nuclei</h2>")]
    used = run.results[0].settings
    assert used["diameter"] == SETTINGS["diameter"]
    assert "<th>diameter</th>" in settings
    # Asked for nothing, the report shows what was derived: the diameter range
    # from the estimated nucleus size.
    auto = segment_folder(inputs, tmp_path / "auto", jobs=1)
    text = auto.report.read_text(encoding="utf-8")
    settings = text[text.index("<h2>Settings</h2>"):text.index("<h2>Nuclei</h2>")]
    derived = auto.results[0].settings["diameter"]
    assert derived is not None and derived[0] < derived[1]
    row = settings[settings.index("<th>diameter</th>"):]
    row = row[:row.index("</tr>")]
    assert "None" in row and str(derived[0]) in row


def _shoelace(ring: list) -> float:
    x, y = np.asarray(ring, float).T
    return 0.5 * abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def test_geojson_is_qupath_detections_with_exact_areas(tmp_path):
    inputs = _images(tmp_path / "in", count=1)
    run = segment_folder(inputs, tmp_path / "out", settings=SETTINGS, geojson=True, jobs=1)
    written = run.outputs[0]
    assert written.geojson.name == "cells-0.geojson"
    collection = json.loads(written.geojson.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    table = {int(row["label"]): row for row in _rows(written.table)}
    labels = outputs.read_label_tiff(written.labels)[0]
    assert len(collection["features"]) == len(table) > 0
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        properties = feature["properties"]
        assert properties["objectType"] == "detection"
        label = int(properties["name"].removeprefix("nucleus-"))
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 5
        # pixel-edge outlines: the polygon's area is the pixel count (nuclei have no holes)
        assert _shoelace(ring) == int(table[label]["area"])
        # x, y order: the outline's box is the nucleus's box, columns first
        xs, ys = np.asarray(ring).T
        rows, columns = np.nonzero(labels == label)
        assert (xs.min(), xs.max(), ys.min(), ys.max()) == (
            columns.min(), columns.max() + 1, rows.min(), rows.max() + 1)
        assert properties["measurements"]["area"] == int(table[label]["area"])
    classified = outputs.geojson_features(labels, classification="Nucleus")["features"][0]
    assert classified["properties"]["classification"] == {"name": "Nucleus"}


def test_cellprofiler_tables_follow_its_definitions(tmp_path):
    inputs = _images(tmp_path / "in", count=2)
    run = segment_folder(inputs, tmp_path / "out", settings=SETTINGS, jobs=1,
                         table_style="cellprofiler")
    image_csv, nuclei_csv = run.cellprofiler
    assert image_csv == run.out / "cellprofiler" / "Image.csv"
    images = _rows(image_csv)
    assert [row["ImageNumber"] for row in images] == ["1", "2"]
    assert [row["FileName_DNA"] for row in images] == ["cells-0.tif", "cells-1.tif"]
    assert [int(row["Count_Nuclei"]) for row in images] == [r.count for r in run.results]
    assert all(row["Scaling_DNA"] == "255.0" for row in images)
    nuclei = _rows(nuclei_csv)
    assert len(nuclei) == sum(r.count for r in run.results)
    for number, (name, written) in enumerate(zip(inputs, run.outputs, strict=True), start=1):
        ours = [row for row in nuclei if row["ImageNumber"] == str(number)]
        table = _rows(written.table)
        image = tifffile.imread(name) / 255.0  # CellProfiler's 0..1 scaling of uint8
        labels = outputs.read_label_tiff(written.labels)[0]
        for row, own in zip(ours, table, strict=True):
            label = int(own["label"])
            assert int(row["ObjectNumber"]) == label
            pixels = image[labels == label]
            assert float(row["Intensity_MeanIntensity_DNA"]) == pytest.approx(pixels.mean())
            assert float(row["Intensity_IntegratedIntensity_DNA"]) == pytest.approx(pixels.sum())
            assert float(row["AreaShape_Area"]) == int(own["area"])
            assert float(row["Location_Center_X"]) == float(own["centroid_x"])
            assert float(row["AreaShape_Orientation"]) == pytest.approx(
                np.degrees(float(own["orientation"])))
        _compare_with_cp_measure(ours, labels, image)


def _compare_with_cp_measure(rows: list[dict], labels: np.ndarray, image: np.ndarray) -> None:
    """The values CellProfiler's own measurement code (cp-measure) gives, where it installs."""
    try:
        from cp_measure.core.measureobjectintensity import get_intensity
        from cp_measure.core.measureobjectsizeshape import get_sizeshape
    except ImportError:
        return
    shape = get_sizeshape(labels.astype(np.int32), image)
    intensity = get_intensity(labels.astype(np.int32), image)
    pairs = {"AreaShape_Area": shape["Area"], "AreaShape_Perimeter": shape["Perimeter"],
             "AreaShape_Eccentricity": shape["Eccentricity"],
             "AreaShape_Solidity": shape["Solidity"], "AreaShape_Extent": shape["Extent"],
             "AreaShape_ConvexArea": shape["ConvexArea"],
             "AreaShape_EquivalentDiameter": shape["EquivalentDiameter"],
             "AreaShape_MajorAxisLength": shape["MajorAxisLength"],
             "AreaShape_MinorAxisLength": shape["MinorAxisLength"],
             "AreaShape_Center_X": shape["Center_X"], "AreaShape_Center_Y": shape["Center_Y"],
             "AreaShape_BoundingBoxMinimum_X": shape["BoundingBoxMinimum_X"],
             "AreaShape_BoundingBoxMaximum_Y": shape["BoundingBoxMaximum_Y"],
             "Intensity_MeanIntensity_DNA": intensity["Intensity_MeanIntensity"],
             "Intensity_IntegratedIntensity_DNA": intensity["Intensity_IntegratedIntensity"],
             "Intensity_MinIntensity_DNA": intensity["Intensity_MinIntensity"],
             "Intensity_MaxIntensity_DNA": intensity["Intensity_MaxIntensity"]}
    for column, expected in pairs.items():
        ours = np.array([float(row[column]) for row in rows])
        np.testing.assert_allclose(ours, np.asarray(expected, float), rtol=1e-7, atol=1e-9,
                                   err_msg=column)
    # Orientation: the same axis (CellProfiler's degrees, +-90 being one axis)
    ours = np.radians([float(row["AreaShape_Orientation"]) for row in rows])
    np.testing.assert_allclose(np.sin(2 * ours), np.sin(2 * np.radians(shape["Orientation"])),
                               atol=1e-7)


_UMASK_SCRIPT = """
import os, sys
os.umask(0o022)
from karyo.nuclei.run import segment_folder
run = segment_folder(sys.argv[1:2], sys.argv[2], settings={"diameter": [5, 20]}, jobs=1,
                     geojson=True, rois=True, table_style="cellprofiler")
print(run.failed)
"""


def test_outputs_follow_the_umask(tmp_path):
    inputs = _images(tmp_path / "in", count=1)
    out = tmp_path / "out"
    # A child process: the umask is process-wide, so the test's own stays untouched.
    done = subprocess.run([sys.executable, "-c", _UMASK_SCRIPT, inputs[0], str(out)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
    files = [path for path in out.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"summary.csv", "nuclei.csv", "report.html",
                                             "settings.toml", "cells-0.geojson",
                                             "cells-0_rois.zip", "Image.csv", "Nuclei.csv"}
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o644, (path.name, oct(mode))


def test_atomic_path_follows_a_private_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        with outputs.atomic_path(tmp_path / "x.txt") as temporary:
            Path(temporary).write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o600


def test_bad_arguments_are_named(tmp_path):
    inputs = _images(tmp_path / "in", count=1)
    with pytest.raises(TypeError, match="`inputs`"):
        segment_folder(inputs[0], tmp_path / "out")
    with pytest.raises(ValueError, match="`table_style`"):
        segment_folder(inputs, tmp_path / "out", table_style="excel")
    with pytest.raises(ValueError, match="exclude each other"):
        segment_folder(inputs, tmp_path / "out", resume=True, overwrite=True)
    with pytest.raises(ValueError, match="`recipe`"):
        segment_folder(inputs, tmp_path / "out", recipe="fancy")
    (tmp_path / "file").write_text("")
    with pytest.raises(RunFolderError, match="not a folder"):
        segment_folder(inputs, tmp_path / "file")
