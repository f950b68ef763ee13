"""The scripts in ``benchmarks/`` (not a package), found and imported the same way by every test of them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmark_script(name: str) -> Path:
    """``benchmarks/<name>.py``."""
    return BENCHMARKS_DIR / f"{name}.py"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as a module named ``name``, for calling its functions directly."""
    spec = importlib.util.spec_from_file_location(name, benchmark_script(name))
    assert spec is not None and spec.loader is not None, benchmark_script(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
