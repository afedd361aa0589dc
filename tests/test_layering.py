"""Imports run downward: the numpy metrics and the report need neither torch nor the engine."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["mssr.evaluation.metrics", "mssr.report", "mssr.files"])
def test_module_imports_neither_torch_nor_the_engine(module):
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('mssr.engine')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]", f"{module} pulls in {loaded}"
