"""The installed package is the source tree: every module listed in meson.build, nothing else.

meson.build lists karyo's files one by one (no glob), so a new module that is
not added to the list would be missing from the wheel, and from the editable
install these tests run against. The tests compare what Python can import
under ``karyo`` with the files under ``src/karyo``.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import karyo

SOURCE = Path(__file__).resolve().parents[1] / "src" / "karyo"

pytestmark = pytest.mark.skipif(not SOURCE.is_dir(), reason="no source tree beside the tests")


def source_modules() -> set[str]:
    """Dotted names of the modules in the source tree: .py files and Cython kernels."""
    names = set()
    for path in [*SOURCE.rglob("*.py"), *SOURCE.rglob("*.pyx")]:
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(parts))
    return names


def installed_modules() -> set[str]:
    return {"karyo"} | {info.name for info in pkgutil.walk_packages(karyo.__path__, "karyo.")}


def test_every_source_module_is_installed():
    missing = sorted(name for name in source_modules() if importlib.util.find_spec(name) is None)
    assert not missing, (f"{missing} are in src/karyo but not in the package: add them to "
                         "the meson.build of their folder")


def test_nothing_is_installed_that_the_source_tree_does_not_hold():
    # a kernel renamed or moved in the source but still listed, or a stale build product
    assert installed_modules() == source_modules()


def test_kernels_sit_beside_their_fronts():
    for kernel, front in [("karyo.features._lbp", "karyo.features.lbp"),
                          ("karyo.features._surf", "karyo.features.surf"),
                          ("karyo.features._texture", "karyo.features.texture"),
                          ("karyo._thin", "karyo.thin"),
                          ("karyo._center_of_mass", "karyo.center_of_mass")]:
        assert importlib.util.find_spec(kernel) is not None, kernel
        assert kernel.rpartition(".")[0] == front.rpartition(".")[0]
    for gone in ("karyo._features", "karyo._lbp", "karyo._surf"):
        assert importlib.util.find_spec(gone) is None, gone


def test_package_data_is_installed():
    manifest = importlib.resources.files("karyo.napari").joinpath("napari.yaml")
    assert manifest.read_text(encoding="utf-8") == \
        (SOURCE / "napari" / "napari.yaml").read_text(encoding="utf-8")
