"""The model set `make run` prepares when missing, which model answers when none is named, and the examples the
API and UI show."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .card import ModelCard
from .registry import list_cards
from .tasks import BINARY_LABELS, MULTI_LABEL
from .training.background_status import FINISH, RUNNING, describe
from .training.preview import preview_name

# (task, algorithm, preset): the multi-source hate baseline (served by default), the seed's two baselines, the
# stronger char preset, and a toxicity baseline.
DEFAULT_BASELINES = [
    ("hate", "logistic_regression", "char"),
    ("davidson", "logistic_regression", "seed"),
    ("davidson", "linear_svm", "seed"),
    ("davidson", "linear_svm", "char"),
    ("jigsaw", "logistic_regression", "char"),
]

# The default baselines whose scores `nlpc prepare` calibrates after training them, and how: the `hate` fallback is
# served by default, so its score should mean what it says (isotonic: test ECE 0.131 -> 0.010, docs/evaluation.md).
# The Davidson and Jigsaw models keep the seed's scores.
CALIBRATED_DEFAULTS = {("hate", "logistic_regression", "char"): "isotonic"}

# The models that answer by default, best first, when the registry has them: the fine-tuned multi-source hate
# transformer (its ONNX int8 export when present: the transformer backend's own default), then the best checkpoint
# its training has so far (training.preview: a run stopped part-way leaves one, and `make run` continues that run),
# then its TF-IDF baseline.
PREFERRED_MODELS = ("minilm_hate", preview_name("minilm_hate"), "logistic_regression_hate_char")
DEFAULT_MODEL_ENV = "NLPC_DEFAULT_MODEL"

EXAMPLE_TEXTS = [
    "Thanks for the help yesterday, the meeting went great!",
    "I hope you have a wonderful birthday with your family.",
    "shut up you stupid idiot, nobody wants you here",
    "You are a worthless piece of trash and everyone hates you",
    "I am a gay man and proud of it",
    "Immigrants are vermin and should all be thrown out of this country",
]


def ranking_score(card: ModelCard) -> float:
    """A card's test (else validation) F1 macro, -1 when it has none: how models of one kind are ranked."""
    metrics = card.metrics.get("test") or card.metrics.get("validation") or {}
    value = metrics.get("f1_macro")
    return float(value) if isinstance(value, (int, float)) else -1.0


def pick_default(cards: Sequence[ModelCard]) -> ModelCard | None:
    """The model that answers when none is named (``/predict``, the UI, ``nlpc predict``): the first of
    ``PREFERRED_MODELS`` in the registry; else the single-label model with the best test F1 macro, binary
    Davidson models first; None for an empty registry."""
    by_name = {card.name: card for card in cards}
    for name in PREFERRED_MODELS:
        if name in by_name:
            return by_name[name]
    single = [c for c in cards if c.problem_type != MULTI_LABEL]
    preferred = [c for c in single if list(c.labels) == BINARY_LABELS] or single
    return min(preferred, key=lambda c: (-ranking_score(c), c.name), default=None)


def serves_fallback(served: str | None) -> bool:
    """Whether ``served`` is the TF-IDF fallback of the fine-tuned default."""
    return served == PREFERRED_MODELS[-1]


def fallback_notice(served: str | None, names: Sequence[str], training: Mapping[str, Any] | None = None) -> str | None:
    """What ``nlpc run`` and the UI's sidebar say when the API serves the TF-IDF fallback because the fine-tuned
    ``hate`` model has not been trained: that fallback flags neutral and positive statements about many identity
    groups (the audit in docs/evaluation.md), and then either how far its training in the background has got
    (``training``: the ``GET /models/training`` answer) or that ``make minilm`` builds it. ``names``: the models
    there are. None in every other case, including a registry that has the transformer while the fallback was
    chosen on purpose; but not while the background training still runs (after its last step the model is in the
    registry while it is tested, exported and calibrated)."""
    transformer = PREFERRED_MODELS[0]
    finishing = training is not None and training.get("state") == RUNNING and training.get("model") == transformer
    if not serves_fallback(served) or (transformer in names and not finishing):
        return None
    warning = (
        f"{served} is the TF-IDF fallback: it flags neutral and positive statements about many identity groups "
        "(docs/evaluation.md)."
    )
    return with_progress(
        warning, training, f"`make minilm` trains {transformer} (about an hour on 2 cores), served from then on."
    )


def with_progress(what: str, training: Mapping[str, Any] | None, otherwise: str) -> str:
    """``what``, then how far the background training of the fine-tuned default has got (``training``: the ``GET
    /models/training`` answer), or ``otherwise`` when none runs."""
    progress = describe(training) if training and training.get("model") == PREFERRED_MODELS[0] else None
    return f"{what} {progress or otherwise}"


def finishing_notice(served: str | None, names: Sequence[str], training: Mapping[str, Any] | None) -> str | None:
    """What ``GET /models`` (and with it the UI's sidebar) says while ``served`` is being finished in the background
    (``training``: the ``GET /models/training`` answer): a stopped run saved it but did not export or calibrate it
    (``purpose`` ``finish``), or the running training has saved it (it is in ``names``) and goes on to test, export
    and calibrate it. Until the API switches to the finished model it answers with the model as saved, its scores
    not yet calibrated. None in every other case."""
    if (
        served is None
        or not training
        or training.get("state") != RUNNING
        or training.get("model") != served
        or (training.get("purpose") != FINISH and served not in names)
    ):
        return None
    return f"{describe(training)} Until then {served} is served as saved: its scores are not calibrated yet."


def preview_notice(served: str | None, training: Mapping[str, Any] | None) -> str | None:
    """What ``GET /models`` (and with it the UI's sidebar and ``nlpc run``) says while ``served`` is the preview of
    the fine-tuned default (training.preview): the best checkpoint of its training so far, its threshold tuned on
    validation but its scores neither tested nor calibrated; then how far the training has got, or that it is not
    running. None for any other model."""
    transformer = PREFERRED_MODELS[0]
    if served != preview_name(transformer):
        return None
    what = (
        f"{served} is the best checkpoint so far of {transformer}'s training, with its threshold tuned on the "
        "validation split; its scores are not calibrated and it has not been tested."
    )
    return with_progress(
        what, training, "Its training is not running: `make run` (or `make minilm TRAIN_FLAGS=--resume`) continues it."
    )


def serving_notice(served: str | None, names: Sequence[str], training: Mapping[str, Any] | None) -> str | None:
    """The note on the served model (``GET /models``, shown by the UI's sidebar): ``fallback_notice``, else
    ``preview_notice``, else ``finishing_notice``; None when none has anything to say."""
    return (
        fallback_notice(served, names, training)
        or preview_notice(served, training)
        or finishing_notice(served, names, training)
    )


def may_need_notice(served: str | None) -> bool:
    """Whether ``serving_notice`` can have anything to say about ``served`` (``GET /models`` reads the background
    training's status only then)."""
    return served in PREFERRED_MODELS


def default_model_name(models_dir: str | Path | None = None) -> str | None:
    """The model to use when none is named: ``$NLPC_DEFAULT_MODEL`` when set, else ``pick_default`` over the
    registry; None when there is neither."""
    chosen = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
    if chosen:
        return chosen
    card = pick_default(list_cards(models_dir))
    return card.name if card is not None else None
