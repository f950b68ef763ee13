"""Leave-one-source-out runs for the ``hate`` task: train without one source, test on that source's test split.

A model's score on its own sources' test split says little about text from elsewhere. For each held-out source
this trains a model on the other sources only (same parts, same de-duplication, same mixing) and tests it on the
held-out source's test rows; beside it, the in-domain figure: a model trained on all sources (``--reference``, a
registry name) on the same rows.

    python benchmarks/cross_source.py --family tfidf --output benchmarks/results/cross_source_tfidf.json
    python benchmarks/cross_source.py --family transformer --sources implicit_hate,gab --num-threads 1 \\
        --set mixed_train_size=60000 --reference minilm_hate --output benchmarks/results/cross_source_minilm.json

Prints one row per held-out source and writes JSON (``--output``).

Two families' results side by side, source by source (no training; ``--in-domain`` takes the per-source test
metrics of the model trained on all sources, as ``nlpc evaluate --json`` writes them):

    python benchmarks/cross_source.py --compare benchmarks/results/cross_source_minilm_preset_a.json \
        benchmarks/results/cross_source_minilm_preset_b.json \
        --against benchmarks/results/cross_source_tfidf_current.json \
        --in-domain benchmarks/results/minilm_hate_hswaps_counter_bal_test.json

Prints the table with the better held-out figure in bold and, per source, where the first family is ahead,
behind and level; ``--output`` writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

METRICS = ("accuracy", "f1_macro", "roc_auc", "hateful_f1")


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


def scored(name: str, test, models_dir: Path | None, backend: str | None = None, device: str | None = None) -> dict:
    """Accuracy, macro-F1, ROC-AUC and hateful F1 of one model on ``test`` (``device``: where a PyTorch
    transformer runs, e.g. cuda)."""
    from nlp_classifier import load
    from nlp_classifier.evaluation import evaluate

    metrics = evaluate(load(name, backend=backend, models_dir=models_dir, device=device), test)
    return figures_of(metrics)


def figures_of(metrics: dict) -> dict:
    """The four figures of an ``evaluate`` result (overall or one source's)."""
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
    parser.add_argument("--device", help="where PyTorch transformers are scored (e.g. cuda; default: the CPU)")
    parser.add_argument("--output", help="write the results as JSON to this file")
    parser.add_argument("--compare", nargs="+", metavar="FILE", help="compare these results (no training)...")
    parser.add_argument("--against", nargs="+", metavar="FILE", help="...with these (another family's results)")
    parser.add_argument("--in-domain", metavar="FILE", help="per-source test metrics of the all-sources model")
    add_setting_flags(parser)  # transformer settings, as `nlpc train transformer` takes them
    args = parser.parse_args(argv)
    if args.compare or args.against:
        return compare_main(args)

    if args.family == "tfidf":
        from nlp_classifier.cli.train_transformer import overrides_from

        ignored = sorted(overrides_from(args))
        if ignored:  # they would be dropped without a word, and the result file would not say so
            raise SystemExit(
                f"error: {', '.join(ignored)}: transformer settings, which --family tfidf does not use (it trains "
                "the TF-IDF `char` preset with --algorithm; its mixture seed is fixed)"
            )
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
                "held_out_metrics": scored(name, test, models_dir, device=args.device),
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


def compare_main(args) -> int:
    """``--compare A... --against B...``: print (and with ``--output`` write) the source-by-source comparison."""
    from nlp_classifier.errors import DataError

    if not (args.compare and args.against):
        raise SystemExit("error: --compare and --against go together: two families' result files")
    try:
        rows = compare(read_runs(args.compare), read_runs(args.against), args.against)
        in_domain = read_in_domain(args.in_domain) if args.in_domain else {}
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for row in rows:
        if row["held_out"] in in_domain:
            row["in_domain"] = in_domain[row["held_out"]]
    result = {"compare": args.compare, "against": args.against, "in_domain": args.in_domain, "sources": rows}
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(comparison_markdown(rows))
    print()
    print(verdict_summary(rows))
    return 0


def _read_json(path: str):
    from nlp_classifier.errors import DataError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except json.JSONDecodeError as error:
        raise DataError(f"not JSON ({error.msg} at line {error.lineno})", path=path) from None


def read_runs(paths: list[str]) -> dict[str, dict]:
    """Held-out source -> its run, merged over result files of this script (one family split over batches)."""
    from nlp_classifier.errors import DataError

    runs: dict[str, dict] = {}
    seen_in: dict[str, str] = {}
    for path in paths:
        result = _read_json(path)
        if not isinstance(result, dict) or not isinstance(result.get("runs"), list):
            raise DataError("not a cross_source.py result: no 'runs' list", path=path)
        for number, run in enumerate(result["runs"], start=1):
            metrics = run.get("held_out_metrics") if isinstance(run, dict) else None
            if not isinstance(metrics, dict) or "held_out" not in run:
                raise DataError("a run needs 'held_out' and 'held_out_metrics'", path=path, row=number)
            missing = [m for m in METRICS if m not in metrics]
            if missing:
                raise DataError(f"held_out_metrics lacks {', '.join(missing)}", path=path, row=number)
            source = run["held_out"]
            if source in runs:
                raise DataError(f"source '{source}' is also held out in {seen_in[source]}", path=path, row=number)
            runs[source], seen_in[source] = run, path
    return runs


def read_in_domain(path: str) -> dict[str, dict]:
    """Source -> the four figures, from the per-source test metrics of ``nlpc evaluate --json`` (or a model
    card's test pass): ``{"metrics": {"per_source": {...}}}``."""
    from nlp_classifier.errors import DataError

    result = _read_json(path)
    per_source = result.get("metrics", {}).get("per_source") if isinstance(result, dict) else None
    if not isinstance(per_source, dict):
        raise DataError("no metrics.per_source: not the test metrics of a multi-source model", path=path)
    try:
        return {source: figures_of(metrics) for source, metrics in per_source.items()}
    except (KeyError, TypeError) as error:
        raise DataError(f"per-source metrics lack {error}", path=path) from None


def compare(candidate: dict[str, dict], baseline: dict[str, dict], baseline_paths: list[str]) -> list[dict]:
    """Per held-out source of ``candidate``: both families' figures, and which figures the candidate is ahead
    on, behind on and level on (equal figures are level: the test rows are the same)."""
    from nlp_classifier.errors import DataError

    rows = []
    for source, run in candidate.items():
        if source not in baseline:
            raise DataError(f"source '{source}' is not held out there", path=", ".join(baseline_paths))
        other = baseline[source]
        if other["test_rows"] != run["test_rows"]:
            raise DataError(
                f"source '{source}': {other['test_rows']} test rows against {run['test_rows']}: not the same split",
                path=", ".join(baseline_paths),
            )
        ours, theirs = run["held_out_metrics"], other["held_out_metrics"]
        side = {"ahead": [], "behind": [], "level": []}
        for metric in METRICS:
            key = "ahead" if ours[metric] > theirs[metric] else "behind" if ours[metric] < theirs[metric] else "level"
            side[key].append(metric)
        rows.append({"held_out": source, "test_rows": run["test_rows"], "candidate": ours, "baseline": theirs, **side})
    return rows


def _cells(metrics: dict, bold: set[str] = frozenset()) -> str:
    return " / ".join(
        "-" if metrics[m] is None else f"**{metrics[m]:.3f}**" if m in bold else f"{metrics[m]:.3f}" for m in METRICS
    )


def comparison_markdown(rows: list[dict]) -> str:
    """The docs' comparison table: bold marks the better of the two held-out figures."""
    lines = [
        "| held-out source | test texts | compared, trained without it | against, trained without it | in-domain |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        in_domain = _cells(row["in_domain"]) if "in_domain" in row else "-"
        lines.append(
            f"| {row['held_out']} | {row['test_rows']:,} | {_cells(row['candidate'], set(row['ahead']))} | "
            f"{_cells(row['baseline'], set(row['behind']))} | {in_domain} |"
        )
    return "\n".join(lines)


def verdict_summary(rows: list[dict]) -> str:
    """One line per outcome: sources ahead on every figure, and where the others are behind or level."""
    ahead = [row["held_out"] for row in rows if len(row["ahead"]) == len(METRICS)]
    lines = [f"ahead on all {len(METRICS)} figures on {len(ahead)} of {len(rows)} sources: {', '.join(ahead) or '-'}"]
    for row in rows:
        if row["held_out"] not in ahead:
            parts = [f"{key} on {', '.join(row[key])}" for key in ("behind", "level", "ahead") if row[key]]
            lines.append(f"{row['held_out']}: {'; '.join(parts)}")
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    """The table the docs show: held-out source, then held-out and in-domain accuracy / macro-F1 / ROC-AUC."""
    lines = [
        "| held-out source | test rows | held out: acc / macro-F1 / ROC-AUC / hateful F1 | in-domain: same |",
        "|---|---|---|---|",
    ]
    for row in rows:
        cells = [_cells(row[key]) if row.get(key) else "-" for key in ("held_out_metrics", "in_domain_metrics")]
        lines.append(f"| {row['held_out']} | {row['test_rows']:,} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
