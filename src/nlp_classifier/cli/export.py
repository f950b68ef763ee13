"""``nlpc export onnx``: write a transformer model's ONNX export (and int8 model) beside it, checked first."""

from __future__ import annotations

import argparse

from ..sizes import format_bytes
from .common import print_json, stdout, table


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a model for a faster runtime (ONNX, int8)",
        description="Export a model for a faster runtime.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="FORMAT", required=True)
    onnx = kinds.add_parser(
        "onnx",
        help="ONNX Runtime: model.onnx, and model.int8.onnx with --quantize int8",
        description="Write model.onnx (and model.int8.onnx) into a transformer model's folder. Both are checked "
        "against the PyTorch model on the test split first: the fp32 graph must give the same probabilities, and "
        "the int8 model may lose at most --max-drop points of test macro-F1 (mean ROC-AUC for multi-label "
        "models) unless --force. The card records the quantization, label agreement and metric deltas, and pins "
        "the new files' sha256.",
    )
    onnx.add_argument("--model", required=True, help="registry name or path of a transformer model")
    onnx.add_argument("--quantize", choices=["int8"], help="also write a dynamically quantized int8 model")
    onnx.add_argument("--force", action="store_true", help="keep the int8 model even if it loses more than --max-drop")
    onnx.add_argument(
        "--max-drop",
        type=float,
        default=None,
        help="largest int8 loss allowed, in points of the headline metric (default 0.5)",
    )
    onnx.add_argument("--check-limit", type=int, help="check on the first N test texts only (default: all)")
    onnx.add_argument("--no-fuse", action="store_true", help="skip ONNX Runtime's transformer graph fusions")
    onnx.add_argument("--threads", type=int, help="CPU threads for PyTorch and ONNX Runtime during the check")
    onnx.add_argument("--json", action="store_true", help="print the card's export record as JSON")
    onnx.set_defaults(func=run_onnx)


def run_onnx(args: argparse.Namespace) -> int:
    from ..backends.onnx_files import ONNX_FILES
    from ..export import export_onnx
    from ..export.onnx_export import MAX_INT8_DROP_POINTS

    result = export_onnx(
        args.model,
        models_dir=args.models_dir,
        quantize=args.quantize,
        force=args.force,
        max_drop_points=MAX_INT8_DROP_POINTS if args.max_drop is None else args.max_drop,
        check_limit=args.check_limit,
        fuse=not args.no_fuse,
        num_threads=args.threads,
    )
    if args.json:
        print_json(result.record)
        return 0
    rows = []
    for backend, entry in result.record.items():
        if not isinstance(entry, dict) or "agreement" not in entry:
            continue
        agreement = entry["agreement"]
        rows.append(
            [
                backend,
                entry.get("file", "(not written)"),
                format_bytes(result.sizes.get(backend)),
                agreement["label_agreement"],
                f"{agreement['max_abs_diff']:.2e}",
                agreement.get("headline_value"),
                agreement.get("headline_drop_points"),
            ]
        )
    stdout.print(
        table(
            f"{result.card.name}: ONNX export checked on {next(iter(result.record.values()))['checked_on']}",
            ["backend", "file", "size", "label agreement", "max |Δp|", "macro-F1 / mean AUC", "drop (points)"],
            rows,
        )
    )
    stdout.print(
        f"wrote {', '.join(result.published)} in {result.card.artifact_path}; "
        f"load with backend=onnx{'-int8' if ONNX_FILES['onnx-int8'] in result.published else ''}"
    )
    return 0
