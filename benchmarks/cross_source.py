"""Leave-one-source-out runs for the ``hate`` task: train without one source, test on that source's test split.

A model's score on its own sources' test split says little about text from elsewhere. For each held-out source
this trains a model on the other sources only (same parts, same de-duplication, same mixing) and tests it on the
held-out source's test rows; beside it, the in-domain figure: a model trained on all sources (``--reference``, a
registry name) on the same rows.

    python benchmarks/cross_source.py --family tfidf --output benchmarks/results/cross_source_tfidf.json
    python benchmarks/cross_source.py --family transformer --sources implicit_hate,gab --num-threads 1 \\
        --set mixed_train_size=60000 --reference minilm_hate --output benchmarks/results/cross_source_minilm.json

Prints one row per held-out source and writes JSON (``--output``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def held_out_data(source: str):
    """(training data without ``source``, ``source``'s test rows), both from the full ``hate`` task so the
    de-duplication across sources is the one every model sees."""
    from nlp_classifier.data.hate import PART_IDS, load_hate

    full = load_hate()
    names = np.asarray(full.sources)
    if source not in set(names):
        raise SystemExit(f"unknown source '{source}'; sources are: {', '.join(full.source_names())}")
    train = full.subset(np.flatnonzero(names != source), f"without-{source}")
    train.name = "hate"
    test = full.subset(np.flatnonzero((names == source) & (full.parts == PART_IDS["test"])), f"{source}:test")
    return train, test


def train_without(family: str, source: str, data, models_dir: Path, args) -> str:
    """Train one model on ``data`` (the task without ``source``); returns its registry name."""
    if family == "tfidf":
        from nlp_classifier.training.baselines import train_baseline

        name = f"{args.algorithm}_hate_char_without_{source}"
        train_baseline("hate", args.algorithm, "char", name=name, models_dir=models_dir, dataset=data)
        return name
    from nlp_classifier.cli.train_transformer import overrides_from
    from nlp_classifier.training.transformer import train_transformer

    name = f"minilm_hate_without_{source}"
    train_transformer(
        "hate",
        args.preset,
        overrides=overrides_from(args),
        name=name,
        output=str(models_dir / "transformer" / name),
        models_dir=models_dir,
        dataset=data,
    )
    return name


def scored(name: str, test, models_dir: Path | None, backend: str | None = None) -> dict:
    """Accuracy, macro-F1, ROC-AUC and hateful F1 of one model on ``test``."""
    from nlp_classifier import load
    from nlp_classifier.evaluation import evaluate

    metrics = evaluate(load(name, backend=backend, models_dir=models_dir), test)
    return {
        "accuracy": metrics["accuracy"],
        "f1_macro": metrics["f1_macro"],
        "roc_auc": metrics["roc_auc"],
        "hateful_f1": metrics["per_label"]["hateful"]["f1"],
    }


def main(argv: list[str] | None = None) -> int:
    from nlp_classifier.cli.train_transformer import add_setting_flags
    from nlp_classifier.data.hate_sources import SOURCES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=["tfidf", "transformer"], default="tfidf")
    parser.add_argument("--sources", help="comma-separated sources to hold out (default: all seven)")
    parser.add_argument("--algorithm", default="logistic_regression", help="TF-IDF algorithm (default: LR)")
    parser.add_argument("--preset", default="hate", help="transformer preset (default: hate)")
    parser.add_argument("--reference", help="registry name of the model trained on all sources (in-domain column)")
    parser.add_argument("--reference-backend", help="backend of the reference model (e.g. onnx-int8)")
    parser.add_argument("--models-dir", help="keep the held-out models here (default: a temporary folder)")
    parser.add_argument("--output", help="write the results as JSON to this file")
    add_setting_flags(parser)  # transformer settings, as `nlpc train transformer` takes them
    args = parser.parse_args(argv)

    sources = args.sources.split(",") if args.sources else list(SOURCES)
    keep = Path(args.models_dir).resolve() if args.models_dir else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = keep or Path(tmp)
        for source in sources:
            started = time.perf_counter()
            data, test = held_out_data(source)
            name = train_without(args.family, source, data, models_dir, args)
            row = {
                "held_out": source,
                "test_rows": len(test),
                "model": name,
                "train_minutes": round((time.perf_counter() - started) / 60, 1),
                "held_out_metrics": scored(name, test, models_dir),
            }
            if args.reference:
                row["reference"] = args.reference
                row["in_domain_metrics"] = scored(args.reference, test, None, args.reference_backend)
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "family": args.family,
        "command": " ".join(["python", "benchmarks/cross_source.py", *sys.argv[1:]]),
        "runs": rows,
    }
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(rows))
    return 0


def markdown(rows: list[dict]) -> str:
    """The table the docs show: held-out source, then held-out and in-domain accuracy / macro-F1 / ROC-AUC."""
    lines = [
        "| held-out source | test rows | held out: acc / macro-F1 / ROC-AUC / hateful F1 | in-domain: same |",
        "|---|---|---|---|",
    ]
    for row in rows:
        cells = []
        for key in ("held_out_metrics", "in_domain_metrics"):
            m = row.get(key)
            cells.append(
                " / ".join(
                    f"{m[k]:.3f}" if m[k] is not None else "-"
                    for k in ("accuracy", "f1_macro", "roc_auc", "hateful_f1")
                )
                if m
                else "-"
            )
        lines.append(f"| {row['held_out']} | {row['test_rows']:,} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
