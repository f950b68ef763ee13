"""The end of every training run, whatever the model family: thresholds tuned on validation, metrics on the
validation and test splits, single-text latency, training_info.json and the finished card."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..artifacts import finalise_card
from ..card import ModelCard
from ..classifier import Classifier
from ..data.splits import FRACTIONS, SEED, Splits
from ..decision import DEFAULT_THRESHOLD
from ..evaluation import dataset_metrics, evaluate, mean_single_text_ms, predict_proba_batched
from ..metrics import training_info, tune_thresholds
from ..progress import stage

# What training_info.json says the metrics were measured on.
EVALUATED_ON = f"test split (seed {SEED}, {'/'.join(f'{100 * f:.0f}' for f in FRACTIONS)})"


def splits_record(splits: Splits, train_used: int | None = None) -> dict:
    """The card's ``splits``: seed, fractions and the size of each part (and of the training rows actually
    used, when given)."""
    used = {} if train_used is None else {"train_used": train_used}
    return {
        "seed": SEED,
        "fractions": list(FRACTIONS),
        "train": len(splits.train),
        **used,
        "validation": len(splits.validation),
        "test": len(splits.test),
    }


def finish_training(
    card: ModelCard,
    classifier: Classifier,
    splits: Splits,
    *,
    models_dir: Path,
    training_seconds: float,
    tune: bool,
    version_part: str = "minor",
    save_model: Callable[[], None] | None = None,
    **info,
) -> ModelCard:
    """Set the card's thresholds (tuned for F1 on validation when ``tune``, else the default threshold), record
    validation and test metrics and the single-text latency, call ``save_model`` (writes the model's own files, so
    a run that fails before this point leaves the previous model untouched), write training_info.json (with
    ``info`` beside the seed's fields) and finalise the card: version, file hashes, card written last.
    ``classifier`` must read the card's thresholds."""
    validation, test = splits.validation, splits.test
    work = "Tuning thresholds on validation, evaluating" if tune else "Evaluating on validation and"
    with stage(f"{work} on {len(test):,} test texts"):
        val_proba = predict_proba_batched(classifier, validation.texts, description="Scoring validation")
        card.thresholds = (
            tune_thresholds(validation.y, val_proba, card.labels, card.problem_type)
            if tune
            else {label: DEFAULT_THRESHOLD for label in card.labels}
        )
        card.metrics = {
            "validation": dataset_metrics(validation, val_proba, card.thresholds),
            "test": evaluate(classifier, test),
        }
        latency = mean_single_text_ms(classifier, test.texts)
    if save_model is not None:
        save_model()
    details = training_info(
        card.metrics["test"],
        card.labels,
        training_seconds,
        latency,
        model_name=card.name,
        task=card.task,
        **info,
        evaluated_on=EVALUATED_ON,
    )
    return finalise_card(card, models_dir, details, version_part)
