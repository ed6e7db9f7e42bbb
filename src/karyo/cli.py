"""The ``karyo`` command: segment, count and evaluate nuclei from the shell.

This module only parses arguments, calls the Python API
(:func:`karyo.nuclei.segment_many`, :mod:`karyo.nuclei.outputs`,
:mod:`karyo.nuclei.report`, ``karyo.nuclei.evaluate``) and prints. Exit
status: 0 when every image succeeded, 1 when any image failed, 2 for a
usage error (bad flag, unreadable config, refusing to overwrite results).
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]

IMAGE_EXTENSIONS = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".gif", ".webp",
                    ".nd2", ".czi", ".lif")

# Command-line flag -> the setting it sets (the keys of a --config file too).
SETTING_FLAGS = {
    "diameter": "--diameter", "threshold": "--threshold",
    "threshold_correction": "--threshold-correction", "object_threshold": "--object-threshold",
    "background": "--no-background", "declump": "--declump", "fill_holes": "--no-fill-holes",
    "exclude_border": "--exclude-border/--keep-border",
    "channel": "--channel", "z": "--z", "time": "--time", "pixel_size": "--pixel-size",
}
# What a flag's value is called in messages ("pass --channel N").
_FLAG_VALUES = {"channel": "N", "z": "N", "time": "N", "pixel_size": "MICRONS",
                "diameter": "MIN MAX"}


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


def _channel(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _z(text: str) -> int | str:
    if text.isdigit() or text == "max":
        return int(text) if text.isdigit() else text
    raise argparse.ArgumentTypeError(f"expected a z-slice number (from 0) or max, got {text!r}")


def _index(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number from 0, got {text!r}")
    return int(text)


def _pixel_size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a pixel size in micrometres, got {text!r}")\
            from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive pixel size in micrometres, got "
                                         f"{text!r}")
    return value


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
                       help="nucleus diameter range, in pixels (default: the typical "
                            "diameter is estimated in each image, and the size filter keeps "
                            "0.4 to 2.5 times it)")
    group.add_argument("--threshold", type=_threshold, metavar="{otsu,mean,rc,VALUE}",
                       help="how to separate nuclei from background: a method, or a fixed "
                       "intensity")
    group.add_argument("--threshold-correction", type=_number, metavar="FACTOR",
                       help="multiply the automatic threshold by FACTOR (above 1: stricter)")
    group.add_argument("--object-threshold", type=_number, metavar="FRACTION",
                       help="outline each nucleus at FRACTION of its own mean brightness "
                       "(default 0.5; 0: at the global threshold)")
    group.add_argument("--no-background", dest="background", action="store_false",
                       default=None, help="do not subtract the background (default: subtract "
                       "a smooth background three nuclei wide)")
    group.add_argument("--declump", choices=("shape", "dynamics", "intensity", "none"),
                       help="how to split touching nuclei: by shape (distance transform, "
                       "pieces merged by the learned model; the default), by shape with "
                       "shallow necks merged (the classical rule), by intensity peaks, or "
                       "not at all")
    group.add_argument("--no-fill-holes", dest="fill_holes", action="store_false", default=None,
                       help="keep holes inside nuclei (default: fill them)")
    border = group.add_mutually_exclusive_group()
    border.add_argument("--keep-border", dest="exclude_border", action="store_false",
                        default=None, help="keep nuclei that touch the image border")
    border.add_argument("--exclude-border", dest="exclude_border", action="store_true",
                        default=None, help="drop nuclei that touch the image border (they are "
                        "cut, so their area and intensity are wrong)")
    group.add_argument("--channel", type=_channel, metavar="N|NAME",
                       help="for colour or multi-channel images, the channel with the DNA "
                       "stain: its number (from 0) or its name in the OME metadata (DAPI, "
                       "Hoechst; any case)")
    group.add_argument("--z", type=_z, metavar="N|max",
                       help="for z-stacks, the z-slice to segment (from 0); default: the "
                       "maximum-intensity projection of the stack")
    group.add_argument("--time", type=_index, metavar="N",
                       help="for time series, the time point to segment (from 0); a time "
                       "series is refused without it")
    group.add_argument("--pixel-size", dest="pixel_size", type=_pixel_size, metavar="MICRONS",
                       help="pixel size in micrometres, overriding the file's ImageJ or OME "
                       "metadata; adds micrometre columns to the tables")
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
    parser.add_argument("--geojson", action="store_true",
                        help="also write STEM.geojson: the nuclei as QuPath detections with "
                        "their measurements (File > Import objects from file)")
    parser.add_argument("--table-style", dest="table_style", choices=("skimage", "cellprofiler"),
                        default="skimage",
                        help="cellprofiler: also write cellprofiler/Image.csv and "
                        "cellprofiler/Nuclei.csv with CellProfiler's column names "
                        "(AreaShape_Area, Intensity_MeanIntensity_DNA, ...; intensities scaled "
                        "to 0..1 as CellProfiler does), for pycytominer and CellProfiler "
                        "Analyst")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="skip images whose outputs are all present; redo the others")
    existing.add_argument("--overwrite", action="store_true",
                          help="replace results already in DIR (default: refuse)")


def _scores_help() -> str:
    from karyo.nuclei.evaluate import SCORE_DESCRIPTIONS

    return "The columns:\n" + "\n".join(f"  {name}: {meaning}"
                                          for name, meaning in SCORE_DESCRIPTIONS.items())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``karyo`` command (all subcommands)."""
    parser = argparse.ArgumentParser(
        prog="karyo", description="Segment, count and measure DNA-stained nuclei.",
        epilog="Run 'karyo COMMAND --help' for the options of each command.")
    from karyo import __version__

    parser.add_argument("--version", action="version", version=f"karyo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    outputs_help = ("Per image STEM: STEM_labels.tif (16-bit label image), STEM_overlay.png, "
                    "STEM_thumb.png, STEM_nuclei.csv, STEM_rois.zip with --rois, STEM.geojson "
                    "with --geojson; per run: summary.csv (each input, its files and its "
                    "quality-control flags), nuclei.csv (every nucleus, with an image column), "
                    "settings.toml (the settings used: rerun with --config), report.html, and "
                    "cellprofiler/ with --table-style cellprofiler. 'karyo columns' lists the "
                    "table columns with their units. Exit status 1 if any image failed.")
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
    slides = segment.add_argument_group(
        "whole-slide images", "With --tile or --zarr, images are segmented tile by tile on "
        "Dask (karyo.nuclei.tiled), with the same result as untiled: STEM.ome.zarr (with "
        "--zarr), STEM_nuclei.csv with each nucleus's tile and seam, STEM.tiles/ (resume state; "
        "--resume keeps its finished tiles).")
    slides.add_argument("--tile", type=_jobs, metavar="SIZE",
                        help="segment every image tile by tile, in tiles of SIZE x SIZE pixels "
                        "(default with --zarr: 2048)")
    slides.add_argument("--zarr", action="store_true",
                        help="write the tiled run's labels as OME-Zarr, STEM.ome.zarr (the image "
                        "with the nuclei under labels/nuclei, multiscale)")

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
        "their mean.", epilog=_scores_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("pred_dir", type=Path, metavar="PRED_DIR",
                          help="predicted labels (e.g. the --out folder of karyo segment)")
    evaluate.add_argument("truth_dir", type=Path, metavar="TRUTH_DIR",
                          help="ground-truth label images")
    evaluate.add_argument("--paper", action="store_true",
                          help="compute the metrics as the U2OS benchmark paper did "
                          "(Coelho et al. 2009), for comparison with its tables")
    evaluate.add_argument("--debug", action="store_true", help="show full tracebacks")

    commands.add_parser(
        "columns", help="list the columns of the per-nucleus tables: name, unit, meaning",
        description="Print the data dictionary of STEM_nuclei.csv and nuclei.csv (the "
        "micrometre columns appear when the pixel size is known), then of summary.csv.")

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


def _default_settings(recipe: str) -> dict:
    from karyo.nuclei.segment import DEFAULT_SETTINGS, RECIPES

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
        from karyo.nuclei.images import INPUT_SETTINGS

        known = set(defaults) | set(INPUT_SETTINGS)
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


def on_command_line(message: str) -> str:
    """`message` with the Python API's argument names (`channel=N`) replaced by flags.

    >>> on_command_line("pass `channel=N` or `channel='NAME'`; `z` is 7")
    'pass --channel N or --channel NAME; --z is 7'
    """
    def flag(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        if name not in SETTING_FLAGS:
            return match.group(0)
        if value is None:
            return SETTING_FLAGS[name]
        value = value[1:].strip("'\"") or _FLAG_VALUES.get(name, "VALUE")
        return f"{SETTING_FLAGS[name]} {value}"

    return re.sub(r"`(\w+)(=[^`]*)?`", flag, message)


def _report_failure(progress: _Progress, result, debug: bool) -> None:
    error = on_command_line(result.error or "")
    # An input refusal already starts with the file's name: say it once.
    error = error.removeprefix(f"ImageInputError: {result.name}: ")
    progress.error(f"karyo: error: {result.name}: {error}")
    if debug and result.traceback:
        progress.error(result.traceback.rstrip())


def _run(arguments, images: list[str], description: str):
    from karyo.nuclei.batch import segment_many

    recipe, overrides, _ = resolve_settings(arguments)
    progress = _Progress(len(images), description)
    try:
        return segment_many(images, recipe=recipe, settings=overrides, jobs=arguments.jobs,
                            scheduler=arguments.scheduler,
                            on_result=_progress_handler(arguments, progress), keep_arrays=False)
    finally:
        progress.close()


def _progress_handler(arguments, progress: _Progress):
    """A callback that shows each result as it comes (and its error, if any)."""

    def handle(result) -> None:
        if result.ok:
            read = result.input.split(": ", 1)[1] if ": " in result.input else ""
            progress.advance(f"{result.name}: {result.count} nuclei ({result.seconds:.2f} s"
                             + (f"; {read})" if read else ")"))
        else:
            progress.advance(f"{result.name}: failed")
            _report_failure(progress, result, arguments.debug)

    return handle


# ---------------------------------------------------------------- segment and demo

def _segment_into(arguments, images: list[str], problems: list[str], truth=None):
    """Run :func:`karyo.nuclei.run.segment_folder` with the flags; print what it did."""
    from karyo.nuclei.run import RunFolderError, segment_folder

    for problem in problems:
        print(f"karyo: error: {problem}", file=sys.stderr)
    if not images:
        raise UsageError("no images to segment")
    recipe, overrides, _ = resolve_settings(arguments)
    progress = _Progress(len(images), "segmenting")
    try:
        run = segment_folder(images, arguments.out, recipe=recipe, settings=overrides,
                             resume=arguments.resume, overwrite=arguments.overwrite,
                             rois=arguments.rois, geojson=arguments.geojson,
                             table_style=arguments.table_style, jobs=arguments.jobs,
                             scheduler=arguments.scheduler,
                             on_result=_progress_handler(arguments, progress), truth=truth)
    except RunFolderError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.close()
    done = len(run.results) - run.failed
    print(f"segmented {done} of {len(run.results)} images"
          + (f" ({run.already_done} already done)" if run.already_done else "")
          + f"; outputs in {run.out}; report: {run.report}")
    for line in _input_choices(run.results):
        print(line)
    return run, 1 if run.failed or problems else 0


def _command_segment(arguments) -> int:
    resolve_settings(arguments)  # a bad config is reported before any work
    images, problems = expand_inputs(arguments.images)
    tiled = images if arguments.tile or arguments.zarr else []
    if not tiled:
        _prepare_large_images(images, resolve_settings(arguments)[0])
    status = 0
    if tiled:
        status = _segment_tiled(arguments, tiled)
    rest = [path for path in images if path not in tiled]
    if rest or not tiled:
        status = max(status, _segment_into(arguments, rest, problems)[1])
    else:
        for problem in problems:
            print(f"karyo: error: {problem}", file=sys.stderr)
        status = max(status, 1 if problems else 0)
    return status


def _prepare_large_images(images: list[str], recipe: str) -> None:
    """Ready the run for images above AUTO_TILE_PIXELS (their headers read only).

    The default recipe segments them tile by tile, so the process returns
    freed memory; another recipe cannot tile them, and a note says so.
    """
    from karyo.nuclei.tiled import AUTO_TILE_PIXELS, needs_tiling, return_freed_memory

    large = [path for path in images if needs_tiling(path)]
    if large and recipe == "default":
        return_freed_memory()
    for path in large if recipe != "default" else []:
        print(f"karyo: note: {path} has more than {AUTO_TILE_PIXELS:,} pixels; segmented whole "
              f"it needs about 30 bytes per pixel; only the default recipe segments it tile by "
              "tile", file=sys.stderr)


def _segment_tiled(arguments, images: list[str]) -> int:
    """Large images tile by tile (karyo.nuclei.tiled.segment_tiled); one summary line each."""
    from karyo.nuclei.tiled import return_freed_memory, segment_tiled

    recipe, overrides, _ = resolve_settings(arguments)
    if recipe != "default":
        raise UsageError("--tile and --zarr run the default recipe only")
    # The process is ours: memory bounded by the tiles in hand, not by those done.
    return_freed_memory()
    status = 0
    for path in images:
        try:
            result = segment_tiled(path, arguments.out, tile=arguments.tile or 2048,
                                   settings=overrides, zarr=arguments.zarr,
                                   scheduler=arguments.scheduler, workers=arguments.jobs,
                                   resume=arguments.resume)
        except (OSError, ValueError) as error:
            # A bad file is reported and the others still run.
            print(f"karyo: error: {path}: {error}", file=sys.stderr)
            status = 1
            continue
        print(f"{Path(path).name}: {result.count} nuclei in {result.tiles} tiles "
              f"({result.seconds:.1f} s; {result.seam} across seams, {result.second_pass} "
              f"larger than the halo segmented again"
              + (f"; {result.resumed} tiles already done" if result.resumed else "") + ")")
        for name, file in result.files.items():
            print(f"  {name}: {file}")
        for line in result.failed:
            print(f"karyo: error: {line}", file=sys.stderr)
            status = 1
    return status


def _command_demo(arguments) -> int:
    from karyo.demos import load

    image, truth = load("synthetic_nuclei", return_labels=True)
    arguments.out.mkdir(parents=True, exist_ok=True)
    demo_path = arguments.out / ("demo-nuclear.png" if np.asarray(image).dtype in
                                 (np.uint8, np.uint16) else "demo-nuclear.tif")
    if demo_path.exists() and not (arguments.overwrite or arguments.resume):
        raise UsageError(f"{demo_path} exists; use --overwrite or --resume")
    _write_image(demo_path, np.asarray(image))
    images, problems = expand_inputs(arguments.images)
    run, status = _segment_into(arguments, [str(demo_path)] + images, problems,
                                truth={str(demo_path): truth})
    scores = run.scores.get(str(demo_path))
    if scores is None:
        return status
    print(f"demo score against its generated truth: {scores['n_pred']} of {scores['n_truth']} "
          f"nuclei found, F1 at IoU 0.5 {scores['f1']:.3f}, average precision "
          f"{scores['average_precision']:.3f}, Hausdorff {scores['hausdorff']:.1f} px "
          "(in the report too)")
    return status


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

def _input_choices(results) -> list[str]:
    """One line per distinct way the inputs were read (channel, z projection or slice)."""
    counts: dict[str, int] = {}
    for result in results:
        read = getattr(result, "input", "") or ""
        if result.ok and ": " in read:
            choice = read.split(": ", 1)[1]
            counts[choice] = counts.get(choice, 0) + 1
    return [f"read {count} image{'s' if count > 1 else ''} as: {choice}"
            for choice, count in counts.items()]


def _command_count(arguments) -> int:
    resolve_settings(arguments)
    images, problems = expand_inputs(arguments.images)
    for problem in problems:
        print(f"karyo: error: {problem}", file=sys.stderr)
    if not images:
        raise UsageError("no images to count")
    results = _run(arguments, images, "counting")
    from karyo.nuclei.segment import QC_FLAGS

    for result in results:
        if result.ok:
            print(f"{result.name}\t{result.count}")
    for result in results:
        # A count to doubt says so: the image's quality-control flags, on stderr.
        for flag in getattr(result, "flags", ()) if result.ok else ():
            print(f"karyo: warning: {result.name}: {QC_FLAGS.get(flag, flag)}", file=sys.stderr)
    for line in _input_choices(results):
        print(f"karyo: note: {line}", file=sys.stderr)
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
    from karyo.nuclei.evaluate import SCORE_DESCRIPTIONS, evaluate

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
        print(f"karyo: note: jaccard_index is {SCORE_DESCRIPTIONS['jaccard_index']}; "
              "'karyo evaluate --help' explains every column", file=sys.stderr)
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

def _command_columns(arguments) -> int:
    from karyo.nuclei.measure import format_columns
    from karyo.nuclei.outputs import SUMMARY_COLUMNS

    print("Per-nucleus tables (STEM_nuclei.csv, nuclei.csv):")
    print(format_columns())
    print("\nsummary.csv:")
    for name, (unit, meaning) in SUMMARY_COLUMNS.items():
        print(f"{name:<26}{f'[{unit}]' if unit else '':<11}{meaning}".rstrip())
    return 0


_COMMANDS = {"columns": _command_columns, "segment": _command_segment, "count": _command_count,
             "evaluate": _command_evaluate, "demo": _command_demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``karyo`` command with `argv` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return _COMMANDS[arguments.command](arguments)
    except UsageError as error:
        print(f"karyo: error: {on_command_line(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("karyo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if getattr(arguments, "debug", False):
            raise
        print(f"karyo: error: {type(error).__name__}: {on_command_line(str(error))} (rerun "
              "with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
