"""Fine-tuned transformers (Hugging Face folders) behind the ``Classifier`` interface, run with PyTorch.

ONNX exports of the same folder are run by ``onnx_backend``; ``load`` hands over to it when asked to, or by
default when the folder holds an export. A plain Hugging Face folder saved without our card (config.json with
``id2label``) loads too: ``card_for_uncarded`` describes it from its config.
"""
from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import numpy as np

from ..card import FOLDER_CARD_NAME, ModelCard
from ..classifier import Classifier
from ..errors import ConfigError
from ..tasks import MULTI_LABEL, SINGLE_LABEL, TASKS
from .transformer_text import (DEFAULT_BATCH_SIZE, SingleTextEncoder, TextSettings, predict_proba_windows,
                               unpad_tokenizer)

TORCH_BACKENDS = ("torch",)
ONNX_BACKENDS = ("onnx", "onnx-int8")
ONNX_FILES = ("model.int8.onnx", "model.onnx")
ONNX_MODULE = "nlp_classifier.backends.onnx_backend"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HF_PROBLEM_TYPES = {SINGLE_LABEL: "single_label_classification", MULTI_LABEL: "multi_label_classification"}


def set_threads(num_threads: int | None) -> None:
    """Use ``num_threads`` CPU threads for PyTorch (None leaves its default: one per core)."""
    if num_threads is None:
        return
    import torch

    if int(num_threads) < 1:
        raise ConfigError(f"num_threads must be at least 1, got {num_threads}")
    torch.set_num_threads(int(num_threads))


class TransformerClassifier(Classifier):
    """A sequence-classification model and its tokenizer; texts longer than the model's maximum length are
    scored over overlapping windows (max over windows)."""

    backend = "torch"

    def __init__(self, card: ModelCard, model, tokenizer, settings: TextSettings,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__(card)
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        self.batch_size = int(batch_size)
        self.input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                            if n in inspect.signature(model.forward).parameters]
        self._single = SingleTextEncoder(tokenizer, settings.max_length, self.input_names)

    def _logits(self, inputs) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        return out.logits.float().numpy()

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return predict_proba_windows(self.tokenizer, texts, self._logits, self.problem_type, self.settings,
                                     self.batch_size, self.input_names, self._single)


def _onnx_module():
    try:
        return importlib.import_module(ONNX_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != ONNX_MODULE:
            raise
        return None


def has_onnx_export(card: ModelCard) -> bool:
    """Whether the card pins an ONNX export of the model."""
    return any(Path(rel).name in ONNX_FILES for rel in card.files)


def load(card: ModelCard, backend: str | None = None, **options) -> Classifier:
    """A Classifier for a transformer folder. ``backend``: ``torch``, ``onnx`` or ``onnx-int8``; by default
    ONNX Runtime when the folder has an export, else PyTorch. Options: ``num_threads``, ``batch_size``,
    ``max_length`` and ``stride`` (windowing), ``device`` (torch, e.g. ``cuda``)."""
    if backend not in (None, *TORCH_BACKENDS, *ONNX_BACKENDS):
        raise ConfigError(f"backend '{backend}' is not available for transformer models; use one of "
                          f"{', '.join(TORCH_BACKENDS + ONNX_BACKENDS)}")
    if backend in ONNX_BACKENDS or (backend is None and has_onnx_export(card)):
        onnx = _onnx_module()
        if onnx is not None:
            return onnx.load(card, backend=backend, **options)
        if backend is not None:
            raise ConfigError(f"the ONNX backend is not available for model '{card.name}'; export it first with "
                              f"`nlpc export onnx --model {card.name}`")
    return load_torch(card, **options)


def load_torch(card: ModelCard, *, num_threads: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
               max_length: int | None = None, stride: int | None = None, device: str | None = None,
               **unknown) -> TransformerClassifier:
    """The PyTorch classifier of a transformer folder (the caller has verified its hashes)."""
    if unknown:
        raise ConfigError(f"unknown option(s) for the torch backend: {', '.join(sorted(unknown))}")
    from transformers import AutoModelForSequenceClassification

    set_threads(num_threads)
    folder = card.artifact_path
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    check_labels(card, model.config.id2label)
    if device:
        model.to(device)
    tokenizer = load_tokenizer(folder)
    settings = TextSettings.from_card(card, tokenizer.model_max_length)
    if max_length is not None or stride is not None:
        settings = settings.with_window(max_length, stride)
    return TransformerClassifier(card, model, tokenizer, settings, batch_size)


def load_tokenizer(folder: str | Path):
    """The folder's tokenizer with any fixed padding/truncation switched off."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    unpad_tokenizer(tokenizer)
    return tokenizer


def check_labels(card: ModelCard, id2label: dict) -> None:
    """The model's output columns must be the card's labels, in order."""
    model_labels = [str(id2label[i]) for i in sorted(id2label, key=int)]
    if model_labels != list(card.labels):
        raise ConfigError(f"{card.artifact_path}: config.json labels {model_labels} do not match the card's "
                          f"labels {card.labels}")


def card_for_uncarded(path: str | Path) -> ModelCard | None:
    """A card for a Hugging Face classification folder saved without one (config.json with ``id2label`` and
    weights), hashing its files as they are now. None for anything else."""
    folder = Path(path)
    config_path = folder / "config.json"
    if not folder.is_dir() or not config_path.is_file() or (folder / FOLDER_CARD_NAME).exists():
        return None
    if not any((folder / w).is_file() for w in WEIGHT_FILES):
        return None
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        return None
    labels = [str(id2label[k]) for k in sorted(id2label, key=int)]
    problem_type = MULTI_LABEL if config.get("problem_type") == HF_PROBLEM_TYPES[MULTI_LABEL] else SINGLE_LABEL
    task = next((t.name for t in TASKS.values() if list(t.labels) == labels and t.problem_type == problem_type),
                folder.name)
    card = ModelCard(name=folder.name, family="transformer", task=task, labels=labels, problem_type=problem_type,
                     artifact=".", base_model=config.get("_name_or_path") or None,
                     description=f"Hugging Face {config.get('model_type', 'transformer')} folder without a model "
                     "card (described from its config.json)",
                     extra={"uncarded": True})
    card.path = (folder / FOLDER_CARD_NAME).resolve()
    card.hash_files()
    return card
