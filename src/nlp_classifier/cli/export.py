"""``nlpc export onnx``: write a transformer model's ONNX export (and int8 model) beside it, checked first.
``nlpc export teacher-scores``: write the scores a teacher has given its students' texts to one file, so that a
later run distils from them without the teacher (training.distillation)."""

from __future__ import annotations

import argparse

from ..sizes import format_bytes
from .common import check_version_file, print_json, split_list, stdout, table


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a model for a faster runtime (ONNX, int8), or a teacher's scores for distillation",
        description="Export a model for a faster runtime, or the scores a teacher model gave its students' texts.",
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
    scores = kinds.add_parser(
        "teacher-scores",
        help="a teacher's scores of the texts it has scored for students, as one file for --set teacher_scores=FILE",
        description="Write the scores a teacher model has given the training texts of students distilled from it "
        "(--set teacher_model=M, kept under the models folder's .cache/teacher_scores/) to one compressed file. A "
        "later run given --set teacher_scores=FILE learns from those scores without the teacher, as long as the "
        "file holds every one of its training texts.",
    )
    scores.add_argument("--model", required=True, help="registry name or folder of the teacher")
    scores.add_argument("--output", required=True, help="the file to write (.npz)")
    scores.add_argument(
        "--backend", help="the backend the teacher ran with (default: as for teacher_model, PyTorch for a transformer)"
    )
    scores.add_argument(
        "--labels", help="comma-separated column order the students used (default: the teacher's own label order)"
    )
    scores.add_argument("--json", action="store_true", help="print the file's description as JSON")
    scores.set_defaults(func=run_teacher_scores)


def run_teacher_scores(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..fileio import check_writable_file
    from ..paths import models_dir
    from ..registry import resolve
    from ..training.distillation import teacher_backend, write_score_file

    check_writable_file(args.output, "--output")
    folder = Path(args.models_dir) if args.models_dir else models_dir()
    card = resolve(args.model, folder)
    labels = split_list(args.labels) or list(card.labels)
    meta = write_score_file(card, teacher_backend(card, args.backend), labels, folder, Path(args.output))
    if args.json:
        print_json(meta)
        return 0
    size = format_bytes(Path(args.output).stat().st_size)
    stdout.print(
        f"wrote {args.output} ({size}): {meta['texts']:,} texts scored by {card.name} {card.version}, columns "
        f"{', '.join(meta['labels'])}; train with --set teacher_scores={args.output}"
    )
    return 0


def run_onnx(args: argparse.Namespace) -> int:
    from ..backends.onnx_files import ONNX_FILES
    from ..export import export_onnx
    from ..export.onnx_export import MAX_INT8_DROP_POINTS

    check_version_file(args)
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
