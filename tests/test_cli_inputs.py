"""The `karyo` command on the files a lab has: channels, stacks, units, bad metadata."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile
from test_nuclei_images import _bad_metadata_files, decoy, dimmer_elsewhere, write_ome

import karyo
from karyo import demos
from karyo.cli import main, on_command_line
from karyo.nuclei.evaluate import evaluate
from karyo.nuclei.outputs import read_label_tiff
from karyo.nuclei.segment import segment

# The synthetic nuclei are 30-90 px across.
DIAMETER = [30, 120]


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The DNA image, its ground truth, and the labels segmenting it directly gives."""
    image, truth = demos.load(demos.SYNTHETIC_NAME, return_labels=True)
    dna = np.ascontiguousarray(image[:384, :512])
    labels = segment(dna, diameter=DIAMETER).labels
    # the reference itself is right: a wrong channel or slice cannot match it by chance
    assert evaluate(labels, truth[:384, :512])["f1"] >= 0.9
    return dna, truth[:384, :512], labels


def _segment(path: Path, out: Path, capsys, *flags) -> tuple[int, str, str]:
    status = main(["segment", str(path), "--out", str(out), "-j", "1", "--diameter",
                   *(str(d) for d in DIAMETER), *(str(flag) for flag in flags)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _labels(out: Path) -> np.ndarray:
    [path] = out.glob("*_labels.tif")
    return read_label_tiff(path)[0]


def _nuclei_rows(out: Path) -> list[dict]:
    [path] = out.glob("*_nuclei.csv")
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def _assert_micrometre_twins(out: Path, pixel_size: float) -> None:
    rows = _nuclei_rows(out)
    assert rows
    for row in rows:
        assert float(row["area_um2"]) == pytest.approx(float(row["area"]) * pixel_size ** 2)


def test_channel_first_imagej_hyperstack(tmp_path, capsys, scene):
    dna, _, expected = scene
    path = tmp_path / "hyperstack.tif"
    tifffile.imwrite(path, np.stack([decoy(dna), dna]), imagej=True, metadata={"axes": "CYX"})
    status, out, err = _segment(path, tmp_path / "out", capsys, "--channel", 1)
    assert status == 0, err
    assert np.array_equal(_labels(tmp_path / "out"), expected)
    assert "channel 1" in out
    status, _, err = _segment(path, tmp_path / "refused", capsys)
    assert status == 1 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("karyo: error:")]
    assert line == (f"karyo: error: {path}: 2 channels (axes CYX, shape (2, 384, 512)); pass "
                    "--channel N or --channel NAME")


def test_channel_last_tiff_with_pixel_size(tmp_path, capsys, scene):
    dna, _, expected = scene
    path = tmp_path / "last.tif"
    tifffile.imwrite(path, np.dstack([decoy(dna), dna]))
    out = tmp_path / "out"
    status, _, err = _segment(path, out, capsys, "--channel", 1, "--pixel-size", 0.65)
    assert status == 0, err
    assert np.array_equal(_labels(out), expected)
    _assert_micrometre_twins(out, 0.65)


def test_zyx_stack_is_segmented_on_its_maximum_projection(tmp_path, capsys, scene):
    dna, _, expected = scene
    path = tmp_path / "stack.tif"
    slices = np.stack([dimmer_elsewhere(dna), dna, dimmer_elsewhere(dna)])
    tifffile.imwrite(path, slices, imagej=True, metadata={"axes": "ZYX"})
    status, out, err = _segment(path, tmp_path / "out", capsys)
    assert status == 0, err
    assert np.array_equal(_labels(tmp_path / "out"), expected)
    assert "read 1 image as: maximum projection of 3 z-slices" in out
    status, out, err = _segment(path, tmp_path / "slice", capsys, "--z", 0)
    assert status == 0, err
    assert np.array_equal(_labels(tmp_path / "slice"),
                          segment(slices[0], diameter=DIAMETER).labels)
    assert not np.array_equal(_labels(tmp_path / "slice"), expected)
    assert "read 1 image as: z-slice 0 of 3" in out


def test_ome_tiff_channel_by_name(tmp_path, capsys, scene):
    dna, truth, expected = scene
    path = write_ome(tmp_path / "plate.ome.tif", np.stack([decoy(dna), dna]), "CYX",
                     Channel={"Name": ["Phalloidin", "DAPI"]}, PhysicalSizeX=0.325,
                     PhysicalSizeY=0.325)
    out = tmp_path / "out"
    status, stdout, err = _segment(path, out, capsys, "--channel", "DAPI")
    assert status == 0, err
    assert np.array_equal(_labels(out), expected)
    assert evaluate(_labels(out), truth)["f1"] >= 0.9
    assert "channel 1 (DAPI), pixel size 0.325 µm (OME metadata)" in stdout
    _assert_micrometre_twins(out, 0.325)
    status, _, err = _segment(path, tmp_path / "hoechst", capsys, "--channel", "Hoechst")
    assert status == 1
    assert (f"karyo: error: {path}: no channel named 'Hoechst' among its 2 channels: "
            "0 'Phalloidin', 1 'DAPI'") in err


def test_bad_metadata_is_one_line_naming_the_file_and_the_flag(tmp_path, capsys, scene):
    dna = scene[0]
    for name, words in _bad_metadata_files(tmp_path / "in", dna).items():
        path = tmp_path / "in" / name
        flags = [] if "not match" in words else ["--channel", "1"]
        status = main(["count", str(path), "-j", "1", *flags])
        err = capsys.readouterr().err
        assert status == 1, name
        assert "Traceback" not in err and "`" not in err, err
        [line] = [line for line in err.splitlines() if line.startswith("karyo: error:")]
        assert line.startswith(f"karyo: error: {path}: ") and words in line, line
        flag = "--channel N" if "not match" in words else "--pixel-size MICRONS"
        assert flag in line, line


def test_time_series_names_the_time_flag(tmp_path, capsys, scene):
    dna = scene[0]
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, np.stack([decoy(dna), dna]), imagej=True, metadata={"axes": "TYX"})
    assert main(["count", str(path), "-j", "1"]) == 1
    assert "a time series of 2 time points (axes TYX, shape (2, 384, 512)); pass --time N" \
        in capsys.readouterr().err
    assert main(["count", str(path), "-j", "1", "--time", "1", "--diameter", "30", "120"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}\t{scene[2].max()}\n")


@pytest.mark.parametrize(("flags", "words"), [
    (["--pixel-size", "0"], "--pixel-size: expected a positive pixel size"),
    (["--pixel-size", "-0.5"], "--pixel-size: expected a positive pixel size"),
    (["--pixel-size", "wide"], "--pixel-size: expected a pixel size in micrometres"),
    (["--z", "top"], "--z: expected a z-slice number (from 0) or max"),
    (["--time", "-1"], "--time: expected a whole number from 0"),
])
def test_bad_flag_values_are_usage_errors(tmp_path, capsys, flags, words):
    with pytest.raises(SystemExit) as exited:
        main(["count", str(tmp_path / "any.tif"), *flags])
    assert exited.value.code == 2
    assert words in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"karyo {karyo.__version__}\n"


def test_python_wording_becomes_flags():
    # segment()'s own refusal of a colour image, as the command line prints it
    message = ("karyo.nuclei.segment: `image` is a colour image (shape (4, 5, 3)) whose "
               "channels differ; pass `channel=` to say which one holds the DNA stain")
    assert on_command_line(message).endswith("pass --channel N to say which one holds the "
                                             "DNA stain")
    assert on_command_line("pass `z='max'` or `z=N`; `pixel_size=` in micrometres") == \
        "pass --z max or --z N; --pixel-size MICRONS in micrometres"
    assert on_command_line("`labels` and `image`") == "`labels` and `image`"
