"""Transformer models run by ONNX Runtime from an export beside the model (fp32 or dynamically quantized int8,
file names in ``onnx_files``), written by ``nlpc export onnx``.

Tokenisation, long-text windowing and the logits -> probabilities step are shared with the PyTorch backend
(``transformer_base``), so both runtimes see the same tokens; only the model call differs.
``transformer_backend.load`` hands over here for ``backend="onnx"`` / ``"onnx-int8"``, and by default when the
card pins an export (int8 first: it is the fastest).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..card import ModelCard
from ..errors import ConfigError
from .onnx_files import ONNX_FILES, export_command, exported_backends
from .transformer_base import WindowedTransformer, check_labels, load_tokenizer, text_settings
from .transformer_text import DEFAULT_BATCH_SIZE, TextSettings


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


class OnnxClassifier(WindowedTransformer):
    """An ONNX Runtime session plus the model folder's tokenizer; same inputs, windowing and outputs as the
    PyTorch backend (within float tolerance; int8 within the quantization loss recorded in the card)."""

    def __init__(
        self,
        card: ModelCard,
        session,
        tokenizer,
        settings: TextSettings,
        backend: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        model_path: Path | None = None,
    ):
        self.session = session
        self.backend = backend
        self.model_path = model_path
        self.output_names = [session.get_outputs()[0].name]
        super().__init__(card, tokenizer, settings, [i.name for i in session.get_inputs()], batch_size)

    def _logits(self, inputs) -> np.ndarray:
        return self.session.run(self.output_names, {name: inputs[name] for name in self.input_names})[0]


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
        state = "is not recorded in its model card, so it cannot be verified" if file.exists() else "does not exist"
        raise ConfigError(
            f"model '{card.name}' has no {backend} export ({file} {state}); create it with "
            f"`{export_command(card, backend)}`"
        )
    return backend


def load(
    card: ModelCard,
    backend: str | None = None,
    *,
    num_threads: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_length: int | None = None,
    stride: int | None = None,
    device: str | None = None,
    model_file: str | Path | None = None,
    **unknown,
) -> OnnxClassifier:
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
    settings = text_settings(card, tokenizer, max_length, stride)
    session = make_session(model_file, num_threads)
    return OnnxClassifier(card, session, tokenizer, settings, backend, batch_size, Path(model_file))
