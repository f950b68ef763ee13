"""Shared fixtures: isolated models folders, the CLI in a subprocess, and baselines trained once per session."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, models_dir: Path | None = None, check: bool = False, timeout: float = 600,
            cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nlpc`` in a new process (``python -m nlp_classifier``) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    if models_dir is not None:
        full_env["NLPC_MODELS_DIR"] = str(models_dir)
    proc = subprocess.run([sys.executable, "-m", "nlp_classifier", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or ROOT, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"nlpc {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    """An empty models folder, also set as $NLPC_MODELS_DIR for the test."""
    path = tmp_path / "models"
    path.mkdir()
    monkeypatch.setenv("NLPC_MODELS_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def baseline_models_dir(tmp_path_factory) -> Path:
    """A models folder with the seed's two Davidson baselines and a Jigsaw toxicity baseline, trained once.
    Tests must not modify it (copy it first)."""
    from nlp_classifier.training.baselines import train_baseline

    path = tmp_path_factory.mktemp("baseline-models")
    train_baseline("davidson", "logistic_regression", "seed", models_dir=path)
    train_baseline("davidson", "linear_svm", "seed", models_dir=path)
    train_baseline("jigsaw", "logistic_regression", "seed", models_dir=path)
    return path
