"""Train, evaluate and save a TF-IDF baseline for any task, with optional grid search over a YAML grid."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import yaml

from ..backends.sklearn_backend import SklearnClassifier
from ..card import ModelCard, check_model_name, name_part
from ..data import Dataset, load_dataset, split_dataset
from ..data.extra import add_extra_rows
from ..data.mixing import DEFAULT_TEMPERATURE, training_set
from ..data.splits import SEED
from ..errors import ConfigError
from ..estimators import PriorShiftedClassifier
from ..evaluation import evaluate, predict_proba_batched
from ..fileio import atomic_path
from ..metrics import headline, tune_class_weights
from ..obfuscation import lexicon_sha256, read_dataset, reader_for
from ..paths import models_dir as default_models_dir
from ..progress import console, stage
from ..tasks import MULTI_LABEL, TASKS
from .baseline_presets import ALGORITHMS, LEGACY_PRESET, PENALTIES, build_pipeline, preset_config
from .finish import finish_training, splits_record
from .search import map_points

BASELINES_SUBDIR = "baselines"
GRID_KEYS = {"C", "penalty"}


def default_name(algorithm: str, task: str, preset: str) -> str:
    """Registry name: ``logistic_regression`` for the legacy preset on the seed project's task, suffixed otherwise
    (``linear_svm_char``, ``logistic_regression_davidson3``, ...), so tasks never overwrite each other."""
    parts = [algorithm]
    if task != "davidson":
        parts.append(name_part(task))
    if preset != LEGACY_PRESET:
        parts.append(preset)
    return "_".join(parts)


def load_grid(path: str | Path, algorithm: str) -> list[dict[str, Any]]:
    """The parameter combinations for ``algorithm`` from a YAML grid file (keys C and penalty), checked before
    any training starts."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"grid file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    grid = config.get(algorithm) if isinstance(config, dict) else None
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{path}: no grid for '{algorithm}' (expected a mapping '{algorithm}: {{C: [...]}}')")
    unknown = set(grid) - GRID_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown grid keys {sorted(unknown)}; allowed: {sorted(GRID_KEYS)}")
    values = {key: v if isinstance(v, list) else [v] for key, v in grid.items()}
    for c in values.get("C", []):
        if isinstance(c, bool) or not isinstance(c, (int, float)) or c <= 0:
            raise ConfigError(f"{path}: {algorithm}.C must be positive numbers, got {c!r}")
    for penalty in values.get("penalty", []):
        if penalty not in PENALTIES:
            raise ConfigError(f"{path}: {algorithm}.penalty must be one of {', '.join(PENALTIES)}, got {penalty!r}")
    return [dict(zip(values, combo)) for combo in itertools.product(*values.values())]


def _targets(dataset: Dataset) -> np.ndarray | list[str]:
    """What the pipeline is fitted on: label names for single-label (so ``predict`` returns names), 0/1 rows
    for multi-label."""
    if dataset.problem_type == MULTI_LABEL:
        return dataset.y
    return [dataset.labels[i] for i in dataset.y]


def _describe(settings: dict, candidates: list[dict]) -> str:
    keys = sorted({key for params in candidates for key in params})
    return ", ".join(f"{key}={settings[key]}" for key in keys) or "preset settings"


def _fit_and_score(
    card: ModelCard, algorithm: str, train: Dataset, validation: Dataset, sample_weight: np.ndarray | None, config: dict
):
    """Fit one configuration on the train split (rows weighted by ``sample_weight`` when given); return
    (validation headline score, fitted pipeline)."""
    pipeline = build_pipeline(algorithm, config, train.problem_type)
    fit_params = {"clf__sample_weight": sample_weight} if sample_weight is not None else {}
    pipeline.fit(train.texts, _targets(train), **fit_params)
    score = headline(evaluate(SklearnClassifier(card, pipeline), validation), train.problem_type)
    return score, pipeline


def train_baseline(
    task: str = "davidson",
    algorithm: str = "logistic_regression",
    preset: str = LEGACY_PRESET,
    *,
    data: str | Path | None = None,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    name: str | None = None,
    models_dir: str | Path | None = None,
    grid: str | Path | None = None,
    use_ray: bool = False,
    version_part: str = "minor",
    dataset: Dataset | None = None,
    extra_data: str | Path | None = None,
) -> ModelCard:
    """Fit on the train split, pick grid settings on validation, report validation and test metrics, and save
    ``models/baselines/<name>_tfidf.joblib`` with its card and training_info.json. With ``use_ray`` the grid
    points run as tasks on a local Ray. ``dataset`` replaces the task's data (e.g. the ``hate`` task without one
    of its sources, for cross-source runs); ``extra_data`` is a labelled file whose rows join the training split
    only (data.extra)."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm '{algorithm}'; use one of {', '.join(ALGORITHMS)}")
    base = preset_config(preset, task)  # preset and grid are checked before any data is read
    candidates = load_grid(grid, algorithm) if grid else [{}]
    models_dir = Path(models_dir).resolve() if models_dir else default_models_dir()
    with stage(f"Loading {task}" + (f" from {data}" if data else "")):
        if dataset is None:
            dataset = load_dataset(task, data, text_column=text_column, label_columns=label_columns, labels=labels)
        splits = split_dataset(dataset)
        extra_rows = None
        if extra_data:
            splits, extra_rows = add_extra_rows(splits, extra_data)
    name = check_model_name(name or default_name(algorithm, task if task in TASKS else dataset.name, preset))
    card = ModelCard(
        name=name,
        family="tfidf",
        task=dataset.name,
        labels=list(dataset.labels),
        problem_type=dataset.problem_type,
        artifact=f"{name}_tfidf.joblib",
        description=f"TF-IDF + {algorithm.replace('_', ' ')} ({preset} preset) on {dataset.name}",
        data_fingerprint=dataset.fingerprint,
        data_source=dataset.source,
        splits=splits_record(splits),
    )
    if extra_rows is not None:
        card.extra["extra_data"] = extra_rows.record()
    card.path = models_dir / BASELINES_SUBDIR / f"{name}.card.json"

    fit_train = splits.train
    if base.get("read_obfuscation"):  # the model reads disguised words back before scoring: so does its training
        card.read_obfuscation = lexicon_sha256()
        fit_train = read_dataset(splits.train, reader_for(card.read_obfuscation))
    train, mix = training_set(
        fit_train,
        identity_swaps=float(base.get("identity_swaps", 0.0)),
        hateful_swaps=float(base.get("hateful_swaps", 0.0)),
        identity_mentions=float(base.get("identity_mentions", 0.0)),
        open_mentions=float(base.get("open_mentions", 0.0)),
        spelling_noise=float(base.get("spelling_noise", 0.0)),
        counter_speech=float(base.get("counter_speech", 0.0)),
        identity_balance=float(base.get("identity_balance", 0.0)),
        temperature=float(base.get("mixing_temperature", DEFAULT_TEMPERATURE)),
        seed=SEED,
    )
    weights = mix.sample_weight(train) if mix is not None else None
    start = time.perf_counter()
    trials = []
    for params in candidates:
        trial = copy.deepcopy(base)
        trial[algorithm].update(params)
        trials.append(trial)

    def describe(trial: dict) -> str:
        return f"Fitting {name} ({_describe(trial[algorithm], candidates)}) on {len(train):,} texts"

    results = map_points(
        _fit_and_score, (card, algorithm, train, splits.validation, weights), trials, use_ray=use_ray, describe=describe
    )
    training_seconds = time.perf_counter() - start
    search = [
        {"params": params, "validation_score": round(score, 6)} for params, (score, _) in zip(candidates, results)
    ]
    best = max(range(len(results)), key=lambda i: results[i][0])  # the first of equals, as listed in the grid
    pipeline, config = results[best][1], trials[best]
    card.training_config = {
        "algorithm": algorithm,
        "preset": preset,
        "pipeline": config,
        "grid_search": {"file": str(grid), "executor": "ray" if use_ray else "local", "points": search}
        if grid
        else None,
        "train_used": len(train),
        "mixture": mix.record() if mix is not None else None,
    }

    classifier = SklearnClassifier(card, pipeline)
    if dataset.problem_type != MULTI_LABEL and config.get("class_priors") and len(dataset.labels) > 2:
        # multi-class: shift the class priors inside the pipeline to maximise the preset's metric on validation
        val_proba = predict_proba_batched(classifier, splits.validation.texts)
        class_weights = tune_class_weights(splits.validation.y, val_proba, dataset.labels, config["class_priors"])
        pipeline.steps[-1] = ("clf", PriorShiftedClassifier.around(pipeline.steps[-1][1], class_weights))
        classifier = SklearnClassifier(card, pipeline)
        card.training_config["class_weights"] = class_weights

    target = card.root / card.artifact

    def save_model() -> None:
        with atomic_path(target) as tmp:
            joblib.dump(pipeline, tmp, compress=3)

    finish_training(
        card,
        classifier,
        splits,
        models_dir=models_dir,
        training_seconds=training_seconds,
        tune=dataset.problem_type == MULTI_LABEL,
        version_part=version_part,
        save_model=save_model,
        algorithm=algorithm,
        preset=preset,
    )
    console.print(f"saved {target} (version {card.version})")
    return card
