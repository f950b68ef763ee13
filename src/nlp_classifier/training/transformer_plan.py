"""A checked transformer run, before any training: settings, data and labels, the training rows, base model,
output and staging folders, and (with ``--resume``) the interrupted run to continue."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..card import ModelCard, check_model_name, name_part
from ..data import Dataset, load_dataset, split_dataset
from ..data.extra import ExtraRows, add_extra_rows
from ..data.mixing import Mixture, training_set
from ..data.splits import Splits
from ..errors import ConfigError
from ..obfuscation import lexicon_sha256, read_dataset, reader_for
from ..paths import models_dir as default_models_dir
from ..progress import stage
from ..tasks import MULTI_LABEL, TASKS
from .base_model import BaseModel, load_base_config, resolve_base_model
from .distillation import ScoreFile, read_score_file, teacher_backend, teacher_card
from .staging import check_not_training, check_staging, saved_settings, staging_folder
from .transformer_config import read_preset, resolve_config
from .transformer_settings import TransformerSettings, resume_free_keys


@dataclass
class RunPlan:
    """A checked run: its settings, data, base model and folders."""

    preset: str
    settings: TransformerSettings
    dataset: Dataset
    splits: Splits
    train: Dataset
    base: BaseModel
    hf_config: Any
    name: str
    final: Path
    staging: Path
    models_dir: Path
    resume_from: str | None
    mixture: Mixture | None = None
    extra_rows: ExtraRows | None = None
    teacher: ModelCard | None = None  # the model whose scores are distilled (training.distillation)
    teacher_backend: str | None = None  # the backend that runs it
    teacher_scores: ScoreFile | None = None  # or a teacher's scores read from a file, without the teacher


def check_task(dataset: Dataset, settings: TransformerSettings, preset: str) -> None:
    """A preset made for one problem type or label set refuses data with another."""
    if settings.problem_type and settings.problem_type != dataset.problem_type:
        raise ConfigError(
            f"preset '{preset}' is for {settings.problem_type} data, but task '{dataset.name}' is "
            f"{dataset.problem_type} (labels {dataset.labels}); pick another --preset or --task"
        )
    if settings.labels and list(settings.labels) != list(dataset.labels):
        raise ConfigError(
            f"preset '{preset}' expects the labels {settings.labels}, but task '{dataset.name}' has {dataset.labels}"
        )
    if settings.counterfactual_pairing and dataset.problem_type == MULTI_LABEL:
        raise ConfigError(
            f"setting 'counterfactual_pairing' needs a single-label task, but task '{dataset.name}' is multi-label"
        )


def sample_train(train: Dataset, limit: int | None, seed: int) -> Dataset:
    """A seeded random sample of at most ``limit`` training texts (all of them when ``limit`` is None)."""
    if not limit or limit >= len(train):
        return train
    rows = np.sort(np.random.default_rng(seed).permutation(len(train))[:limit])
    return train.subset(rows, "train-sample")


def default_output(settings: TransformerSettings, preset: str, task_name: str) -> tuple[str, str]:
    """Registry name and output folder (relative to the models folder): the preset's own for the preset's task,
    suffixed with the task otherwise, so a run on another task never replaces the seed's models."""
    name = settings.name or f"transformer_{preset}"
    output = settings.output or f"transformer/{preset}"
    if task_name != read_preset(preset).get("task", TransformerSettings().task):
        suffix = name_part(task_name)
        name, output = f"{name}_{suffix}", f"{output}_{suffix}"
    return name, output


def training_rows(train: Dataset, settings: TransformerSettings) -> tuple[Dataset, Mixture | None]:
    """The texts the run trains on: a seeded sample of the train split (``max_train_samples``) with identity
    swaps and spelling noise added, and for several sources the mixture, resampled to ``mixed_train_size`` texts;
    all drawn with ``data_seed`` when it is set, else with ``seed``."""
    seed = settings.seed if settings.data_seed is None else settings.data_seed
    train = sample_train(train, settings.max_train_samples, seed)
    if settings.read_obfuscation:  # the model will read disguised words back: so do the texts it learns from
        train = read_dataset(train, reader_for(lexicon_sha256()))
    rows, mix = training_set(
        train,
        identity_swaps=settings.identity_swaps,
        hateful_swaps=settings.hateful_swaps,
        identity_mentions=settings.identity_mentions,
        open_mentions=settings.open_mentions,
        spelling_noise=settings.spelling_noise,
        counter_speech=settings.counter_speech,
        identity_balance=settings.identity_balance,
        temperature=settings.mixing_temperature,
        seed=seed,
    )
    if mix is not None:
        rows = mix.resample(rows, settings.mixed_train_size or len(rows), seed)
    return rows, mix


def plan_run(
    task: str | None = None,
    preset: str | None = None,
    *,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    data: str | Path | None = None,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    output: str | Path | None = None,
    name: str | None = None,
    models_dir: str | Path | None = None,
    resume: bool = False,
    restart: bool = False,
    resume_if_interrupted: bool = False,
    dataset: Dataset | None = None,
    extra_data: str | Path | None = None,
) -> RunPlan:
    """Check everything a run needs, without training: settings, data and labels, base model, output folder and
    (with ``resume``, or ``resume_if_interrupted`` when there is one) the interrupted run to continue. ``dataset``
    replaces the task's data (e.g. the ``hate`` task without one of its sources, for cross-source runs);
    ``extra_data`` is a labelled file whose rows join the training split only (data.extra)."""
    if restart and (resume or resume_if_interrupted):
        option = "--resume" if resume else "--resume-if-interrupted"
        raise ConfigError(f"{option} and --restart exclude each other")
    overrides = dict(overrides or {})
    if task:
        overrides["task"] = task
    preset, settings = resolve_config(preset, config_file, overrides)
    with stage(f"Loading {settings.task}" + (f" from {data}" if data else "")):
        if dataset is None:
            dataset = load_dataset(
                settings.task, data, text_column=text_column, label_columns=label_columns, labels=labels
            )
        splits = split_dataset(dataset)
        extra_rows = None
        if extra_data:
            splits, extra_rows = add_extra_rows(splits, extra_data)
    if min(len(splits.train), len(splits.validation)) == 0:
        raise ConfigError(f"task '{dataset.name}' has too few texts ({len(dataset)}) for a train/validation split")
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    task_name = settings.task if settings.task in TASKS else dataset.name
    default_name, default_out = default_output(settings, preset, task_name)
    if name:
        check_model_name(name)
    elif output:
        name = check_model_name(Path(output).name, "the --output folder's name; choose one with --name")
    else:
        name = check_model_name(default_name)
    final = Path(output).resolve() if output else (models_dir / default_out).resolve()
    staging = staging_folder(final)
    check_not_training(staging)  # refused here, before the work of planning, while another run trains into it
    resume_from = check_staging(staging, resume, restart, overrides, resume_if_interrupted)
    if resume_from:
        free = resume_free_keys()
        settings = TransformerSettings.from_dict(
            {**saved_settings(staging), **{k: v for k, v in overrides.items() if k in free}},
            f"the interrupted run in {staging}",
        )
    check_task(dataset, settings, preset)
    if settings.teacher_model and settings.teacher_scores:
        raise ConfigError("settings 'teacher_model' and 'teacher_scores' both name a teacher; give one of them")
    teacher = (
        teacher_card(settings.teacher_model, dataset.labels, dataset.problem_type, models_dir)
        if settings.teacher_model
        else None
    )
    teacher_runs_with = teacher_backend(teacher, settings.teacher_backend) if teacher else None
    base = resolve_base_model(settings.base_model)
    hf_config = load_base_config(base, dataset, settings)
    train, mix = training_rows(splits.train, settings)
    score_file = (
        read_score_file(settings.teacher_scores, train.texts, dataset.labels) if settings.teacher_scores else None
    )
    if restart and staging.exists():  # every check passed: only now discard the interrupted run
        check_not_training(staging)
        shutil.rmtree(staging)
    return RunPlan(
        preset,
        settings,
        dataset,
        splits,
        train,
        base,
        hf_config,
        name,
        final,
        staging,
        models_dir,
        resume_from,
        mix,
        extra_rows,
        teacher,
        teacher_runs_with,
        score_file,
    )
