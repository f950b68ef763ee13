"""``export_onnx``: write ``model.onnx`` (and ``model.int8.onnx``) into a transformer model's folder, checked
against the PyTorch model on the test split before anything is published.

Everything is built in a hidden staging folder beside the model; the fp32 graph must reproduce PyTorch's
probabilities within ``FP32_TOLERANCE``, and the int8 graph may lose at most ``max_drop_points`` of test
macro-F1 (mean ROC-AUC for multi-label models) unless forced. Files that pass are renamed into the folder, then
the card records the export (quantization, agreement, metric deltas) and re-pins every file's sha256.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.onnx_files import ONNX_FILES
from ..card import ModelCard, now_iso
from ..defaults import EXAMPLE_TEXTS
from ..errors import ConfigError, NlpcError
from ..evaluation import predict_proba_batched
from ..progress import console, stage
from ..registry import resolve
from .agreement import compare, test_split
from .onnx_graph import INT8_SETTINGS, OPSET, export_graph, fuse_graph, quantize_int8

FP32, INT8 = "onnx", "onnx-int8"  # keys of ONNX_FILES
QUANTIZE_CHOICES = ("int8",)
MAX_INT8_DROP_POINTS = 0.5
FP32_TOLERANCE = 1e-4  # largest |p_onnx - p_torch| accepted for the fp32 graph
CARD_KEY = "onnx"


class ExportRefused(NlpcError):
    """An export that failed its quality check and was not published."""


@dataclass
class ExportResult:
    """What an export wrote and what it found."""

    card: ModelCard
    published: list[str]
    record: dict
    refused: str | None = None
    sizes: dict[str, int] = field(default_factory=dict)


def export_onnx(
    name_or_path: str | Path,
    *,
    models_dir: str | Path | None = None,
    quantize: str | None = None,
    force: bool = False,
    max_drop_points: float = MAX_INT8_DROP_POINTS,
    check_limit: int | None = None,
    fuse: bool = True,
    opset: int = OPSET,
    num_threads: int | None = None,
) -> ExportResult:
    """Export a transformer model to ONNX (fp32; plus dynamic int8 with ``quantize="int8"``), check both against
    PyTorch on the test split (``check_limit`` texts at most), publish what passes and record it in the card.
    An int8 model losing more than ``max_drop_points`` is not published unless ``force``: the fp32 export still
    is, and ``ExportRefused`` says what happened."""
    from ..backends import transformer_backend

    if quantize not in (None, *QUANTIZE_CHOICES):
        raise ConfigError(f"unknown quantization '{quantize}'; use one of {', '.join(QUANTIZE_CHOICES)}")
    if check_limit is not None and check_limit < 1:
        raise ConfigError("the check needs at least 1 text")
    card = resolve(name_or_path, models_dir)
    if card.family != "transformer":
        raise ConfigError(
            f"model '{card.name}' is a {card.family} model; only transformer models export to ONNX "
            "(TF-IDF models are served by the fast backend already)"
        )
    card.verify_or_raise()
    folder = card.artifact_path
    with stage(f"Loading {card.name} with PyTorch"):
        reference = transformer_backend.load_torch(card, num_threads=num_threads)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.onnx-", dir=folder.parent))
    try:
        paths = {FP32: staging / ONNX_FILES[FP32]}
        sample, _ = _sample_inputs(reference)
        with stage(f"Exporting {card.name} to ONNX (opset {opset})"):
            export_graph(reference.model, reference.input_names, sample, paths[FP32], opset)
            fused = fuse_graph(paths[FP32], reference.model.config) if fuse else None
        if quantize == "int8":
            paths[INT8] = staging / ONNX_FILES[INT8]
            with stage("Quantizing to int8 (dynamic)"):
                quantize_int8(paths[FP32], paths[INT8])
        checks = _check(card, reference, paths, check_limit, num_threads)
        record, refused = _record(card, checks, fused, opset, quantize, force, max_drop_points)
        publish = [b for b in paths if not (b == INT8 and refused)]
        for backend in publish:
            os.replace(paths[backend], folder / ONNX_FILES[backend])
        sizes = {b: (folder / ONNX_FILES[b]).stat().st_size for b in publish}
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    previous = dict(card.extra.get(CARD_KEY) or {})
    if INT8 in record:
        previous.pop("int8_refused", None)
    previous.update(record)
    card.extra[CARD_KEY] = previous
    card.hash_files(card.default_files())
    card.save()
    result = ExportResult(card, [ONNX_FILES[b] for b in publish], record, refused, sizes)
    if refused:
        raise ExportRefused(refused)
    return result


def _sample_inputs(reference) -> tuple[dict, np.ndarray]:
    """Two tokenised example texts, padded: the shapes torch.onnx.export traces with."""
    from ..backends.transformer_text import encode_windows

    return encode_windows(
        reference.tokenizer,
        EXAMPLE_TEXTS[:2],
        reference.settings.max_length,
        reference.settings.overlap,
        input_names=reference.input_names,
    )


def _check(card: ModelCard, reference, paths: dict[str, Path], limit: int | None, num_threads: int | None) -> dict:
    """Probabilities of PyTorch and of each candidate file on the test split (or, without one, on a few example
    texts), compared: before a calibrated model's calibrator (the graphs themselves), with decisions and metrics
    after it (what the card's thresholds apply to)."""
    from ..backends import onnx_backend

    data, note = test_split(card, limit)
    texts = data.texts if data is not None else list(EXAMPLE_TEXTS)
    y = data.y if data is not None else None
    start = time.perf_counter()
    ref_proba = predict_proba_batched(reference, texts, description="PyTorch", calibrated=False)
    timings = {"torch": time.perf_counter() - start}
    out: dict[str, Any] = {
        "data": note if data is not None else f"{len(texts)} example texts only: {note}",
        "has_targets": y is not None,
    }
    if reference.calibrator is not None:
        out["data"] += (
            f"; probabilities compared before the model's {reference.calibrator.method} calibrator, decisions "
            "and metrics after it"
        )
    for backend, path in paths.items():
        candidate = onnx_backend.load(
            card, backend=backend, model_file=path, num_threads=num_threads, batch_size=reference.batch_size
        )
        start = time.perf_counter()
        proba = predict_proba_batched(candidate, texts, description=backend, calibrated=False)
        timings[backend] = time.perf_counter() - start
        out[backend] = compare(ref_proba, proba, card, y, reference.calibrate)
    out["seconds"] = {k: round(v, 2) for k, v in timings.items()}
    fp32 = out[FP32]
    if fp32["max_abs_diff"] > FP32_TOLERANCE:
        raise ExportRefused(
            f"the fp32 ONNX graph of '{card.name}' does not reproduce PyTorch: probabilities differ by "
            f"up to {fp32['max_abs_diff']:.2e} (> {FP32_TOLERANCE:g}) on {fp32['n']} texts; nothing "
            "was written"
        )
    return out


def _record(
    card: ModelCard, checks: dict, fused, opset: int, quantize: str | None, force: bool, max_drop_points: float
) -> tuple[dict, str | None]:
    """The card's record of this export, and the reason the int8 file is refused (None when it is not)."""
    import onnxruntime
    import torch

    common = {
        "exported_at": now_iso(),
        "opset": opset,
        "exporter": f"torch.onnx.export (torch {torch.__version__})",
        "onnxruntime": onnxruntime.__version__,
        "fused_operators": fused,
        "checked_on": checks["data"],
        "fp32_tolerance": FP32_TOLERANCE,
    }
    record = {FP32: {**common, "file": ONNX_FILES[FP32], "quantization": None, "agreement": checks[FP32]}}
    refused = None
    if quantize == "int8":
        agreement = checks[INT8]
        drop = agreement.get("headline_drop_points")
        check = {
            "metric": agreement.get("headline"),
            "drop_points": drop,
            "max_drop_points": max_drop_points,
            "forced": force,
        }
        if drop is None:
            check["passed"] = False
            reason = f"the int8 loss could not be measured ({checks['data']})"
        else:
            check["passed"] = drop <= max_drop_points
            reason = (
                f"test {agreement['headline']} fell {drop:.2f} points ({agreement['headline_reference']:.4f} "
                f"-> {agreement['headline_value']:.4f}), more than the {max_drop_points:g} allowed"
            )
        if not check["passed"] and not force:
            refused = (
                f"int8 export of '{card.name}' refused: {reason}. {ONNX_FILES[FP32]} (fp32) was written; rerun "
                "with --force to keep the int8 model anyway"
            )
            record["int8_refused"] = {**common, **check, "agreement": agreement}
        else:
            if not check["passed"]:
                console.print(f"[yellow]warning:[/yellow] keeping the int8 model although {reason} (--force)")
            record[INT8] = {
                **common,
                "file": ONNX_FILES[INT8],
                "quantization": dict(INT8_SETTINGS),
                "int8_check": check,
                "agreement": agreement,
            }
    return record, refused
