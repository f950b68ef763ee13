"""Train, evaluate and save a TF-IDF baseline for any task, with optional grid search over a YAML grid."""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import yaml

from ..artifacts import finalise_card
from ..backends.sklearn_backend import SklearnClassifier
from ..card import ModelCard
from ..data import Dataset, load_dataset, split_dataset
from ..data.splits import SEED
from ..errors import ConfigError
from ..evaluation import evaluate, mean_single_text_ms, predict_proba_batched
from ..fileio import atomic_path
from ..metrics import headline, training_info, tune_thresholds
from ..paths import models_dir as default_models_dir
from ..progress import console, stage
from ..tasks import MULTI_LABEL
from .baseline_presets import ALGORITHMS, build_pipeline, preset_config

BASELINES_SUBDIR = "baselines"
GRID_KEYS = {"C", "penalty"}


def default_name(algorithm: str, task: str, preset: str) -> str:
    """Registry name: ``logistic_regression`` for the seed preset on the seed's task, suffixed otherwise
    (``linear_svm_char``, ``logistic_regression_davidson3``, ...), so tasks never overwrite each other."""
    parts = [algorithm]
    if task != "davidson":
        parts.append(Path(task).name.split(".")[0])
    if preset != "seed":
        parts.append(preset)
    return "_".join(parts)


def load_grid(path: str | Path, algorithm: str) -> list[dict[str, Any]]:
    """The parameter combinations for ``algorithm`` from a YAML grid file (keys C and penalty)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"grid file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    grid = config.get(algorithm)
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{path}: no grid for '{algorithm}' (expected a mapping '{algorithm}: {{C: [...]}}')")
    unknown = set(grid) - GRID_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown grid keys {sorted(unknown)}; allowed: {sorted(GRID_KEYS)}")
    values = [v if isinstance(v, list) else [v] for v in grid.values()]
    return [dict(zip(grid, combo)) for combo in itertools.product(*values)]


def _targets(dataset: Dataset) -> np.ndarray | list[str]:
    """What the pipeline is fitted on: label names for single-label (so ``predict`` returns names), 0/1 rows
    for multi-label."""
    if dataset.problem_type == MULTI_LABEL:
        return dataset.y
    return [dataset.labels[i] for i in dataset.y]


def _fit(algorithm: str, config: dict, train: Dataset):
    pipeline = build_pipeline(algorithm, config, train.problem_type)
    pipeline.fit(train.texts, _targets(train))
    return pipeline


def train_baseline(task: str = "davidson", algorithm: str = "logistic_regression", preset: str = "seed", *,
                   data: str | Path | None = None, text_column: str | None = None,
                   label_columns: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                   name: str | None = None, models_dir: str | Path | None = None, grid: str | Path | None = None,
                   version_part: str = "minor") -> ModelCard:
    """Fit on the train split, pick grid settings on validation, report validation and test metrics, and save
    ``models/baselines/<name>_tfidf.joblib`` with its card and training_info.json."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm '{algorithm}'; use one of {', '.join(ALGORITHMS)}")
    config = preset_config(preset)
    candidates = load_grid(grid, algorithm) if grid else [{}]
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    with stage(f"Loading {task}" + (f" from {data}" if data else "")):
        dataset = load_dataset(task, data, text_column=text_column, label_columns=label_columns, labels=labels)
        splits = split_dataset(dataset)
    name = name or default_name(algorithm, dataset.name if task not in ("davidson", "davidson3", "jigsaw")
                                else task, preset)
    card = ModelCard(name=name, family="tfidf", task=dataset.name, labels=list(dataset.labels),
                     problem_type=dataset.problem_type, artifact=f"{name}_tfidf.joblib",
                     description=f"TF-IDF + {algorithm.replace('_', ' ')} ({preset} preset) on {dataset.name}",
                     data_fingerprint=dataset.fingerprint, data_source=dataset.source,
                     splits={"seed": SEED, "fractions": [0.8, 0.1, 0.1], "train": len(splits.train),
                             "validation": len(splits.validation), "test": len(splits.test)})
    card.path = models_dir / BASELINES_SUBDIR / f"{name}.card.json"

    start = time.perf_counter()
    best, search = None, []
    for params in candidates:
        trial = preset_config(preset)
        trial[algorithm].update(params)
        label = ", ".join(f"{k}={v}" for k, v in params.items()) or "preset settings"
        with stage(f"Fitting {name} ({label}) on {len(splits.train):,} texts"):
            pipeline = _fit(algorithm, trial, splits.train)
        score = headline(evaluate(SklearnClassifier(card, pipeline), splits.validation), dataset.problem_type)
        search.append({"params": params, "validation_score": round(score, 6)})
        if best is None or score > best[0]:
            best = (score, pipeline, trial)
    training_seconds = time.perf_counter() - start
    _, pipeline, config = best
    card.training_config = {"algorithm": algorithm, "preset": preset, "pipeline": config,
                            "grid_search": search if grid else None}

    classifier = SklearnClassifier(card, pipeline)
    if dataset.problem_type == MULTI_LABEL:
        val_proba = predict_proba_batched(classifier, splits.validation.texts)
        card.thresholds = tune_thresholds(splits.validation.y, val_proba, dataset.labels, dataset.problem_type)
    else:
        card.thresholds = {lab: 0.5 for lab in dataset.labels}
    with stage("Evaluating on the validation and test splits"):
        card.metrics = {"validation": evaluate(classifier, splits.validation),
                        "test": evaluate(classifier, splits.test)}
        latency = mean_single_text_ms(classifier, splits.test.texts)

    target = card.root / card.artifact
    with atomic_path(target) as tmp:
        joblib.dump(pipeline, tmp, compress=3)
    info = training_info(card.metrics["test"], dataset.labels, training_seconds, latency,
                         model_name=name, task=dataset.name, algorithm=algorithm, preset=preset,
                         evaluated_on="test split (seed 42, 80/10/10)")
    finalise_card(card, models_dir, info, version_part)
    console.print(f"saved {target} (version {card.version})")
    return card

