"""Pieces of karyo's documentation generated from the code, so that they cannot drift.

- ``gallery_argv`` and ``saved_figures``: sphinx-gallery runs each script of
  ``examples/`` as a user would (``--out DIR``) and shows the figures it saves
  there, step by step; the scripts stay plain command-line programs.
- ``write_api_page``: ``api.rst``, an autosummary of every public module.
- ``.. karyo-columns::``: the columns of the per-nucleus table and of
  ``summary.csv``, from the code's data dictionaries.
- ``.. karyo-docstring::``: the files a run writes, from ``karyo.nuclei.outputs``.
- ``.. karyo-flat-namespace::``: every name of ``import karyo as mh`` and
  the module that defines it.
- ``.. karyo-command-help::``: ``karyo --help`` and each command's help.
- ``.. karyo-mahotas-notes::``: the sentences of the docstrings that say where
  karyo deliberately differs from mahotas.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shutil
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import karyo

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ gallery

_seen_figures: dict[str, set[str]] = {}


def _output_folder(gallery_conf: dict, src_file: str) -> Path:
    return Path(gallery_conf["src_dir"]) / "auto_examples" / "output" / Path(src_file).stem


def gallery_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """The command line a gallery script runs with: ``--out`` an empty folder."""
    folder = _output_folder(gallery_conf, script_vars["src_file"])
    shutil.rmtree(folder, ignore_errors=True)
    _seen_figures[script_vars["src_file"]] = set()
    return ["--out", str(folder)]


def saved_figures(block, block_vars: dict, gallery_conf: dict) -> str:
    """Show the numbered figures (``NN-*.png``) that the last cell saved."""
    from sphinx_gallery.scrapers import figure_rst

    src_file = block_vars["src_file"]
    folder = _output_folder(gallery_conf, src_file)
    seen = _seen_figures.setdefault(src_file, set())
    new = sorted(path for path in folder.glob("[0-9][0-9]-*.png") if path.name not in seen)
    shown = []
    # the iterator hands out as many image paths as asked
    for path, image_path in zip(new, block_vars["image_path_iterator"], strict=False):
        shutil.copyfile(path, image_path)
        seen.add(path.name)
        shown.append(image_path)
    return figure_rst(shown, gallery_conf["src_dir"])


# ------------------------------------------------------------------ output columns

# What each column of summary.csv means, while ``SUMMARY_COLUMNS`` is a tuple of
# names rather than a data dictionary like ``karyo.nuclei.measure.COLUMNS``. The
# build fails (a warning, and it runs with -W) when the two disagree.
SUMMARY_DESCRIPTIONS = {
    "image": "the input file",
    "status": "``ok``, or ``failed`` (then ``error`` says why and the counts are empty)",
    "error": "the error message of an image that failed (empty otherwise)",
    "count": "number of nuclei",
    "threshold": "the foreground threshold the recipe chose",
    "seconds": "time spent on the image",
}


def _column_table(columns, descriptions: dict[str, str], where: str) -> list[str]:
    missing = [name for name in columns if name not in descriptions]
    stale = [name for name in descriptions if name not in columns]
    if missing:
        logger.warning(f"karyo-columns: {where} has columns the documentation does not "
                       f"describe: {', '.join(missing)} (add them to docs/_ext/karyo_docs.py)")
    if stale:
        logger.warning(f"karyo-columns: docs/_ext/karyo_docs.py describes columns that {where} "
                       f"no longer has: {', '.join(stale)}")
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 25 75", "",
             "   * - column", "     - meaning"]
    for name in columns:
        lines += [f"   * - ``{name}``", f"     - {descriptions.get(name, '')}"]
    return lines


def _dictionary_table(columns: dict[str, tuple[str, str]]) -> list[str]:
    """A table of ``name -> (unit, meaning)``."""
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 25 12 63", "",
             "   * - column", "     - unit", "     - meaning"]
    for name, (unit, meaning) in columns.items():
        lines += [f"   * - ``{name}``", f"     - {unit}", f"     - {_literal(meaning)}"]
    return lines


def _literal(text: str) -> str:
    """Plain text, safe from reST markup (``*``, ``|``, backquotes)."""
    return re.sub(r"([*|`_\\])", r"\\\1", text)


class ColumnsDirective(SphinxDirective):
    """``.. karyo-columns:: karyo.nuclei.measure.COLUMNS``: a table of a data dictionary.

    The argument names a mapping ``column -> (unit, meaning)`` in the code.
    """

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name, _, attribute = self.arguments[0].rpartition(".")
        columns = getattr(importlib.import_module(module_name), attribute)
        if isinstance(columns, dict):
            lines = _dictionary_table(columns)
        else:
            lines = _column_table(columns, SUMMARY_DESCRIPTIONS, self.arguments[0])
        return self._parse(lines)

    def _parse(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="karyo_docs"), self.content_offset,
                                container)
        return container.children


class DocstringDirective(ColumnsDirective):
    """``.. karyo-docstring:: karyo.nuclei.outputs``: a module's docstring after its summary line.

    For pages whose facts a module's docstring already keeps (the files a run writes).
    """

    def run(self) -> list[nodes.Node]:
        text = inspect.getdoc(importlib.import_module(self.arguments[0])) or ""
        _summary, _, body = text.partition("\n\n")
        return self._parse(body.splitlines())


# ------------------------------------------------------------------ the flat namespace

class FlatNamespaceDirective(ColumnsDirective):
    """A table of ``karyo.NAME`` and where NAME is defined."""

    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
                 "   * - ``karyo.`` name", "     - defined in"]
        for name in sorted(vars(karyo)):
            value = getattr(karyo, name)
            if name.startswith("_"):
                continue
            if inspect.ismodule(value):
                target = f":mod:`{value.__name__}`"
            elif callable(value) and getattr(value, "__module__", "").startswith("karyo"):
                target = f":func:`{value.__module__}.{value.__qualname__}`"
            else:
                continue
            lines += [f"   * - ``{name}``", f"     - {target}"]
        return self._parse(lines)


# ------------------------------------------------------------------ differences from mahotas

# A sentence about mahotas that says karyo does something else.
_DIFFERENCE = re.compile(
    r"unlike|differs? from|karyo differs|refuse|crash|"
    r"read(s|ing)? (past|beyond|outside|at a wrong|uninit)|"
    r"uninitiali[sz]ed|garbage|meaningless|karyo (also )?(accepts|raises|returns|keeps|"
    r"interpolates|evaluates|counts|uses|starts|computes)|where mahotas|mahotas "
    r"(raises|crashes|fails|truncates|rounds|returns a large|accepts only|cannot|does not "
    r"interpolate)", re.IGNORECASE)


def public_modules() -> list[str]:
    """karyo's public modules: the library and the nuclei tools (not the CLI)."""
    names = [info.name for info in pkgutil.walk_packages(karyo.__path__, "karyo.")]
    return ["karyo"] + [name for name in names
                        if not any(part.startswith("_") for part in name.split("."))
                        and name != "karyo.cli"]


def _sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph, not split inside ``literal`` text or parentheses."""
    sentences, start, depth, in_literal = [], 0, 0, False
    for match in re.finditer(r"``|[()]|(?<=[.])\s+(?=[A-Z(`]|mahotas|karyo)", paragraph):
        token = match.group()
        if token == "``":
            in_literal = not in_literal
        elif in_literal:
            continue
        elif token in "()":
            depth += 1 if token == "(" else -1
        elif depth == 0:
            sentences.append(paragraph[start:match.start()])
            start = match.end()
    return sentences + [paragraph[start:]]


API_INTRO = """\
API reference
=============

``import karyo as mh`` gives the flat namespace of mahotas (:doc:`api/flat`);
each name is defined, and documented, in one of the modules below.

.. toctree::
   :hidden:

   api/flat
"""


def write_api_page(path: Path) -> None:
    """Write ``api.rst``: an autosummary of every public module, found in the package."""
    modules = public_modules()
    groups = [("The library", [name for name in modules if not name.startswith("karyo.nuclei")]),
              ("Nuclei: segment, measure, evaluate, run a batch",
               [name for name in modules if name.startswith("karyo.nuclei")])]
    lines = [API_INTRO]
    for title, names in groups:
        lines += [title, "-" * len(title), "", ".. autosummary::", "   :toctree: api/generated",
                  "   :template: karyo-module.rst", ""] + [f"   {name}" for name in names] + [""]
    text = "\n".join(lines)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _prose(doc) -> list[str]:
    """The paragraphs of a numpydoc docstring: summary, notes, parameter descriptions."""
    parts = [" ".join(doc["Summary"]), " ".join(doc["Extended Summary"]),
             " ".join(doc["Notes"])]
    for section in ("Parameters", "Returns"):
        parts += [" ".join(parameter.desc) for parameter in doc[section]]
    return [re.sub(r"\s+", " ", part) for part in parts if part]


def mahotas_notes() -> list[tuple[str, list[str]]]:
    """(object's full name, its sentences that say how karyo differs from mahotas)."""
    from numpydoc.docscrape import FunctionDoc, NumpyDocString

    found = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        members = [(module_name, module, True)] + [
            (f"{module_name}.{name}", value, False) for name, value in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(value)
            and value.__module__ == module_name]
        for full_name, value, is_module in members:
            text = inspect.getdoc(value) or ""
            if "mahotas" not in text:
                continue
            doc = NumpyDocString(text) if is_module else FunctionDoc(value)
            sentences = [sentence for paragraph in _prose(doc) for sentence in _sentences(paragraph)
                         if "mahotas" in sentence and _DIFFERENCE.search(sentence)]
            if sentences:
                found.append((full_name, sentences))
    return found


class MahotasNotesDirective(ColumnsDirective):
    """One entry per function whose docstring says how karyo differs from mahotas."""

    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        lines = []
        for full_name, sentences in mahotas_notes():
            role = "mod" if full_name in public_modules() else "func"
            lines += [f"- :{role}:`{full_name}`", ""]
            lines += [f"  - {sentence}" for sentence in sentences] + [""]
        return self._parse(lines)


# ------------------------------------------------------------------ the command line

class CommandHelpDirective(ColumnsDirective):
    """``karyo --help`` and ``karyo COMMAND --help``, each in a section, from the parser."""

    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        import argparse
        import os

        from karyo.cli import build_parser

        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
        try:
            parser = build_parser()
            helps = [("karyo", parser.format_help())]
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    helps += [(f"karyo {name}", subparser.format_help())
                              for name, subparser in action.choices.items()]
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        lines = []
        for title, text in helps:
            lines += [f"``{title}``", "-" * (len(title) + 4), "", ".. code-block:: text", ""]
            lines += [f"   {line}".rstrip() for line in text.splitlines()] + [""]
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source="karyo_docs"), container)
        return container.children


def setup(app):
    app.add_directive("karyo-columns", ColumnsDirective)
    app.add_directive("karyo-docstring", DocstringDirective)
    app.add_directive("karyo-flat-namespace", FlatNamespaceDirective)
    app.add_directive("karyo-mahotas-notes", MahotasNotesDirective)
    app.add_directive("karyo-command-help", CommandHelpDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
