"""The house: the installed package is the source tree, and modules import from where things live.

meson.build lists karyo's files one by one (no glob), so a new module that is
not added to the list would be missing from the wheel, and from the editable
install these tests run against. The tests compare what Python can import
under ``karyo`` with the files under ``src/karyo``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.resources
import importlib.util
import pkgutil
import types
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


# An import that breaks the rule below, left for the tiling work, which owns
# karyo.nuclei.tiled.
KNOWN_PRIVATE_IMPORTS = {("karyo.nuclei.tiled", "karyo.tiles", "_intersect")}


def _imports_from():
    """(module, imported-from, name, line) for every ``from X import name`` under src/karyo."""
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = node.module or ""
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            if source.split(".")[0] == "karyo":
                for alias in node.names:
                    yield module, source, alias.name, node.lineno


def test_names_are_imported_from_the_module_that_defines_them():
    # not through a package's __init__ (karyo.io, karyo.nuclei, karyo) that re-exports them
    indirect = []
    for module, source, name, line in _imports_from():
        imported = importlib.import_module(source)
        value = getattr(imported, name, None)
        if (hasattr(imported, "__path__") and source != module and value is not None
                and not isinstance(value, types.ModuleType)
                and getattr(value, "__module__", source) not in (source, None)
                and str(getattr(value, "__module__", "")).startswith("karyo")):
            indirect.append(f"{module}:{line}: from {source} import {name} "
                            f"(defined in {value.__module__})")
    assert not indirect, indirect


def _is_submodule(package: str, name: str) -> bool:
    return (hasattr(importlib.import_module(package), "__path__")
            and importlib.util.find_spec(f"{package}.{name}") is not None)


def test_no_module_imports_another_modules_private_helpers():
    # a kernel module (``from . import _label``) is a module's own, not a helper
    private = [f"{module}:{line}: from {source} import {name}"
               for module, source, name, line in _imports_from()
               if name.startswith("_") and not name.startswith("__")
               and (module, source, name) not in KNOWN_PRIVATE_IMPORTS
               and not _is_submodule(source, name)]
    assert not private, private
