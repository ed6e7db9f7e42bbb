"""Every docstring Example in the package runs, and shows what it says.

Modules are imported by name (``karyo.morph``), not by path, so the examples
run against the installed package with its compiled kernels, as a user's code
would. The examples print no numpy scalars (``np.float64(3.0)`` under numpy 2,
``3.0`` before): they convert with ``int``/``float`` where they show one.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import tempfile

import pytest

import karyo

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# The bar: a run with fewer examples than this has lost some of them.
MIN_EXAMPLES = 100


def _raise(name: str) -> None:
    raise ImportError(f"karyo's module {name} failed to import")


def module_names() -> list[str]:
    """karyo and every module beneath it, private kernels included."""
    return ["karyo"] + sorted(info.name for info in
                              pkgutil.walk_packages(karyo.__path__, "karyo.", onerror=_raise))


def run_examples(name: str) -> tuple[int, str]:
    """How many examples module `name` holds, and the report of those that failed."""
    module = importlib.import_module(name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.append)
    return runner.tries, "".join(report)


MODULES = module_names()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[int, str]]:
    """Each module's examples, run once; the files they write go to a pytest folder."""
    folder = tmp_path_factory.mktemp("doctests")
    saved_tempdir, saved_cwd = tempfile.tempdir, os.getcwd()
    tempfile.tempdir = str(folder)
    os.chdir(folder)
    try:
        return {name: run_examples(name) for name in MODULES}
    finally:
        tempfile.tempdir = saved_tempdir
        os.chdir(saved_cwd)


def test_every_module_is_found():
    for name in ("karyo.morph", "karyo.labeled", "karyo.features.texture", "karyo.io",
                 "karyo.nuclei.measure", "karyo.nuclei.segment", "karyo.cli"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_examples_pass(outcomes, name):
    _, failures = outcomes[name]
    assert not failures, failures


def test_enough_examples_run(outcomes):
    assert sum(tries for tries, _ in outcomes.values()) >= MIN_EXAMPLES
