"""Transformer models run by ONNX Runtime from an export beside the model: ``model.onnx`` (fp32) or
``model.int8.onnx`` (dynamically quantized), written by ``nlpc export onnx``.

Tokenisation, long-text windowing and the logits -> probabilities step are the PyTorch backend's own
(``transformer_text``), so both runtimes see the same tokens; one short text skips the windowing machinery in
both (``SingleTextEncoder``). ``transformer_backend.load`` hands over here for
``backend="onnx"`` / ``"onnx-int8"``, and by default when the card pins an export (int8 first: it is the
fastest).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..card import ModelCard
from ..classifier import Classifier
from ..errors import ConfigError
from .transformer_backend import check_labels, load_tokenizer
from .transformer_text import DEFAULT_BATCH_SIZE, SingleTextEncoder, TextSettings, predict_proba_windows

ONNX_FILES = {"onnx-int8": "model.int8.onnx", "onnx": "model.onnx"}  # fastest first


def export_command(card: ModelCard, backend: str = "onnx") -> str:
    """The command that writes the export ``backend`` needs."""
    return f"nlpc export onnx --model {card.name}" + (" --quantize int8" if backend == "onnx-int8" else "")


def exported_backends(card: ModelCard) -> list[str]:
    """The ONNX backends whose file the card pins, fastest first."""
    pinned = {Path(rel).name for rel in card.files}
    return [backend for backend, file in ONNX_FILES.items() if file in pinned]


def make_session(path: str | Path, num_threads: int | None = None):
    """An ONNX Runtime CPU session with every graph optimisation on; ``num_threads`` intra-op threads
    (None: ONNX Runtime's default, one per physical core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if num_threads is not None:
        if int(num_threads) < 1:
            raise ConfigError(f"num_threads must be at least 1, got {num_threads}")
        options.intra_op_num_threads = int(num_threads)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxClassifier(Classifier):
    """An ONNX Runtime session plus the model folder's tokenizer; same inputs, windowing and outputs as the
    PyTorch backend (within float tolerance; int8 within the quantization loss recorded in the card)."""

    def __init__(self, card: ModelCard, session, tokenizer, settings: TextSettings, backend: str,
                 batch_size: int = DEFAULT_BATCH_SIZE, model_path: Path | None = None):
        super().__init__(card)
        self.session = session
        self.tokenizer = tokenizer
        self.settings = settings
        self.backend = backend
        self.batch_size = int(batch_size)
        self.model_path = model_path
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_names = [session.get_outputs()[0].name]
        self._single = SingleTextEncoder(tokenizer, settings.max_length, self.input_names)

    def _logits(self, inputs) -> np.ndarray:
        return self.session.run(self.output_names, {name: inputs[name] for name in self.input_names})[0]

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return predict_proba_windows(self.tokenizer, texts, self._logits, self.problem_type, self.settings,
                                     self.batch_size, self.input_names, self._single)


def resolve_backend(card: ModelCard, backend: str | None) -> str:
    """The ONNX backend to run: the one asked for if its export is pinned by the card, else the fastest pinned
    one; the error names the export command."""
    available = exported_backends(card)
    if backend is None:
        if not available:
            raise ConfigError(f"model '{card.name}' has no ONNX export; create one with `{export_command(card)}`")
        return available[0]
    if backend not in ONNX_FILES:
        raise ConfigError(f"unknown ONNX backend '{backend}'; use one of {', '.join(ONNX_FILES)}")
    if backend not in available:
        file = card.artifact_path / ONNX_FILES[backend]
        state = ("is not recorded in its model card, so it cannot be verified" if file.exists() else "does not exist")
        raise ConfigError(f"model '{card.name}' has no {backend} export ({file} {state}); create it with "
                          f"`{export_command(card, backend)}`")
    return backend


def load(card: ModelCard, backend: str | None = None, *, num_threads: int | None = None,
         batch_size: int = DEFAULT_BATCH_SIZE, max_length: int | None = None, stride: int | None = None,
         device: str | None = None, model_file: str | Path | None = None, **unknown) -> OnnxClassifier:
    """An ONNX Runtime classifier for a transformer folder (the caller has verified the card's hashes).
    ``backend``: ``onnx`` or ``onnx-int8`` (default: the fastest export the card pins). Options as for the
    torch backend: ``num_threads``, ``batch_size``, ``max_length``, ``stride``; ``model_file`` runs another ONNX
    file with this card (used by the exporter to check a candidate before publishing it)."""
    if unknown:
        raise ConfigError(f"unknown option(s) for the ONNX backend: {', '.join(sorted(unknown))}")
    if device not in (None, "cpu"):
        raise ConfigError(f"the ONNX backend runs on the CPU; device '{device}' is not supported")
    if model_file is None:
        backend = resolve_backend(card, backend)
        model_file = card.artifact_path / ONNX_FILES[backend]
    elif backend not in ONNX_FILES:
        raise ConfigError(f"say which ONNX backend the file {model_file} is for: one of {', '.join(ONNX_FILES)}")
    folder = card.artifact_path
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    check_labels(card, config.get("id2label") or {})
    tokenizer = load_tokenizer(folder)
    settings = TextSettings.from_card(card, tokenizer.model_max_length)
    if max_length is not None or stride is not None:
        settings = settings.with_window(max_length, stride)
    session = make_session(model_file, num_threads)
    return OnnxClassifier(card, session, tokenizer, settings, backend, batch_size, Path(model_file))
