"""Explanation cost: milliseconds per text of ``Classifier.explain`` for each model, backend and method, next to
plain ``predict_proba``, on texts of the model task's test split (one text per call, as the API explains them).

    python benchmarks/explain_cost.py --models-dir models --texts 50 --output benchmarks/results/explain_cost.json
    python benchmarks/explain_cost.py --models-dir models --runs logistic_regression_hate_char:fast:linear \
        minilm_hate:onnx-int8:occlusion minilm_hate:torch:integrated_gradients

Each run is MODEL:BACKEND:METHOD. The texts are the first --texts of the task's test split with at least one
word, in the split's seeded order; the first call of each run is a warm-up and is not timed. Prints a table and
writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

DEFAULT_RUNS = [
    "logistic_regression_hate_char:fast:linear",
    "logistic_regression_hate_char:fast:occlusion",
    "minilm_hate:onnx-int8:occlusion",
    "minilm_hate:torch:occlusion",
    "minilm_hate:torch:integrated_gradients",
]


def sample_texts(task: str, n: int) -> list[str]:
    from nlp_classifier.data import load_dataset
    from nlp_classifier.data.splits import split_dataset

    test = split_dataset(load_dataset(task)).test
    return [t for t in test.texts if t.strip()][:n]


def measure(models_dir: str, run: str, n_texts: int, threads: int) -> dict:
    import nlp_classifier

    name, backend, method = run.split(":")
    clf = nlp_classifier.load(name, backend=backend, models_dir=models_dir, num_threads=threads)
    texts = sample_texts(clf.card.task, n_texts)
    clf.explain(texts[0], method=method)  # warm-up
    explain_ms, predict_ms, words = [], [], []
    for text in texts:
        start = time.perf_counter()
        (explanation,) = clf.explain(text, method=method)
        explain_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        clf.predict_proba(text)
        predict_ms.append((time.perf_counter() - start) * 1000)
        words.append(len(explanation.words))
    return {
        "model": name,
        "backend": backend,
        "method": method,
        "texts": len(texts),
        "mean_words": statistics.fmean(words),
        "explain_ms_median": statistics.median(explain_ms),
        "explain_ms_mean": statistics.fmean(explain_ms),
        "predict_ms_median": statistics.median(predict_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="MODEL:BACKEND:METHOD ...")
    parser.add_argument("--texts", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="model threads (torch, ONNX Runtime)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results = [measure(args.models_dir, run, args.texts, args.threads) for run in args.runs]
    print(f"{'model':32} {'backend':10} {'method':22} {'words':>6} {'explain ms':>11} {'predict ms':>11}")
    for r in results:
        print(
            f"{r['model']:32} {r['backend']:10} {r['method']:22} {r['mean_words']:6.1f} "
            f"{r['explain_ms_median']:11.2f} {r['predict_ms_median']:11.2f}"
        )
    if args.output:
        payload = {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "threads": args.threads,
            "results": results,
        }
        args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
