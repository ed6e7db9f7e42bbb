"""The `karyo` command, in-process (main(argv)) and in subprocesses."""

from __future__ import annotations

import csv
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
import tomllib
from PIL import Image
from test_io import _png_claiming, _tiff_claiming
from test_nuclei_batch import standin_segment, synthetic_nuclei, write_image_folder

import karyo.nuclei.batch
from karyo.cli import main
from karyo.nuclei.outputs import read_label_tiff


def _real_segment_available() -> bool:
    """True once karyo.nuclei.segment works (it lands in parallel with this module)."""
    try:
        from karyo.nuclei.segment import segment

        segment(synthetic_nuclei(0), diameter=[5, 20])
    except Exception:  # noqa: BLE001 - not importable or not working yet: use the stand-in
        return False
    return True


REAL_SEGMENT = _real_segment_available()
needs_real_segment = pytest.mark.skipif(
    not REAL_SEGMENT, reason="karyo.nuclei.segment does not work yet: worker processes and "
    "subprocesses cannot see the in-process stand-in")


@pytest.fixture
def segment_alone(monkeypatch):
    """The segment function the command uses, applied to one image on its own."""
    if REAL_SEGMENT:
        from karyo.nuclei.segment import segment

        return functools.partial(segment, diameter=[5, 20])
    monkeypatch.setattr(karyo.nuclei.batch, "_default_segmenter", standin_segment)
    return standin_segment


# Nuclei of the synthetic test images are 6 to 12 pixels across.
DIAMETER = ["--diameter", "5", "20"]


def _run(argv, capsys) -> tuple[int, str, str]:
    argv = [str(argument) for argument in argv]
    status = main(argv + DIAMETER if argv[0] in ("segment", "count") else argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as stream:
        return {Path(row["image"]).name: row for row in csv.DictReader(stream)}


def _contents(out: Path) -> dict[str, bytes]:
    """Every output file's bytes, except the run files that carry timings."""
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())
            if path.name not in ("summary.csv", "report.html")}


def test_segment_folder_with_bad_files(tmp_path, capsys, segment_alone):
    images = write_image_folder(tmp_path / "in")
    out = tmp_path / "out"
    status, stdout, stderr = _run(["segment", tmp_path / "in", "--out", out, "-j", 1, "--rois"],
                                  capsys)
    assert status == 1
    failed_lines = [line for line in stderr.splitlines() if line.startswith("karyo: error:")]
    assert len(failed_lines) == 3
    for bad in ("notes.png", "empty.png", "truncated.png"):
        assert any(bad in line for line in failed_lines)
    assert "Traceback" not in stderr
    assert "report.html" in stdout
    summary = _summary(out)
    assert {name: row["status"] for name, row in summary.items()} == {
        "cells-0.png": "ok", "cells-1.png": "ok", "cells-2.png": "ok", "notes.png": "failed",
        "empty.png": "failed", "truncated.png": "failed"}
    for path, image in images.items():
        stem = Path(path).stem
        alone = segment_alone(image)
        labels, metadata = read_label_tiff(out / f"{stem}_labels.tif")
        assert np.array_equal(labels, alone.labels)
        assert np.array_equal(tifffile.imread(out / f"{stem}_labels.tif"), alone.labels)
        assert int(summary[Path(path).name]["count"]) == alone.count == metadata["count"]
        for suffix in ("_overlay.png", "_thumb.png", "_nuclei.csv", "_rois.zip"):
            assert (out / f"{stem}{suffix}").is_file()
    assert not list(out.glob("notes*")) and not list(out.glob(".*"))  # no temporary leftovers
    assert "truncated.png" in (out / "report.html").read_text()


def test_resume_completes_a_deleted_output_identically(tmp_path, capsys, segment_alone):
    write_image_folder(tmp_path / "in", bad=False)
    out = tmp_path / "out"
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)[0] == 0
    before = _contents(out)
    (out / "cells-1_labels.tif").unlink()
    (out / "cells-2_overlay.png").unlink()
    status, stdout, _ = _run(["segment", tmp_path / "in", "--out", out, "-j", 1, "--resume"],
                             capsys)
    assert status == 0 and "1 already done" in stdout
    assert _contents(out) == before
    assert {row["status"] for row in _summary(out).values()} == {"ok"}


def test_existing_results_are_not_overwritten(tmp_path, capsys, segment_alone):
    write_image_folder(tmp_path / "in", n_good=1, bad=False)
    out = tmp_path / "out"
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)[0] == 0
    (out / "cells-0_nuclei.csv").write_text("precious\n")
    status, _, stderr = _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)
    assert status == 2 and "--overwrite" in stderr
    assert (out / "cells-0_nuclei.csv").read_text() == "precious\n"
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1, "--overwrite"], capsys)[0] == 0
    assert (out / "cells-0_nuclei.csv").read_text() != "precious\n"


def test_odd_names_stay_inside_the_output_folder(tmp_path, capsys, segment_alone):
    images = write_image_folder(tmp_path / "a" / "b", n_good=1, bad=False)
    original = Path(next(iter(images)))
    odd = tmp_path / "a" / "dna (1) ü;rm.png"
    odd.write_bytes(original.read_bytes())
    twin = tmp_path / "a" / "cells-0.png"  # same name as the first image, other folder
    twin.write_bytes(original.read_bytes())
    dotted = tmp_path / "a" / "A01.ome..png"  # several dots, as in OME-TIFF names
    dotted.write_bytes(original.read_bytes())
    escaping = str(tmp_path / "a" / "b" / ".." / "b" / "cells-0.png")
    out = tmp_path / "out"
    status, _, _ = _run(["segment", escaping, odd, twin, dotted, "--out", out, "-j", 1], capsys)
    assert status == 0
    names = sorted(path.name for path in out.iterdir())
    assert "cells-0_labels.tif" in names and "cells-0-2_labels.tif" in names
    assert "dna_1_rm_labels.tif" in names and "A01.ome_labels.tif" in names
    written = [path for path in tmp_path.rglob("*_labels.tif")]
    assert all(path.parent == out for path in written)


def test_config_round_trip(tmp_path, capsys, segment_alone):
    write_image_folder(tmp_path / "in", n_good=2, bad=False)
    config = tmp_path / "mine.toml"
    settings = {} if REAL_SEGMENT else {"threshold_correction": 1.3}
    config.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
    first, second = tmp_path / "first", tmp_path / "second"
    assert _run(["segment", tmp_path / "in", "--out", first, "-j", 1, "--config", config],
                capsys)[0] == 0
    used = tomllib.loads((first / "settings.toml").read_text())
    assert used["recipe"] == "default"
    assert all(used[key] == value for key, value in settings.items())
    assert _run(["segment", tmp_path / "in", "--out", second, "-j", 1, "--config",
                 first / "settings.toml"], capsys)[0] == 0
    assert _contents(first) == _contents(second)


def test_flags_override_config(tmp_path, capsys, segment_alone):
    config = tmp_path / "c.toml"
    config.write_text('threshold = "otsu"\ndiameter = [5, 50]\nrecipe = "default"\n')
    from karyo.cli import build_parser, resolve_settings

    arguments = build_parser().parse_args(["count", "x.png", "--config", str(config),
                                           "--diameter", "8", "40.5", "--no-fill-holes"])
    recipe, overrides, used = resolve_settings(arguments)
    assert recipe == "default"
    assert overrides == {"threshold": "otsu", "diameter": [8, 40.5], "fill_holes": False}
    assert used["recipe"] == "default" and used["diameter"] == [8, 40.5]


@pytest.mark.parametrize("contents, message", [
    ("threshold = \n", "cannot read config"), ("[section]\na = 1\n", "flat"),
])
def test_bad_config_is_a_usage_error(tmp_path, capsys, contents, message):
    config = tmp_path / "bad.toml"
    config.write_text(contents)
    status, _, stderr = _run(["count", tmp_path, "--config", config], capsys)
    assert status == 2 and message in stderr and "bad.toml" in stderr
    status, _, stderr = _run(["count", tmp_path, "--config", tmp_path / "none.toml"], capsys)
    assert status == 2 and "not found" in stderr


@pytest.mark.parametrize("argv, message", [
    (["segment", "x.png"], "--out"),
    (["count", "x.png", "-j", "0"], "-j"),
    (["count", "x.png", "--threshold", "high"], "--threshold"),
    (["count", "x.png", "--declump", "maybe"], "--declump"),
    (["segment", "x.png", "--out", "o", "--resume", "--overwrite"], "--overwrite"),
])
def test_bad_flags_exit_2_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_count_prints_one_line_per_image(tmp_path, capsys, segment_alone):
    images = write_image_folder(tmp_path / "in", n_good=2)
    status, stdout, stderr = _run(["count", str(tmp_path / "in" / "cells-*.png"),
                                   tmp_path / "in" / "empty.png", tmp_path / "none-*.png",
                                   "-j", 1], capsys)
    assert status == 1
    lines = stdout.splitlines()
    assert lines == [f"{path}\t{segment_alone(image).count}" for path, image in
                     sorted(images.items())]
    assert "empty.png" in stderr and "no file matches" in stderr


@needs_real_segment
def test_count_warns_about_doubtful_images(tmp_path, capsys):
    from karyo.io import imsave
    from karyo.nuclei.segment import QC_FLAGS

    rng = np.random.default_rng(1)
    imsave(str(tmp_path / "noise.png"), rng.normal(60, 5, (200, 200)).clip(0, 255).astype(np.uint8))
    # With no settings at all (no --diameter): noise counts 0 nuclei, and says why.
    status = main(["count", str(tmp_path / "noise.png"), "-j", "1"])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.splitlines() == [f"{tmp_path / 'noise.png'}\t0"]
    assert f"warning: {tmp_path / 'noise.png'}: {QC_FLAGS['empty']}" in captured.err


def test_scheduler_on_a_local_dask_cluster(tmp_path, capsys, segment_alone):
    distributed = pytest.importorskip("dask.distributed")
    write_image_folder(tmp_path / "in", n_good=2)
    alone, on_dask = tmp_path / "alone", tmp_path / "dask"
    assert _run(["segment", tmp_path / "in", "--out", alone, "-j", 1], capsys)[0] == 1
    # processes=False keeps the workers in this process (fast, and they see the stand-in)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        status, _, _ = _run(["segment", tmp_path / "in", "--out", on_dask, "--scheduler",
                             cluster.scheduler_address], capsys)
    assert status == 1
    assert _contents(alone) == _contents(on_dask)


@needs_real_segment
def test_jobs_1_and_2_write_identical_outputs(tmp_path, capsys):
    write_image_folder(tmp_path / "in")
    one, two = tmp_path / "one", tmp_path / "two"
    assert _run(["segment", tmp_path / "in", "--out", one, "-j", 1, "--rois"], capsys)[0] == 1
    assert _run(["segment", tmp_path / "in", "--out", two, "-j", 2, "--rois"], capsys)[0] == 1
    assert _contents(one) == _contents(two)
    assert [row["status"] for row in _summary(one).values()] == \
        [row["status"] for row in _summary(two).values()]


@needs_real_segment
def test_subprocess_segment_and_python_m(tmp_path):
    write_image_folder(tmp_path / "in", n_good=2)
    out = tmp_path / "out"
    completed = subprocess.run([sys.executable, "-m", "karyo", "segment", str(tmp_path / "in"),
                                "--out", str(out), "-j", "2", *DIAMETER],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.count("karyo: error:") == 3
    assert "[5/5]" in completed.stderr  # plain progress lines (2 good + 3 bad files)
    assert (out / "cells-1_labels.tif").is_file()


@pytest.mark.parametrize("command", [[], ["segment"], ["count"], ["evaluate"], ["demo"]])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: karyo" in capsys.readouterr().out


def test_subprocess_python_m_karyo_usage_error(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "karyo", "segment",
                                str(tmp_path / "nothing-*.png"), "--out", str(tmp_path / "o")],
                               capture_output=True, text=True, timeout=300,
                               env={**os.environ, "COLUMNS": "100"})
    assert completed.returncode == 2
    assert "no file matches" in completed.stderr and "Traceback" not in completed.stderr


def test_evaluate_prints_metrics_per_image_and_mean(tmp_path, capsys, segment_alone):
    evaluate = pytest.importorskip("karyo.nuclei.evaluate").evaluate
    images = write_image_folder(tmp_path / "in", n_good=2, bad=False)
    out = tmp_path / "out"
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)[0] == 0
    truth_dir = tmp_path / "truth"
    truth_dir.mkdir()
    truths = {}
    for path, image in images.items():
        truth = segment_alone(np.where(image > 60, image, 0)).labels.astype(np.uint16)
        truths[Path(path).stem] = truth
        tifffile.imwrite(truth_dir / f"{Path(path).stem}.tif", truth)
    status, stdout, stderr = _run(["evaluate", out, truth_dir], capsys)
    assert status == 0
    assert "jaccard_index is Coelho et al." in stderr and "can exceed 1" in stderr
    header, *rows = [line.split("\t") for line in stdout.splitlines()]
    assert header[0] == "image" and [row[0] for row in rows] == ["cells-0", "cells-1", "mean"]
    for row in rows[:2]:
        expected = evaluate(read_label_tiff(out / f"{row[0]}_labels.tif")[0], truths[row[0]])
        for column, cell in zip(header[1:], row[1:], strict=True):
            assert float(cell) == pytest.approx(float(expected[column]), rel=1e-3, abs=1e-9,
                                                    nan_ok=True)


@pytest.fixture(scope="module")
def kill_batch(tmp_path_factory):
    """A folder of 16 images and the outputs of one uninterrupted run over it.

    Each image takes about 0.1 s, so that the run lasts over a second after its first
    output even with two workers on a fast machine: the test must be able to kill it
    mid-run (at 192 x 256 a fast CI machine finished before the signal arrived)."""
    root = tmp_path_factory.mktemp("kill")
    (root / "in").mkdir()
    for seed in range(16):
        tile = synthetic_nuclei(seed, shape=(128, 160), count=10)
        Image.fromarray(np.tile(tile, (4, 4))).save(
            root / "in" / f"cells-{seed:02d}.png")
    whole = root / "whole"
    completed = subprocess.run([sys.executable, "-m", "karyo", "segment", str(root / "in"),
                                "--out", str(whole), "-j", "1", *DIAMETER],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    return root / "in", _contents(whole)


@needs_real_segment
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL],
                         ids=["SIGINT", "SIGKILL"])
def test_killed_batch_leaves_whole_files_and_resume_completes_it(tmp_path, kill_batch, jobs,
                                                                 signal_number):
    images, uninterrupted = kill_batch
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "karyo", "segment", str(images), "--out",
                                str(out), "-j", str(jobs), *DIAMETER],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*_labels.tif")) and process.poll() is None:
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.005)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=120)  # EOF once no worker holds the pipe
    if signal_number == signal.SIGINT:
        assert process.returncode == 130 and "karyo: interrupted" in stderr, stderr
        assert "Traceback" not in stderr
        assert not list(out.glob(".*")), "an interrupted run leaves no temporary files"
    else:
        assert process.returncode == -signal.SIGKILL
    # SIGKILL may leave a hidden temporary file (.name.XXXX.part) for --resume to remove
    visible = {name: data for name, data in _contents(out).items() if not name.startswith(".")}
    assert len(visible) < len(uninterrupted), "killed too late to test anything"
    for name, data in visible.items():  # whatever was written is whole and final
        assert data == uninterrupted[name], name

    resumed = subprocess.run([sys.executable, "-m", "karyo", "segment", str(images), "--out",
                              str(out), "-j", str(jobs), "--resume", *DIAMETER],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert _contents(out) == uninterrupted
    assert not list(out.glob(".*"))
    assert {row["status"] for row in _summary(out).values()} == {"ok"}
    assert len(_summary(out)) == 16


def test_resume_removes_what_a_killed_run_left_half_written(tmp_path, capsys, segment_alone):
    write_image_folder(tmp_path / "in", bad=False)
    out = tmp_path / "out"
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)[0] == 0
    before = _contents(out)
    (out / "cells-1_labels.tif").unlink()
    partial = out / ".cells-1_labels.tif.x1y2.part"  # as atomic_path names them
    partial.write_bytes(b"II*\x00 half a TIFF")
    unrelated = out / ".cells-1_notes.part"
    unrelated.write_text("not ours")
    assert _run(["segment", tmp_path / "in", "--out", out, "-j", 1, "--resume"], capsys)[0] == 0
    assert not partial.exists() and unrelated.exists()
    unrelated.unlink()
    assert _contents(out) == before


def _edge_case_files(folder: Path) -> dict[str, str | None]:
    """Every kind of file issue 5 names, beside good images; the expected error fragment
    (None: the file is valid and must succeed, zero nuclei included)."""
    folder.mkdir(parents=True)
    good = synthetic_nuclei(0)
    Image.fromarray(good).save(folder / "good.png")
    Image.fromarray(np.zeros((40, 50), np.uint8)).save(folder / "black.png")
    Image.fromarray(np.full((40, 50), 255, np.uint8)).save(folder / "saturated.png")
    Image.fromarray(np.full((1, 1), 9, np.uint8)).save(folder / "one-pixel.png")
    colour = np.dstack([good, good[::-1], good[:, ::-1]])
    Image.fromarray(colour).save(folder / "colour.png")
    tifffile.imwrite(folder / "stack.tif", np.stack([good, good]))
    (folder / "notes.png").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    for suffix, save in ((".png", lambda p: Image.fromarray(good).save(p)),
                         (".jpg", lambda p: Image.fromarray(good).save(p, quality=90)),
                         (".tif", lambda p: tifffile.imwrite(p, good))):
        whole_path = folder / f"whole{suffix}"
        save(whole_path)
        whole = whole_path.read_bytes()
        whole_path.unlink()
        (folder / f"truncated{suffix}").write_bytes(whole[: len(whole) // 2])
    _png_claiming(folder / "bomb.png", 100_000, 100_000)  # decompression bombs
    _tiff_claiming(folder / "bomb.tif", 60_000, 60_000)
    return {"good.png": None, "black.png": None, "saturated.png": None, "one-pixel.png": None,
            "colour.png": "channel", "stack.tif": "2-D", "notes.png": "notes.png",
            "empty.png": "empty.png", "truncated.png": "truncated.png",
            "truncated.jpg": "truncated.jpg", "truncated.tif": "truncated.tif",
            "bomb.png": "pixels", "bomb.tif": "pixels"}


def test_every_bad_file_is_one_line_and_the_rest_completes(tmp_path, capsys, segment_alone):
    expected = _edge_case_files(tmp_path / "in")
    out = tmp_path / "out"
    status, _, stderr = _run(["segment", tmp_path / "in", "--out", out, "-j", 1], capsys)
    assert status == 1 and "Traceback" not in stderr
    summary = _summary(out)
    assert set(summary) == set(expected)
    errors = [line for line in stderr.splitlines() if line.startswith("karyo: error:")]
    for name, fragment in expected.items():
        row = summary[name]
        if fragment is None:
            assert row["status"] == "ok", (name, row)
            image = np.asarray(Image.open(tmp_path / "in" / name))
            labels, _ = read_label_tiff(out / f"{Path(name).stem}_labels.tif")
            assert np.array_equal(labels, segment_alone(image).labels), name
        else:
            assert row["status"] == "failed", (name, row)
            assert fragment in row["error"], (name, row["error"])
            line = [error for error in errors if name in error]
            assert len(line) == 1 and fragment in line[0], (name, errors)
    for name in ("black.png", "saturated.png", "one-pixel.png"):
        assert int(summary[name]["count"]) == 0  # no nuclei is an answer, not an error
    # The same as a command: one line per bad file on stderr, nothing from the
    # libraries (their log records bypass capsys in-process).
    completed = subprocess.run([sys.executable, "-m", "karyo", "segment", str(tmp_path / "in"),
                                "--out", str(tmp_path / "again"), "-j", "1", *DIAMETER],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    lines = completed.stderr.splitlines()
    assert sum(line.startswith("karyo: error:") for line in lines) == \
        sum(fragment is not None for fragment in expected.values())
    chatter = [line for line in lines if not line.startswith(("karyo: error:", "["))]
    assert not chatter, chatter


def test_columns_command_prints_the_data_dictionary(capsys):
    from karyo.nuclei.measure import COLUMNS
    from karyo.nuclei.outputs import SUMMARY_COLUMNS

    status, stdout, _ = _run(["columns"], capsys)
    assert status == 0
    names = [line.split()[0] for line in stdout.splitlines() if line and line[0] != " "
             and not line.endswith(":")]
    assert names == list(COLUMNS) + list(SUMMARY_COLUMNS)
    assert "[um^2]" in stdout


def test_segment_writes_geojson_cellprofiler_and_run_table(tmp_path, capsys, segment_alone):
    write_image_folder(tmp_path / "in", n_good=2, bad=False)
    out = tmp_path / "out"
    status, _, _ = _run(["segment", tmp_path / "in", "--out", out, "-j", 1, "--geojson",
                         "--table-style", "cellprofiler", "--pixel-size", "0.5"], capsys)
    assert status == 0
    summary = _summary(out)
    for name, row in summary.items():
        assert row["geojson_file"] == f"{Path(name).stem}.geojson"
        assert (out / row["geojson_file"]).is_file()
    with open(out / "nuclei.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert {Path(row["image"]).name for row in rows} <= set(summary)
    assert all(float(row["area_um2"]) == int(row["area"]) * 0.25 for row in rows)
    assert (out / "cellprofiler" / "Image.csv").is_file()
    assert (out / "cellprofiler" / "Nuclei.csv").is_file()
