"""The ``karyo`` command: segment, count and evaluate nuclei from the shell.

This module only parses arguments, calls the Python API
(:func:`karyo.nuclei.segment_many`, :mod:`karyo.nuclei.outputs`,
:mod:`karyo.nuclei.report`, ``karyo.nuclei.evaluate``) and prints. Exit
status: 0 when every image succeeded, 1 when any image failed, 2 for a
usage error (bad flag, unreadable config, refusing to overwrite results).
"""

from __future__ import annotations

import argparse
import csv
import glob
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]

IMAGE_EXTENSIONS = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

# Command-line flag -> the setting it sets (the keys of a --config file too).
SETTING_FLAGS = {
    "diameter": "--diameter", "threshold": "--threshold",
    "threshold_correction": "--threshold-correction", "declump": "--declump",
    "fill_holes": "--no-fill-holes", "exclude_border": "--exclude-border/--keep-border",
    "channel": "--channel",
}


class UsageError(Exception):
    """A problem with the command line or its files: reported in one line, exit status 2."""


# ---------------------------------------------------------------- parsing

def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return int(value) if value.is_integer() and "." not in text else value


def _threshold(text: str) -> str | float:
    if text in ("otsu", "mean", "rc"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected otsu, mean, rc or an intensity value, got {text!r}") from None


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}")\
            from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {jobs}")
    return jobs


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "segmentation settings",
        "Each flag overrides the recipe's default and the --config file.")
    group.add_argument("--recipe", help="segmentation recipe (default: 'default', or the "
                       "config file's recipe)")
    group.add_argument("--diameter", nargs=2, type=_number, metavar=("MIN", "MAX"),
                       help="expected nucleus diameter range, in pixels")
    group.add_argument("--threshold", type=_threshold, metavar="{otsu,mean,rc,VALUE}",
                       help="how to separate nuclei from background: a method, or a fixed "
                       "intensity")
    group.add_argument("--threshold-correction", type=_number, metavar="FACTOR",
                       help="multiply the automatic threshold by FACTOR (above 1: stricter)")
    group.add_argument("--declump", choices=("intensity", "shape", "none"),
                       help="how to split touching nuclei: by intensity peaks, by shape "
                       "(distance transform), or not at all")
    group.add_argument("--no-fill-holes", dest="fill_holes", action="store_false", default=None,
                       help="keep holes inside nuclei (default: fill them)")
    border = group.add_mutually_exclusive_group()
    border.add_argument("--keep-border", dest="exclude_border", action="store_false",
                        default=None, help="keep nuclei that touch the image border")
    border.add_argument("--exclude-border", dest="exclude_border", action="store_true",
                        default=None, help="drop nuclei that touch the image border (they are "
                        "cut, so their area and intensity are wrong)")
    group.add_argument("--channel", type=int, metavar="N",
                       help="for colour or multi-channel images, the channel (0-based) with "
                       "the DNA stain")
    group.add_argument("--config", type=Path, metavar="FILE.toml",
                       help="read settings from a TOML file with the same names "
                       "(diameter = [8, 40], threshold = \"otsu\", ...), e.g. a settings.toml "
                       "written by an earlier run")


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running")
    group.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                       help="number of processes (default: all cores; 1 runs in this process)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs "
                       "pip install 'karyo[dask]'; workers must see the image files)")
    group.add_argument("--debug", action="store_true",
                       help="show full tracebacks for errors")


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder for the outputs (created if needed)")
    parser.add_argument("--rois", action="store_true",
                        help="also write ImageJ ROIs (STEM_rois.zip) for Fiji's ROI Manager")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="skip images whose outputs are all present; redo the others")
    existing.add_argument("--overwrite", action="store_true",
                          help="replace results already in DIR (default: refuse)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``karyo`` command (all subcommands)."""
    parser = argparse.ArgumentParser(
        prog="karyo", description="Segment, count and measure DNA-stained nuclei.",
        epilog="Run 'karyo COMMAND --help' for the options of each command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    outputs_help = ("Per image STEM: STEM_labels.tif (16-bit label image), STEM_overlay.png, "
                    "STEM_thumb.png, STEM_nuclei.csv, STEM_rois.zip with --rois; per run: "
                    "summary.csv, settings.toml (the settings used: rerun with --config) and "
                    "report.html. Exit status 1 if any image failed.")
    segment = commands.add_parser(
        "segment", help="segment nuclei and write labels, overlays, tables and a report",
        description="Segment the nuclei of IMAGES and write the results to DIR.",
        epilog=outputs_help)
    segment.add_argument("images", nargs="+", metavar="IMAGES",
                         help="image files, folders (their images, not recursive) or glob "
                         "patterns such as 'plate1/*.tif'")
    _add_output_flags(segment)
    _add_setting_flags(segment)
    _add_run_flags(segment)

    count = commands.add_parser(
        "count", help="print the number of nuclei in each image",
        description="Print one line per image: the image and its number of nuclei (tab "
        "separated). Failures go to stderr; exit status 1 if any image failed.")
    count.add_argument("images", nargs="+", metavar="IMAGES",
                       help="image files, folders or glob patterns")
    _add_setting_flags(count)
    _add_run_flags(count)

    evaluate = commands.add_parser(
        "evaluate", help="compare label images with a hand segmentation",
        description="Match label images in PRED_DIR with those in TRUTH_DIR by name "
        "(STEM_labels.tif matches STEM.png or STEM.tif) and print the metrics per image and "
        "their mean.")
    evaluate.add_argument("pred_dir", type=Path, metavar="PRED_DIR",
                          help="predicted labels (e.g. the --out folder of karyo segment)")
    evaluate.add_argument("truth_dir", type=Path, metavar="TRUTH_DIR",
                          help="ground-truth label images")
    evaluate.add_argument("--paper", action="store_true",
                          help="compute the metrics as the U2OS benchmark paper did "
                          "(Coelho et al. 2009), for comparison with its tables")
    evaluate.add_argument("--debug", action="store_true", help="show full tracebacks")

    demo = commands.add_parser(
        "demo", help="segment karyo's demo image (and any IMAGES) and write everything",
        description="Write the synthetic demo image to DIR, segment it (and any IMAGES "
        "given) and write all outputs and the report there.", epilog=outputs_help)
    demo.add_argument("images", nargs="*", metavar="IMAGES",
                      help="more image files, folders or glob patterns")
    _add_output_flags(demo)
    _add_setting_flags(demo)
    _add_run_flags(demo)
    return parser


# ---------------------------------------------------------------- inputs and settings

def expand_inputs(arguments: Sequence[str]) -> tuple[list[str], list[str]]:
    """Image paths from files, folders and glob patterns; and one problem line per dud."""
    paths, problems = [], []
    for argument in arguments:
        if os.path.isdir(argument):
            found = sorted(os.path.join(argument, name) for name in os.listdir(argument)
                           if name.lower().endswith(IMAGE_EXTENSIONS)
                           and not name.startswith("."))
            if not found:
                problems.append(f"{argument}: folder has no images "
                                f"({', '.join(IMAGE_EXTENSIONS)})")
            paths += found
        elif not os.path.exists(argument) and glob.has_magic(argument):
            found = sorted(path for path in glob.glob(argument) if os.path.isfile(path))
            if not found:
                problems.append(f"{argument}: no file matches this pattern")
            paths += found
        else:
            paths.append(argument)  # a missing file fails as that image's result
    return paths, problems


def _default_settings(recipe: str) -> dict | None:
    try:
        from karyo.nuclei.segment import DEFAULT_SETTINGS, RECIPES
    except ImportError:
        return None
    if recipe not in RECIPES:
        raise UsageError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    return dict(DEFAULT_SETTINGS.get(recipe, {}))


def read_config(path: Path) -> dict:
    """The settings of a TOML config file (flat: setting = value)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UsageError("--config needs Python 3.11+ (or pip install tomli)") from None
    try:
        with open(path, "rb") as stream:
            config = tomllib.load(stream)
    except FileNotFoundError:
        raise UsageError(f"{path}: config file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read config: {error}") from None
    nested = [key for key, value in config.items() if isinstance(value, dict)]
    if nested:
        raise UsageError(f"{path}: config must be flat 'setting = value' lines; found a "
                         f"[{nested[0]}] table")
    return config


def resolve_settings(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    """(recipe, overrides to pass on, every setting used) from defaults, --config and flags."""
    config = read_config(arguments.config) if arguments.config else {}
    recipe = arguments.recipe or config.pop("recipe", "default")
    config.pop("recipe", None)
    if not isinstance(recipe, str):
        raise UsageError(f"recipe must be a name, got {recipe!r}")
    flags = {key: getattr(arguments, key) for key in SETTING_FLAGS
             if getattr(arguments, key, None) is not None}
    if "diameter" in flags:
        flags["diameter"] = list(flags["diameter"])
    overrides = {**config, **flags}
    defaults = _default_settings(recipe)
    if defaults is not None:
        known = set(defaults)
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UsageError(f"setting {unknown[0]!r} is not known to recipe {recipe!r} "
                             f"(known: {', '.join(sorted(known))})")
    used = {**(defaults or {}), **overrides, "recipe": recipe}
    return recipe, overrides, used


# ---------------------------------------------------------------- progress and errors

class _Progress:
    """A tqdm bar on a terminal, plain lines otherwise (logs, pipes, CI)."""

    def __init__(self, total: int, description: str):
        self.bar = None
        self.done = 0
        self.total = total
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=description, unit="image", file=sys.stderr)

    def advance(self, line: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        else:
            print(f"[{self.done}/{self.total}] {line}", file=sys.stderr, flush=True)

    def error(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _report_failure(progress: _Progress, result, debug: bool) -> None:
    progress.error(f"karyo: error: {result.name}: {result.error}")
    if debug and result.traceback:
        progress.error(result.traceback.rstrip())


def _run(arguments, images: list[str], description: str, on_result=None):
    from karyo.nuclei.batch import segment_many

    recipe, overrides, _ = resolve_settings(arguments)
    progress = _Progress(len(images), description)

    def handle(result) -> None:
        if on_result is not None:
            on_result(result)
        if result.ok:
            progress.advance(f"{result.name}: {result.count} nuclei ({result.seconds:.2f} s)")
        else:
            progress.advance(f"{result.name}: failed")
            _report_failure(progress, result, arguments.debug)

    try:
        return segment_many(images, recipe=recipe, settings=overrides, jobs=arguments.jobs,
                            scheduler=arguments.scheduler, on_result=handle, keep_arrays=False)
    finally:
        progress.close()


# ---------------------------------------------------------------- segment and demo

_RUN_FILES = ("summary.csv", "settings.toml", "report.html")
_SETTINGS_COMMENT = "karyo segment: the settings of this run (use with --config)"


def _segment_into(arguments, images: list[str], problems: list[str]) -> int:
    from karyo.nuclei.batch import ImageResult, load_image, summarise_nuclei
    from karyo.nuclei.outputs import (
        format_settings_toml,
        image_outputs,
        read_label_tiff,
        remove_partial_files,
        unique_stems,
        write_image_outputs,
        write_settings_toml,
        write_summary_csv,
    )
    from karyo.nuclei.report import write_report

    for problem in problems:
        print(f"karyo: error: {problem}", file=sys.stderr)
    if not images:
        raise UsageError("no images to segment")
    _, _, used = resolve_settings(arguments)
    out_dir: Path = arguments.out
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = [image_outputs(out_dir, stem, rois=arguments.rois) for stem in unique_stems(images)]
    settings_text = format_settings_toml(used)

    existing = [path for written in outputs for path in written.existing()]
    existing += [out_dir / name for name in _RUN_FILES if (out_dir / name).exists()]
    if existing and not (arguments.overwrite or arguments.resume):
        raise UsageError(f"{out_dir} already holds results (e.g. {existing[0].name}); use "
                         "--overwrite to replace them or --resume to complete them")
    previous_rows = {}
    if arguments.resume:
        previous_settings = out_dir / "settings.toml"
        if previous_settings.exists() and _strip_comments(previous_settings.read_text(
                encoding="utf-8")) != settings_text:
            raise UsageError(f"{previous_settings} differs from this run's settings; resume "
                             "with the same settings (e.g. --config "
                             f"{previous_settings}) or use --overwrite")
        previous_rows = _read_summary(out_dir / "summary.csv")
    if arguments.resume or arguments.overwrite:  # leftovers of a killed run
        remove_partial_files([path for written in outputs for path in written.paths()]
                             + [out_dir / name for name in _RUN_FILES])
    # Written first, so that a run killed midway leaves the settings --resume checks.
    write_settings_toml(out_dir / "settings.toml", used, overwrite=True, comment=_SETTINGS_COMMENT)

    todo = [index for index, written in enumerate(outputs)
            if not (arguments.resume and written.complete())]
    by_name = {}

    def write(result) -> None:
        written = outputs[todo[result.index]]
        if not result.ok:
            return
        try:
            write_image_outputs(written, result, overwrite=arguments.overwrite
                                or arguments.resume)
        except Exception as error:  # noqa: BLE001 - a write failure fails only this image
            result.status, result.error = "failed", f"cannot write outputs: {error}"

    try:
        results = _run(arguments, [images[index] for index in todo], "segmenting", write) \
            if todo else []
    except KeyboardInterrupt:
        # Ctrl-C may land between creating a temporary file and the cleanup that
        # would remove it; what is left is swept here (what is whole stays).
        remove_partial_files([path for written in outputs for path in written.paths()])
        raise
    all_results: list = [None] * len(images)
    for position, result in enumerate(results):
        result.index = todo[position]
        all_results[result.index] = result
    for index, written in enumerate(outputs):
        if all_results[index] is None:  # complete from an earlier run
            all_results[index] = _resumed_result(index, images[index], written, used,
                                                 previous_rows.get(images[index]),
                                                 read_label_tiff, load_image, summarise_nuclei,
                                                 ImageResult)
        by_name[images[index]] = written
    write_summary_csv(out_dir / "summary.csv", all_results, overwrite=True)
    report = write_report(out_dir / "report.html", all_results, outputs=by_name,
                          settings=used, overwrite=True)
    failed = sum(not result.ok for result in all_results) + len(problems)
    succeeded = len(all_results) - sum(not result.ok for result in all_results)
    print(f"segmented {succeeded} of {len(all_results)} images"
          + (f" ({len(images) - len(todo)} already done)" if len(todo) < len(images) else "")
          + f"; outputs in {out_dir}; report: {report}")
    return 1 if failed else 0


def _strip_comments(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


def _read_summary(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["image"]: row for row in csv.DictReader(stream)}


def _resumed_result(index, name, written, used, previous_row, read_label_tiff, load_image,
                    summarise_nuclei, ImageResult):
    """The result of an image completed by an earlier run, rebuilt from its files."""
    labels, metadata = read_label_tiff(written.labels)
    try:
        image = load_image(name, channel=used.get("channel"))
        areas, means = summarise_nuclei(labels, image)
    except Exception:  # noqa: BLE001 - the source moved: the report just lacks its intensities
        areas, means = summarise_nuclei(labels, np.zeros(labels.shape))
        means = np.full(areas.shape, np.nan)
    seconds = float(previous_row["seconds"]) if previous_row and previous_row.get("seconds") \
        else 0.0
    return ImageResult(index=index, name=name, status="ok",
                       count=int(metadata.get("count", areas.size)),
                       threshold=float(metadata.get("threshold", float("nan"))), seconds=seconds,
                       settings=metadata.get("settings", {}), areas=areas,
                       mean_intensities=means)


def _command_segment(arguments) -> int:
    resolve_settings(arguments)  # a bad config is reported before any work
    images, problems = expand_inputs(arguments.images)
    return _segment_into(arguments, images, problems)


DEMO_DIAMETER = (30, 120)


def _command_demo(arguments) -> int:
    try:
        from karyo.demos import load
    except ImportError as error:
        raise UsageError(f"the demo image is not available: {error}") from None
    image, truth = load("synthetic_nuclei", return_labels=True)
    if arguments.diameter is None:
        # The demo's nuclei are 30-90 px across; the default range suits U2OS
        # frames (70-200 px), so the demo says which scale it uses.
        arguments.diameter = list(DEMO_DIAMETER)
        print(f"demo image: nuclei about 30-90 px across, using --diameter "
              f"{DEMO_DIAMETER[0]} {DEMO_DIAMETER[1]}")
    arguments.out.mkdir(parents=True, exist_ok=True)
    demo_path = arguments.out / ("demo-nuclear.png" if np.asarray(image).dtype in
                                 (np.uint8, np.uint16) else "demo-nuclear.tif")
    if demo_path.exists() and not (arguments.overwrite or arguments.resume):
        raise UsageError(f"{demo_path} exists; use --overwrite or --resume")
    _write_image(demo_path, np.asarray(image))
    images, problems = expand_inputs(arguments.images)
    status = _segment_into(arguments, [str(demo_path)] + images, problems)
    _score_demo(arguments.out / f"{demo_path.stem}_labels.tif", truth)
    return status


def _score_demo(labels_path: Path, truth: np.ndarray) -> None:
    """Print how the demo's segmentation scores against its generated truth."""
    from karyo.nuclei.evaluate import evaluate
    from karyo.nuclei.outputs import read_label_tiff

    if not labels_path.exists():
        return
    scores = evaluate(read_label_tiff(labels_path)[0], truth)
    print(f"demo score against its generated truth: {scores['n_pred']} of {scores['n_truth']} "
          f"nuclei found, F1 at IoU 0.5 {scores['f1']:.3f}, average precision "
          f"{scores['average_precision']:.3f}, Hausdorff {scores['hausdorff']:.1f} px")


def _write_image(path: Path, image: np.ndarray) -> None:
    from karyo.nuclei.outputs import atomic_path

    with atomic_path(path, overwrite=True) as temporary:
        if path.suffix == ".png":
            from PIL import Image

            Image.fromarray(image).save(temporary, format="PNG")
        else:
            import tifffile

            tifffile.imwrite(temporary, image)


# ---------------------------------------------------------------- count and evaluate

def _command_count(arguments) -> int:
    resolve_settings(arguments)
    images, problems = expand_inputs(arguments.images)
    for problem in problems:
        print(f"karyo: error: {problem}", file=sys.stderr)
    if not images:
        raise UsageError("no images to count")
    results = _run(arguments, images, "counting")
    for result in results:
        if result.ok:
            print(f"{result.name}\t{result.count}")
    return 1 if problems or any(not result.ok for result in results) else 0


def _label_key(path: Path) -> str:
    stem = path.name.rsplit(".", 1)[0]
    return stem[: -len("_labels")] if stem.endswith("_labels") else stem


def _label_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    files = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
            if path.name.endswith(("_overlay.png", "_thumb.png")):
                continue
            files.setdefault(_label_key(path), path)
    return files


def _read_labels(path: Path) -> np.ndarray:
    from karyo.nuclei.batch import load_image

    return load_image(path, channel=None)


def _command_evaluate(arguments) -> int:
    try:
        from karyo.nuclei.evaluate import evaluate
    except ImportError as error:
        raise UsageError(f"evaluation is not available: {error}") from None
    predictions = _label_files(arguments.pred_dir)
    truths = _label_files(arguments.truth_dir)
    names = sorted(set(predictions) & set(truths))
    if not names:
        raise UsageError(f"no label image in {arguments.pred_dir} matches one in "
                         f"{arguments.truth_dir} by name")
    rows, failed = {}, 0
    for name in names:
        try:
            metrics = evaluate(_read_labels(predictions[name]), _read_labels(truths[name]),
                               paper_compatible=arguments.paper)
        except Exception as error:  # noqa: BLE001 - report the image and go on
            failed += 1
            print(f"karyo: error: {predictions[name]}: {type(error).__name__}: {error}",
                  file=sys.stderr)
            if arguments.debug:
                raise
            continue
        rows[name] = metrics
    if rows:
        columns = list(next(iter(rows.values())))
        means = {column: float(np.mean([float(row[column]) for row in rows.values()]))
                 for column in columns}
        print("\t".join(["image", *columns]))
        for name, metrics in [*rows.items(), ("mean", means)]:
            print("\t".join([name, *(_format_metric(metrics[column]) for column in columns)]))
    unmatched = len(set(predictions) ^ set(truths))
    if unmatched:
        print(f"karyo: note: {unmatched} files had no partner by name and were skipped",
              file=sys.stderr)
    return 1 if failed else 0


def _format_metric(value) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return f"{float(value):.4g}"


# ---------------------------------------------------------------- entry point

_COMMANDS = {"segment": _command_segment, "count": _command_count,
             "evaluate": _command_evaluate, "demo": _command_demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``karyo`` command with `argv` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return _COMMANDS[arguments.command](arguments)
    except UsageError as error:
        print(f"karyo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("karyo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if arguments.debug:
            raise
        print(f"karyo: error: {type(error).__name__}: {error} (rerun with --debug for "
              "details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
