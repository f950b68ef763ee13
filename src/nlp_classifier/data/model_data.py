"""The data a saved model was trained on, rebuilt from its card (its built-in task, or its data file) and split
the fixed way, for the commands that measure or adjust a model after training (export checks, calibration)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..card import ModelCard
from ..errors import NlpcError
from ..tasks import MULTI_LABEL, TASKS
from .datasets import Dataset, load_dataset
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
            dataset = load_for_labels(
                source,
                card.labels,
                card.problem_type,
                text_column=config.get("text_column"),
                label_columns=config.get("label_columns"),
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


def load_for_labels(
    path: str | Path,
    labels: Sequence[str],
    problem_type: str,
    *,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    label_names: Sequence[str] | None = None,
) -> Dataset:
    """A labelled file read with a model's labels: a multi-label file has one 0/1 column per label (by default
    named after them); a single-label file holds label names, in the model's order (or ``label_names``')."""
    multi = problem_type == MULTI_LABEL
    return load_dataset(
        str(path),
        text_column=text_column,
        label_columns=list(label_columns or (labels if multi else [])) or None,
        labels=None if multi else list(label_names or labels),
    )
