"""``nlpc predict``: classify texts given as arguments, or every row of a file."""

from __future__ import annotations

import argparse

from ..batch.options import DEFAULT_CHUNK_ROWS, ON_ERROR
from ..errors import ConfigError
from .common import print_json, stdout, table

ENGINES = ("local", "ray")
DEFAULT_MODEL_HELP = (
    "$NLPC_DEFAULT_MODEL, else the model `nlpc serve` answers with: minilm_hate, else "
    "logistic_regression_hate_char, else the best binary Davidson model"
)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --backend and --device, shared by every command that loads a model."""
    parser.add_argument("--model", help=f"registry name or path (default: {DEFAULT_MODEL_HELP})")
    parser.add_argument("--backend", help="implementation where a family has several (e.g. torch, onnx, onnx-int8)")
    parser.add_argument(
        "--device", help="where the PyTorch backend runs a transformer (e.g. cuda, cuda:1; default: the CPU)"
    )


def chosen_model_name(args: argparse.Namespace) -> str:
    """--model, or the default model (``defaults.default_model_name``); a clear error when there is none."""
    from ..defaults import default_model_name

    model = args.model or default_model_name(args.models_dir)
    if model is None:
        raise ConfigError("no model in the registry: train the default ones with `nlpc prepare`, or pass --model")
    return model


def load_chosen_model(args: argparse.Namespace):
    """The Classifier named by --model/--backend/--device, or the default model (every backend takes
    ``device=None``; TF-IDF ignores it, ONNX refuses a GPU)."""
    from .. import load

    return load(chosen_model_name(args), backend=args.backend, models_dir=args.models_dir, device=args.device)


def _column_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def register(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="classify texts or a file",
        description="Classify texts given as arguments, or every row of --input into --output "
        "(one score column per label, the flagged labels and the predicted label).",
    )
    p.add_argument("texts", nargs="*", help="texts to classify")
    add_model_arguments(p)
    p.add_argument(
        "--input",
        help="what to score: a CSV/TSV/JSONL/Parquet file (optionally .gz), a directory of them or a glob; "
        "a local path or a gs:// URL. Read in chunks, so any size fits in memory",
    )
    p.add_argument(
        "--output",
        help="where to write the scored rows (format from its suffix: .csv, .tsv, .jsonl, .parquet, .gz; local or "
        "gs://); it appears only when every row is done, the finished chunks wait in OUTPUT.partial/",
    )
    p.add_argument("--text-column", default="text", help="text column of --input (default: text)")
    p.add_argument("--threshold", type=float, help="decision threshold for every label (default: the card's)")
    p.add_argument("--batch-size", type=int, default=256, help="texts per model call (default 256)")
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=DEFAULT_CHUNK_ROWS,
        help=f"rows read, scored and written at a time; memory grows with it (default {DEFAULT_CHUNK_ROWS:,})",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed or failed run after its last finished chunk (same flags; without it a partial run "
        "is discarded)",
    )
    p.add_argument(
        "--on-error",
        choices=ON_ERROR,
        default="fail",
        help="a row whose text is empty or unreadable: fail (default; names file, row and column) or skip it and "
        "list it with the reason in OUTPUT's .errors.csv",
    )
    p.add_argument("--id-column", help="an id column of --input carried into the output (first) and the errors file")
    p.add_argument(
        "--columns",
        type=_column_list,
        help="comma-separated input columns to keep in the output (default: all; the text column only if listed)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ray = p.add_argument_group("distributed scoring (docs/batch.md)")
    ray.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: score in this process (default); ray: score --input on Ray with a pool of workers, "
        "writing --output as a folder of Parquet parts",
    )
    ray.add_argument(
        "--ray-address",
        help="with --engine ray: the cluster to use (auto, or ray://HOST:10001); default: start a local Ray "
        "with --workers CPUs and stop it at the end",
    )
    ray.add_argument(
        "--workers",
        type=int,
        help="with --engine ray: scoring actors, one CPU each (default: one per CPU here; on a cluster, one per "
        "CPU but one)",
    )
    ray.add_argument(
        "--models-url",
        help="with --engine ray: a model set published with `nlpc models push` (gs://bucket/prefix/version); each "
        "Ray node pulls --model from it, verified, instead of reading the model from the registry path",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.input) != bool(args.output):
        raise ConfigError("--input and --output go together")
    if not args.texts and not args.input:
        raise ConfigError("give texts to classify, or --input FILE --output FILE")
    if args.texts and args.input:
        raise ConfigError("give either texts or --input, not both")
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    check_engine_arguments(args)
    if args.engine == "ray":
        return run_ray(args)
    if args.input:
        return _predict_input(args)
    classifier = load_chosen_model(args)
    predictions = classifier.predict(args.texts, threshold=args.threshold)
    if args.json:
        print_json([{"text": t, **p.to_dict()} for t, p in zip(args.texts, predictions)])
        return 0
    rows = [
        [t if len(t) <= 60 else t[:57] + "...", p.label or "-", p.confidence, ", ".join(p.flagged) or "-"]
        for t, p in zip(args.texts, predictions)
    ]
    stdout.print(table(f"{classifier.name} ({classifier.card.task})", ["text", "label", "confidence", "flagged"], rows))
    return 0


def _predict_input(args: argparse.Namespace) -> int:
    """Stream --input into --output with the local engine."""
    from ..batch.options import StreamOptions
    from ..batch.stream import stream_predict
    from ..fileio import check_writable_file

    options = StreamOptions(
        text_column=args.text_column,
        id_column=args.id_column,
        columns=args.columns,
        on_error=args.on_error,
        threshold=args.threshold,
        batch_size=args.batch_size,
        chunk_rows=args.chunk_rows,
        resume=args.resume,
    )
    options.check()
    check_writable_file(args.output, "--output")  # before the model loads and the rows are scored, not after
    classifier = load_chosen_model(args)
    result = stream_predict(classifier, args.input, args.output, options)
    resumed = f", {result.chunks_resumed} chunks from the partial run" if result.chunks_resumed else ""
    stdout.print(
        f"scored {result.rows_scored:,} rows with {classifier.name} -> {args.output} "
        f"({len(result.files)} input files, {result.chunks + result.chunks_resumed} chunks{resumed}, "
        f"{result.seconds:.1f} s)"
    )
    if result.errors_file is not None:
        stdout.print(f"skipped {result.rows_skipped:,} rows, listed with the reason in {result.errors_file}")
    return 0


def check_engine_arguments(args: argparse.Namespace) -> None:
    """--ray-address, --workers and --models-url belong to --engine ray, which scores a file (not texts)."""
    ray_only = [
        flag
        for flag, value in (
            ("--ray-address", args.ray_address),
            ("--workers", args.workers),
            ("--models-url", args.models_url),
        )
        if value is not None
    ]
    if args.engine != "ray":
        if ray_only:
            raise ConfigError(f"{', '.join(ray_only)}: only with --engine ray")
        return
    if not args.input:
        raise ConfigError("--engine ray scores a file: give --input FILE --output FOLDER")
    local_only = [
        flag for flag, used in (("--resume", args.resume), ("--on-error skip", args.on_error != "fail")) if used
    ]
    if local_only:
        raise ConfigError(
            f"{', '.join(local_only)}: only with the local engine (--engine ray fails the run on a bad row)"
        )
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.ray_address is not None and not (
        args.ray_address == "auto" or args.ray_address.startswith("ray://") or ":" in args.ray_address
    ):
        raise ConfigError(f"--ray-address is auto, ray://HOST:10001 or HOST:PORT (got '{args.ray_address}')")
    if args.models_url and not args.model:
        raise ConfigError("--models-url needs --model NAME (the model to pull from the published set)")
    from ..batch.ray_engine import check_output, import_ray

    check_output(args.output)
    import_ray()


def run_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: the model is resolved (and its hashes checked) here, then scored on Ray."""
    from ..batch.ray_engine import model_source, score_with_ray

    source = model_source(
        chosen_model_name(args), models_dir=args.models_dir, models_url=args.models_url, backend=args.backend
    )
    result = score_with_ray(
        source,
        args.input,
        args.output,
        text_column=args.text_column,
        threshold=args.threshold,
        batch_size=args.batch_size,
        workers=args.workers,
        address=args.ray_address,
        id_column=args.id_column,
        columns=args.columns,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    stdout.print(
        f"scored {result.rows:,} rows with {source.name} on Ray ({result.workers} worker"
        f"{'s' if result.workers != 1 else ''}, {result.seconds:.1f} s) "
        f"-> {result.output} ({result.parts} Parquet parts)",
        highlight=False,
    )
    return 0
