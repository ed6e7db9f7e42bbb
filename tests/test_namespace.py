"""karyo's flat namespace: __all__ holds mahotas's names and karyo's own, each defined."""

from __future__ import annotations

import types

import mahotas

import karyo


def test_all_names_exist_and_are_unique():
    assert len(set(karyo.__all__)) == len(karyo.__all__)
    for name in karyo.__all__:
        assert hasattr(karyo, name), name


def test_all_holds_every_mahotas_name():
    # mahotas.test() runs mahotas's own suite: not a name for karyo
    assert set(mahotas.__all__) - {"test"} <= set(karyo.__all__)


def test_all_holds_every_public_function():
    functions = {name for name, value in vars(karyo).items()
                 if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert functions <= set(karyo.__all__)


def test_star_import_gives_all():
    namespace: dict = {}
    exec("from karyo import *", namespace)
    assert set(karyo.__all__) <= set(namespace)
    assert "internal" not in namespace  # helpers stay behind their module
