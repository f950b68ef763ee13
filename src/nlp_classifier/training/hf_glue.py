"""What the Hugging Face ``Trainer`` is given for a run: tokenised items, the weighted loss, the project's
metrics, progress / time-budget / early-stopping callbacks and the ``TrainingArguments``."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..backends.transformer_text import TextSettings, logits_to_proba, prepare_texts
from ..data import Dataset
from ..metrics import compute_metrics, headline_metric, tune_thresholds
from ..progress import console
from ..tasks import MULTI_LABEL
from .background_status import format_progress
from .preview import THRESHOLD_PREFIX, TUNED_PREFIX
from .staging import record_elapsed
from .transformer_settings import TransformerSettings

MAX_POS_WEIGHT = 30.0
# What the progress log shows of the Trainer's logs.
LOGGED_KEYS = (
    "loss",
    "grad_norm",
    "learning_rate",
    "eval_loss",
    "eval_accuracy",
    "eval_f1_macro",
    "eval_roc_auc",
    "eval_mean_roc_auc",
    "eval_runtime",
    "train_loss",
    "train_runtime",
    "train_samples_per_second",
)


class EncodedTexts:
    """Tokenised texts with their targets, as the items a Trainer data collator pads into batches."""

    def __init__(self, tokenizer, dataset: Dataset, settings: TextSettings, input_names: Sequence[str]):
        texts = prepare_texts(dataset.texts, settings)
        enc = tokenizer(texts, truncation=True, max_length=settings.max_length)
        self.columns = {name: enc[name] for name in input_names if name in enc}
        self.labels = (
            dataset.y.astype(np.float32).tolist()
            if dataset.problem_type == MULTI_LABEL
            else dataset.y.astype(int).tolist()
        )

    def use_targets(self, targets: np.ndarray) -> None:
        """Train towards one probability row per text (training.distillation) instead of the labels."""
        if len(targets) != len(self.labels):
            raise ValueError(f"{len(targets)} targets for {len(self.labels)} texts")
        self.labels = targets.astype(np.float32).tolist()

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
    (multi-label), label smoothing, summed and divided by the items in the accumulated batch. Single-label
    targets may be class indices or, when distilling (training.distillation), one probability row per item."""
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
            targets = labels.float() if labels.dim() == 2 else labels.long()
            per_item = F.cross_entropy(logits, targets, weight=w, label_smoothing=label_smoothing, reduction="none")
        if num_items_in_batch is None:
            return per_item.mean()
        return per_item.sum() / num_items_in_batch

    return loss


def metrics_for_trainer(labels: Sequence[str], problem_type: str):
    """The Trainer's ``compute_metrics``: the project's metrics on the validation logits (scalars only), and for a
    binary or multi-label task ``threshold_<label>``, the thresholds ``tune_thresholds`` picks on them, and
    ``tuned_<metric>``, the metrics at those thresholds: every checkpoint records the thresholds it would be served
    with (training.preview)."""

    def compute(eval_pred) -> dict:
        logits, y = eval_pred.predictions, eval_pred.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        y = y.astype(int)
        proba = logits_to_proba(logits, problem_type)
        metrics = compute_metrics(y, proba, labels, problem_type)
        # NaN for an undefined ROC-AUC: the Trainer needs the selection metric present in every evaluation
        out = {k: float("nan") if v is None else v for k, v in metrics.items() if v is None or isinstance(v, float)}
        if problem_type == MULTI_LABEL or len(labels) == 2:
            tuned = tune_thresholds(y, proba, labels, problem_type)
            out.update({f"{THRESHOLD_PREFIX}{label}": float(value) for label, value in tuned.items()})
            at_tuned = compute_metrics(y, proba, labels, problem_type, tuned)
            out.update({f"{TUNED_PREFIX}{k}": v for k, v in at_tuned.items() if isinstance(v, float)})
        return out

    return compute


def trainer_callbacks(settings: TransformerSettings, staging: Path, elapsed_before: float, started: float):
    """The run's callbacks (a readable progress log that also records the training time at each checkpoint,
    the time budget, early stopping) and a dict that says why training stopped early, if it did."""
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
            shown = {k: (float(f"{v:.4g}") if isinstance(v, float) else v) for k, v in logs.items() if k in LOGGED_KEYS}
            line = format_progress(done, state.max_steps, state.epoch or 0, shown, elapsed, eta)
            console.print(line, highlight=False, soft_wrap=True, markup=False)

        def on_train_begin(self, args, state, control, **kwargs):
            first_step[0] = state.global_step

        def on_save(self, args, state, control, **kwargs):
            record_elapsed(staging, state.global_step, elapsed_before + time.perf_counter() - started)

    class TimeBudget(TrainerCallback):
        """Stop after ``time_budget_minutes``: evaluate and checkpoint once more, then end training (the best
        checkpoint is still the one loaded)."""

        def on_step_end(self, args, state, control, **kwargs):
            budget = settings.time_budget_minutes
            if budget and time.perf_counter() - started > budget * 60:
                stopped["reason"] = f"time budget of {budget} min reached at step {state.global_step}"
                control.should_training_stop = True
                control.should_evaluate = True
                control.should_save = True
            return control

    first_step = [0]
    stopped: dict[str, str] = {}
    callbacks = [
        ProgressLog(),
        TimeBudget(),
        EarlyStoppingCallback(early_stopping_patience=settings.early_stopping_patience),
    ]
    return callbacks, stopped


def training_arguments(settings: TransformerSettings, staging: Path, problem_type: str, gpu: bool):
    """The Trainer's arguments: checkpoints and evaluation every ``save_steps`` in ``staging``, the best
    checkpoint by ``best_checkpoint_metric`` (default: the headline metric) loaded at the end, fp16 only on a
    GPU, batches grouped by length."""
    from transformers import TrainingArguments

    scheduler_kwargs = {"num_cycles": settings.num_cycles} if settings.lr_scheduler == "cosine_with_restarts" else {}
    return TrainingArguments(
        output_dir=str(staging),
        num_train_epochs=settings.num_epochs,
        max_steps=settings.max_steps,
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        lr_scheduler_type=settings.lr_scheduler,
        lr_scheduler_kwargs=scheduler_kwargs,
        warmup_steps=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        eval_strategy="steps",
        eval_steps=settings.save_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        load_best_model_at_end=True,
        metric_for_best_model=settings.best_checkpoint_metric or headline_metric(problem_type),
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=settings.logging_steps,
        report_to="none",
        disable_tqdm=not sys.stderr.isatty(),
        fp16=gpu,
        seed=settings.seed,
        data_seed=settings.seed,
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
        dataloader_num_workers=0,
        dataloader_pin_memory=gpu,
        # items carry only what the model's forward takes (EncodedTexts keeps just those inputs) and the labels,
        # plus, when pairing, the pair columns its collator needs (training.counterfactual_pairs): nothing to remove
        remove_unused_columns=False,
    )
