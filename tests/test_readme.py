"""The README's Python code works when pasted: every ```python block runs, in order."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # blocks may write files
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), namespace)
    if "nuclei" in namespace and "dnaf" in namespace:
        # The tutorial: about as many nuclei as the synthetic image holds (a
        # snippet that floods the background gives hundreds).
        from karyo.demos import load

        _, truth = load("synthetic_nuclei", return_labels=True)
        count = len(np.unique(namespace["nuclei"])) - 1
        assert 0.7 * truth.max() <= count <= 1.1 * truth.max()
