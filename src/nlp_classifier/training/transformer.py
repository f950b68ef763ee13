"""Fine-tune a pretrained transformer for a task with the Hugging Face Trainer, offline, on CPU or GPU.

Everything that can be wrong (preset, settings, data, labels, base model, resume state) is checked before
training starts (``transformer_plan.plan_run``). Training writes into a hidden staging folder beside the output
(``.<name>.training``) with ``checkpoint-*`` subfolders; ``--resume`` continues from its last checkpoint after a
crash or kill. Only a finished model (weights, tokenizer, labels.json, training_info.json, card) replaces the
output folder.
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..artifacts import publish_folder
from ..backends.transformer_backend import HF_PROBLEM_TYPES, TransformerClassifier, set_threads
from ..backends.transformer_text import TextSettings, unpad_tokenizer
from ..card import ModelCard
from ..fileio import write_json
from ..obfuscation import lexicon_sha256, read_dataset, reader_for
from ..progress import console, stage
from ..tasks import MULTI_LABEL
from .base_model import default_base_model
from .counterfactual_pairs import PairCollator, PairedTexts, paired_trainer
from .distillation import blended_targets, teacher_identity, teacher_record, teacher_scores
from .finish import finish_training, splits_record
from .freezing import freeze
from .hf_glue import EncodedTexts, class_weights, make_loss, metrics_for_trainer, trainer_callbacks, training_arguments
from .preview import evaluation_at, preview_folder, publish_preview, remove_preview
from .staging import checkpoint_step, clear_run_files, elapsed_before, save_run_config, staging_lock
from .transformer_plan import RunPlan, plan_run

# plan_run and default_base_model are part of this module's interface (tests and scripts import them here).
__all__ = ["RunPlan", "default_base_model", "labels_json", "plan_run", "run_plan", "train_transformer"]


def train_transformer(
    task: str | None = None,
    preset: str | None = None,
    *,
    version_part: str = "minor",
    preview: bool = False,
    **plan_args,
) -> ModelCard:
    """Fine-tune, select the best checkpoint by validation macro-F1 (mean ROC-AUC for multi-label), tune
    thresholds on validation, evaluate on test, and publish the model folder with its card. ``preview``: publish
    the best checkpoint so far as ``<name>_preview`` while training (training.preview)."""
    plan = plan_run(task, preset, **plan_args)
    return run_plan(plan, version_part, preview=preview)


def run_plan(plan: RunPlan, version_part: str = "minor", *, preview: bool = False) -> ModelCard:
    """Train a checked plan (see ``plan_run``) and publish the result, holding the staging folder's lock
    throughout: a second run into the same folder is refused rather than mixing checkpoints with this one."""
    with staging_lock(plan.staging):
        return _train_and_publish(plan, version_part, preview)


def _train_and_publish(plan: RunPlan, version_part: str, preview: bool) -> ModelCard:
    import torch
    from transformers import DataCollatorWithPadding, PreTrainedModel, PrinterCallback, Trainer, set_seed

    settings, problem_type = plan.settings, plan.dataset.problem_type
    set_threads(settings.num_threads or os.cpu_count() or 1)
    plan.staging.mkdir(parents=True, exist_ok=True)
    if not plan.resume_from:
        save_run_config(plan.staging, plan.preset, settings.to_dict(), plan.base.name)
    text = TextSettings(settings.max_length, settings.stride, settings.normalise_text, settings.emoji_to_text)
    # the new classification head is drawn when the base model loads, before the Trainer seeds anything: seed
    # first, or two runs with the same seed start from different heads and end as different models
    set_seed(settings.seed)
    tokenizer, model = _load_base_model(plan)
    if settings.freeze_word_embeddings or settings.frozen_layers:
        frozen = freeze(model, word_embeddings=settings.freeze_word_embeddings, layers=settings.frozen_layers)
        console.print(f"{frozen:,} of {model.num_parameters():,} weights kept as pretrained")
    input_names = [
        n for n in ("input_ids", "attention_mask", "token_type_ids") if n in inspect.signature(model.forward).parameters
    ]
    targets, teacher = _distilled_targets(plan)
    pairing = settings.counterfactual_pairing
    with stage(f"Tokenising {len(plan.train):,} training and {len(plan.splits.validation):,} validation texts"):
        train_items: EncodedTexts
        if pairing:
            train_items = PairedTexts(tokenizer, plan.train, text, input_names, settings.seed)
            console.print(f"{len(train_items.rows):,} non-hateful training texts paired with a swapped copy")
        else:
            train_items = EncodedTexts(tokenizer, plan.train, text, input_names)
        if targets is not None:
            train_items.use_targets(targets)
        validation = plan.splits.validation
        if settings.read_obfuscation:  # checkpoints are chosen on validation texts as the model will read them
            validation = read_dataset(validation, reader_for(lexicon_sha256()))
        val_items = EncodedTexts(tokenizer, validation, text, input_names)

    gpu = torch.cuda.is_available()
    args = training_arguments(settings, plan.staging, problem_type, gpu)
    weights = class_weights(plan.train) if settings.class_weights else None
    seconds_before = elapsed_before(plan.staging, plan.resume_from)
    started = time.perf_counter()
    callbacks, stopped = trainer_callbacks(settings, plan.staging, seconds_before, started)
    if preview:
        callbacks.append(_preview_callback(plan, tokenizer, seconds_before, started))
    trainer_class = paired_trainer(pairing) if pairing else Trainer
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_items,
        eval_dataset=val_items,
        processing_class=tokenizer,
        data_collator=PairCollator(tokenizer) if pairing else DataCollatorWithPadding(tokenizer),
        compute_loss_func=make_loss(problem_type, weights, settings.label_smoothing),
        compute_metrics=metrics_for_trainer(plan.dataset.labels, problem_type),
        callbacks=callbacks,
    )
    if args.disable_tqdm:  # the progress log replaces the Trainer's raw dict printing
        trainer.remove_callback(PrinterCallback)
    resumed_step = checkpoint_step(plan.resume_from)
    hardware = "GPU fp16" if gpu else f"CPU, {torch.get_num_threads()} threads"
    console.print(_announcement(plan, len(train_items), hardware, resumed_step), highlight=False)
    result = trainer.train(resume_from_checkpoint=plan.resume_from)
    training_seconds = seconds_before + time.perf_counter() - started
    state = trainer.state

    model = trainer.model
    assert isinstance(model, PreTrainedModel)  # the Trainer keeps the Hugging Face model it was given
    # it stays on the device it trained on: thresholds and test scores are measured there (a GPU is much faster)
    clear_run_files(plan.staging)
    with stage("Saving the best model"):
        model.save_pretrained(plan.staging)
        unpad_tokenizer(tokenizer)  # save it without the truncation the last call left in tokenizer.json
        tokenizer.save_pretrained(plan.staging)
        write_json(plan.staging / "labels.json", labels_json(plan.dataset.labels, problem_type))
    card = _card(plan, training_seconds, state, result.training_loss, stopped, resumed_step)
    if teacher is not None:
        card.extra["teacher"] = teacher
    classifier = TransformerClassifier(card, model, tokenizer, text, settings.eval_batch_size)
    finish_training(
        card,
        classifier,
        plan.splits,
        models_dir=plan.models_dir,
        training_seconds=training_seconds,
        tune=settings.tune_thresholds,
        version_part=version_part,
        base_model=plan.base.name,
        preset=plan.preset,
        max_length=settings.max_length,
        global_step=state.global_step,
        epochs_trained=round(state.epoch or 0, 3),
        best_checkpoint=_best_checkpoint(state),
        best_validation_score=state.best_metric,
    )
    _usual_permissions(plan.staging)
    publish_folder(plan.staging, plan.final)
    assert card.path is not None  # _card placed it in the staging folder
    card.path = plan.final / card.path.name
    console.print(f"saved {plan.final} (version {card.version})")
    if remove_preview(plan.final):
        console.print(f"removed {preview_folder(plan.final)}: {plan.name} replaces it")
    return card


def _preview_callback(plan: RunPlan, tokenizer, seconds_before: float, started: float):
    """A Trainer callback that publishes each checkpoint that is the best so far as the run's preview."""
    from transformers import TrainerCallback

    class PublishPreview(TrainerCallback):
        def on_save(self, args, state, control, model=None, **kwargs):
            best = state.best_model_checkpoint
            if model is None or not best or Path(best).name != f"checkpoint-{state.global_step}":
                return
            evaluation = evaluation_at(state.log_history, state.global_step)
            if evaluation is None:
                return
            seconds = seconds_before + time.perf_counter() - started
            card = _card(plan, seconds, state, None, {}, checkpoint_step(plan.resume_from))
            labels = labels_json(plan.dataset.labels, plan.dataset.problem_type)
            publish_preview(
                card,
                model,
                tokenizer,
                labels,
                evaluation,
                total=state.max_steps,
                models_dir=plan.models_dir,
                final=plan.final,
                tuned=plan.settings.tune_thresholds,
            )

    return PublishPreview()


def _distilled_targets(plan: RunPlan) -> tuple[np.ndarray | None, dict | None]:
    """With a teacher (or a file of its scores): each training text's blended target and what the card records
    of the teacher; (None, None) without one."""
    weight = plan.settings.distillation_weight
    if plan.teacher_scores is not None:
        scores = plan.teacher_scores.store.scores(plan.train.texts)
        record = plan.teacher_scores.record(weight, len(plan.train))
    elif plan.teacher is not None:
        started = time.perf_counter()
        with stage(f"Scoring {len(plan.train):,} training texts with the teacher {plan.teacher.name}"):
            scores = teacher_scores(
                plan.teacher, plan.train.texts, plan.dataset.labels, plan.models_dir, backend=plan.teacher_backend
            )
        seconds = time.perf_counter() - started
        record = teacher_record(teacher_identity(plan.teacher, plan.teacher_backend), weight, len(plan.train), seconds)
    else:
        return None, None
    return blended_targets(plan.train.y, scores, weight, plan.dataset.problem_type), record


def _load_base_model(plan: RunPlan):
    """The base model's tokenizer (without padding to a fixed length) and its model with a new head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with stage(f"Loading base model {plan.base.name}"):
        tokenizer = AutoTokenizer.from_pretrained(plan.base.source, local_files_only=plan.base.local_files_only)
        unpad_tokenizer(tokenizer)
        model = AutoModelForSequenceClassification.from_pretrained(
            plan.base.source,
            config=plan.hf_config,
            ignore_mismatched_sizes=True,
            local_files_only=plan.base.local_files_only,
        )
    return tokenizer, model


def _announcement(plan: RunPlan, n_train: int, hardware: str, resumed_step: int | None) -> str:
    """The line that says what is about to be trained, how, and from where."""
    settings, dataset = plan.settings, plan.dataset
    steps_per_epoch = math.ceil(n_train / (settings.batch_size * settings.gradient_accumulation_steps))
    return (
        f"Fine-tuning {plan.base.name} on {n_train:,} texts of {dataset.name} "
        f"({dataset.problem_type}, {len(dataset.labels)} labels): preset {plan.preset}, max length "
        f"{settings.max_length}, {settings.num_epochs} epochs of {steps_per_epoch} steps, {hardware}"
        + (f"; resuming from {Path(plan.resume_from).name} (step {resumed_step})" if plan.resume_from else "")
    )


def _usual_permissions(folder: Path) -> None:
    """Give the model's files the mode the umask allows (weights written through a temporary file come out
    0600), so another user, e.g. a container's, can read a published model."""
    umask = os.umask(0)
    os.umask(umask)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask)


def _best_checkpoint(state) -> str | None:
    """The folder name of the checkpoint the Trainer loaded as the best one."""
    return Path(state.best_model_checkpoint).name if state.best_model_checkpoint else None


def labels_json(labels: Sequence[str], problem_type: str) -> dict:
    """labels.json: the label names in id order with both mappings, as the seed's inference code reads them."""
    return {
        "labels": list(labels),
        "id2label": {str(i): lab for i, lab in enumerate(labels)},
        "label2id": {lab: i for i, lab in enumerate(labels)},
        "problem_type": HF_PROBLEM_TYPES[problem_type],
        "activation": "sigmoid" if problem_type == MULTI_LABEL else "softmax",
    }


def _card(
    plan: RunPlan, training_seconds: float, state, train_loss: float | None, stopped: dict, resumed_step: int | None
) -> ModelCard:
    """The new model's card in the staging folder: what it is, its data, splits and training record."""
    dataset = plan.dataset
    kind = "six-label toxicity" if dataset.problem_type == MULTI_LABEL else f"{len(dataset.labels)}-class"
    card = ModelCard(
        name=plan.name,
        family="transformer",
        task=dataset.name,
        labels=list(dataset.labels),
        problem_type=dataset.problem_type,
        artifact=".",
        base_model=plan.base.name,
        description=f"{plan.base.name} fine-tuned for {dataset.name} ({kind}), preset {plan.preset}",
        data_fingerprint=dataset.fingerprint,
        data_source=dataset.source,
        splits=splits_record(plan.splits, train_used=len(plan.train)),
        read_obfuscation=lexicon_sha256() if plan.settings.read_obfuscation else None,
        training_config={
            **plan.settings.to_dict(),
            "preset": plan.preset,
            "base_model_path": plan.base.source,
            "global_step": state.global_step,
            "epochs_trained": round(state.epoch or 0, 3),
            "train_loss": None if train_loss is None else round(train_loss, 6),
            "best_checkpoint": _best_checkpoint(state),
            "best_validation_score": state.best_metric,
            "stopped": stopped.get("reason"),
            "resumed_from_step": resumed_step,
            "training_seconds": round(training_seconds, 2),
            "mixture": plan.mixture.record() if plan.mixture else None,
        },
    )
    if plan.extra_rows is not None:
        card.extra["extra_data"] = plan.extra_rows.record()
    card.path = plan.staging / "model_card.json"
    return card
