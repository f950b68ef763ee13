"""Weight averaging ("model soup", Wortsman et al. 2022): one transformer whose weights are the mean of several
runs fine-tuned from the same base model on the same data, typically the same preset with different seeds.

The result has the size and speed of one run. Its thresholds are tuned on the validation split afresh (the
ingredients' thresholds do not carry over), it is measured on the test split like any trained model, and its
card names every ingredient with its version, seed and validation figures. Ingredients must agree on everything
that shapes inference (task, labels, base model, tokenizer, text settings, reading of disguised words) and on
the data and split, so the test split stays unseen by all of them.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from ..artifacts import TRAINING_INFO_FILE, publish_folder
from ..backends.onnx_files import ONNX_FILES
from ..backends.transformer_backend import WEIGHT_FILES, load_torch, set_threads
from ..card import FOLDER_CARD_NAME, ModelCard, check_model_name
from ..data.model_data import model_splits
from ..errors import ConfigError
from ..paths import models_dir as default_models_dir
from ..progress import console, stage
from ..registry import resolve
from .finish import finish_training

# Training settings every ingredient must share: they decide how a text is read and what the scores mean.
SHARED_SETTINGS = ("max_length", "stride", "normalise_text", "emoji_to_text", "read_obfuscation", "text_column")
# Files of an ingredient's folder that are not carried into the average (weights are rebuilt; exports and the
# training record belong to the ingredient).
NOT_CARRIED = (*WEIGHT_FILES, TRAINING_INFO_FILE, *ONNX_FILES.values())


def average_models(
    names: Sequence[str | Path],
    *,
    name: str,
    output: str | Path | None = None,
    weights: Sequence[float] | None = None,
    models_dir: str | Path | None = None,
    num_threads: int | None = None,
    version_part: str = "minor",
) -> ModelCard:
    """Average the weights of the transformer models ``names`` (registry names or folders), optionally with
    ``weights`` (positive, normalised to sum to one; default uniform), tune thresholds on validation, evaluate on
    test and publish the result as ``name`` (folder ``output``, default ``<models>/transformer/<name>``)."""
    check_model_name(name)
    root = Path(models_dir) if models_dir is not None else default_models_dir()
    cards = [resolve(n, root) for n in names]
    mix = _normalised_weights(weights, len(cards))
    _check_ingredients(cards)
    splits, note = model_splits(cards[0])
    if splits is None:
        raise ConfigError(f"cannot average: the validation and test data of '{cards[0].name}' are needed ({note})")
    set_threads(num_threads)
    final = Path(output) if output is not None else root / "transformer" / name
    staging = final.parent / f".{final.name}.averaging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        with stage(f"Averaging the weights of {len(cards)} models"):
            _write_average(cards, mix, staging)
        card = _card(cards, mix, name, staging)
        finish_training(
            card,
            load_torch(card, num_threads=num_threads),
            splits,
            models_dir=root,
            training_seconds=sum(float((c.training_config or {}).get("training_seconds") or 0) for c in cards),
            tune=True,
            version_part=version_part,
            averaged_from=[c.name for c in cards],
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish_folder(staging, final)
    card.path = final / FOLDER_CARD_NAME
    console.print(f"saved {final} (version {card.version})")
    return card


def _normalised_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """Uniform weights, or the given ones scaled to sum to one (one positive weight per model)."""
    if n < 2:
        raise ConfigError(f"averaging needs at least two models, got {n}")
    if weights is None:
        return [1.0 / n] * n
    if len(weights) != n:
        raise ConfigError(f"--weights gives {len(weights)} weights for {n} models; give one per model")
    if any(not w > 0 for w in weights):
        raise ConfigError(f"--weights must all be positive, got {', '.join(str(w) for w in weights)}")
    total = float(sum(weights))
    return [float(w) / total for w in weights]


def _check_ingredients(cards: Sequence[ModelCard]) -> None:
    """Raise ConfigError naming the first model that cannot be averaged with the first one, and why."""
    first = cards[0]
    seen: set[Path] = set()
    for card in cards:
        card.verify_or_raise()
        if card.family != "transformer":
            raise ConfigError(f"'{card.name}' is a {card.family} model; only transformer weights can be averaged")
        if card.root in seen:
            raise ConfigError(f"'{card.name}' is given twice; give each model once (use --weights to weight one)")
        seen.add(card.root)
    for card in cards[1:]:
        differences = [
            f"{what} {mine!r} against {theirs!r}"
            for what, mine, theirs in (
                ("task", card.task, first.task),
                ("labels", list(card.labels), list(first.labels)),
                ("problem type", card.problem_type, first.problem_type),
                ("base model", card.base_model, first.base_model),
                ("tokenizer", _tokenizer_hashes(card), _tokenizer_hashes(first)),
                ("data", card.data_fingerprint, first.data_fingerprint),
                ("split", _split_seed(card), _split_seed(first)),
                *(
                    (setting, (card.training_config or {}).get(setting), (first.training_config or {}).get(setting))
                    for setting in SHARED_SETTINGS
                ),
            )
            if mine != theirs
        ]
        if differences:
            raise ConfigError(
                f"'{card.name}' cannot be averaged with '{first.name}': "
                + "; ".join(differences)
                + " (ingredients must be runs of the same base model on the same data and settings)"
            )


def _tokenizer_hashes(card: ModelCard) -> dict[str, str]:
    """The pinned hashes of a model's tokenizer files."""
    return {rel: sha for rel, sha in card.files.items() if "token" in rel or rel in ("vocab.txt", "merges.txt")}


def _split_seed(card: ModelCard):
    return (card.splits or {}).get("seed")


def _write_average(cards: Sequence[ModelCard], mix: Sequence[float], staging: Path) -> None:
    """The first model's folder (config, tokenizer, labels) with the weighted mean of every model's weights."""
    from transformers import AutoModelForSequenceClassification

    first = cards[0]
    for rel in first.files:
        if rel not in NOT_CARRIED:
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(first.root / rel, target)
    model = AutoModelForSequenceClassification.from_pretrained(first.root, local_files_only=True)
    reference = model.state_dict()
    total = {key: value.detach().double() * mix[0] for key, value in reference.items()}
    for card, share in zip(cards[1:], mix[1:]):
        other = AutoModelForSequenceClassification.from_pretrained(card.root, local_files_only=True).state_dict()
        if set(other) != set(total) or any(other[k].shape != total[k].shape for k in total):
            raise ConfigError(f"'{card.name}' has other weight names or shapes than '{first.name}'")
        for key in total:
            total[key] += other[key].detach().double() * share
    model.load_state_dict({k: v.to(reference[k].dtype) for k, v in total.items()})
    model.save_pretrained(staging)


def _card(cards: Sequence[ModelCard], mix: Sequence[float], name: str, staging: Path) -> ModelCard:
    """The average's card: the ingredients' shared description, data and settings, and each ingredient."""
    first = cards[0]
    shared = {k: v for k, v in (first.training_config or {}).items() if k in SHARED_SETTINGS}
    ingredients = [
        {
            "name": c.name,
            "version": c.version,
            "weight": share,
            "weights_sha256": next((c.files[w] for w in WEIGHT_FILES if w in c.files), None),
            "seed": (c.training_config or {}).get("seed"),
            "preset": (c.training_config or {}).get("preset"),
            "validation_f1_macro": (c.metrics.get("validation") or {}).get("f1_macro"),
            "validation_roc_auc": (c.metrics.get("validation") or {}).get("roc_auc"),
        }
        for c, share in zip(cards, mix)
    ]
    card = ModelCard(
        name=name,
        family="transformer",
        task=first.task,
        labels=list(first.labels),
        problem_type=first.problem_type,
        artifact=".",
        base_model=first.base_model,
        description=f"weight average of {len(cards)} {first.base_model} runs fine-tuned for {first.task} "
        f"({', '.join(c.name for c in cards)})",
        data_fingerprint=first.data_fingerprint,
        data_source=first.data_source,
        splits=dict(first.splits or {}),
        read_obfuscation=first.read_obfuscation,
        training_config={**shared, "averaged_from": ingredients},
    )
    card.path = staging / FOLDER_CARD_NAME
    return card
