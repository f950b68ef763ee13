"""Where a transformer model's ONNX exports live: one file per ONNX backend beside the model, and whether a card
pins one. The exporter writes these names and both transformer runtimes read them."""

from __future__ import annotations

from pathlib import Path

from ..card import ModelCard

ONNX_FILES = {"onnx-int8": "model.int8.onnx", "onnx": "model.onnx"}  # backend -> file name, fastest first
ONNX_BACKENDS = tuple(ONNX_FILES)


def exported_backends(card: ModelCard) -> list[str]:
    """The ONNX backends whose file the card pins, fastest first."""
    pinned = {Path(rel).name for rel in card.files}
    return [backend for backend, file in ONNX_FILES.items() if file in pinned]


def has_onnx_export(card: ModelCard) -> bool:
    """Whether the card pins an ONNX export of the model."""
    return bool(exported_backends(card))


def export_command(card: ModelCard, backend: str = "onnx") -> str:
    """The command that writes the export ``backend`` needs."""
    return f"nlpc export onnx --model {card.name}" + (" --quantize int8" if backend == "onnx-int8" else "")
