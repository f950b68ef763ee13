"""Turning a PyTorch sequence classifier into ONNX files: the graph export, ONNX Runtime's transformer
fusions, and dynamic int8 quantization. Plain file-to-file steps; checking and publishing live in ``onnx_export``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

OPSET = 17
OUTPUT_NAME = "logits"
# Models whose attention/layer-norm patterns ONNX Runtime's BERT optimizer knows how to fuse.
FUSABLE_MODEL_TYPES = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "mpnet"}


class Int8Settings(TypedDict):
    """How the int8 graph is quantized; recorded in the card."""

    method: str
    weight_type: str  # the name of an onnxruntime.quantization.QuantType member
    activation_type: str
    per_channel: bool
    reduce_range: bool


# Dynamic quantization: int8 weights with one scale per output channel (the most accurate of the settings tried on
# MiniLM, no slower), activations quantized to uint8 at run time.
INT8_SETTINGS: Int8Settings = {
    "method": "dynamic",
    "weight_type": "QInt8",
    "activation_type": "QUInt8 (computed at run time)",
    "per_channel": True,
    "reduce_range": False,
}


def export_graph(model, input_names: Sequence[str], sample: dict, path: Path, opset: int = OPSET) -> None:
    """Export ``model`` (a Hugging Face sequence classifier) to ``path`` with dynamic batch and sequence axes;
    the graph takes ``input_names`` (int64) and returns ``logits``. Attention is exported in its plain
    ("eager") form, which ONNX Runtime can fuse."""
    model = model.eval()
    original = getattr(model.config, "_attn_implementation", "eager")
    switch = original != "eager" and hasattr(model, "set_attn_implementation")
    if switch:
        model.set_attn_implementation("eager")
    try:
        _export(model, input_names, sample, path, opset)
    finally:
        model.eval()
        if switch:
            model.set_attn_implementation(original)


def _export(model, input_names: Sequence[str], sample: dict, path: Path, opset: int) -> None:
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(input_names, inputs))).logits

    args = tuple(torch.as_tensor(sample[name], dtype=torch.long) for name in input_names)
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    axes[OUTPUT_NAME] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The wrapper must be in eval mode too: export restores its mode afterwards, recursively.
        torch.onnx.export(
            Logits(model).eval(),
            args,
            str(path),
            input_names=list(input_names),
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def fuse_graph(path: Path, config) -> dict[str, int] | None:
    """Rewrite the fp32 graph at ``path`` with ONNX Runtime's transformer fusions (attention, embedding and skip
    layer-norm, bias-GELU) where the architecture is known; returns the fused operator counts, or None when the
    model type is not one the optimizer handles (the graph is left as exported)."""
    if config.model_type not in FUSABLE_MODEL_TYPES:
        return None
    from onnxruntime.transformers.optimizer import optimize_model

    heads = getattr(config, "num_attention_heads", 0) or getattr(config, "n_heads", 0)
    hidden = getattr(config, "hidden_size", 0) or getattr(config, "dim", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = optimize_model(str(path), model_type="bert", num_heads=int(heads), hidden_size=int(hidden))
    optimized.save_model_to_file(str(path))
    return {op: n for op, n in optimized.get_fused_operator_statistics().items() if n}


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of every MatMul/Attention weight of ``source`` into ``target``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)  # the quantizer logs advice about static-quantization pre-processing
        try:
            quantize_dynamic(
                str(source),
                str(target),
                weight_type=getattr(QuantType, INT8_SETTINGS["weight_type"]),
                per_channel=INT8_SETTINGS["per_channel"],
                reduce_range=INT8_SETTINGS["reduce_range"],
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            logging.disable(logging.NOTSET)
