"""The data a saved model was trained on, rebuilt from its card (its built-in task, or its data file) and split
the fixed way, for the commands that measure or adjust a model after training (export checks, calibration)."""

from __future__ import annotations

from pathlib import Path

from ..card import ModelCard
from ..errors import NlpcError
from ..tasks import MULTI_LABEL, TASKS
from .datasets import load_dataset
from .splits import FRACTIONS, SEED, Splits, split_dataset


def model_splits(card: ModelCard) -> tuple[Splits | None, str]:
    """The train/validation/test split of the data the model was trained on, with a note saying where it came
    from; (None, reason) when it cannot be rebuilt here."""
    source = Path(card.data_source) if card.data_source and Path(card.data_source).is_file() else None
    config = card.training_config or {}
    try:
        if card.task in TASKS:
            dataset = load_dataset(card.task, source, text_column=config.get("text_column"))
        elif source is not None:
            multi = card.problem_type == MULTI_LABEL
            dataset = load_dataset(
                str(source),
                text_column=config.get("text_column"),
                label_columns=card.labels if multi else config.get("label_columns"),
                labels=None if multi else card.labels,
            )
        else:
            return None, f"the training data of task '{card.task}' is not available here ({card.data_source})"
    except NlpcError as exc:
        return None, f"could not load the training data: {exc}"
    if list(dataset.labels) != list(card.labels) or dataset.problem_type != card.problem_type:
        return None, f"the data's labels {dataset.labels} differ from the model's {card.labels}"
    fractions = "/".join(f"{100 * f:.0f}" for f in FRACTIONS)
    note = f"{dataset.source} (seed {SEED}, {fractions})"
    if card.data_fingerprint and dataset.fingerprint != card.data_fingerprint:
        note += "; NOTE: this data differs from the data the model was trained on"
    return split_dataset(dataset), note
