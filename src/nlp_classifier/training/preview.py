"""The model a transformer run has so far, served while it trains (``nlpc train transformer --preview``).

Fine-tuning the default ``hate`` model takes about an hour on 2 cores, and until it ends a fresh machine serves the
TF-IDF fallback, which flags neutral statements about many identity groups (docs/evaluation.md). A run asked for a
preview publishes its best checkpoint so far as a model of its own, ``<name>_preview``, each time the run's
checkpoint selection metric improves: the checkpoint's weights, with the thresholds tuned on the validation split
at that checkpoint (``hf_glue.metrics_for_trainer`` records them with every evaluation), so the scores keep one
meaning although they drift from checkpoint to checkpoint. It is not tested or calibrated: its card's metrics are
the validation figures at those thresholds. ``nlpc run`` switches the API to each new preview and then to the
finished model. Publishing the finished model removes the preview, whether or not the run made one.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..card import ModelCard
from ..decision import DEFAULT_THRESHOLD

PREVIEW_SUFFIX = "_preview"
# The metrics of each evaluation during training (hf_glue.metrics_for_trainer) that hold the thresholds tuned on it,
# one per label, and the metrics at those thresholds.
THRESHOLD_PREFIX = "threshold_"
TUNED_PREFIX = "tuned_"


def preview_name(name: str) -> str:
    """The registry name of the preview of the model called ``name``."""
    return f"{name}{PREVIEW_SUFFIX}"


def is_preview(card: ModelCard) -> bool:
    """Whether ``card`` is a training run's preview (``publish_preview``), not a finished model."""
    return "preview" in card.extra


def preview_folder(final: Path) -> Path:
    """Where the preview of the model published at ``final`` lives: beside it."""
    return final.with_name(preview_name(final.name))


def evaluation_at(log_history: list[Mapping[str, Any]], step: int) -> dict[str, Any] | None:
    """The Trainer's evaluation logged at ``step`` (its ``eval_`` metrics), None when there was none."""
    for entry in reversed(log_history):
        if entry.get("step") == step and any(key.startswith("eval_") for key in entry):
            return dict(entry)
    return None


def checkpoint_thresholds(evaluation: Mapping[str, Any], labels: list[str]) -> dict[str, float]:
    """The thresholds one evaluation tuned, per label (``DEFAULT_THRESHOLD`` for a label it did not tune)."""
    return {label: float(evaluation.get(f"eval_{THRESHOLD_PREFIX}{label}", DEFAULT_THRESHOLD)) for label in labels}


def validation_metrics(evaluation: Mapping[str, Any]) -> dict[str, float]:
    """The evaluation's metrics at the tuned thresholds, named as a card's ``validation`` metrics."""
    prefix = f"eval_{TUNED_PREFIX}"
    return {key[len(prefix) :]: value for key, value in evaluation.items() if key.startswith(prefix)}


def publish_preview(
    card: ModelCard,
    model,
    tokenizer,
    labels_file: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    *,
    total: int,
    models_dir: Path,
    final: Path,
    tuned: bool,
) -> ModelCard:
    """Write the checkpoint ``model`` as the preview of the model to be published at ``final``: weights,
    tokenizer, labels.json, and ``card`` (the run's card, renamed) with the thresholds of ``evaluation`` (the
    evaluation of this checkpoint; 0.5 unless ``tuned``), published in one step (the previous preview is
    replaced whole). Returns the preview's card."""
    from ..artifacts import finalise_card, publish_folder
    from ..backends.transformer_text import unpad_tokenizer
    from ..fileio import write_json
    from ..progress import console

    target = preview_folder(final)
    staging = target.with_name(f".{target.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    step = int(evaluation["step"])
    model.save_pretrained(staging)
    unpad_tokenizer(tokenizer)
    tokenizer.save_pretrained(staging)
    write_json(staging / "labels.json", dict(labels_file))
    card.name = preview_name(card.name)
    card.description = f"{card.description}; its best checkpoint so far (step {step:,} of {total:,}), in training"
    card.thresholds = (
        checkpoint_thresholds(evaluation, card.labels) if tuned else {label: DEFAULT_THRESHOLD for label in card.labels}
    )
    card.metrics = {"validation": validation_metrics(evaluation)} if tuned else {}
    card.extra["preview"] = {"step": step, "total_steps": total, "of_model": final.name}
    card.path = staging / "model_card.json"
    finalise_card(card, models_dir)
    publish_folder(staging, target)
    card.path = target / "model_card.json"
    console.print(
        f"preview: {card.name} {card.version} is step {step:,} of {total:,} (threshold "
        f"{', '.join(f'{label} {value:.2f}' for label, value in card.thresholds.items())})",
        highlight=False,
    )
    return card


def remove_preview(final: Path) -> bool:
    """Remove the preview of the model published at ``final``, if there is one; whether there was."""
    target = preview_folder(final)
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True
