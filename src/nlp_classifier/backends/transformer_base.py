"""What the PyTorch and ONNX Runtime transformer classifiers share: the model folder's tokenizer and labels, the
windowing settings, and the texts -> probabilities path. A runtime supplies only the model call (``_logits``)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..card import ModelCard
from ..classifier import Classifier
from ..errors import ConfigError
from .transformer_text import (
    DEFAULT_BATCH_SIZE,
    SingleTextEncoder,
    TextSettings,
    predict_proba_windows,
    unpad_tokenizer,
)


class WindowedTransformer(Classifier):
    """A tokenizer plus a model call; texts longer than the model's maximum length are scored over overlapping
    windows (max over windows), one short text skips the windowing machinery (``SingleTextEncoder``)."""

    def __init__(
        self,
        card: ModelCard,
        tokenizer,
        settings: TextSettings,
        input_names: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        super().__init__(card)
        self.tokenizer = tokenizer
        self.settings = settings
        self.batch_size = int(batch_size)
        self.input_names = list(input_names)
        self._single = SingleTextEncoder(tokenizer, settings.max_length, self.input_names)

    @abstractmethod
    def _logits(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """The model's logits for a batch of encoded inputs (numpy arrays named as ``input_names``)."""

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return predict_proba_windows(
            self.tokenizer,
            texts,
            self._logits,
            self.problem_type,
            self.settings,
            self.batch_size,
            self.input_names,
            self._single,
        )


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
        raise ConfigError(
            f"{card.artifact_path}: config.json labels {model_labels} do not match the card's labels {card.labels}"
        )


def text_settings(card: ModelCard, tokenizer, max_length: int | None = None, stride: int | None = None) -> TextSettings:
    """The card's windowing settings, with ``max_length`` / ``stride`` overriding them where given."""
    settings = TextSettings.from_card(card, tokenizer.model_max_length)
    if max_length is not None or stride is not None:
        settings = settings.with_window(max_length, stride)
    return settings
