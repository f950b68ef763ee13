"""Fine-tuned transformers (Hugging Face folders) behind the ``Classifier`` interface, run with PyTorch.

ONNX exports of the same folder are run by ``onnx_backend`` (which imports onnxruntime only when it loads a
model); ``load`` hands over to it when asked to, or by default when the folder holds an export. A plain Hugging
Face folder saved without our card (config.json with ``id2label``) loads too: ``card_for_uncarded`` describes it
from its config.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np

from ..card import FOLDER_CARD_NAME, ModelCard
from ..classifier import Classifier
from ..errors import ConfigError
from ..tasks import MULTI_LABEL, SINGLE_LABEL, TASKS
from . import onnx_backend
from .onnx_files import ONNX_BACKENDS, has_onnx_export
from .transformer_base import WindowedTransformer, check_labels, load_tokenizer, text_settings
from .transformer_text import DEFAULT_BATCH_SIZE, TextSettings

TORCH_BACKENDS = ("torch",)
BACKENDS = TORCH_BACKENDS + ONNX_BACKENDS
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


def torch_device(name: str):
    """The torch device called ``name`` (cpu, cuda, cuda:1, mps), with a clear error when it is not one or is
    not there."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"device '{name}' is not a PyTorch device (e.g. cpu, cuda, cuda:1): {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' asked for, but PyTorch sees no CUDA GPU on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"device '{name}' asked for, but this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return device


class TransformerClassifier(WindowedTransformer):
    """A Hugging Face sequence-classification model run with PyTorch."""

    backend = "torch"
    explain_methods = ("occlusion", "integrated_gradients")

    def __init__(self, card: ModelCard, model, tokenizer, settings: TextSettings, batch_size: int = DEFAULT_BATCH_SIZE):
        self.model = model.eval()
        input_names = [
            n
            for n in ("input_ids", "attention_mask", "token_type_ids")
            if n in inspect.signature(model.forward).parameters
        ]
        super().__init__(card, tokenizer, settings, input_names, batch_size)

    def _logits(self, inputs) -> np.ndarray:
        import torch

        device = self.model.device  # the inputs go where the model is (a GPU when loaded with device="cuda")
        with torch.inference_mode():
            out = self.model(**{k: torch.from_numpy(v).to(device) for k, v in inputs.items()})
        return out.logits.float().cpu().numpy()


def load(card: ModelCard, backend: str | None = None, **options) -> Classifier:
    """A Classifier for a transformer folder. ``backend``: ``torch``, ``onnx`` or ``onnx-int8``; by default
    ONNX Runtime when the folder has an export, else PyTorch. Options: ``num_threads``, ``batch_size``,
    ``max_length`` and ``stride`` (windowing), ``device`` (torch, e.g. ``cuda``)."""
    if backend not in (None, *BACKENDS):
        raise ConfigError(
            f"backend '{backend}' is not available for transformer models; use one of {', '.join(BACKENDS)}"
        )
    if backend in ONNX_BACKENDS or (backend is None and has_onnx_export(card)):
        return onnx_backend.load(card, backend=backend, **options)
    return load_torch(card, **options)


def load_torch(
    card: ModelCard,
    *,
    num_threads: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_length: int | None = None,
    stride: int | None = None,
    device: str | None = None,
    **unknown,
) -> TransformerClassifier:
    """The PyTorch classifier of a transformer folder (the caller has verified its hashes)."""
    if unknown:
        raise ConfigError(f"unknown option(s) for the torch backend: {', '.join(sorted(unknown))}")
    from transformers import AutoModelForSequenceClassification

    set_threads(num_threads)
    folder = card.artifact_path
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    check_labels(card, model.config.id2label)
    if device:
        model.to(torch_device(device))
    tokenizer = load_tokenizer(folder)
    settings = text_settings(card, tokenizer, max_length, stride)
    return TransformerClassifier(card, model, tokenizer, settings, batch_size)


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
    task = next(
        (t.name for t in TASKS.values() if list(t.labels) == labels and t.problem_type == problem_type), folder.name
    )
    card = ModelCard(
        name=folder.name,
        family="transformer",
        task=task,
        labels=labels,
        problem_type=problem_type,
        artifact=".",
        base_model=config.get("_name_or_path") or None,
        description=f"Hugging Face {config.get('model_type', 'transformer')} folder without a model "
        "card (described from its config.json)",
        extra={"uncarded": True},
    )
    card.path = (folder / FOLDER_CARD_NAME).resolve()
    card.hash_files()
    return card
