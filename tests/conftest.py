"""Shared fixtures: isolated models folders, the CLI in a subprocess, and baselines trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str,
    models_dir: Path | None = None,
    check: bool = False,
    timeout: float = 600,
    cwd: Path | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run ``nlpc`` in a new process (``python -m nlp_classifier``) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    if models_dir is not None:
        full_env["NLPC_MODELS_DIR"] = str(models_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "nlp_classifier", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=full_env,
    )
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


GROUPS = ["gay people", "muslims", "immigrants", "jews", "black people", "women", "trans people", "refugees"]
HATEFUL = [
    "{g} are vermin and should be wiped out",
    "i hate {g}, they are subhuman filth",
    "{g} are disgusting animals",
    "get rid of all {g}, they ruin everything",
]
NOT_HATEFUL = [
    "i am proud to stand with {g}",
    "my neighbours are {g} and they are lovely",
    "thanks for the help yesterday, {g} event went great",
    "we had a nice dinner with {g} from work",
    "shut up you idiot, nobody asked you",
]
HATE_TINY_NAME = "logistic_regression_hate_char"  # the name the default-model choice looks for


def tiny_hate_frame():
    """A small separable table (text, label) with the hate task's labels not_hateful / hateful."""
    import pandas as pd

    rows = [
        {"text": template.format(g=group), "label": label}
        for templates, label in ((HATEFUL, "hateful"), (NOT_HATEFUL, "not_hateful"))
        for template in templates
        for group in GROUPS
    ]
    rows += [
        {"text": "I am a gay man and proud of it", "label": "not_hateful"},
        {"text": "have a lovely day", "label": "not_hateful"},
    ]
    return pd.DataFrame(rows)


def train_tiny_hate_model(models_dir: Path, tmp_dir: Path, name: str = HATE_TINY_NAME):
    """A TF-IDF model of the ``hate`` task (labels not_hateful / hateful) trained in a second on
    ``tiny_hate_frame()`` and saved as ``name`` (the real one takes a minute on the full data); returns its card."""
    import dataclasses

    from nlp_classifier.data import load_dataset
    from nlp_classifier.tasks import HATE_LABELS
    from nlp_classifier.training.baselines import train_baseline

    path = Path(tmp_dir) / "tiny_hate.csv"
    tiny_hate_frame().to_csv(path, index=False)
    dataset = dataclasses.replace(
        load_dataset(str(path), text_column="text", label_columns=["label"], labels=HATE_LABELS), name="hate"
    )
    return train_baseline("hate", "logistic_regression", "seed", dataset=dataset, name=name, models_dir=models_dir)


@pytest.fixture(scope="session")
def hate_models_dir(baseline_models_dir, tmp_path_factory) -> Path:
    """The session's baselines plus a tiny hate-task model named like the default one
    (``logistic_regression_hate_char``). Tests must not modify it (copy it first)."""
    import shutil

    path = tmp_path_factory.mktemp("hate-models") / "models"
    shutil.copytree(baseline_models_dir, path)
    train_tiny_hate_model(path, tmp_path_factory.mktemp("hate-data"))
    return path
